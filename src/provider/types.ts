/**
 * The provider contract: the single interface every platform implements
 * (Exact Online, Visma.net, in-memory storage, files, PostgreSQL, MariaDB,
 * the data dictionary). Types only.
 *
 * The engine owns SQL: it binds names, decides which partitions a statement
 * touches, offers each remote table a request (columns, simple predicates,
 * limit, order) and re-applies whatever the provider did not do exactly.
 * Providers own their platform: catalog, HTTP, auth, paging, rate limits.
 * Providers import only this folder and src/util; never the engine.
 */
import type { Clock } from '../util/clock.js';
import type { SecretBox } from '../util/secrets.js';

// ---------------------------------------------------------------------------
// Values and rows

/**
 * One cell value as it flows between providers and the engine.
 * - integers that fit a JS number are numbers; Int64 beyond 2^53 are bigint;
 * - decimals are numbers (or strings when precision matters, typed 'decimal');
 *   providers may send either. The engine stores 'decimal' columns as exact
 *   DuckDB DECIMALs and hands results back as a number when the number prints
 *   as exactly the stored digits (211915.15), else as a string of the exact
 *   digits (e.g. '12345678901234567.89');
 * - dates and timestamps are Date (UTC instants); guids are lower-case strings.
 */
export type Value = string | number | bigint | boolean | Date | Uint8Array | null;

export type ColumnType =
  | 'boolean'
  | 'integer' // 32-bit
  | 'bigint' // 64-bit
  | 'double'
  | 'decimal'
  | 'varchar'
  | 'date'
  | 'timestamp'
  | 'guid'
  | 'blob';

/** Operators a provider can evaluate remotely on a column. */
export type FilterOperator = '=' | '<>' | '<' | '<=' | '>' | '>=' | 'in' | 'isnull' | 'like';

export interface ColumnInfo {
  readonly name: string;
  readonly type: ColumnType;
  readonly nullable: boolean;
  /** Operators the platform evaluates on this column server-side (empty: none). */
  readonly filterOperators?: readonly FilterOperator[];
  /** Must be supplied on insert. */
  readonly mandatory?: boolean;
  /** Can never be written (server-computed). */
  readonly readOnly?: boolean;
  /** Max length for strings, when the platform states it. */
  readonly maxLength?: number;
  /** For 'decimal': total digits and digits after the point, when declared (default: 38 and 10). */
  readonly precision?: number;
  readonly scale?: number;
  readonly description?: string;
}

/**
 * - system: one answer for the whole connection (SystemDivisions, Me);
 * - partitioned: one set of rows per partition (division, company), with the
 *   partition in `partitionColumn`;
 * - subscription: one set per subscription (group of partitions), fetched once
 *   per subscription and shown against one partition of it.
 */
export type TableScope = 'system' | 'partitioned' | 'subscription';

export interface TableIdentity {
  readonly catalog: string;
  readonly schema: string;
  readonly name: string;
}

export interface TableInfo extends TableIdentity {
  readonly columns: readonly ColumnInfo[];
  /** Key column names (may be empty when the platform has no key). */
  readonly key: readonly string[];
  readonly scope: TableScope;
  /** For partitioned/subscription tables: the column carrying the partition id (e.g. 'Division'). */
  readonly partitionColumn?: string;
  readonly writable: { readonly insert: boolean; readonly update: boolean; readonly delete: boolean };
  /** Why an operation `writable` refuses is refused, in the platform's terms (e.g. "Visma.net has no API to delete customers."). */
  readonly writeRefusals?: Partial<Record<WriteOp, string>>;
  /** Other names the table is known by (e.g. Invantive's short names). */
  readonly aliases?: readonly string[];
  readonly description?: string;
  /** A table-valued function taking arguments (e.g. files' csv reader). */
  readonly parameters?: readonly { readonly name: string; readonly type: ColumnType; readonly required: boolean }[];
}

/** A column-aligned set of rows: rows[i][j] is the value of columns[j]. */
export interface RowBatch {
  readonly columns: readonly string[];
  readonly rows: readonly (readonly Value[])[];
}

// ---------------------------------------------------------------------------
// Partitions

export interface Partition {
  /** The code users type in `use` (a division code, a company id). */
  readonly id: string;
  readonly label?: string;
  /** The subscription (customer) this partition belongs to, for subscription-scoped tables. */
  readonly group?: string;
  /** Whether the platform's default (`use default`) includes it. */
  readonly isDefault?: boolean;
  readonly state?: 'available' | 'inactive' | 'archived' | 'blocked';
}

// ---------------------------------------------------------------------------
// Scans: the pushdown negotiation

/** A predicate on one column with constants, in the simple form providers can translate. */
export type Predicate =
  | { readonly kind: 'compare'; readonly column: string; readonly op: '=' | '<>' | '<' | '<=' | '>' | '>='; readonly value: Value }
  | { readonly kind: 'in'; readonly column: string; readonly values: readonly Value[]; readonly not: boolean }
  | { readonly kind: 'isnull'; readonly column: string; readonly not: boolean }
  | { readonly kind: 'like'; readonly column: string; readonly pattern: string; readonly not: boolean }
  | { readonly kind: 'or'; readonly predicates: readonly Predicate[] }
  | { readonly kind: 'and'; readonly predicates: readonly Predicate[] };

export interface ScanRequest {
  /** Columns the engine needs; the provider may return more, never fewer. Empty: none needed (e.g. count(*)). */
  readonly columns: readonly string[];
  /** Top-level conjuncts of the WHERE clause that the engine could express as predicates. */
  readonly conjuncts: readonly Predicate[];
  /** Row limit; only meaningful when every conjunct ends up exact. */
  readonly limit?: number;
  readonly orderBy?: readonly { readonly column: string; readonly descending: boolean }[];
  /** Table function arguments, evaluated to constants. */
  readonly arguments?: readonly Value[];
}

/**
 * - exact: the provider applies the predicate fully; the engine drops it;
 * - inexact: the provider narrows rows but may return extra; the engine re-applies it;
 * - unsupported: the provider ignores it; the engine applies it.
 */
export type PushdownSupport = 'exact' | 'inexact' | 'unsupported';

export interface ScanPlan {
  readonly table: TableInfo;
  readonly request: ScanRequest;
  /** One answer per request conjunct, same order. */
  readonly conjuncts: readonly PushdownSupport[];
  readonly limitApplied: boolean;
  readonly orderApplied: boolean;
  /** Estimated remote calls per partition (0 for local data). */
  readonly estimatedCallsPerPartition: number;
  /** Lines for `explain`: endpoint, filters, paging. */
  readonly explain: readonly string[];
  /** Provider-private detail the scan needs (e.g. the URL and $filter it settled on). */
  readonly detail?: unknown;
}

export interface ScanContext {
  readonly signal: AbortSignal;
  /** Called by the provider as it makes progress, for the engine's progress display. */
  readonly progress?: (event: { readonly rows?: number; readonly calls?: number }) => void;
}

// ---------------------------------------------------------------------------
// Writes

export type WriteOp = 'insert' | 'update' | 'delete';

/**
 * Rows to write. insert: the columns given; update: key columns plus the
 * columns to set; delete: key columns.
 */
export interface WriteRequest {
  readonly op: WriteOp;
  readonly rows: RowBatch;
  /** The partition the rows belong to (for partitioned tables). */
  readonly partition?: Partition;
  /** Rows may be written concurrently, up to this many at a time. */
  readonly concurrency?: number;
  readonly signal: AbortSignal;
}

export interface RowResult {
  /** Index of the row in the request batch. */
  readonly index: number;
  readonly ok: boolean;
  /** The row's key as text (e.g. `ID=…` or `Code=255`), for messages and logs. */
  readonly key?: string;
  /** The platform's message on failure, in its words. */
  readonly message?: string;
  readonly code?: string;
  /** The row as stored, when the platform returns it (e.g. generated ID). */
  readonly returned?: Readonly<Record<string, Value>>;
}

// ---------------------------------------------------------------------------
// Containers and providers

export interface Container {
  /** The alias users write after `@`. */
  readonly alias: string;
  readonly providerName: string;

  /** Catalog: every table of this container. Cheap: no remote calls. */
  tables(): readonly TableInfo[];

  /** The partitions the user can reach ([] for unpartitioned containers). May call the platform. */
  partitions(signal: AbortSignal): Promise<readonly Partition[]>;

  /**
   * For table functions (TableInfo.parameters, e.g. files' `csv(path)`): the
   * table as it is for these arguments, with its columns. The engine calls it
   * before binding a table-function call; tables() lists such functions with
   * no columns.
   */
  describe?(table: TableInfo, args: readonly Value[]): Promise<TableInfo>;

  /** Answer the pushdown negotiation for one table. Pure: no remote calls. */
  plan(table: TableInfo, request: ScanRequest): ScanPlan;

  /**
   * Rows of one partition (or of the whole table when `partition` is undefined,
   * for system-scoped or unpartitioned tables). Batches carry at least the
   * requested columns, and the partition column for partitioned tables.
   */
  scan(plan: ScanPlan, partition: Partition | undefined, context: ScanContext): AsyncIterable<RowBatch>;

  /** Write rows; yields one result per row, in any order. Throws only for whole-request failures. */
  write?(table: TableInfo, request: WriteRequest): AsyncIterable<RowResult>;

  /** DDL for containers that own their storage (in-memory, PostgreSQL, MariaDB, files). */
  /** `options.key`: the columns declared `primary key`, in order (absent: no key). */
  createTable?(
    name: string,
    columns: readonly ColumnInfo[],
    options: { readonly orReplace: boolean; readonly ifNotExists: boolean; readonly key?: readonly string[] },
  ): Promise<TableInfo>;
  dropTable?(name: string, options: { readonly ifExists: boolean }): Promise<void>;

  /**
   * For containers whose data already lives in the engine's DuckDB (in-memory
   * storage): the DuckDB relation name to use in place of a scan.
   */
  localRelation?(table: TableInfo): string | undefined;

  /** Change a container-level setting (`set name@alias value`). Returns false when unknown. */
  setOption?(name: string, value: string): boolean;

  close(): Promise<void>;
}

/** One remote call, as recorded in the data dictionary's call log. */
export interface RemoteCall {
  readonly at: number;
  readonly container: string;
  readonly partition?: string;
  readonly method: string;
  /** Without secrets (see util/secrets redact). */
  readonly url: string;
  readonly status: number;
  readonly ms: number;
  readonly rows: number;
  readonly bytes: number;
  readonly error?: string;
}

export interface RemoteCallLog {
  record(call: RemoteCall): void;
}

/** The minimal view of the engine's local DuckDB a provider may use (in-memory storage). */
export interface LocalDatabase {
  run(sql: string): Promise<void>;
  /** Quote an identifier for DuckDB. */
  quote(name: string): string;
}

/** What the session tells the data dictionary about itself. */
export interface SessionIntrospection {
  containers(): readonly Container[];
  selectedPartitions(alias: string): readonly Partition[] | undefined;
  callLog(): readonly RemoteCall[];
  /** Named result sets the engine keeps (e.g. synchronize outcomes): name → rows. */
  journals(): readonly { readonly name: string; readonly table: TableInfo; readonly rows: () => RowBatch }[];
  settings(): Readonly<Record<string, string>>;
}

export interface ProviderEnv {
  readonly clock: Clock;
  readonly log: RemoteCallLog;
  readonly secrets: SecretBox;
  /** Directory for this user's state (token stores, caches). */
  readonly dataDir: string;
  readonly local: LocalDatabase;
  readonly session: SessionIntrospection;
  /** Session-wide settings (`set name value`), read when relevant. */
  readonly settings: Readonly<Record<string, string>>;
}

/** A container as configured: from settings.xml `<database alias provider connectionString>` or YAML/JSON. */
export interface ContainerConfig {
  readonly alias: string;
  readonly provider: string;
  /** `key=value;key=value` parsed, keys lower-cased. */
  readonly options: Readonly<Record<string, string>>;
}

export interface Provider {
  /** As written in settings: 'ExactOnlineAll', 'VismaNet', 'InMemoryStorage', … (matched case-insensitively). */
  readonly name: string;
  connect(config: ContainerConfig, env: ProviderEnv): Promise<Container>;
}

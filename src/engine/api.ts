/**
 * The engine's public face: what the CLI, the server and tests use.
 * A Session holds the data containers (from settings), the partitions chosen
 * with `use`, settings made with `set`, and the remote-call log. It runs a
 * script statement by statement: text → parser → AST → binder → planner →
 * providers and DuckDB → results. Types only; engine/session.ts implements it.
 */
import type { ColumnType, Container, ContainerConfig, Provider, RowBatch } from '../provider/types.js';
import type { Statement } from '../sql/ast.js';
import type { Clock } from '../util/clock.js';
import type { SecretBox } from '../util/secrets.js';

export interface SessionOptions {
  /** A settings.xml (Invantive format), .yaml/.yml or .json file. Default: $SLUICE_SETTINGS, then ~/.sluice/settings.xml, then none. */
  readonly settingsPath?: string;
  /** settings.xml group / connection name to use; default the first. */
  readonly group?: string;
  readonly connection?: string;
  /** Containers given in code (added to those from settings). */
  readonly containers?: readonly ContainerConfig[];
  /** Extra providers (tests, embedding applications); the built-in registry is always there. */
  readonly providers?: readonly Provider[];
  readonly clock?: Clock;
  readonly secrets?: SecretBox;
  /** Directory for state (token stores); default ~/.sluice. */
  readonly dataDir?: string;
  /**
   * Keep every synchronize outcome in <dataDir>/synchronize/journal.ndjson as well, so it outlives the
   * session (datadictionary table synchronizehistory). The CLI sets it; default off (in memory only).
   */
  readonly persistSyncJournal?: boolean;
  /** Initial session settings (as `set name value`). */
  readonly settings?: Readonly<Record<string, string>>;
}

export interface ResultColumn {
  readonly name: string;
  readonly type: ColumnType;
}

/** What happened while a statement ran, complete once its rows were consumed. */
export interface StatementSummary {
  readonly rows: number;
  readonly remoteCalls: number;
  readonly elapsedMs: number;
  /** Partitions that failed while others succeeded (the statement still returned the others' rows). */
  readonly failedPartitions: readonly { readonly container: string; readonly partition: string; readonly message: string }[];
  readonly warnings: readonly string[];
}

export type StatementResult =
  | {
      readonly kind: 'rows';
      readonly statement: Statement;
      readonly columns: readonly ResultColumn[];
      /** Stream of result batches; consume fully (or abort) before the next statement runs. */
      readonly batches: AsyncIterable<RowBatch>;
      summary(): StatementSummary;
    }
  | {
      readonly kind: 'done';
      readonly statement: Statement;
      /** e.g. "3 rows inserted into exactaccounts@inmemorystorage". */
      readonly message: string;
      readonly rowsAffected?: number;
      summary(): StatementSummary;
    }
  | {
      readonly kind: 'explain';
      readonly statement: Statement;
      readonly lines: readonly string[];
      summary(): StatementSummary;
    };

export interface Progress {
  readonly partitionsDone: number;
  readonly partitionsTotal: number;
  readonly rows: number;
  readonly remoteCalls: number;
  readonly elapsedMs: number;
}

export interface ExecuteOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: Progress) => void;
}

export interface Session {
  /**
   * Parse the whole script first (a syntax error anywhere runs nothing), then
   * run its statements in order, yielding one result per statement. A failing
   * statement throws a SluiceError; the statements before it have taken effect.
   */
  execute(script: string, options?: ExecuteOptions): AsyncIterable<StatementResult>;
  /** Run one statement given as an AST (the server builds these from OData query options). */
  executeStatement(statement: Statement, options?: ExecuteOptions): Promise<StatementResult>;
  /** The connected containers, for completion, catalogs and metadata. */
  containers(): readonly Container[];
  /** Current session settings. */
  settings(): Readonly<Record<string, string>>;
  close(): Promise<void>;
}

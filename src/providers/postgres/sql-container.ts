/**
 * What PostgreSQL and MariaDB containers share: the catalog kept in memory
 * (read from information_schema at connect and after DDL), the pushdown
 * negotiation (predicates → SQL with bind parameters, never concatenated
 * values), value normalisation both ways, batched writes with per-row
 * results, DDL, and the remote-call log. Each database supplies a dialect
 * (quoting, placeholders, types) and a driver (connections, streaming).
 * The MariaDB provider imports this module from here.
 */
import type {
  ColumnInfo,
  ColumnType,
  Container,
  Partition,
  Predicate,
  ProviderEnv,
  PushdownSupport,
  RowBatch,
  RowResult,
  ScanContext,
  ScanPlan,
  ScanRequest,
  TableInfo,
  Value,
  WriteRequest,
} from '../../provider/types.js';
import { SluiceError } from '../../util/errors.js';
import { redact, SecretBox } from '../../util/secrets.js';
import { formatDate, formatTimestamp, parseDateText, parseTimestampText } from '../../formats/values.js';

/** How one database spells things. */
export interface SqlDialect {
  quote(identifier: string): string;
  /** The n-th bind parameter (1-based): $1 or ?. */
  placeholder(n: number): string;
  /** The SQL type for a column in CREATE TABLE; `inKey` when it is part of the primary key. */
  ddlType(column: ColumnInfo, inKey: boolean): string;
  /** Whether `=`/`<`/LIKE on text compare exactly as the engine does (binary, case-sensitive). */
  readonly exactTextComparison: boolean;
  /** An ORDER BY term ordering NULLs Oracle-style (last ascending, first descending); undefined when it cannot be exact. */
  orderTerm(quotedColumn: string, type: ColumnType, descending: boolean): string | undefined;
  /** A text column as compared by < <= > >=: binary order, as the engine compares. */
  textRange(quotedColumn: string): string;
  /** Appended to LIKE so a backslash in the pattern is an ordinary character, as in the engine; undefined when the database cannot. */
  readonly likeNoEscape: string | undefined;
  /** Whether a driver error says the table does not exist. */
  isMissingTable(error: unknown): boolean;
  /** Normalise a name for CREATE TABLE (PostgreSQL folds plain names to lower case). */
  tableName(name: string): string;
}

/** One connection, for statements inside a transaction. */
export interface SqlSession {
  query(sql: string, params: readonly unknown[]): Promise<{ readonly rows: readonly (readonly unknown[])[]; readonly affected: number }>;
}

/** The driver a database container implements. */
export interface SqlDriver {
  /** Run one statement on any pooled connection. */
  query(sql: string, params: readonly unknown[]): Promise<{ readonly rows: readonly (readonly unknown[])[]; readonly affected: number }>;
  /** Run `fn` on one connection inside BEGIN … COMMIT (ROLLBACK when it throws). */
  transaction<T>(fn: (session: SqlSession) => Promise<T>): Promise<T>;
  /** Stream a SELECT's rows in batches with bounded memory; cancel the query when `signal` aborts. */
  stream(sql: string, params: readonly unknown[], batchSize: number, signal: AbortSignal): AsyncIterable<readonly (readonly unknown[])[]>;
  /** Every user table with its columns and primary key. */
  loadCatalog(): Promise<TableInfo[]>;
  close(): Promise<void>;
}

/** Connection settings from a connection string: host, port, database, user, password, or a url. */
export interface SqlConnectionOptions {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  readonly password?: string;
  readonly batchSize: number;
  /** Connections kept open at most (option poolsize, default 4). */
  readonly poolSize: number;
}

export function connectionOptions(
  options: Readonly<Record<string, string>>,
  defaults: { readonly port: number; readonly user: string },
  secrets: SecretBox,
  alias: string,
): SqlConnectionOptions {
  let host = options.host ?? options.server ?? '127.0.0.1';
  let port = options.port ? Number(options.port) : defaults.port;
  let database = options.database ?? options.dbname ?? '';
  let user = options.user ?? options.username ?? options.userid ?? defaults.user;
  let password = options.password;
  const url = options.url ?? options.connectionstring;
  if (url) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new SluiceError('SQL001', `The url of container ${alias} is not a valid URL.`, { container: alias });
    }
    if (parsed.hostname) host = parsed.hostname;
    if (parsed.port) port = Number(parsed.port);
    if (parsed.pathname.length > 1) database = decodeURIComponent(parsed.pathname.slice(1));
    if (parsed.username) user = decodeURIComponent(parsed.username);
    if (parsed.password) password = decodeURIComponent(parsed.password);
  }
  if (password && SecretBox.isSealed(password)) password = secrets.open(password);
  if (!Number.isInteger(port) || port <= 0) {
    throw new SluiceError('SQL002', `The port of container ${alias} is not a number.`, { container: alias });
  }
  if (!database) {
    throw new SluiceError('SQL003', `Container ${alias} needs a database (database=… in its connection string).`, { container: alias });
  }
  const batchSize = options.batchsize ? Number(options.batchsize) : 5000;
  const poolSize = options.poolsize ? Number(options.poolsize) : 4;
  return {
    host,
    port,
    database,
    user,
    password,
    batchSize: Number.isInteger(batchSize) && batchSize > 0 ? batchSize : 5000,
    poolSize: Number.isInteger(poolSize) && poolSize > 0 ? poolSize : 4,
  };
}

// ---------------------------------------------------------------------------
// Values

function safeInteger(n: bigint): number | bigint {
  return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
}

const DB_TS = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(?:\+00(?::00)?)?$/;

/**
 * The fast path for the text both databases send in UTC sessions
 * (`2024-01-31 13:14:15.123456`, PostgreSQL adding `+00` for timestamptz):
 * timestamps dominate scan time, and this skips the general parser.
 */
function databaseTimestamp(s: string): Date | undefined {
  const m = DB_TS.exec(s);
  if (!m) return undefined;
  const ms = m[7] ? Number(m[7].slice(0, 3).padEnd(3, '0')) : 0;
  const year = Number(m[1]);
  if (year < 100) return undefined;
  return new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), ms));
}

/** Decimal text without redundant zeros or sign, to compare with how a JS number prints. */
function canonicalDecimal(s: string): string {
  const m = /^([+-]?)0*(\d*)(?:\.(\d*?)0*)?$/.exec(s.trim());
  if (!m) return s;
  const whole = m[2] === '' ? '0' : m[2];
  const fraction = m[3] ?? '';
  const body = fraction === '' ? whole : `${whole}.${fraction}`;
  return m[1] === '-' && body !== '0' ? `-${body}` : body;
}

/**
 * A decimal as the Value doc asks: a number when the number prints as
 * exactly the stored digits, else the database's own text, so
 * 12345678901234567.89 is never rounded on its way to the engine.
 */
function exactDecimal(s: string): Value {
  const n = Number(s);
  if (!Number.isFinite(n)) return s;
  // n + 0 turns -0 (from '-0.00') into 0, as the engine prints it.
  return String(n) === canonicalDecimal(s) ? n + 0 : s.trim();
}

/** A value from the database driver as a Sluice Value of the column's type. */
export function fromDatabase(v: unknown, type: ColumnType): Value {
  if (v === null || v === undefined) return null;
  switch (type) {
    case 'boolean':
      if (typeof v === 'boolean') return v;
      if (typeof v === 'number' || typeof v === 'bigint') return Number(v) !== 0;
      if (typeof v === 'string') return v === '1' || v.toLowerCase() === 't' || v.toLowerCase() === 'true';
      break;
    case 'integer':
    case 'bigint':
      if (typeof v === 'number') return v;
      if (typeof v === 'bigint') return safeInteger(v);
      if (typeof v === 'string' && /^-?\d+$/.test(v)) return safeInteger(BigInt(v));
      break;
    case 'double':
      if (typeof v === 'number') return v;
      if (typeof v === 'bigint' || typeof v === 'string') return Number(v);
      break;
    case 'decimal':
      if (typeof v === 'number') return v;
      if (typeof v === 'bigint') return exactDecimal(v.toString());
      if (typeof v === 'string') return exactDecimal(v);
      break;
    case 'date':
      if (v instanceof Date) return v;
      if (typeof v === 'string') return parseDateText(v.slice(0, 10)) ?? null;
      break;
    case 'timestamp':
      if (v instanceof Date) return v;
      if (typeof v === 'string') return databaseTimestamp(v) ?? parseTimestampText(v) ?? parseDateText(v) ?? null;
      break;
    case 'blob':
      if (v instanceof Uint8Array) return v;
      if (typeof v === 'string') return Buffer.from(v);
      break;
    default:
      break;
  }
  if (typeof v === 'string') return v;
  if (v instanceof Date) return v.toISOString();
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  if (typeof v === 'object') return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
  return String(v);
}

/** A Sluice Value as a bind parameter: dates as UTC text by the column's type, bigints as text, blobs as Buffers. */
export function toParameter(v: Value | undefined, type: ColumnType | undefined): unknown {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return type === 'date' ? formatDate(v) : formatTimestamp(v);
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  if (typeof v === 'boolean' && type !== undefined && type !== 'boolean') return v ? 1 : 0;
  return v;
}

// ---------------------------------------------------------------------------
// The container

interface PlanDetail {
  readonly sql: string;
  readonly params: readonly unknown[];
  readonly columns: readonly string[];
  readonly types: readonly ColumnType[];
  /** No column was asked for (count(*)): rows are empty arrays. */
  readonly noColumns: boolean;
}

export class SqlContainer implements Container {
  private catalog: TableInfo[] = [];

  constructor(
    readonly alias: string,
    readonly providerName: string,
    private readonly dialect: SqlDialect,
    private readonly driver: SqlDriver,
    private readonly env: ProviderEnv,
    /** For the call log: scheme://host:port/database, never a password. */
    private readonly url: string,
    private batchSize: number,
    /** The schema new tables go to. */
    private readonly defaultSchema: string,
  ) {}

  /** Read the catalog; called at connect and after DDL. */
  async refresh(): Promise<void> {
    this.catalog = await this.logged('information_schema', () => this.driver.loadCatalog(), (r) => r.length);
  }

  tables(): readonly TableInfo[] {
    return this.catalog;
  }

  async partitions(): Promise<readonly Partition[]> {
    return [];
  }

  /** `set batchsize@alias 2000`: rows per fetched batch. */
  setOption(name: string, value: string): boolean {
    const n = Number(value);
    if (name.toLowerCase() !== 'batchsize' || !Number.isInteger(n) || n <= 0) return false;
    this.batchSize = n;
    return true;
  }

  /** Run `fn` and record it in the call log (method SQL, the database URL, rows, ms). */
  private async logged<T>(what: string, fn: () => Promise<T>, rowsOf: (r: T) => number): Promise<T> {
    const start = this.env.clock.now();
    try {
      const result = await fn();
      this.record(start, rowsOf(result));
      return result;
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e);
      this.record(start, 0, error);
      throw this.databaseError(e, what);
    }
  }

  private record(start: number, rows: number, error?: string): void {
    this.env.log.record({
      at: start,
      container: this.alias,
      method: 'SQL',
      url: this.url,
      status: error === undefined ? 200 : 500,
      ms: Math.max(0, this.env.clock.now() - start),
      rows,
      bytes: 0,
      ...(error === undefined ? {} : { error: redact(error) }),
    });
  }

  private databaseError(e: unknown, what: string, table?: string): SluiceError {
    if (e instanceof SluiceError) return e;
    const message = redact(e instanceof Error ? e.message : String(e));
    return new SluiceError('SQL010', `${this.providerName} refused ${what}: ${message}`, {
      container: this.alias,
      ...(table ? { table } : {}),
      cause: e,
    });
  }

  private findColumn(table: TableInfo, name: string): ColumnInfo {
    const c = table.columns.find((col) => col.name === name) ?? table.columns.find((col) => col.name.toLowerCase() === name.toLowerCase());
    if (!c) {
      throw new SluiceError('SQL011', `Table ${table.name} has no column ${name}.`, { container: this.alias, table: table.name });
    }
    return c;
  }

  private qualified(table: TableInfo): string {
    return `${this.dialect.quote(table.schema)}.${this.dialect.quote(table.name)}`;
  }

  /**
   * Translate one predicate to SQL, adding its values to `params`. Returns
   * the SQL and whether the database evaluates it exactly as the engine would.
   */
  private predicateSql(table: TableInfo, p: Predicate, params: unknown[]): { sql: string; exact: boolean } {
    const bind = (v: Value, type: ColumnType): string => {
      params.push(toParameter(v, type));
      return this.dialect.placeholder(params.length);
    };
    const textExact = (c: ColumnInfo) => this.dialect.exactTextComparison || (c.type !== 'varchar' && c.type !== 'guid');
    switch (p.kind) {
      case 'compare': {
        const c = this.findColumn(table, p.column);
        const q = this.dialect.quote(c.name);
        const lhs = c.type === 'varchar' && p.op !== '=' && p.op !== '<>' ? this.dialect.textRange(q) : q;
        return { sql: `${lhs} ${p.op} ${bind(p.value, c.type)}`, exact: textExact(c) };
      }
      case 'in': {
        const c = this.findColumn(table, p.column);
        if (p.values.length === 0) return { sql: p.not ? '1=1' : '1=0', exact: true };
        const list = p.values.map((v) => bind(v, c.type)).join(', ');
        return { sql: `${this.dialect.quote(c.name)} ${p.not ? 'NOT IN' : 'IN'} (${list})`, exact: textExact(c) };
      }
      case 'isnull': {
        const c = this.findColumn(table, p.column);
        return { sql: `${this.dialect.quote(c.name)} IS ${p.not ? 'NOT ' : ''}NULL`, exact: true };
      }
      case 'like': {
        const c = this.findColumn(table, p.column);
        params.push(p.pattern);
        const sql = `${this.dialect.quote(c.name)} ${p.not ? 'NOT LIKE' : 'LIKE'} ${this.dialect.placeholder(params.length)}${this.dialect.likeNoEscape ?? ''}`;
        // A NOT LIKE on a case-insensitive collation drops rows the engine keeps: do not push it there.
        return { sql, exact: this.dialect.exactTextComparison && c.type === 'varchar' };
      }
      case 'and':
      case 'or': {
        if (p.predicates.length === 0) return { sql: p.kind === 'and' ? '1=1' : '1=0', exact: true };
        const parts = p.predicates.map((q) => this.predicateSql(table, q, params));
        return {
          sql: `(${parts.map((x) => x.sql).join(p.kind === 'and' ? ' AND ' : ' OR ')})`,
          exact: parts.every((x) => x.exact),
        };
      }
      default:
        throw new SluiceError('SQL012', 'Unknown predicate kind.');
    }
  }

  /**
   * Whether a predicate can be pushed at all: inexact pushdown must only ever
   * return more rows, so negations over case-insensitive text are kept local.
   */
  private pushable(table: TableInfo, p: Predicate): boolean {
    // The database would read a backslash as an escape and match other rows than the engine.
    if (p.kind === 'like' && this.dialect.likeNoEscape === undefined && p.pattern.includes('\\')) return false;
    if (p.kind === 'and' || p.kind === 'or') return p.predicates.every((q) => this.pushable(table, q));
    if (this.dialect.exactTextComparison) return true;
    switch (p.kind) {
      case 'compare': {
        const c = this.findColumn(table, p.column);
        return !(c.type === 'varchar' || c.type === 'guid') || p.op === '=';
      }
      case 'in': {
        const c = this.findColumn(table, p.column);
        return !(c.type === 'varchar' || c.type === 'guid') || !p.not;
      }
      case 'like':
        return !p.not;
      case 'isnull':
        return true;
      default:
        return false;
    }
  }

  plan(table: TableInfo, request: ScanRequest): ScanPlan {
    const params: unknown[] = [];
    const where: string[] = [];
    const support: PushdownSupport[] = request.conjuncts.map((p) => {
      if (!this.pushable(table, p)) return 'unsupported';
      const { sql, exact } = this.predicateSql(table, p, params);
      where.push(sql);
      return exact ? 'exact' : 'inexact';
    });
    const noColumns = request.columns.length === 0;
    const columns = noColumns ? [] : [...new Set(request.columns.map((n) => this.findColumn(table, n).name))];
    const types = columns.map((n) => this.findColumn(table, n).type);
    let sql = `SELECT ${noColumns ? '1' : columns.map((c) => this.dialect.quote(c)).join(', ')} FROM ${this.qualified(table)}`;
    if (where.length > 0) sql += ` WHERE ${where.join(' AND ')}`;
    let orderApplied = false;
    if (request.orderBy && request.orderBy.length > 0) {
      const terms = request.orderBy.map((o) => {
        const c = this.findColumn(table, o.column);
        return this.dialect.orderTerm(this.dialect.quote(c.name), c.type, o.descending);
      });
      if (terms.every((t) => t !== undefined)) {
        sql += ` ORDER BY ${terms.join(', ')}`;
        orderApplied = true;
      }
    }
    const allExact = support.every((s) => s === 'exact');
    const limitApplied =
      request.limit !== undefined && allExact && (orderApplied || !request.orderBy || request.orderBy.length === 0);
    if (limitApplied) sql += ` LIMIT ${Math.max(0, Math.floor(request.limit ?? 0))}`;
    const detail: PlanDetail = { sql, params, columns, types, noColumns };
    return {
      table,
      request,
      conjuncts: support,
      limitApplied,
      orderApplied,
      estimatedCallsPerPartition: 1,
      explain: [this.url, `SQL: ${sql}`, ...(params.length > 0 ? [`bind parameters: ${params.length}`] : [])],
      detail,
    };
  }

  async *scan(plan: ScanPlan, _partition: Partition | undefined, context: ScanContext): AsyncIterable<RowBatch> {
    const detail = plan.detail as PlanDetail;
    const start = this.env.clock.now();
    let rows = 0;
    try {
      for await (const raw of this.driver.stream(detail.sql, detail.params, this.batchSize, context.signal)) {
        const out: Value[][] = new Array<Value[]>(raw.length);
        if (detail.noColumns) {
          for (let i = 0; i < raw.length; i++) out[i] = [];
        } else {
          const types = detail.types;
          for (let i = 0; i < raw.length; i++) {
            const r = raw[i];
            const row = new Array<Value>(types.length);
            for (let j = 0; j < types.length; j++) row[j] = fromDatabase(r[j], types[j]);
            out[i] = row;
          }
        }
        context.progress?.(rows === 0 ? { rows: out.length, calls: 1 } : { rows: out.length });
        rows += out.length;
        yield { columns: detail.columns, rows: out };
      }
      this.record(start, rows);
    } catch (e) {
      this.record(start, rows, e instanceof Error ? e.message : String(e));
      if (context.signal.aborted) throw context.signal.reason;
      throw this.databaseError(e, `a query on ${plan.table.name}`, plan.table.name);
    }
  }

  private rowKey(table: TableInfo, columns: readonly string[], row: readonly Value[], index: number): string {
    const keyCols = table.key.length > 0 ? table.key : [];
    const parts: string[] = [];
    for (const k of keyCols) {
      const j = columns.findIndex((c) => c.toLowerCase() === k.toLowerCase());
      if (j >= 0) parts.push(`${k}=${row[j] instanceof Date ? (row[j] as Date).toISOString() : String(row[j])}`);
    }
    return parts.length > 0 ? parts.join(', ') : `row ${index + 1}`;
  }

  async *write(table: TableInfo, request: WriteRequest): AsyncIterable<RowResult> {
    const rows = request.rows.rows;
    if (rows.length === 0) return;
    request.signal.throwIfAborted();
    const columns = request.rows.columns.map((n) => this.findColumn(table, n));
    const names = columns.map((c) => c.name);
    let results: RowResult[];
    if (request.op === 'insert') results = await this.insertRows(table, columns, rows, request.signal);
    else results = await this.keyedRows(table, request.op, columns, rows, request.signal);
    for (const r of results) yield r.ok ? r : { ...r, key: r.key ?? this.rowKey(table, names, rows[r.index], r.index) };
  }

  private async statement(session: SqlSession, sql: string, params: readonly unknown[]) {
    return this.logged('a statement', () => session.query(sql, params), (r) => r.affected);
  }

  private async insertRows(table: TableInfo, columns: readonly ColumnInfo[], rows: readonly (readonly Value[])[], signal: AbortSignal): Promise<RowResult[]> {
    const names = columns.map((c) => c.name);
    const head = `INSERT INTO ${this.qualified(table)} (${columns.map((c) => this.dialect.quote(c.name)).join(', ')}) VALUES `;
    const perChunk = Math.max(1, Math.min(1000, Math.floor(30000 / Math.max(1, columns.length))));
    const results: RowResult[] = [];
    const tuple = (row: readonly Value[], params: unknown[]): string =>
      `(${columns
        .map((c, j) => {
          params.push(toParameter(row[j], c.type));
          return this.dialect.placeholder(params.length);
        })
        .join(', ')})`;
    await this.driver.transaction(async (session) => {
      for (let start = 0; start < rows.length; start += perChunk) {
        signal.throwIfAborted();
        const chunk = rows.slice(start, start + perChunk);
        const params: unknown[] = [];
        const sql = head + chunk.map((r) => tuple(r, params)).join(', ');
        await session.query('SAVEPOINT sluice_batch', []);
        try {
          await this.statement(session, sql, params);
          await session.query('RELEASE SAVEPOINT sluice_batch', []);
          chunk.forEach((_r, i) => results.push({ index: start + i, ok: true }));
          continue;
        } catch {
          await session.query('ROLLBACK TO SAVEPOINT sluice_batch', []);
        }
        // The batch failed: insert row by row to say which rows and why.
        for (let i = 0; i < chunk.length; i++) {
          const p: unknown[] = [];
          const one = head + tuple(chunk[i], p);
          await session.query('SAVEPOINT sluice_row', []);
          try {
            await this.statement(session, one, p);
            await session.query('RELEASE SAVEPOINT sluice_row', []);
            results.push({ index: start + i, ok: true });
          } catch (e) {
            await session.query('ROLLBACK TO SAVEPOINT sluice_row', []);
            results.push(this.failure(table, names, chunk[i], start + i, e));
          }
        }
      }
    });
    return results;
  }

  private failure(table: TableInfo, names: readonly string[], row: readonly Value[], index: number, e: unknown): RowResult {
    const cause = (e as { details?: { cause?: unknown } }).details?.cause ?? e;
    const c = cause as { message?: unknown; code?: unknown; sqlState?: unknown; text?: unknown };
    const message = redact(typeof c.text === 'string' ? c.text : typeof c.message === 'string' ? c.message : String(cause));
    const code = typeof c.sqlState === 'string' ? c.sqlState : typeof c.code === 'string' ? c.code : undefined;
    return { index, ok: false, key: this.rowKey(table, names, row, index), message, ...(code ? { code } : {}) };
  }

  private async keyedRows(
    table: TableInfo,
    op: 'update' | 'delete',
    columns: readonly ColumnInfo[],
    rows: readonly (readonly Value[])[],
    signal: AbortSignal,
  ): Promise<RowResult[]> {
    if (table.key.length === 0) {
      throw new SluiceError('SQL020', noKeyReason(table.name), {
        container: this.alias,
        table: table.name,
        hint: 'Add a primary key to the table.',
      });
    }
    const keyIdx = table.key.map((k) => {
      const j = columns.findIndex((c) => c.name.toLowerCase() === k.toLowerCase());
      if (j < 0) {
        throw new SluiceError('SQL021', `The ${op} on ${table.name} lacks key column ${k}.`, { container: this.alias, table: table.name });
      }
      return j;
    });
    const setIdx = columns.map((_c, j) => j).filter((j) => !keyIdx.includes(j));
    if (op === 'update' && setIdx.length === 0) return rows.map((_r, index) => ({ index, ok: true }));
    const names = columns.map((c) => c.name);
    const results: RowResult[] = [];
    await this.driver.transaction(async (session) => {
      for (let i = 0; i < rows.length; i++) {
        signal.throwIfAborted();
        const row = rows[i];
        const params: unknown[] = [];
        const bind = (j: number) => {
          params.push(toParameter(row[j], columns[j].type));
          return this.dialect.placeholder(params.length);
        };
        const sets = op === 'update' ? setIdx.map((j) => `${this.dialect.quote(columns[j].name)} = ${bind(j)}`).join(', ') : '';
        const cond = keyIdx.map((j) => `${this.dialect.quote(columns[j].name)} = ${bind(j)}`).join(' AND ');
        const sql = op === 'update' ? `UPDATE ${this.qualified(table)} SET ${sets} WHERE ${cond}` : `DELETE FROM ${this.qualified(table)} WHERE ${cond}`;
        await session.query('SAVEPOINT sluice_row', []);
        try {
          const r = await this.statement(session, sql, params);
          await session.query('RELEASE SAVEPOINT sluice_row', []);
          results.push(
            r.affected > 0
              ? { index: i, ok: true }
              : { index: i, ok: false, key: this.rowKey(table, names, row, i), message: 'No row has this key.', code: 'NOT_FOUND' },
          );
        } catch (e) {
          await session.query('ROLLBACK TO SAVEPOINT sluice_row', []);
          results.push(this.failure(table, names, row, i, e));
        }
      }
    });
    return results;
  }

  private splitName(name: string): { schema: string; name: string } {
    const dot = name.indexOf('.');
    if (dot > 0) return { schema: name.slice(0, dot), name: name.slice(dot + 1) };
    return { schema: this.defaultSchema, name };
  }

  private lookup(name: string): TableInfo | undefined {
    const { schema, name: bare } = this.splitName(name);
    const explicitSchema = name.includes('.');
    const matches = this.catalog.filter(
      (t) => t.name.toLowerCase() === bare.toLowerCase() && (!explicitSchema || t.schema.toLowerCase() === schema.toLowerCase()),
    );
    return matches.find((t) => t.schema === this.defaultSchema) ?? matches[0];
  }

  async createTable(
    name: string,
    columns: readonly ColumnInfo[],
    options: { readonly orReplace: boolean; readonly ifNotExists: boolean; readonly key?: readonly string[] },
  ): Promise<TableInfo> {
    const existing = this.lookup(name);
    if (existing && options.ifNotExists && !options.orReplace) return existing;
    if (existing && !options.orReplace) {
      throw new SluiceError('SQL030', `Table ${existing.name} already exists in container ${this.alias}.`, {
        container: this.alias,
        table: existing.name,
        hint: 'Use create or replace table, or drop it first.',
      });
    }
    if (columns.length === 0) {
      throw new SluiceError('SQL031', `Table ${name} needs at least one column.`, { container: this.alias, table: name });
    }
    const target = existing ? { schema: existing.schema, name: existing.name } : this.splitName(name);
    const tableName = existing ? target.name : this.dialect.tableName(target.name);
    const qualified = `${this.dialect.quote(target.schema)}.${this.dialect.quote(tableName)}`;
    const key = (options.key ?? []).map((k) => {
      const c = columns.find((x) => x.name === k) ?? columns.find((x) => x.name.toLowerCase() === k.toLowerCase());
      if (!c) {
        throw new SluiceError('SQL034', `The primary key of table ${name} names column ${k}, which the table does not have.`, {
          container: this.alias,
          table: name,
        });
      }
      return c;
    });
    const defs = columns.map((c) => {
      const inKey = key.includes(c);
      // Key columns are NOT NULL in both databases; saying so keeps the catalog's nullable right.
      return `${this.dialect.quote(this.dialect.tableName(c.name))} ${this.dialect.ddlType(c, inKey)}${c.nullable === false || inKey ? ' NOT NULL' : ''}`;
    });
    if (key.length > 0) defs.push(`PRIMARY KEY (${key.map((c) => this.dialect.quote(this.dialect.tableName(c.name))).join(', ')})`);
    await this.driver.transaction(async (session) => {
      if (existing) await this.statement(session, `DROP TABLE ${qualified}`, []);
      await this.statement(session, `CREATE TABLE ${qualified} (${defs.join(', ')})`, []);
    });
    await this.refresh();
    const created = this.catalog.find((t) => t.schema === target.schema && t.name === tableName);
    if (!created) throw new SluiceError('SQL032', `Table ${name} was created but does not show in the catalog.`, { container: this.alias });
    return created;
  }

  async dropTable(name: string, options: { readonly ifExists: boolean }): Promise<void> {
    const missing = () =>
      new SluiceError('SQL033', `Table ${name} does not exist in container ${this.alias}.`, {
        container: this.alias,
        table: name,
        hint: 'Check the name (select from systemtables@' + this.alias + '), or use drop table if exists.',
      });
    const existing = this.lookup(name);
    if (!existing) {
      if (options.ifExists) return;
      throw missing();
    }
    // The catalog may be stale (dropped by someone else): the database's own error then becomes ours.
    const sql = `DROP TABLE ${options.ifExists ? 'IF EXISTS ' : ''}${this.qualified(existing)}`;
    try {
      await this.logged(`dropping ${existing.name}`, () => this.driver.query(sql, []), () => 0);
    } catch (e) {
      const cause = e instanceof SluiceError ? e.details.cause : e;
      if (!this.dialect.isMissingTable(cause)) throw e;
      await this.refresh();
      throw missing();
    }
    await this.refresh();
  }

  async close(): Promise<void> {
    await this.driver.close();
  }
}

/** Group information_schema rows (schema, table, column, type, nullable, is-key, max length, precision, scale) into TableInfos. */
export function buildCatalog(
  catalogName: string,
  rows: readonly {
    readonly schema: string;
    readonly table: string;
    readonly column: string;
    readonly type: ColumnType;
    readonly nullable: boolean;
    readonly key: boolean;
    readonly maxLength?: number;
    /** For decimal columns: declared total digits and digits after the point. */
    readonly precision?: number;
    readonly scale?: number;
  }[],
): TableInfo[] {
  const tables = new Map<string, { schema: string; name: string; columns: ColumnInfo[]; key: string[] }>();
  const operators = ['=', '<>', '<', '<=', '>', '>=', 'in', 'isnull', 'like'] as const;
  for (const r of rows) {
    const id = `${r.schema}\u0000${r.table}`;
    let t = tables.get(id);
    if (!t) {
      t = { schema: r.schema, name: r.table, columns: [], key: [] };
      tables.set(id, t);
    }
    t.columns.push({
      name: r.column,
      type: r.type,
      nullable: r.nullable,
      filterOperators: operators,
      ...(r.type === 'varchar' && r.maxLength !== undefined && r.maxLength !== null && r.maxLength > 0 ? { maxLength: r.maxLength } : {}),
      ...(r.type === 'decimal' && r.precision !== undefined && r.precision !== null && r.precision > 0
        ? { precision: r.precision, scale: r.scale ?? 0 }
        : {}),
    });
    if (r.key) t.key.push(r.column);
  }
  return [...tables.values()].map((t) => ({
    catalog: catalogName,
    schema: t.schema,
    name: t.name,
    columns: t.columns,
    key: t.key,
    scope: 'system' as const,
    writable: { insert: true, update: t.key.length > 0, delete: t.key.length > 0 },
    ...(t.key.length > 0 ? {} : { writeRefusals: { update: noKeyReason(t.name), delete: noKeyReason(t.name) } }),
  }));
}

/** Why a table without a primary key takes no updates or deletes: rows are written one by one by key. */
function noKeyReason(table: string): string {
  return `Table ${table} has no primary key; updates and deletes need one.`;
}

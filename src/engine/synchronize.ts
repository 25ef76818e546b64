/**
 * `synchronize SOURCE to TARGET`: make a target table match a source table
 * in one statement. The session hands over a SyncHost (its containers, its
 * DuckDB and a way to read queries through its own pipeline); this module
 * reads both sides in one parallel scan (`select <needed columns> from …`,
 * so pushdown and partitions apply as for any query), normalises and
 * compares them in DuckDB with a full outer join on the key, then writes
 * the differences through `container.write()` in batches, recording every
 * row's outcome in the session's synchronize journal (datadictionary
 * table `synchronizeresults`; for sessions that persist it, such as the
 * CLI's, also <dataDir>/synchronize/journal.ndjson, read back as
 * `synchronizehistory`). See docs/synchronize.md.
 */
import { appendFileSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import type { ColumnInfo, ColumnType, Container, Partition, RowBatch, RowResult, TableInfo, Value, WriteOp } from '../provider/types.js';
import type { Query, SelectCore, SynchronizeStatement, TableName } from '../sql/ast.js';
import { SluiceError } from '../util/errors.js';
import { locationOf, resolveTable, tableDisplayName } from './binder.js';
import { cancelled, type RunState } from './executor.js';
import { quoteIdent as q, quoteString, type LocalDb } from './local.js';

// ---------------------------------------------------------------------------
// The journal

export type SyncStatus = 'ok' | 'failed' | 'skipped';

export interface SyncOutcome {
  readonly run: number;
  readonly at: Date;
  readonly source: string;
  readonly target: string;
  readonly action: WriteOp;
  readonly key: string;
  readonly partition: string | null;
  readonly status: SyncStatus;
  readonly message: string | null;
}

function columns(spec: readonly (readonly [string, ColumnType])[]): readonly ColumnInfo[] {
  return spec.map(([name, type]) => ({ name, type, nullable: true, filterOperators: [] }));
}

/** What each row's outcome says, after its run and time (shared by the session's journal and the history). */
const OUTCOME_COLUMNS: readonly (readonly [string, ColumnType])[] = [
  ['source', 'varchar'],
  ['target', 'varchar'],
  ['action', 'varchar'],
  ['rowkey', 'varchar'],
  ['partition', 'varchar'],
  ['status', 'varchar'],
  ['message', 'varchar'],
];

const JOURNAL_COLUMNS: readonly ColumnInfo[] = columns([['run', 'integer'], ['at', 'timestamp'], ...OUTCOME_COLUMNS]);

export const JOURNAL_TABLE: TableInfo = {
  catalog: 'DataDictionary',
  schema: 'Sluice',
  name: 'synchronizeresults',
  aliases: ['systemsyncresults'],
  columns: JOURNAL_COLUMNS,
  key: [],
  scope: 'system',
  writable: { insert: false, update: false, delete: false },
  description: 'One row per row a synchronize statement tried (or decided not) to change in this session: key, action, status ok/failed/skipped, message.',
};

const HISTORY_COLUMNS: readonly ColumnInfo[] = columns([['run_id', 'varchar'], ['run', 'integer'], ['started_at', 'timestamp'], ...OUTCOME_COLUMNS]);

export const HISTORY_TABLE: TableInfo = {
  catalog: 'DataDictionary',
  schema: 'Sluice',
  name: 'synchronizehistory',
  columns: HISTORY_COLUMNS,
  key: [],
  scope: 'system',
  writable: { insert: false, update: false, delete: false },
  description: 'Every row outcome of the synchronize runs kept in the data directory (synchronize/journal.ndjson), of this and earlier sessions, newest run first.',
};

/** Where a journal keeps its outcomes beyond the session, and how much of the file it keeps. */
export interface SyncJournalFile {
  /** The NDJSON file, e.g. <dataDir>/synchronize/journal.ndjson. */
  readonly path: string;
  /** Runs kept when the file is trimmed (default 100). */
  readonly maxRuns?: number;
  /** Lines kept when the file is trimmed (default 200,000). */
  readonly maxLines?: number;
}

export const JOURNAL_FILE_LIMITS = { maxRuns: 100, maxLines: 200_000 } as const;

/** One line of the journal file, as written. */
interface JournalLine {
  readonly run_id: string;
  readonly run: number;
  readonly started_at: string;
  readonly source: string;
  readonly target: string;
  readonly action: string;
  readonly key: string;
  readonly partition: string | null;
  readonly status: string;
  readonly message: string | null;
}

const ACTIONS: readonly string[] = ['insert', 'update', 'delete'];
const STATUSES: readonly string[] = ['ok', 'failed', 'skipped'];

/** A line of the file when it has the shape written; anything else is undefined (and is skipped). */
function parseLine(text: string): JournalLine | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const o = v as Record<string, unknown>;
  const str = (k: string) => typeof o[k] === 'string';
  const strOrNull = (k: string) => typeof o[k] === 'string' || o[k] === null;
  if (!str('run_id') || !str('started_at') || !str('source') || !str('target') || !str('key') || !strOrNull('partition') || !strOrNull('message')) return undefined;
  if (typeof o.run !== 'number' || !Number.isSafeInteger(o.run)) return undefined;
  if (!ACTIONS.includes(String(o.action)) || !STATUSES.includes(String(o.status))) return undefined;
  if (Number.isNaN(Date.parse(String(o.started_at)))) return undefined;
  return o as unknown as JournalLine;
}

/** The run id of a line as written (it comes first), without parsing the rest: trimming reads the whole file at every session's first run. */
function runIdOf(text: string): string | undefined {
  return /^\{"run_id":"([^"\\]*)",/.exec(text)?.[1];
}

/**
 * Every synchronize outcome of one session; runs are numbered from 1. With a
 * file, every outcome is also appended to it as one NDJSON line (flushed per
 * batch), so it outlives the process; the file is trimmed to the newest runs
 * before a run starts when it holds more than its limits.
 */
export class SyncJournal {
  private readonly outcomes: SyncOutcome[] = [];
  private runs = 0;
  /** Unique across processes: the session's start time and random bytes; a run's id adds its number. */
  private readonly sessionId = `${new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomBytes(4).toString('hex')}`;
  private pending: string[] = [];
  /** What the file held after the last trim plus what this session appended, so a trim reads the file only when due. */
  private known: { runs: number; lines: number } | undefined;
  private readonly warnings: string[] = [];
  private failedWrite = false;

  constructor(private readonly file?: SyncJournalFile) {}

  /** True when outcomes are kept in a file beyond the session. */
  get persisted(): boolean {
    return this.file !== undefined;
  }

  runId(run: number): string {
    return `${this.sessionId}-${run}`;
  }

  nextRun(): number {
    if (this.file) this.trim(this.file);
    this.runs += 1;
    if (this.known) this.known.runs += 1;
    return this.runs;
  }

  add(o: SyncOutcome): void {
    this.outcomes.push(o);
    if (!this.file) return;
    const line: JournalLine = {
      run_id: this.runId(o.run),
      run: o.run,
      started_at: o.at.toISOString(),
      source: o.source,
      target: o.target,
      action: o.action,
      key: o.key,
      partition: o.partition,
      status: o.status,
      message: o.message,
    };
    this.pending.push(JSON.stringify(line));
  }

  /** Append the outcomes recorded since the last flush to the file (a no-op without one). */
  flush(): void {
    if (!this.file || this.pending.length === 0) return;
    const text = `${this.pending.join('\n')}\n`;
    const count = this.pending.length;
    this.pending = [];
    try {
      mkdirSync(dirname(this.file.path), { recursive: true, mode: 0o700 });
      appendFileSync(this.file.path, text, { mode: 0o600 });
      if (this.known) this.known.lines += count;
    } catch (e) {
      // The outcomes stay in this session's synchronizeresults; say once that the file missed them.
      if (!this.failedWrite) this.warnings.push(`The synchronize journal ${this.file.path} could not be written (${e instanceof Error ? e.message : String(e)}); this session's outcomes are only in synchronizeresults@datadictionary.`);
      this.failedWrite = true;
    }
  }

  /** Warnings since the last call (a journal file that could not be written or read), for the statement's summary. */
  takeWarnings(): string[] {
    return this.warnings.splice(0);
  }

  all(): readonly SyncOutcome[] {
    return this.outcomes;
  }

  /** Keep the file within its limits: when it holds more, rewrite it with the newest runs. Runs before this run starts, so the current run is never dropped. */
  private trim(file: SyncJournalFile): void {
    const maxRuns = file.maxRuns ?? JOURNAL_FILE_LIMITS.maxRuns;
    const maxLines = file.maxLines ?? JOURNAL_FILE_LIMITS.maxLines;
    if (this.known && this.known.runs < maxRuns && this.known.lines <= maxLines) return;
    let text: string;
    try {
      text = readFileSync(file.path, 'utf8');
    } catch {
      this.known = { runs: 0, lines: 0 };
      return;
    }
    const lines = text.split('\n').filter((l) => l.trim() !== '');
    const byRun = new Map<string, string[]>();
    for (const l of lines) {
      const id = runIdOf(l);
      if (id === undefined) continue; // a malformed line is dropped when the file is rewritten
      let group = byRun.get(id);
      if (!group) byRun.set(id, (group = []));
      group.push(l);
    }
    // Leave room for the run about to start.
    if (byRun.size < maxRuns && lines.length <= maxLines) {
      this.known = { runs: byRun.size, lines: lines.length };
      return;
    }
    // Trim to a low-water mark (80 % of each limit), so a full file is rewritten once every fifth of its
    // runs, not before every run; and leave room for the run about to start.
    const keepRuns = Math.max(1, Math.min(maxRuns - 1, Math.floor(maxRuns * 0.8)));
    const keepLines = Math.max(1, Math.floor(maxLines * 0.8));
    const kept: string[][] = [];
    let keptLines = 0;
    for (const group of [...byRun.values()].reverse()) {
      if (kept.length >= keepRuns || keptLines + group.length > keepLines) break;
      kept.unshift(group);
      keptLines += group.length;
    }
    const out = kept.flat();
    try {
      const tmp = `${file.path}.${process.pid}.tmp`;
      writeFileSync(tmp, out.length > 0 ? `${out.join('\n')}\n` : '', { mode: 0o600 });
      renameSync(tmp, file.path);
      this.known = { runs: kept.length, lines: out.length };
    } catch (e) {
      this.warnings.push(`The synchronize journal ${file.path} could not be trimmed (${e instanceof Error ? e.message : String(e)}).`);
      this.known = { runs: 0, lines: 0 };
    }
  }

  /** The shape SessionIntrospection.journals() hands to the data dictionary. */
  entry(): { readonly name: string; readonly table: TableInfo; readonly rows: () => RowBatch } {
    return {
      name: JOURNAL_TABLE.name,
      table: JOURNAL_TABLE,
      rows: () => ({
        columns: JOURNAL_COLUMNS.map((c) => c.name),
        rows: this.outcomes.map((o) => [o.run, o.at, o.source, o.target, o.action, o.key, o.partition, o.status, o.message]),
      }),
    };
  }

  /** The file's outcomes as the datadictionary table synchronizehistory (undefined without a file). */
  historyEntry(): { readonly name: string; readonly table: TableInfo; readonly rows: () => RowBatch } | undefined {
    const file = this.file;
    if (!file) return undefined;
    return { name: HISTORY_TABLE.name, table: HISTORY_TABLE, rows: () => this.history(file) };
  }

  private history(file: SyncJournalFile): RowBatch {
    const cols = HISTORY_COLUMNS.map((c) => c.name);
    let text: string;
    try {
      text = readFileSync(file.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') this.warnings.push(`The synchronize journal ${file.path} could not be read (${e instanceof Error ? e.message : String(e)}).`);
      return { columns: cols, rows: [] };
    }
    // Newest run first; a run's rows in the order they were recorded.
    const byRun = new Map<string, Value[][]>();
    let skipped = 0;
    for (const raw of text.split('\n')) {
      if (raw.trim() === '') continue;
      const l = parseLine(raw);
      if (!l) {
        skipped += 1;
        continue;
      }
      let group = byRun.get(l.run_id);
      if (!group) byRun.set(l.run_id, (group = []));
      group.push([l.run_id, l.run, new Date(l.started_at), l.source, l.target, l.action, l.key, l.partition, l.status, l.message]);
    }
    if (skipped > 0) this.warnings.push(`Skipped ${skipped} malformed line(s) in the synchronize journal ${file.path}.`);
    return { columns: cols, rows: [...byRun.values()].reverse().flat() };
  }
}

// ---------------------------------------------------------------------------
// What the session provides

export interface SyncHost {
  readonly containers: readonly Container[];
  readonly db: LocalDb;
  readonly settings: Readonly<Record<string, string>>;
  readonly journal: SyncJournal;
  readonly state: RunState;
  readonly text: string | undefined;
  now(): number;
  /**
   * Read the tables of these queries in one parallel scan through the
   * session's pipeline; returns the DuckDB SQL of each query over the
   * scanned data, and the explain lines of the reads.
   */
  read(queries: readonly Query[], scan: boolean): Promise<{ sqls: string[]; explain: string[] }>;
  /** The container's partitions and the ones selected with `use` (partitioned false: none). */
  partitions(container: Container): Promise<{ partitioned: boolean; all: readonly Partition[]; selected: readonly Partition[] }>;
}

// ---------------------------------------------------------------------------
// Planning

interface SyncColumn {
  /** Position-based internal name (c0, c1, …): user column names never reach generated SQL as aliases. */
  readonly id: string;
  readonly sourceName: string;
  readonly targetName: string;
  readonly type: ColumnType;
  readonly sourceType: ColumnType;
  readonly isKey: boolean;
  readonly compared: boolean;
  readonly insert: boolean;
  /** Digits after the point both sides compare at (numbers: the target's declared scale, or the source's when coarser). */
  readonly scale?: number;
  /** Fractional-second digits timestamps compare at (see timestampDigits). */
  readonly fraction?: number;
}

interface SyncPlan {
  readonly source: { container: Container; table: TableInfo; label: string };
  readonly target: { container: Container; table: TableInfo; label: string };
  readonly columns: readonly SyncColumn[];
  readonly keys: readonly SyncColumn[];
  /** Target columns that address a row for update/delete (the table's key, else the identifying columns). */
  readonly address: readonly string[];
  readonly sourcePartitionColumn?: string;
  readonly targetPartitionColumn?: string;
  readonly allowed: ReadonlyMap<WriteOp, { mode: 'exit' | 'error'; rows: number } | undefined>;
}

function eq(a: string | undefined, b: string | undefined): boolean {
  return (a ?? '').toLowerCase() === (b ?? '').toLowerCase();
}

function findColumn(table: TableInfo, name: string): ColumnInfo | undefined {
  return table.columns.find((c) => eq(c.name, name));
}

function label(container: Container, table: TableInfo): string {
  return `${table.name}@${container.alias}`;
}

function planSync(statement: SynchronizeStatement, host: SyncHost): SyncPlan {
  const where = locationOf(statement.span, host.text);
  const resolve = (n: TableName) => {
    const r = resolveTable(host.containers, n, host.text);
    return { ...r, label: label(r.container, r.table) };
  };
  const source = resolve(statement.source);
  const target = resolve(statement.target);
  if (statement.actions.length === 0) {
    throw new SluiceError('SYN001', 'synchronize needs "with insert", "update" or "delete" to say which changes it may make.', { location: where });
  }
  if (statement.identifiedBy.length === 0) {
    throw new SluiceError('SYN002', 'synchronize needs "identified by" with the column(s) that pair source and target rows.', { location: where });
  }
  for (const k of statement.identifiedBy) {
    for (const side of [source, target]) {
      if (!findColumn(side.table, k)) {
        throw new SluiceError('SYN003', `The key column "${k}" is not a column of ${side === source ? 'the source' : 'the target'} ${side.label}.`, {
          location: where,
          table: side.table.name,
          container: side.container.alias,
        });
      }
    }
  }
  for (const c of statement.ignoreChanges) {
    if (!findColumn(source.table, c) && !findColumn(target.table, c)) {
      throw new SluiceError('SYN004', `"ignore changes to ${c}": neither ${source.label} nor ${target.label} has that column.`, { location: where });
    }
  }
  const tPart = target.table.scope !== 'system' ? target.table.partitionColumn : undefined;
  const sPart = tPart ? source.table.columns.find((c) => eq(c.name, tPart))?.name : undefined;
  const isKey = (n: string) => statement.identifiedBy.some((k) => eq(k, n));
  const columns: SyncColumn[] = [];
  for (const sc of source.table.columns) {
    const tc = findColumn(target.table, sc.name);
    if (!tc || eq(tc.name, tPart)) continue;
    const key = isKey(tc.name);
    // Read-only target columns can be neither written nor usefully compared (a difference could never be fixed).
    if (tc.readOnly && !key) continue;
    const targetKey = target.table.key.some((k) => eq(k, tc.name));
    const ignored = statement.ignoreChanges.some((c) => eq(c, tc.name));
    const scale = numberScale(tc);
    const fraction = tc.type === 'timestamp' ? timestampDigits(tc, target.container, target.table) : undefined;
    columns.push({
      id: `c${columns.length}`,
      sourceName: sc.name,
      targetName: tc.name,
      type: tc.type,
      sourceType: sc.type,
      isKey: key,
      // The target's own key addresses the row in an update; it cannot be changed by one.
      compared: !key && !ignored && !(targetKey && !key),
      insert: !tc.readOnly,
      ...(scale !== undefined ? { scale } : {}),
      ...(fraction !== undefined ? { fraction } : {}),
    });
  }
  const keys = statement.identifiedBy.map((k) => {
    const c = columns.find((x) => eq(x.targetName, k));
    if (!c) {
      throw new SluiceError('SYN005', `"${k}" is the partition column of ${target.label}; it routes rows and cannot identify them.`, {
        location: where,
        hint: 'Identify rows by columns inside the partition; rows go to the partition their source column names.',
      });
    }
    return c;
  });
  const address = target.table.key.length > 0 ? [...target.table.key] : keys.map((k) => k.targetName);
  const allowed = new Map<WriteOp, { mode: 'exit' | 'error'; rows: number } | undefined>();
  for (const a of statement.actions) allowed.set(a.action, a.cap);
  return {
    source,
    target,
    columns,
    keys,
    address,
    ...(sPart ? { sourcePartitionColumn: sPart } : {}),
    ...(tPart ? { targetPartitionColumn: tPart } : {}),
    allowed,
  };
}

function selectOf(container: Container, table: TableInfo, names: readonly string[]): Query {
  const body: SelectCore = {
    kind: 'Select',
    distinct: false,
    items: names.map((name) => ({ expr: { kind: 'ColumnRef', qualifier: [], name } })),
    from: [{ kind: 'TableRef', name: { kind: 'TableName', catalog: table.catalog, schema: table.schema, name: table.name, container: container.alias } }],
    groupBy: [],
  };
  return { kind: 'Query', with: [], body, orderBy: [] };
}

function unique(names: readonly string[]): string[] {
  const out: string[] = [];
  for (const n of names) if (!out.some((o) => eq(o, n))) out.push(n);
  return out;
}

// ---------------------------------------------------------------------------
// Normalisation (DuckDB expressions)

const TYPE_WORD: Record<ColumnType, string> = {
  boolean: 'a boolean',
  integer: 'an integer',
  bigint: 'an integer',
  double: 'a number',
  decimal: 'a number',
  varchar: 'text',
  date: 'a date',
  timestamp: 'a timestamp',
  guid: 'a guid',
  blob: 'binary data',
};

const NUMERIC: readonly ColumnType[] = ['integer', 'bigint', 'double', 'decimal'];

/**
 * The digits after the point a number column compares at: the target's
 * declared scale. A decimal(10,2) target stores 12.345 as 12.35, so
 * comparing the unrounded source value would update that row on every run.
 * Undefined: the target keeps whatever it is given (double, undeclared decimal).
 */
function numberScale(target: ColumnInfo): number | undefined {
  if (target.type !== 'decimal' || target.scale === undefined) return undefined;
  return Math.max(0, Math.trunc(target.scale));
}

/**
 * The fractional-second digits a timestamp column compares at: its declared
 * `precision` (0 to 6) when the provider states one; else 6 (microseconds)
 * for storage inside the engine's DuckDB, and 3 (milliseconds) for every
 * other target, whose values travel as JavaScript dates.
 */
function timestampDigits(column: ColumnInfo, container: Container, table: TableInfo): number {
  if (column.precision !== undefined && column.precision >= 0 && column.precision <= 6) return Math.trunc(column.precision);
  return container.localRelation?.(table) !== undefined ? 6 : 3;
}

/** Text with Oracle's rule applied: trimmed, and '' (or only spaces) is NULL, as everywhere else in the engine. */
function textOf(x: string): string {
  return `NULLIF(TRIM(CAST(${x} AS VARCHAR)), '')`;
}

/**
 * The value of `x` as the target column type would hold it; NULL when it
 * cannot convert. `from` is the type `x` has: a number going into text is
 * written without a trailing `.0`, so 2 and '2' compare equal. Numbers are
 * rounded to the column's `scale`, timestamps truncated to `fraction` digits.
 */
function normalise(x: string, type: ColumnType, from: ColumnType = type, shape: { scale?: number; fraction?: number } = {}): string {
  if (type === 'varchar' && NUMERIC.includes(from)) {
    const d = `CAST(${x} AS DOUBLE)`;
    return `(CASE WHEN ${d} = ROUND(${d}) AND ABS(${d}) < 9.2e18 THEN CAST(CAST(${d} AS BIGINT) AS VARCHAR) ELSE CAST(${d} AS VARCHAR) END)`;
  }
  const text = textOf(x);
  switch (type) {
    case 'integer':
    case 'bigint': {
      const d = `TRY_CAST(${text} AS DOUBLE)`;
      return `(CASE WHEN ${d} = ROUND(${d}) AND ABS(${d}) < 9.2e18 THEN CAST(${d} AS BIGINT) END)`;
    }
    case 'double':
    case 'decimal': {
      const d = `TRY_CAST(${text} AS DOUBLE)`;
      if (shape.scale === undefined) return d;
      // Decimal text rounds half away from zero exactly (12.345 → 12.35), as the target's decimal does; values too large for it stay as they are.
      return `COALESCE(CAST(TRY_CAST(${text} AS DECIMAL(38, ${Math.min(shape.scale, 30)})) AS DOUBLE), ${d})`;
    }
    case 'boolean':
      return `TRY_CAST(${text} AS BOOLEAN)`;
    case 'date':
      return `TRY_CAST(${from === 'varchar' ? text : x} AS DATE)`;
    case 'timestamp': {
      const t = `TRY_CAST(${from === 'varchar' ? text : x} AS TIMESTAMP)`;
      const digits = shape.fraction ?? 6;
      if (digits >= 6) return t;
      const unit = 10 ** (6 - digits);
      return `make_timestamp(CAST(floor(epoch_us(${t}) / ${unit}) AS BIGINT) * ${unit})`;
    }
    case 'guid':
      return `LOWER(${text})`;
    case 'blob':
      return x;
    case 'varchar':
      return text;
  }
}

// ---------------------------------------------------------------------------
// Compare

interface Compared {
  readonly counts: Record<WriteOp, number>;
  /** Source rows whose values cannot convert to the target's types. */
  readonly mismatches: number;
  readonly diff: string;
  readonly temps: string[];
  /** Source rows routed to target partitions that `use` did not select (so the target side of them was not read). */
  readonly outside?: { readonly partitions: readonly string[]; readonly unknown: readonly string[]; readonly rows: number; readonly examples: readonly string[] };
}

async function compare(plan: SyncPlan, statement: SynchronizeStatement, host: SyncHost, scan: boolean): Promise<{ compared?: Compared; explain: string[] }> {
  const db = host.db;
  if (plan.allowed.has('insert') && plan.targetPartitionColumn && !plan.sourcePartitionColumn) {
    const target = await host.partitions(plan.target.container);
    if (target.partitioned && target.selected.length > 1) {
      throw new SluiceError('SYN022', `Rows to insert in ${plan.target.label} do not say their partition and ${target.selected.length} partitions of ${plan.target.container.alias} are selected; nothing was written.`, {
        container: plan.target.container.alias,
        table: plan.target.table.name,
        hint: `Give the source a column ${plan.targetPartitionColumn}, or use exactly one partition of ${plan.target.container.alias}.`,
      });
    }
  }
  const sourceCols = unique([...plan.columns.map((c) => c.sourceName), ...(plan.sourcePartitionColumn ? [plan.sourcePartitionColumn] : [])]);
  const targetCols = unique([...plan.columns.map((c) => c.targetName), ...plan.address, ...(plan.targetPartitionColumn ? [plan.targetPartitionColumn] : [])]);
  const { sqls, explain } = await host.read(
    [selectOf(plan.source.container, plan.source.table, sourceCols), selectOf(plan.target.container, plan.target.table, targetCols)],
    scan,
  );
  if (!scan) return { explain };
  const temps: string[] = [];
  const temp = (p: string) => {
    const n = db.newTempName(p);
    temps.push(n);
    host.state.temps.push(n);
    return q(n);
  };
  const sRaw = temp('sync_src');
  const tRaw = temp('sync_tgt');
  await db.run(`CREATE TEMP TABLE ${sRaw} AS ${sqls[0]}`);
  await db.run(`CREATE TEMP TABLE ${tRaw} AS ${sqls[1]}`);

  const keyText = (prefix: string) =>
    `concat_ws(', ', ${plan.keys.map((k) => `${quoteString(k.targetName + '=')} || COALESCE(CAST(${prefix}${k.id} AS VARCHAR), 'NULL')`).join(', ')})`;
  const allNullKey = plan.keys.map((k) => `${k.id} IS NULL`).join(' AND ');

  // Source: normalised values, a row id, and what could not convert.
  const sNorm = temp('sync_sn');
  const problems = plan.columns.map((c) => {
    const raw = q(c.sourceName);
    // '' is NULL (as everywhere in the engine), not a value that failed to convert.
    return `CASE WHEN ${textOf(raw)} IS NOT NULL AND ${normalise(raw, c.type, c.sourceType, c)} IS NULL THEN ${quoteString(`${c.targetName}: `)} || ${quoteString("'")} || CAST(${raw} AS VARCHAR) || ${quoteString(`' is not ${TYPE_WORD[c.type]}`)} END`;
  });
  await db.run(
    `CREATE TEMP TABLE ${sNorm} AS SELECT * FROM (SELECT row_number() OVER () AS __rid, ${plan.columns.map((c) => `${normalise(q(c.sourceName), c.type, c.sourceType, c)} AS ${c.id}`).join(', ')}` +
      `${plan.sourcePartitionColumn ? `, CAST(${q(plan.sourcePartitionColumn)} AS VARCHAR) AS __part` : ', CAST(NULL AS VARCHAR) AS __part'}` +
      `, NULLIF(concat_ws('; ', ${problems.length > 0 ? problems.join(', ') : 'NULL'}), '') AS __problem FROM ${sRaw})` +
      // A key that did not convert is reported, never skipped as if it were empty.
      (statement.ignoreNulls ? ` WHERE NOT (${allNullKey}) OR __problem IS NOT NULL` : ''),
  );
  const tNorm = temp('sync_tn');
  await db.run(
    `CREATE TEMP TABLE ${tNorm} AS SELECT * FROM (SELECT row_number() OVER () AS __rid, ${plan.columns.map((c) => `${normalise(q(c.targetName), c.type, c.type, c)} AS ${c.id}`).join(', ')}` +
      `, ${plan.address.map((a, i) => `${q(a)} AS a${i}`).join(', ')}` +
      `${plan.targetPartitionColumn ? `, CAST(${q(plan.targetPartitionColumn)} AS VARCHAR) AS __part` : ', CAST(NULL AS VARCHAR) AS __part'} FROM ${tRaw})` +
      (statement.ignoreNulls ? ` WHERE NOT (${allNullKey})` : ''),
  );

  // Rows are routed to the partition their source row names, but the target was read only for the partitions
  // `use` selected: a row of another partition would find no partner and be inserted again on every run.
  let outside: Compared['outside'];
  if (plan.sourcePartitionColumn !== undefined && plan.target.table.scope !== 'system') {
    const target = await host.partitions(plan.target.container);
    if (target.partitioned) {
      const selected = target.selected.map((p) => quoteString(p.id)).join(', ') || 'NULL';
      const where = `__part IS NOT NULL AND __part NOT IN (${selected})`;
      const parts = await db.all(`SELECT __part, count(*) FROM ${sNorm} WHERE ${where} GROUP BY __part ORDER BY __part`);
      if (parts.rows.length > 0) {
        const examples = await db.all(`SELECT __part, ${keyText('')} FROM ${sNorm} WHERE ${where} ORDER BY __part, 2 LIMIT 3`);
        outside = {
          partitions: parts.rows.map((r) => String(r[0])),
          unknown: parts.rows.map((r) => String(r[0])).filter((id) => !target.all.some((p) => p.id === id)),
          rows: parts.rows.reduce((n, r) => n + Number(r[1]), 0),
          examples: examples.rows.map((r) => `${String(r[1])} (${plan.targetPartitionColumn ?? 'partition'} ${String(r[0])})`),
        };
      }
    }
  }

  // A key must pair at most one row on each side. When the source names each
  // row's partition, a key pairs rows within one partition only.
  const byPartition = plan.sourcePartitionColumn !== undefined;
  for (const [rel, side, lab] of [
    [sNorm, 'source', plan.source.label],
    [tNorm, 'target', plan.target.label],
  ] as const) {
    const keyCols = [...plan.keys.map((k) => k.id), ...(byPartition ? ['__part'] : [])].join(', ');
    const dups = await db.all(`SELECT ${keyText('')} AS k, count(*) AS n FROM ${rel} GROUP BY ${keyCols} HAVING count(*) > 1 ORDER BY n DESC, k LIMIT 5`);
    if (dups.rows.length > 0) {
      const total = await db.all(`SELECT count(*) FROM (SELECT 1 FROM ${rel} GROUP BY ${keyCols} HAVING count(*) > 1)`);
      const examples = dups.rows.map((r) => `${String(r[0])} (${String(r[1])} rows)`).join('; ');
      const nullHint = dups.rows.some((r) => String(r[0]).includes('NULL')) && !statement.ignoreNulls ? ' Add "ignore nulls" to skip rows whose key is empty.' : '';
      throw new SluiceError(
        'SYN010',
        `The key (${plan.keys.map((k) => k.targetName).join(', ')}) is not unique in the ${side} ${lab}: ${String(total.rows[0]?.[0])} key value(s) occur more than once, e.g. ${examples}.`,
        { container: side === 'source' ? plan.source.container.alias : plan.target.container.alias, table: lab, hint: `Choose columns that identify one row on both sides.${nullHint}` },
      );
    }
  }

  const join = [...plan.keys.map((k) => `s.${k.id} IS NOT DISTINCT FROM t.${k.id}`), ...(byPartition ? ['s.__part IS NOT DISTINCT FROM t.__part'] : [])].join(' AND ');
  const compared = plan.columns.filter((c) => c.compared);
  const differs = compared.length > 0 ? compared.map((c) => `s.${c.id} IS DISTINCT FROM t.${c.id}`).join(' OR ') : 'FALSE';
  const diff = temp('sync_diff');
  await db.run(
    `CREATE TEMP TABLE ${diff} AS SELECT CASE WHEN t.__rid IS NULL THEN 'insert' WHEN s.__rid IS NULL THEN 'delete' ELSE 'update' END AS __action,` +
      ` s.__rid AS __srid, t.__rid AS __trid, s.__problem AS __problem,` +
      ` CASE WHEN s.__rid IS NULL THEN ${keyText('t.')} ELSE ${keyText('s.')} END AS __key,` +
      ` COALESCE(s.__part, t.__part) AS __part, t.__part AS __tpart,` +
      ` ${plan.columns.map((c) => `s.${c.id} AS s_${c.id}, t.${c.id} AS t_${c.id}`).join(', ')}, ${plan.address.map((_, i) => `t.a${i} AS a${i}`).join(', ')}` +
      ` FROM ${sNorm} s FULL OUTER JOIN ${tNorm} t ON ${join}` +
      ` WHERE s.__rid IS NULL OR t.__rid IS NULL OR s.__problem IS NOT NULL OR ${differs}`,
  );
  const counts: Record<WriteOp, number> = { insert: 0, update: 0, delete: 0 };
  const r = await db.all(`SELECT __action, count(*) FROM ${diff} GROUP BY __action`);
  for (const row of r.rows) counts[String(row[0]) as WriteOp] = Number(row[1]);
  const m = await db.all(`SELECT count(*) FROM ${diff} WHERE __problem IS NOT NULL`);
  return { compared: { counts, mismatches: Number(m.rows[0]?.[0] ?? 0), diff, temps, ...(outside ? { outside } : {}) }, explain };
}

// ---------------------------------------------------------------------------
// Entry points

export interface SyncResult {
  readonly message: string;
  readonly ok: number;
  readonly warnings: readonly string[];
}

const ORDER: readonly WriteOp[] = ['delete', 'update', 'insert'];
const PAST: Record<WriteOp, string> = { insert: 'inserted', update: 'updated', delete: 'deleted' };

/** SYN023: source rows name target partitions that were not selected (and so not read). */
function outsideError(plan: SyncPlan, outside: NonNullable<Compared['outside']>): SluiceError {
  const c = plan.target.container.alias;
  const list = outside.partitions.slice(0, 5).join(', ') + (outside.partitions.length > 5 ? `, … (${outside.partitions.length})` : '');
  return new SluiceError(
    'SYN023',
    `${outside.rows} source row(s) of ${plan.source.label} belong to ${outside.partitions.length === 1 ? 'partition' : 'partitions'} ${list} of ${c}, which ${outside.partitions.length === 1 ? 'is' : 'are'} not selected with "use", so ${plan.target.label} was not read there and those rows cannot be compared; nothing was written. E.g. ${outside.examples.join('; ')}.`,
    {
      container: c,
      table: plan.target.table.name,
      hint: outside.unknown.length > 0
        ? `${outside.unknown.slice(0, 5).join(', ')} ${outside.unknown.length === 1 ? 'is not a partition' : 'are not partitions'} of ${c} at all; correct ${plan.sourcePartitionColumn ?? 'the partition column'} in the source, or leave those rows out.`
        : `Select those partitions too (use ${outside.partitions.slice(0, 2).map((p) => `${p}@${c}`).join(',')}${outside.partitions.length > 2 ? ',…' : ''} together with the ones you want), or leave their rows out of the source (where ${plan.sourcePartitionColumn ?? 'partition column'} in …).`,
    },
  );
}

function refusal(plan: SyncPlan, op: WriteOp): string | undefined {
  const t = plan.target.table;
  if (!t.writable[op]) return t.writeRefusals?.[op] ?? `Table ${plan.target.label} does not accept ${op}s.`;
  if (!plan.target.container.write) return `Container ${plan.target.container.alias} cannot write.`;
  if ((op === 'update' || op === 'delete') && plan.address.length === 0) return `Table ${plan.target.label} has no key to address rows for ${op}.`;
  return undefined;
}

/** The columns written for an action and the SELECT over the diff that yields them. */
function writeShape(plan: SyncPlan, op: WriteOp): { columns: string[]; select: string[] } {
  if (op === 'insert') {
    const cols = plan.columns.filter((c) => c.insert);
    return { columns: cols.map((c) => c.targetName), select: cols.map((c) => `s_${c.id}`) };
  }
  const columns = [...plan.address];
  const select = plan.address.map((_, i) => `a${i}`);
  if (op === 'update') {
    for (const c of plan.columns) {
      if (!c.compared || !c.insert || plan.address.some((a) => eq(a, c.targetName))) continue;
      columns.push(c.targetName);
      select.push(`s_${c.id}`);
    }
  }
  return { columns, select };
}

function show(v: Value): string {
  if (v === null) return 'NULL';
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'string') return `'${v}'`;
  return String(v);
}

/** `explain synchronize …`: reads both sides and compares, writes nothing. */
export async function explainSynchronize(statement: SynchronizeStatement, host: SyncHost): Promise<string[]> {
  const plan = planSync(statement, host);
  syncSetting(host.settings, 'synchronize-concurrency');
  syncSetting(host.settings, 'synchronize-batch-size');
  const lines: string[] = [];
  lines.push(`synchronize ${plan.source.label} to ${plan.target.label} (written as "${statement.direction}")`);
  lines.push(`  identified by: ${plan.keys.map((k) => k.targetName).join(', ')}${statement.ignoreNulls ? ' (rows with an all-NULL key skipped)' : ' (NULL keys pair with NULL keys)'}`);
  lines.push(`  compared: ${plan.columns.filter((c) => c.compared).map((c) => c.targetName).join(', ') || '(none)'}`);
  if (statement.ignoreChanges.length > 0) lines.push(`  ignored changes: ${statement.ignoreChanges.join(', ')}`);
  lines.push(`  written on insert: ${plan.columns.filter((c) => c.insert).map((c) => c.targetName).join(', ')}`);
  lines.push(`  rows addressed for update/delete by: ${plan.address.join(', ')}`);
  const allowed = ORDER.filter((o) => plan.allowed.has(o)).map((o) => {
    const cap = plan.allowed.get(o);
    return cap ? `${o} (${cap.mode} after ${cap.rows} rows)` : o;
  });
  lines.push(`  allowed: ${allowed.join(', ')}; errors tolerated: ${statement.continueOnErrors ?? 0}`);
  lines.push('reads (in parallel):');
  const { compared, explain } = await compare(plan, statement, host, true);
  lines.push(...explain.map((l) => `  ${l}`));
  if (!compared) return lines;
  const c = compared;
  if (c.outside) lines.push(`would fail before writing: ${outsideError(plan, c.outside).message}`);
  lines.push(`changes: insert ${c.counts.insert}, update ${c.counts.update}, delete ${c.counts.delete}${c.mismatches > 0 ? `; ${c.mismatches} row(s) with values the target cannot take` : ''}`);
  for (const op of ORDER) {
    const n = c.counts[op];
    if (!plan.allowed.has(op)) {
      if (n > 0) lines.push(`  ${op}: ${n} row(s) differ but "${op}" is not allowed: left alone`);
      continue;
    }
    const cap = plan.allowed.get(op);
    if (cap && n > cap.rows) {
      lines.push(`  ${op}: ${n} > ${cap.rows}: would ${op} the first ${cap.rows}, then ${cap.mode === 'exit' ? 'leave the rest for a later run' : 'fail the statement (later actions not done)'}`);
    }
    const why = n > 0 ? refusal(plan, op) : undefined;
    if (why) lines.push(`  ${op}: would fail before writing: ${why}`);
    if (n === 0) continue;
    const shape = writeShape(plan, op);
    const sample = await host.db.all(`SELECT __key, ${shape.select.join(', ')} FROM ${c.diff} WHERE __action = '${op}' ORDER BY __key LIMIT 3`);
    lines.push(`  sample ${op}:`);
    for (const row of sample.rows) lines.push(`    ${String(row[0])}: ${shape.columns.map((col, i) => `${col}=${show(row[i + 1])}`).join(', ')}`);
  }
  return lines;
}

interface Pending {
  readonly op: WriteOp;
  readonly key: string;
  readonly partition: Partition | undefined;
  readonly values: readonly Value[];
}

export const SYNC_SETTING_LIMITS = {
  'synchronize-concurrency': { max: 64, default: 'default 8' },
  'synchronize-batch-size': { max: 100_000, default: 'default 1,000 for SQL and in-memory targets, else 4 × synchronize-concurrency' },
} as const;

/** A whole-number synchronize setting; undefined when not set; SYN040 when set to anything else than 1 … max. */
export function syncSetting(settings: Readonly<Record<string, string>>, name: keyof typeof SYNC_SETTING_LIMITS): number | undefined {
  const raw = settings[name];
  if (raw === undefined) return undefined;
  const text = raw.trim();
  const n = Number(text);
  const { max } = SYNC_SETTING_LIMITS[name];
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < 1 || n > max) {
    throw new SluiceError('SYN040', `The setting ${name} is "${raw}", but it must be a whole number from 1 to ${max.toLocaleString('en-US')}; nothing was read or written.`, {
      hint: `set ${name} 8 (${SYNC_SETTING_LIMITS[name].default}).`,
    });
  }
  return n;
}

/** Run a synchronize statement. Throws after recording outcomes when it could not complete. */
export async function runSynchronize(statement: SynchronizeStatement, host: SyncHost): Promise<SyncResult> {
  try {
    return await synchronizeOnce(statement, host);
  } finally {
    // Whatever happened, the outcomes recorded so far reach the journal file.
    host.journal.flush();
  }
}

async function synchronizeOnce(statement: SynchronizeStatement, host: SyncHost): Promise<SyncResult> {
  const plan = planSync(statement, host);
  const concurrency = syncSetting(host.settings, 'synchronize-concurrency') ?? 8;
  const batchSetting = syncSetting(host.settings, 'synchronize-batch-size');
  const { compared } = await compare(plan, statement, host, true);
  if (!compared) throw new SluiceError('SYN999', 'synchronize read nothing.');
  if (compared.outside) throw outsideError(plan, compared.outside);
  const { counts, diff } = compared;
  const db = host.db;
  const run = host.journal.nextRun();
  /** For failures whose hint does not otherwise name the journal: where the full list outlives the session. */
  const history = host.journal.persisted ? ` Every row's outcome is in synchronizehistory@datadictionary (run_id = '${host.journal.runId(run)}').` : '';
  const at = new Date(host.now());
  const tally = { ok: 0, failed: 0, skipped: 0 };
  const byOp: Record<WriteOp, number> = { insert: 0, update: 0, delete: 0 };
  const firstFailures: string[] = [];
  const record = (action: WriteOp, key: string, partition: string | null, status: SyncStatus, message: string | null) => {
    host.journal.add({ run, at, source: plan.source.label, target: plan.target.label, action, key, partition, status, message });
    tally[status] += 1;
    if (status === 'ok') byOp[action] += 1;
    if (status === 'failed' && firstFailures.length < 5) firstFailures.push(`${key}: ${message ?? 'failed'}`);
    if (status !== 'ok') {
      notDone.count += 1;
      if (notDone.examples.length < 5) notDone.examples.push(`${action} ${key}${partition !== null ? ` (partition ${partition})` : ''} ${status}: ${(message ?? status).replace(/\.$/, '')}`);
    }
  };
  const notDone = { count: 0, examples: [] as string[] };
  /** The rows not done, for the error: after `sluice run` fails, the session (and its journal) is gone. */
  const outcome = (): string =>
    notDone.count === 0
      ? ''
      : ` Not done: ${notDone.count} row(s) (journal run ${run}), e.g. ${notDone.examples.join('; ')}${notDone.count > notDone.examples.length ? `; and ${notDone.count - notDone.examples.length} more` : ''}.`;
  const budget = statement.continueOnErrors ?? 0;
  const summary = () =>
    `inserted ${byOp.insert}, updated ${byOp.update}, deleted ${byOp.delete}, failed ${tally.failed}${tally.skipped > 0 ? `, skipped ${tally.skipped}` : ''}`;
  const fail = (code: string, why: string, hint: string): SluiceError =>
    new SluiceError(code, `Synchronize ${plan.source.label} to ${plan.target.label} stopped: ${why} (${summary()}).${firstFailures.length > 0 ? ` First failure: ${firstFailures[0]}.` : ''}${outcome()}`, {
      container: plan.target.container.alias,
      table: plan.target.table.name,
      hint,
    });

  // Decide everything that can stop the statement before the first write.
  // Caps (Invantive's semantics): "exit after N rows" makes at most N changes of that kind and quietly leaves
  // the rest; "error after N rows" makes at most N and then fails the statement, leaving every later change.
  const writable: Record<WriteOp, number> = { insert: 0, update: 0, delete: 0 };
  for (const row of (await db.all(`SELECT __action, count(*) FROM ${diff} WHERE __problem IS NULL GROUP BY __action`)).rows) writable[String(row[0]) as WriteOp] = Number(row[1]);
  const active: WriteOp[] = [];
  /** Per action: how many rows are written when a cap cuts it short. */
  const limit = new Map<WriteOp, number>();
  const exited: WriteOp[] = [];
  let capError: WriteOp | undefined;
  for (const op of ORDER) {
    if (!plan.allowed.has(op) || writable[op] === 0) continue;
    if (capError) {
      // An earlier action's "error after" cap ends the statement before this action starts.
      active.push(op);
      limit.set(op, 0);
      continue;
    }
    const cap = plan.allowed.get(op);
    const n = cap && writable[op] > cap.rows ? cap.rows : writable[op];
    if (cap && writable[op] > cap.rows) {
      limit.set(op, cap.rows);
      if (cap.mode === 'error') capError = op;
      else exited.push(op);
    }
    const why = n > 0 ? refusal(plan, op) : undefined;
    if (why) {
      throw new SluiceError('SYN020', `Synchronize needs to ${op} ${counts[op]} row(s) in ${plan.target.label}, but ${why.replace(/^./, (ch) => ch.toLowerCase())} Nothing was written.`, {
        container: plan.target.container.alias,
        table: plan.target.table.name,
        hint: `Leave out "${op}" from the with clause${op === 'delete' ? ' ("or delete")' : ''}.`,
      });
    }
    active.push(op);
  }
  const capText = (op: WriteOp): string => {
    const cap = plan.allowed.get(op);
    return cap ? `"${op} ${cap.mode} after ${cap.rows} rows"` : '';
  };

  // Rows whose values cannot convert are failures before any write.
  const problems = await db.all(`SELECT __action, __key, __part, __problem FROM ${diff} WHERE __problem IS NOT NULL AND __action <> 'delete' ORDER BY __key`);
  for (const row of problems.rows) {
    const op = String(row[0]) as WriteOp;
    if (!plan.allowed.has(op)) continue;
    record(op, String(row[1]), row[2] === null ? null : String(row[2]), 'failed', `Type mismatch: ${String(row[3])}`);
  }
  if (tally.failed > budget) {
    throw fail(
      'SYN030',
      `${tally.failed} source row(s) have values the target columns cannot take; nothing was written`,
      `Convert the values in the source (for example in a query into an in-memory table), or add "continue on first ${tally.failed} errors" to write the other rows.${history}`,
    );
  }

  // Load each action's rows and route them to partitions.
  const target = await host.partitions(plan.target.container);
  const routed = plan.target.table.scope !== 'system' && target.partitioned && plan.targetPartitionColumn !== undefined;
  const work: Pending[] = [];
  const order = (op: WriteOp) => `${op === 'insert' ? '__part' : '__tpart'}, __key, ${op === 'insert' ? '__srid' : '__trid'}`;
  for (const op of active) {
    const shape = writeShape(plan, op);
    const part = op === 'insert' ? '__part' : '__tpart';
    const cut = limit.get(op);
    if (cut !== undefined) {
      // The rows past the cap are journaled as not done, with the reason.
      const why =
        capError !== undefined && op !== capError
          ? `Not attempted: the statement stopped at ${capText(capError)}.`
          : plan.allowed.get(op)?.mode === 'error'
            ? `Not ${PAST[op]}: ${writable[op]} rows needed it; ${capText(op)} stopped the statement after ${cut}.`
            : `Not ${PAST[op]}: ${writable[op]} rows needed it; ${capText(op)} allows ${cut} per run.`;
      const rest = await db.all(`SELECT __key, ${part} FROM ${diff} WHERE __action = '${op}' AND __problem IS NULL ORDER BY ${order(op)} OFFSET ${cut}`);
      for (const r of rest.rows) record(op, String(r[0]), r[1] === null ? null : String(r[1]), 'skipped', why);
    }
    const res = await db.all(`SELECT __key, ${part}, ${shape.select.join(', ')} FROM ${diff} WHERE __action = '${op}' AND __problem IS NULL ORDER BY ${order(op)}${cut !== undefined ? ` LIMIT ${cut}` : ''}`);
    for (const row of res.rows) {
      let partition: Partition | undefined;
      if (routed) {
        const id = row[1] === null ? undefined : String(row[1]);
        if (id !== undefined) partition = target.all.find((p) => p.id === id) ?? { id };
        else if (target.selected.length === 1) partition = target.selected[0];
        else {
          throw new SluiceError('SYN022', `Rows to ${op} in ${plan.target.label} do not say their partition and ${target.selected.length} partitions of ${plan.target.container.alias} are selected; nothing was written.`, {
            container: plan.target.container.alias,
            table: plan.target.table.name,
            hint: `Give the source a column ${plan.targetPartitionColumn}, or use exactly one partition of ${plan.target.container.alias}.`,
          });
        }
      }
      work.push({ op, key: String(row[0]), partition, values: row.slice(2) });
    }
  }

  // Write: batches per action and partition; bulk for containers that own their storage.
  const bulk = plan.target.container.createTable !== undefined;
  const batchSize = batchSetting ?? (bulk ? 1000 : concurrency * 4);
  const batches: Pending[][] = [];
  for (const w of work) {
    const last = batches[batches.length - 1];
    if (last && last.length < batchSize && last[0].op === w.op && last[0].partition?.id === w.partition?.id) last.push(w);
    else batches.push([w]);
  }
  const signal = host.state.signal;
  const container = plan.target.container;
  let stop: { error: unknown } | undefined;
  let written = 0;
  // Storage inside the engine's DuckDB (in-memory tables) is changed set-based straight from the diff:
  // one statement per action, matching on every addressing column (write() there matches on one).
  const local = container.localRelation?.(plan.target.table);
  for (const op of local ? active : []) {
    const rowsOf = work.filter((w) => w.op === op);
    if (rowsOf.length === 0) continue;
    if (stop || tally.failed > budget || signal.aborted) {
      for (const w of rowsOf) record(w.op, w.key, null, 'skipped', 'Not attempted: the write stopped on an earlier failure.');
      continue;
    }
    const shape = writeShape(plan, op);
    const match = plan.address.map((a, i) => `t.${q(a)} IS NOT DISTINCT FROM d.a${i}`).join(' AND ');
    const cut = limit.get(op);
    const rid = op === 'insert' ? '__srid' : '__trid';
    const pick =
      `d.__action = '${op}' AND d.__problem IS NULL` +
      (cut !== undefined ? ` AND d.${rid} IN (SELECT ${rid} FROM ${diff} WHERE __action = '${op}' AND __problem IS NULL ORDER BY ${order(op)} LIMIT ${cut})` : '');
    const set = shape.columns.map((c, i) => ({ c, v: shape.select[i] })).filter((x) => !plan.address.some((a) => eq(a, x.c)));
    const sql =
      op === 'insert'
        ? `INSERT INTO ${local} (${shape.columns.map(q).join(', ')}) SELECT ${shape.select.map((x) => `d.${x}`).join(', ')} FROM ${diff} AS d WHERE ${pick}`
        : op === 'update'
          ? `UPDATE ${local} AS t SET ${set.map((x) => `${q(x.c)} = d.${x.v}`).join(', ')} FROM ${diff} AS d WHERE ${pick} AND ${match}`
          : `DELETE FROM ${local} AS t USING ${diff} AS d WHERE ${pick} AND ${match}`;
    try {
      if (op !== 'update' || set.length > 0) await db.run(sql);
      for (const w of rowsOf) record(w.op, w.key, null, 'ok', null);
    } catch (e) {
      const m = e instanceof Error ? e.message : String(e);
      for (const w of rowsOf) record(w.op, w.key, null, 'failed', m);
      stop = { error: e };
    }
    host.journal.flush();
  }
  for (let b = 0; b < (local ? 0 : batches.length); b++) {
    const batch = batches[b];
    if (stop || tally.failed > budget || signal.aborted) {
      const why = signal.aborted ? 'Not attempted: the statement was cancelled.' : stop ? 'Not attempted: the write stopped on an earlier failure.' : budget === 0 ? 'Not attempted: the statement stops at the first failed row.' : `Not attempted: more than ${budget} rows failed.`;
      for (const w of batch) record(w.op, w.key, w.partition?.id ?? null, 'skipped', why);
      continue;
    }
    const op = batch[0].op;
    const shape = writeShape(plan, op);
    const seen = new Set<number>();
    try {
      const results: AsyncIterable<RowResult> = container.write!(plan.target.table, {
        op,
        rows: { columns: shape.columns, rows: batch.map((w) => w.values) },
        ...(batch[0].partition ? { partition: batch[0].partition } : {}),
        concurrency,
        signal,
      });
      for await (const r of results) {
        const w = batch[r.index];
        if (!w || seen.has(r.index)) continue;
        seen.add(r.index);
        if (r.ok) record(w.op, w.key, w.partition?.id ?? null, 'ok', null);
        else record(w.op, w.key, w.partition?.id ?? null, 'failed', `${r.code ? `${r.code}: ` : ''}${r.message ?? 'failed'}`);
      }
    } catch (e) {
      stop = { error: e };
    }
    if (stop || signal.aborted) {
      // Rows sent but not answered may or may not have been written: say so, a re-run compares again.
      const why = signal.aborted
        ? 'Interrupted: the statement was cancelled before this row was confirmed; run synchronize again to complete.'
        : `Not confirmed: ${stop?.error instanceof Error ? stop.error.message : String(stop?.error)}`;
      batch.forEach((w, i) => {
        if (!seen.has(i)) record(w.op, w.key, w.partition?.id ?? null, 'failed', why);
      });
    }
    written += batch.length;
    host.journal.flush();
    host.state.onProgress?.({ partitionsDone: 0, partitionsTotal: 0, rows: written, remoteCalls: host.state.remoteCalls(), elapsedMs: host.now() - host.state.started });
  }
  host.journal.flush();
  const journalHint = host.journal.persisted
    ? `Rows done stay done. Every row's outcome is in synchronizehistory@datadictionary (run_id = '${host.journal.runId(run)}'), also after this session ends, and in synchronizeresults@datadictionary (run = ${run}) while it lasts.`
    : `Rows done stay done. Every row's outcome is in synchronizeresults@datadictionary (run = ${run}) while this session lasts, e.g. in "sluice shell"; "sluice run" ends the session with the script, so the rows not done are named above.`;
  const rerun = 'then run the same synchronize again: it compares afresh and makes only the changes still needed';
  if (signal.aborted) {
    const c = cancelled();
    throw new SluiceError(c.code, `${c.message} Synchronize ${plan.target.label}: ${summary()}.${outcome()}`, { hint: `${journalHint} To finish, ${rerun}.` });
  }
  if (stop) {
    const m = stop.error instanceof Error ? stop.error.message : String(stop.error);
    const code = stop.error instanceof SluiceError ? stop.error.code : 'SYN031';
    throw new SluiceError(code, `Synchronize ${plan.source.label} to ${plan.target.label} stopped: ${m} (${summary()}).${outcome()}`, {
      container: plan.target.container.alias,
      table: plan.target.table.name,
      hint: `${journalHint} Rows marked "Not confirmed" may or may not have arrived; a re-run pairs them if they did. When ${plan.target.container.alias} answers again, ${rerun}.`,
    });
  }
  if (tally.failed > budget) {
    throw fail(
      'SYN030',
      budget === 0 ? 'a row failed' : `more than ${budget} rows failed`,
      `${journalHint} Fix the rows the target refused (in the source, or in the target), or tolerate them with "continue on first N errors"; ${rerun}.`,
    );
  }
  if (capError) {
    const cap = plan.allowed.get(capError)!;
    throw new SluiceError(
      'SYN021',
      `Synchronize ${plan.source.label} to ${plan.target.label} stopped at ${capText(capError)}: ${writable[capError]} rows needed to be ${PAST[capError]}, at most ${cap.rows} were (${summary()}).${outcome()}`,
      { container: plan.target.container.alias, table: plan.target.table.name, hint: `Check the source; if the changes are intended, raise the limit (or run again: each run makes at most that many).${history}` },
    );
  }
  const warnings = firstFailures.map((f) => `synchronize failed row ${f}`);
  const notAsked = ORDER.filter((o) => !plan.allowed.has(o) && counts[o] > 0).map((o) => `${counts[o]} to ${o}`);
  const exitedText = exited.map((o) => `${capText(o)}: ${writable[o] - (limit.get(o) ?? 0)} of ${writable[o]} rows to ${o} left for a later run`);
  const extra = [...exitedText, ...(notAsked.length > 0 ? [`Left alone (not in the with clause): ${notAsked.join(', ')}`] : [])];
  return {
    message: `Synchronized ${plan.source.label} to ${plan.target.label}: ${summary()}.${extra.length > 0 ? ` ${extra.join('; ')}.` : ''}`,
    ok: tally.ok,
    warnings,
  };
}

/** For messages about a synchronize statement's tables. */
export function describeSync(statement: SynchronizeStatement): string {
  return `${tableDisplayName(statement.source)} to ${tableDisplayName(statement.target)}`;
}

/**
 * `synchronize SOURCE to TARGET`: make a target table match a source table
 * in one statement. The session hands over a SyncHost (its containers, its
 * DuckDB and a way to read queries through its own pipeline); this module
 * reads both sides in one parallel scan (`select <needed columns> from …`,
 * so pushdown and partitions apply as for any query), normalises and
 * compares them in DuckDB with a full outer join on the key, then writes
 * the differences through `container.write()` in batches, recording every
 * row's outcome in the session's synchronize journal (datadictionary
 * table `synchronizeresults`). See docs/synchronize.md.
 */
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

const JOURNAL_COLUMNS: readonly ColumnInfo[] = (
  [
    ['run', 'integer'],
    ['at', 'timestamp'],
    ['source', 'varchar'],
    ['target', 'varchar'],
    ['action', 'varchar'],
    ['rowkey', 'varchar'],
    ['partition', 'varchar'],
    ['status', 'varchar'],
    ['message', 'varchar'],
  ] as const
).map(([name, type]) => ({ name, type, nullable: true, filterOperators: [] }));

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

/** Every synchronize outcome of one session; runs are numbered from 1. */
export class SyncJournal {
  private readonly outcomes: SyncOutcome[] = [];
  private runs = 0;

  nextRun(): number {
    this.runs += 1;
    return this.runs;
  }

  add(o: SyncOutcome): void {
    this.outcomes.push(o);
  }

  all(): readonly SyncOutcome[] {
    return this.outcomes;
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
 * The value of `x` as the target column type would hold it; NULL when it
 * cannot convert. `from` is the type `x` has: a number going into text is
 * written without a trailing `.0`, so 2 and '2' compare equal.
 */
function normalise(x: string, type: ColumnType, from: ColumnType = type): string {
  if (type === 'varchar' && NUMERIC.includes(from)) {
    const d = `CAST(${x} AS DOUBLE)`;
    return `(CASE WHEN ${d} = ROUND(${d}) AND ABS(${d}) < 9.2e18 THEN CAST(CAST(${d} AS BIGINT) AS VARCHAR) ELSE CAST(${d} AS VARCHAR) END)`;
  }
  const text = `TRIM(CAST(${x} AS VARCHAR))`;
  switch (type) {
    case 'integer':
    case 'bigint': {
      const d = `TRY_CAST(${text} AS DOUBLE)`;
      return `(CASE WHEN ${d} = ROUND(${d}) AND ABS(${d}) < 9.2e18 THEN CAST(${d} AS BIGINT) END)`;
    }
    case 'double':
    case 'decimal':
      return `TRY_CAST(${text} AS DOUBLE)`;
    case 'boolean':
      return `TRY_CAST(${text} AS BOOLEAN)`;
    case 'date':
      return `TRY_CAST(${x} AS DATE)`;
    case 'timestamp':
      return `TRY_CAST(${x} AS TIMESTAMP)`;
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
    return `CASE WHEN ${raw} IS NOT NULL AND ${normalise(raw, c.type, c.sourceType)} IS NULL THEN ${quoteString(`${c.targetName}: `)} || ${quoteString("'")} || CAST(${raw} AS VARCHAR) || ${quoteString(`' is not ${TYPE_WORD[c.type]}`)} END`;
  });
  await db.run(
    `CREATE TEMP TABLE ${sNorm} AS SELECT * FROM (SELECT row_number() OVER () AS __rid, ${plan.columns.map((c) => `${normalise(q(c.sourceName), c.type, c.sourceType)} AS ${c.id}`).join(', ')}` +
      `${plan.sourcePartitionColumn ? `, CAST(${q(plan.sourcePartitionColumn)} AS VARCHAR) AS __part` : ', CAST(NULL AS VARCHAR) AS __part'}` +
      `, NULLIF(concat_ws('; ', ${problems.length > 0 ? problems.join(', ') : 'NULL'}), '') AS __problem FROM ${sRaw})` +
      // A key that did not convert is reported, never skipped as if it were empty.
      (statement.ignoreNulls ? ` WHERE NOT (${allNullKey}) OR __problem IS NOT NULL` : ''),
  );
  const tNorm = temp('sync_tn');
  await db.run(
    `CREATE TEMP TABLE ${tNorm} AS SELECT * FROM (SELECT row_number() OVER () AS __rid, ${plan.columns.map((c) => `${normalise(q(c.targetName), c.type)} AS ${c.id}`).join(', ')}` +
      `, ${plan.address.map((a, i) => `${q(a)} AS a${i}`).join(', ')}` +
      `${plan.targetPartitionColumn ? `, CAST(${q(plan.targetPartitionColumn)} AS VARCHAR) AS __part` : ', CAST(NULL AS VARCHAR) AS __part'} FROM ${tRaw})` +
      (statement.ignoreNulls ? ` WHERE NOT (${allNullKey})` : ''),
  );

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
  return { compared: { counts, mismatches: Number(m.rows[0]?.[0] ?? 0), diff, temps }, explain };
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
  lines.push(`changes: insert ${c.counts.insert}, update ${c.counts.update}, delete ${c.counts.delete}${c.mismatches > 0 ? `; ${c.mismatches} row(s) with values the target cannot take` : ''}`);
  for (const op of ORDER) {
    const n = c.counts[op];
    if (!plan.allowed.has(op)) {
      if (n > 0) lines.push(`  ${op}: ${n} row(s) differ but "${op}" is not allowed: left alone`);
      continue;
    }
    const cap = plan.allowed.get(op);
    if (cap && n > cap.rows) lines.push(`  ${op}: ${n} > ${cap.rows}: would ${cap.mode === 'exit' ? 'skip every ' + op : 'fail the statement before writing'}`);
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

/** Run a synchronize statement. Throws after recording outcomes when it could not complete. */
export async function runSynchronize(statement: SynchronizeStatement, host: SyncHost): Promise<SyncResult> {
  const plan = planSync(statement, host);
  const { compared } = await compare(plan, statement, host, true);
  if (!compared) throw new SluiceError('SYN999', 'synchronize read nothing.');
  const { counts, diff } = compared;
  const db = host.db;
  const run = host.journal.nextRun();
  const at = new Date(host.now());
  const tally = { ok: 0, failed: 0, skipped: 0 };
  const byOp: Record<WriteOp, number> = { insert: 0, update: 0, delete: 0 };
  const firstFailures: string[] = [];
  const record = (action: WriteOp, key: string, partition: string | null, status: SyncStatus, message: string | null) => {
    host.journal.add({ run, at, source: plan.source.label, target: plan.target.label, action, key, partition, status, message });
    tally[status] += 1;
    if (status === 'ok') byOp[action] += 1;
    if (status === 'failed' && firstFailures.length < 5) firstFailures.push(`${key}: ${message ?? 'failed'}`);
  };
  const budget = statement.continueOnErrors ?? 0;
  const summary = () =>
    `inserted ${byOp.insert}, updated ${byOp.update}, deleted ${byOp.delete}, failed ${tally.failed}${tally.skipped > 0 ? `, skipped ${tally.skipped}` : ''}`;
  const fail = (code: string, why: string, hint: string): SluiceError =>
    new SluiceError(code, `Synchronize ${plan.source.label} to ${plan.target.label} stopped: ${why} (${summary()}).${firstFailures.length > 0 ? ` First failure: ${firstFailures[0]}` : ''}`, {
      container: plan.target.container.alias,
      table: plan.target.table.name,
      hint,
    });

  // Decide everything that can stop the statement before the first write.
  const active: WriteOp[] = [];
  const exited: WriteOp[] = [];
  for (const op of ORDER) {
    if (!plan.allowed.has(op) || counts[op] === 0) continue;
    const cap = plan.allowed.get(op);
    if (cap && counts[op] > cap.rows) {
      if (cap.mode === 'error') {
        throw new SluiceError('SYN021', `Synchronize would ${op} ${counts[op]} rows in ${plan.target.label}, more than the ${cap.rows} allowed by "${op} error after ${cap.rows} rows"; nothing was written.`, {
          container: plan.target.container.alias,
          table: plan.target.table.name,
          hint: 'Check the source, or raise the limit.',
        });
      }
      exited.push(op);
      continue;
    }
    const why = refusal(plan, op);
    if (why) {
      throw new SluiceError('SYN020', `Synchronize needs to ${op} ${counts[op]} row(s) in ${plan.target.label}, but ${why.replace(/^./, (ch) => ch.toLowerCase())} Nothing was written.`, {
        container: plan.target.container.alias,
        table: plan.target.table.name,
        hint: `Leave out "${op}" from the with clause${op === 'delete' ? ' ("or delete")' : ''}.`,
      });
    }
    active.push(op);
  }

  // Rows whose values cannot convert are failures before any write.
  const problems = await db.all(`SELECT __action, __key, __part, __problem FROM ${diff} WHERE __problem IS NOT NULL AND __action <> 'delete' ORDER BY __key`);
  for (const row of problems.rows) {
    const op = String(row[0]) as WriteOp;
    if (!plan.allowed.has(op)) continue;
    record(op, String(row[1]), row[2] === null ? null : String(row[2]), 'failed', `Type mismatch: ${String(row[3])}`);
  }
  if (tally.failed > budget) {
    throw fail('SYN030', `${tally.failed} source row(s) have values the target columns cannot take; nothing was written`, 'Convert the values in the source (for example in a query into an in-memory table), or add "continue on first N errors".');
  }

  // Skipped actions (caps with "exit") are journaled row by row too.
  for (const op of exited) {
    const cap = plan.allowed.get(op)!;
    const rows = await db.all(`SELECT __key, __part FROM ${diff} WHERE __action = '${op}' AND __problem IS NULL ORDER BY __key`);
    for (const r of rows.rows) record(op, String(r[0]), r[1] === null ? null : String(r[1]), 'skipped', `Not ${PAST[op]}: ${counts[op]} rows needed it, more than "${op} exit after ${cap.rows} rows" allows.`);
  }

  // Load each action's rows and route them to partitions.
  const target = await host.partitions(plan.target.container);
  const routed = plan.target.table.scope !== 'system' && target.partitioned && plan.targetPartitionColumn !== undefined;
  const work: Pending[] = [];
  for (const op of active) {
    const shape = writeShape(plan, op);
    const part = op === 'insert' ? '__part' : '__tpart';
    const res = await db.all(`SELECT __key, ${part}, ${shape.select.join(', ')} FROM ${diff} WHERE __action = '${op}' AND __problem IS NULL ORDER BY ${part}, __key`);
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
  const concurrency = Math.max(1, Number(host.settings['synchronize-concurrency'] ?? '8') || 8);
  const bulk = plan.target.container.createTable !== undefined;
  const batchSize = Math.max(1, Number(host.settings['synchronize-batch-size'] ?? '') || (bulk ? 1000 : concurrency * 4));
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
    if (stop || tally.failed > budget || signal.aborted) {
      for (const w of rowsOf) record(w.op, w.key, null, 'skipped', 'Not attempted: the write stopped on an earlier failure.');
      continue;
    }
    const shape = writeShape(plan, op);
    const match = plan.address.map((a, i) => `t.${q(a)} IS NOT DISTINCT FROM d.a${i}`).join(' AND ');
    const pick = `d.__action = '${op}' AND d.__problem IS NULL`;
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
  }
  for (let b = 0; b < (local ? 0 : batches.length); b++) {
    const batch = batches[b];
    if (stop || tally.failed > budget || signal.aborted) {
      const why = signal.aborted ? 'Not attempted: the statement was cancelled.' : stop ? 'Not attempted: the write stopped on an earlier failure.' : `Not attempted: more than ${budget} error(s).`;
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
    host.state.onProgress?.({ partitionsDone: 0, partitionsTotal: 0, rows: written, remoteCalls: host.state.remoteCalls(), elapsedMs: host.now() - host.state.started });
  }
  const hintRerun = 'Every row is in datadictionary synchronizeresults; rows done stay done. Fix the cause and run the synchronize again: it compares afresh and completes the rest.';
  if (signal.aborted) {
    const c = cancelled();
    throw new SluiceError(c.code, `${c.message} Synchronize ${plan.target.label}: ${summary()}.`, { hint: hintRerun });
  }
  if (stop) {
    const m = stop.error instanceof Error ? stop.error.message : String(stop.error);
    const code = stop.error instanceof SluiceError ? stop.error.code : 'SYN031';
    throw new SluiceError(code, `Synchronize ${plan.source.label} to ${plan.target.label} stopped: ${m} (${summary()}).`, {
      container: plan.target.container.alias,
      table: plan.target.table.name,
      hint: hintRerun,
    });
  }
  if (tally.failed > budget) {
    throw fail('SYN030', budget === 0 ? 'a row failed' : `more than ${budget} rows failed`, hintRerun);
  }
  const warnings = firstFailures.map((f) => `synchronize failed row ${f}`);
  const notAsked = ORDER.filter((o) => !plan.allowed.has(o) && counts[o] > 0).map((o) => `${counts[o]} to ${o}`);
  const exitedText = exited.map((o) => `${o} skipped: ${counts[o]} rows exceed the cap`);
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

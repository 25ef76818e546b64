/**
 * Direct streaming: a query the provider answers completely by itself skips
 * DuckDB. When the statement is one remote table read plainly — select items
 * are columns (or `*`), every WHERE conjunct is applied exactly by the
 * provider, its ORDER BY and LIMIT too — loading every row into a temp table
 * and reading it back changes nothing but costs memory and time (a million
 * PostgreSQL rows: ~160 MB and a third of the throughput). Then the
 * provider's batches are the result, projected to the select items and each
 * value converted exactly as the DuckDB round trip would (local.ts coerce +
 * toValue, decimals per decimal.ts), so results never depend on which path
 * ran. Anything else, or `set direct-scan off`, takes the normal path.
 *
 * session.ts calls `directQuery` first in runQuery and `explainDirect` in
 * explain; the shape checks, re-planning and streaming all live here.
 */
import type { ColumnInfo, ColumnType, Partition, RowBatch, ScanPlan, Value } from '../provider/types.js';
import type { ColumnRef, Expr, Query, Statement } from '../sql/ast.js';
import { SluiceError } from '../util/errors.js';
import type { ResultColumn, StatementResult, StatementSummary } from './api.js';
import type { BoundStatement } from './binder.js';
import { decimalTextToValue, toScaledDecimal } from './decimal.js';
import { cancelled, type RunState } from './executor.js';
import { decimalShape } from './local.js';
import type { TablePlan } from './planner.js';

/** What runQuery lends the direct path: planning without scanning, the summary and the user-facing error. */
export interface DirectHost {
  readonly statement: Statement;
  readonly query: Query;
  readonly state: RunState;
  readonly settings: Readonly<Record<string, string>>;
  /** Bind and plan the query without scanning anything. */
  prepare(): Promise<{ bound: BoundStatement; plans: readonly TablePlan[] }>;
  summary(rows: () => number): () => StatementSummary;
  userError(e: unknown): Promise<SluiceError>;
}

interface Output {
  readonly name: string;
  readonly type: ColumnType;
  /** The table column (original case) it reads. */
  readonly column: string;
  readonly convert: (v: Value) => Value;
}

interface DirectPlan {
  readonly tp: TablePlan;
  readonly plan: ScanPlan;
  readonly partition: Partition | undefined;
  readonly outputs: readonly Output[];
  readonly limit?: number;
}

export const DIRECT_EXPLAIN = 'streams directly from the provider (no local processing)';

function eq(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

function enabled(settings: Readonly<Record<string, string>>): boolean {
  return (settings['direct-scan'] ?? 'on').toLowerCase() !== 'off';
}

/** The syntactic part of the test, before anything is bound: one plain table, no grouping, no offset. */
function plainShape(query: Query): boolean {
  const s = query.body;
  if (query.with.length > 0 || s.kind !== 'Select' || query.offset) return false;
  if (s.distinct || s.groupBy.length > 0 || s.having || s.from.length !== 1 || s.from[0].kind !== 'TableRef') return false;
  return s.items.every((i) => i.expr.kind === 'ColumnRef' || i.expr.kind === 'Star');
}

function limitOf(query: Query): number | undefined | false {
  const e = query.limit ?? (query.body.kind === 'Select' ? query.body.top : undefined);
  if (!e) return undefined;
  if (e.kind !== 'Literal' || e.type !== 'number') return false;
  const n = Number(e.value);
  return Number.isSafeInteger(n) && n >= 0 ? n : false;
}

/** The table column a reference denotes: unqualified, or qualified by the table's alias. */
function columnOf(e: Expr, tp: TablePlan): ColumnInfo | undefined {
  if (e.kind !== 'ColumnRef') return undefined;
  const c: ColumnRef = e;
  if (c.qualifier.length > 0 && !eq(c.qualifier[c.qualifier.length - 1], tp.ref.alias)) return undefined;
  return tp.ref.table.columns.find((x) => eq(x.name, c.name));
}

const DAY_MS = 86_400_000;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);

function toNumber(v: Value): number | null {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  const n = Number(v instanceof Date ? v.getTime() : v);
  return Number.isNaN(n) ? null : n;
}

/**
 * A provider value → the Value the DuckDB round trip yields for a column of
 * this type: the composition of local.ts's coerce (in) and toValue (out).
 */
function converter(info: ColumnInfo): (v: Value) => Value {
  switch (info.type) {
    case 'varchar':
    case 'guid':
      return (v) => {
        if (v === null || v === undefined || typeof v === 'string') return v ?? null;
        if (v instanceof Date) return v.toISOString();
        if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
        return String(v);
      };
    case 'double':
      return (v) => (v === null || v === undefined ? null : toNumber(v));
    case 'integer':
      return (v) => {
        if (v === null || v === undefined) return null;
        const n = toNumber(v);
        return n === null ? null : Math.trunc(n);
      };
    case 'bigint':
      return (v) => {
        if (v === null || v === undefined) return null;
        let b: bigint;
        try {
          b = typeof v === 'bigint' ? v : typeof v === 'number' ? BigInt(Math.trunc(v)) : BigInt(String(v));
        } catch {
          return null;
        }
        return b <= MAX_SAFE && b >= MIN_SAFE ? Number(b) : b;
      };
    case 'boolean':
      return (v) => {
        if (v === null || v === undefined) return null;
        if (typeof v === 'boolean') return v;
        if (typeof v === 'string') return /^(true|1|y|yes)$/i.test(v);
        return Boolean(v);
      };
    case 'date':
    case 'timestamp':
      return (v) => {
        if (v === null || v === undefined) return null;
        const d = v instanceof Date ? v : new Date(typeof v === 'bigint' ? Number(v) : (v as string | number));
        const ms = d.getTime();
        if (Number.isNaN(ms)) return null;
        return info.type === 'date' ? new Date(Math.floor(ms / DAY_MS) * DAY_MS) : d;
      };
    case 'blob':
      return (v) => (v === null || v === undefined ? null : v instanceof Uint8Array ? v : new Uint8Array(Buffer.from(String(v))));
    case 'decimal': {
      const { precision, scale } = decimalShape(info.precision, info.scale);
      const unit = 10 ** scale;
      const exact = scale <= 22;
      return (v) => {
        if (v === null || v === undefined) return null;
        const scaled = toScaledDecimal(v, precision, scale);
        if (scaled === null) return null;
        // Below 10^15 the quotient is the double nearest the decimal, which prints as its digits (decimal.ts's rule).
        if (exact && scaled < 1_000_000_000_000_000n && scaled > -1_000_000_000_000_000n) return Number(scaled) / unit;
        const neg = scaled < 0n;
        const digits = (neg ? -scaled : scaled).toString().padStart(scale + 1, '0');
        const text = scale === 0 ? digits : `${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}`;
        return decimalTextToValue(neg ? `-${text}` : text);
      };
    }
  }
}

/** The direct plan for a bound and planned query, or undefined when it must run through DuckDB. */
function directPlanOf(query: Query, bound: BoundStatement, plans: readonly TablePlan[]): DirectPlan | undefined {
  if (bound.refs.length !== 1 || plans.length !== 1 || query.body.kind !== 'Select') return undefined;
  const tp = plans[0];
  const ref = tp.ref;
  if (tp.ref !== bound.refs[0] || ref.node.kind !== 'TableRef' || ref.node !== query.body.from[0]) return undefined;
  if (tp.partitions.length !== 1) return undefined;
  const partition = tp.partitions[0];

  // Every WHERE conjunct became predicates, and the provider applies every predicate exactly.
  if (ref.conjuncts.some((c) => !tp.sources.includes(c))) return undefined;
  if (tp.plan.conjuncts.length !== tp.plan.request.conjuncts.length || tp.plan.conjuncts.some((a) => a !== 'exact')) return undefined;

  const outputs: Output[] = [];
  const byName = new Map(ref.table.columns.map((c) => [c.name.toLowerCase(), c]));
  for (const item of query.body.items) {
    if (item.expr.kind === 'Star') {
      if (item.expr.qualifier.length > 0 && !eq(item.expr.qualifier[item.expr.qualifier.length - 1], ref.alias)) return undefined;
      // DuckDB's * over the temp table: its columns, in the scan's order.
      for (const name of tp.columns) {
        const info = byName.get(name.toLowerCase());
        if (!info) return undefined;
        outputs.push({ name, type: info.type === 'guid' ? 'varchar' : info.type, column: info.name, convert: converter(info) });
      }
      continue;
    }
    const info = columnOf(item.expr, tp);
    if (!info || item.expr.kind !== 'ColumnRef') return undefined;
    outputs.push({ name: item.alias ?? info.name, type: info.type === 'guid' ? 'varchar' : info.type, column: info.name, convert: converter(info) });
  }
  if (outputs.length === 0) return undefined;

  const orderBy: { column: string; descending: boolean }[] = [];
  for (const o of query.orderBy) {
    const info = columnOf(o.expr, tp);
    if (!info || o.nulls !== undefined) return undefined;
    // ORDER BY x means the select item named x when there is one: only a plain reference to the same column is the column.
    const name = (o.expr as ColumnRef).name;
    const shadow = (o.expr as ColumnRef).qualifier.length === 0 ? query.body.items.find((i) => i.alias !== undefined && eq(i.alias, name)) : undefined;
    if (shadow && columnOf(shadow.expr, tp) !== info) return undefined;
    orderBy.push({ column: info.name, descending: o.descending });
  }
  const limit = limitOf(query);
  if (limit === false) return undefined;

  const request = tp.plan.request;
  const same = (request.limit ?? -1) === (limit ?? -1) && (orderBy.length === 0 ? request.orderBy === undefined : request.orderBy !== undefined);
  let plan = tp.plan;
  if (!same || (orderBy.length > 0 && !plan.orderApplied)) {
    // The planner sends an order only along with a limit; here the order itself must travel.
    plan = ref.container.plan(ref.table, {
      columns: request.columns,
      conjuncts: request.conjuncts,
      ...(limit !== undefined ? { limit } : {}),
      ...(orderBy.length > 0 ? { orderBy } : {}),
      ...(request.arguments ? { arguments: request.arguments } : {}),
    });
    if (plan.conjuncts.length !== request.conjuncts.length || plan.conjuncts.some((a) => a !== 'exact')) return undefined;
  }
  if (orderBy.length > 0 && !plan.orderApplied) return undefined;
  if (limit !== undefined && !plan.limitApplied) return undefined;
  return { tp, plan, partition, outputs, ...(limit !== undefined ? { limit } : {}) };
}

/** The explain line for a query that would stream directly, else undefined. */
export function explainDirect(
  statement: Statement,
  query: Query,
  prepared: { bound: BoundStatement; plans: readonly TablePlan[] },
  settings: Readonly<Record<string, string>>,
): string | undefined {
  if (statement.kind !== 'QueryStatement' || !enabled(settings) || !plainShape(query)) return undefined;
  return directPlanOf(query, prepared.bound, prepared.plans) ? DIRECT_EXPLAIN : undefined;
}

/** The query's result streamed straight from the provider, or undefined to take the normal path. */
export async function directQuery(host: DirectHost): Promise<StatementResult | undefined> {
  const { query, state } = host;
  if (!enabled(host.settings) || !plainShape(query)) return undefined;
  const prepared = await host.prepare();
  const direct = directPlanOf(query, prepared.bound, prepared.plans);
  if (!direct) return undefined;
  if (state.signal.aborted) throw cancelled();

  const { tp, plan, partition, outputs, limit } = direct;
  const container = tp.ref.container;
  const table = tp.ref.table;
  const failFast = (host.settings['partition-failure'] ?? 'skip').toLowerCase() === 'error';
  const partitionColumn = partition ? table.partitionColumn?.toLowerCase() : undefined;
  const names = outputs.map((o) => o.name);
  let rows = 0;
  state.partitionsTotal += 1;
  const report = () =>
    state.onProgress?.({
      partitionsDone: state.partitionsDone,
      partitionsTotal: state.partitionsTotal,
      rows: state.scannedRows,
      remoteCalls: state.remoteCalls(),
      elapsedMs: state.now() - state.started,
    });
  const failure = (e: unknown): SluiceError => {
    const message = e instanceof Error ? e.message : String(e);
    if (partition && !failFast) {
      // As the normal path words a scan whose every partition failed.
      state.failedPartitions.push({ container: container.alias, partition: partition.id, message });
      return new SluiceError('ENG211', `Reading ${table.name} from ${container.alias} failed in every partition: partition ${partition.id}: ${message}`, {
        container: container.alias,
        table: table.name,
        partition: partition.id,
      });
    }
    const where = partition ? ` partition ${partition.id}` : '';
    return new SluiceError('ENG210', `Reading ${table.name} from ${container.alias}${where} failed: ${message}`, {
      container: container.alias,
      table: table.name,
      partition: partition?.id,
      cause: e,
    });
  };

  async function* batches(): AsyncIterable<RowBatch> {
    let sources: (number | undefined)[] | undefined;
    let seen: readonly string[] | undefined;
    // A conversion error (a value that does not fit its decimal) is the user's to see as is; anything else is the scan failing.
    let converting = false;
    try {
      const iterable = container.scan(plan, partition, {
        signal: state.signal,
        progress: (ev) => {
          if (ev.calls) state.reportedCalls += ev.calls;
          report();
        },
      });
      for await (const batch of iterable) {
        if (state.signal.aborted) throw cancelled();
        if (!sources || seen !== batch.columns) {
          const at = new Map<string, number>();
          batch.columns.forEach((c, i) => at.set(c.toLowerCase(), i));
          sources = outputs.map((o) => at.get(o.column.toLowerCase()));
          seen = batch.columns;
        }
        let input = batch.rows;
        // The limit is the provider's to apply; this only guards against one that returns more.
        if (limit !== undefined && rows + input.length > limit) input = input.slice(0, limit - rows);
        const src = sources;
        converting = true;
        const out: Value[][] = new Array<Value[]>(input.length);
        for (let r = 0; r < input.length; r++) {
          const row = input[r];
          const o: Value[] = new Array<Value>(outputs.length);
          for (let j = 0; j < outputs.length; j++) {
            const i = src[j];
            // A batch without the partition column gets the partition's id, as the temp table would.
            const v = i === undefined ? (partitionColumn !== undefined && outputs[j].column.toLowerCase() === partitionColumn ? partition!.id : null) : row[i];
            o[j] = outputs[j].convert(v);
          }
          out[r] = o;
        }
        converting = false;
        rows += out.length;
        state.scannedRows += batch.rows.length;
        report();
        if (out.length > 0) yield { columns: names, rows: out };
        if (limit !== undefined && rows >= limit) break;
      }
      if (state.signal.aborted) throw cancelled();
      state.partitionsDone += 1;
      report();
    } catch (e) {
      if (state.signal.aborted) throw cancelled();
      throw converting ? await host.userError(e) : failure(e);
    } finally {
      state.finishedAt = state.now();
    }
  }

  const columns: ResultColumn[] = outputs.map((o) => ({ name: o.name, type: o.type }));
  return { kind: 'rows', statement: host.statement, columns, batches: batches(), summary: host.summary(() => rows) };
}

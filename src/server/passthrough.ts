/**
 * A feed straight from the provider, without the session's DuckDB. For a
 * feed over a remote, unpartitioned table (a PostgreSQL or MariaDB table)
 * whose filter, order and limit the provider applies exactly, the engine
 * would load every row into a DuckDB temp table and sort it again before the
 * first row goes out: for a million rows that is ~200 MB of server memory and
 * a third of the time, for nothing. Here the feed's statement (built by
 * pageStatement, so its shape is known) is turned into the provider's scan
 * request and the provider's batches stream through as they arrive.
 *
 * Only through the engine's public API (Session.containers) and the provider
 * contract; anything the provider would not do exactly — or any shape this
 * does not recognise — answers undefined and the feed runs through the engine
 * as before, so results never depend on which path ran.
 */
import type { Session } from '../engine/api.js';
import type { Predicate, RowBatch, ScanRequest, Value } from '../provider/types.js';
import type { Expr, Query } from '../sql/ast.js';
import type { EntitySet } from './odata/model.js';

const COMPARE = new Set(['=', '<>', '<', '<=', '>', '>=']);
const FLIP: Record<string, '=' | '<>' | '<' | '<=' | '>' | '>='> = { '=': '=', '<>': '<>', '<': '>', '<=': '>=', '>': '<', '>=': '<=' };

/** A literal as a provider value; dates and timestamps are left to the engine (their typing is its business). */
function literalValue(e: Expr): Value | undefined {
  if (e.kind !== 'Literal') return undefined;
  switch (e.type) {
    case 'number': {
      const n = Number(e.value);
      return Number.isFinite(n) && (/[.eE]/.test(e.value) || Number.isSafeInteger(n)) ? n : undefined;
    }
    case 'string':
      return e.value;
    case 'boolean':
      return e.value.toLowerCase() === 'true';
    default:
      return undefined;
  }
}

/** One predicate for a simple comparison, or undefined. */
function predicateOf(e: Expr): Predicate | undefined {
  if (e.kind === 'Binary' && e.op === 'or') {
    const left = predicateOf(e.left);
    const right = predicateOf(e.right);
    return left && right ? { kind: 'or', predicates: [left, right] } : undefined;
  }
  if (e.kind === 'Binary' && e.op === 'and') {
    const left = predicateOf(e.left);
    const right = predicateOf(e.right);
    return left && right ? { kind: 'and', predicates: [left, right] } : undefined;
  }
  if (e.kind === 'Binary' && COMPARE.has(e.op)) {
    const op = e.op as '=' | '<>' | '<' | '<=' | '>' | '>=';
    if (e.left.kind === 'ColumnRef' && e.left.qualifier.length === 0) {
      const value = literalValue(e.right);
      if (value !== undefined) return { kind: 'compare', column: e.left.name, op, value };
    }
    if (e.right.kind === 'ColumnRef' && e.right.qualifier.length === 0) {
      const value = literalValue(e.left);
      if (value !== undefined) return { kind: 'compare', column: e.right.name, op: FLIP[op], value };
    }
    return undefined;
  }
  if (e.kind === 'IsNull' && e.expr.kind === 'ColumnRef' && e.expr.qualifier.length === 0) {
    return { kind: 'isnull', column: e.expr.name, not: e.not };
  }
  return undefined;
}

/** Top-level conjuncts, as the engine splits them. */
function conjunctsOf(e: Expr | undefined, out: Expr[]): Expr[] {
  if (!e) return out;
  if (e.kind === 'Binary' && e.op === 'and') {
    conjunctsOf(e.left, out);
    conjunctsOf(e.right, out);
  } else out.push(e);
  return out;
}

function eq(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/**
 * The feed statement's rows straight from the provider, in the statement's
 * select-list order; undefined when this path does not apply (then run the
 * statement through the engine).
 */
export function directRows(session: Session, set: EntitySet, query: Query, signal: AbortSignal): AsyncIterable<RowBatch> | undefined {
  const body = query.body;
  if (body.kind !== 'Select' || body.distinct || body.top || body.groupBy.length > 0 || body.having || query.offset || query.with.length > 0) return undefined;
  const container = session.containers().find((c) => eq(c.alias, set.containerAlias));
  if (!container || container.localRelation?.(set.table) !== undefined) return undefined;
  const table = set.table;
  if (table.partitionColumn || (table.parameters && table.parameters.length > 0)) return undefined;

  const columns: string[] = [];
  for (const { expr } of body.items) {
    if (expr.kind !== 'ColumnRef' || expr.qualifier.length > 0) return undefined;
    columns.push(expr.name);
  }
  const orderBy: { column: string; descending: boolean }[] = [];
  for (const o of query.orderBy) {
    if (o.expr.kind !== 'ColumnRef' || o.expr.qualifier.length > 0) return undefined;
    orderBy.push({ column: o.expr.name, descending: o.descending });
  }
  const conjuncts: Predicate[] = [];
  for (const c of conjunctsOf(body.where, [])) {
    const p = predicateOf(c);
    if (!p) return undefined;
    conjuncts.push(p);
  }
  let limit: number | undefined;
  if (query.limit) {
    const v = literalValue(query.limit);
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) return undefined;
    limit = v;
  }
  const known = new Set(table.columns.map((c) => c.name.toLowerCase()));
  if (![...columns, ...orderBy.map((o) => o.column)].every((c) => known.has(c.toLowerCase()))) return undefined;

  const request: ScanRequest = { columns, conjuncts, orderBy, ...(limit !== undefined ? { limit } : {}) };
  let plan;
  try {
    plan = container.plan(table, request);
  } catch {
    return undefined;
  }
  if (!plan.orderApplied || plan.conjuncts.some((a) => a !== 'exact') || (limit !== undefined && !plan.limitApplied)) return undefined;

  return (async function* () {
    let map: number[] | undefined;
    let identity = false;
    let emitted = 0;
    for await (const batch of container.scan(plan, undefined, { signal })) {
      if (!map) {
        const at = new Map<string, number>();
        batch.columns.forEach((c, i) => at.set(c.toLowerCase(), i));
        map = columns.map((c) => at.get(c.toLowerCase()) ?? -1);
        if (map.includes(-1)) throw new Error(`The provider's rows lack a requested column of ${table.name}.`);
        identity = map.length === batch.columns.length && map.every((m, i) => m === i);
      }
      let rows = batch.rows;
      // The limit is the provider's to apply; this only guards against one that returns more.
      if (limit !== undefined && emitted + rows.length > limit) rows = rows.slice(0, limit - emitted);
      emitted += rows.length;
      const m = map;
      yield { columns, rows: identity ? rows : rows.map((r) => m.map((i) => r[i])) };
      if (limit !== undefined && emitted >= limit) return;
    }
  })();
}

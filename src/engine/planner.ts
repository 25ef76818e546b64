/**
 * The planner: for each bound remote table reference, decides what to ask the
 * provider (columns, simple predicates, limit) and which partitions to scan.
 *
 * This is where pushdown is decided. WHERE conjuncts that touch only one
 * table's columns and constants become `Predicate`s; the provider answers
 * exact / inexact / unsupported per predicate. The engine keeps the whole
 * WHERE for DuckDB regardless (re-applying an exact predicate costs nothing
 * locally and keeps outer joins and provider quirks correct); a LIMIT goes to
 * the provider only for a simple single-table select whose predicates were
 * all exact. Conjuncts `partitionColumn = x` / `in (…)` prune partitions.
 */
import type { Container, Partition, Predicate, ScanPlan, TableInfo, Value } from '../provider/types.js';
import type { ColumnRef, Expr, Literal, Query } from '../sql/ast.js';
import type { BoundRef } from './binder.js';
import { flattenOp } from './chains.js';

export interface TablePlan {
  readonly ref: BoundRef;
  readonly plan: ScanPlan;
  /** The WHERE conjuncts the predicates came from, same order as plan.request.conjuncts. */
  readonly sources: readonly Expr[];
  /** Partitions to scan; [undefined] for a single unpartitioned scan. */
  readonly partitions: readonly (Partition | undefined)[];
  /** How the scan fans out, in words (for explain). */
  readonly fanout: string;
  /** Columns (original case) the temp table holds. */
  readonly columns: readonly string[];
  /** Partition ids the filter asks for that are not selected with `use` (so they return no rows). */
  readonly unselected?: readonly string[];
}

function eq(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

export function literalValue(e: Expr): { ok: true; value: Value } | { ok: false } {
  if (e.kind === 'Unary' && e.op === '-' && e.operand.kind === 'Literal' && e.operand.type === 'number') {
    const v = literalValue(e.operand);
    return v.ok && typeof v.value === 'number' ? { ok: true, value: -v.value } : { ok: false };
  }
  if (e.kind !== 'Literal') return { ok: false };
  const l: Literal = e;
  switch (l.type) {
    case 'number': {
      const n = Number(l.value);
      if (/^-?\d+$/.test(l.value) && !Number.isSafeInteger(n)) return { ok: true, value: BigInt(l.value) };
      return { ok: true, value: n };
    }
    case 'string':
      // Oracle: '' is NULL, and a comparison with NULL is never true: leave it to DuckDB.
      return l.value === '' ? { ok: false } : { ok: true, value: l.value };
    case 'boolean':
      return { ok: true, value: l.value === 'true' };
    case 'null':
      return { ok: false };
    case 'date':
      return { ok: true, value: new Date(`${l.value}T00:00:00Z`) };
    case 'timestamp':
      return { ok: true, value: new Date(`${l.value.replace(' ', 'T')}Z`) };
  }
}

/**
 * A constant as the column's type would compare it, or not ok when the
 * comparison would need a conversion only DuckDB should decide (a number
 * against a text column compares numerically in Oracle, not as text).
 */
function typedLiteral(e: Expr, ref: BoundRef, column: string): { ok: true; value: Value } | { ok: false } {
  const v = literalValue(e);
  if (!v.ok) return v;
  const type = ref.table.columns.find((c) => c.name === column)?.type;
  const value = v.value;
  switch (type) {
    case 'integer':
    case 'bigint':
    case 'double':
    case 'decimal':
      if (typeof value === 'number' || typeof value === 'bigint') return v;
      if (typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value))) return { ok: true, value: Number(value) };
      return { ok: false };
    case 'varchar':
    case 'guid':
      return typeof value === 'string' ? v : { ok: false };
    case 'date':
    case 'timestamp': {
      if (value instanceof Date) return v;
      const m = typeof value === 'string' ? /^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?))?$/.exec(value) : null;
      if (!m) return { ok: false };
      const d = new Date(`${m[1]}T${m[2] ?? '00:00:00'}Z`);
      return Number.isNaN(d.getTime()) ? { ok: false } : { ok: true, value: d };
    }
    case 'boolean':
      return typeof value === 'boolean' ? v : { ok: false };
    default:
      return v;
  }
}

/** The column of `table` a reference denotes, when it is this ref's (qualified by its alias, or unqualified and unambiguous). */
function columnOf(e: Expr, ref: BoundRef, siblings: readonly BoundRef[]): string | undefined {
  if (e.kind !== 'ColumnRef') return undefined;
  const c: ColumnRef = e;
  const col = ref.table.columns.find((x) => eq(x.name, c.name));
  if (!col) return undefined;
  if (c.qualifier.length > 0) return eq(c.qualifier[c.qualifier.length - 1], ref.alias) ? col.name : undefined;
  const others = siblings.filter((s) => s !== ref && s.table.columns.some((x) => eq(x.name, c.name)));
  return others.length === 0 ? col.name : undefined;
}

const FLIP: Record<string, '=' | '<>' | '<' | '<=' | '>' | '>='> = { '=': '=', '<>': '<>', '<': '>', '<=': '>=', '>': '<', '>=': '<=' };

/** Translate one conjunct into predicates on `ref`, or undefined when it is not of a simple shape. */
export function toPredicates(e: Expr, ref: BoundRef, siblings: readonly BoundRef[]): Predicate[] | undefined {
  switch (e.kind) {
    case 'Binary': {
      if (e.op === 'or') {
        // `a or b or c`, however grouped, is one 'or' of three.
        const side = (p: Predicate[]): Predicate => (p.length === 1 ? p[0] : { kind: 'and', predicates: p });
        const predicates: Predicate[] = [];
        for (const x of flattenOp(e, 'or')) {
          const p = toPredicates(x, ref, siblings);
          if (!p) return undefined;
          predicates.push(side(p));
        }
        return [{ kind: 'or', predicates }];
      }
      if (e.op === 'and') {
        const predicates: Predicate[] = [];
        for (const x of flattenOp(e, 'and')) {
          const p = toPredicates(x, ref, siblings);
          if (!p) return undefined;
          predicates.push(...p);
        }
        return predicates;
      }
      if (!(e.op in FLIP)) return undefined;
      const op = e.op as '=' | '<>' | '<' | '<=' | '>' | '>=';
      let col = columnOf(e.left, ref, siblings);
      let lit = col ? typedLiteral(e.right, ref, col) : { ok: false as const };
      if (col && lit.ok) return [{ kind: 'compare', column: col, op, value: lit.value }];
      col = columnOf(e.right, ref, siblings);
      lit = col ? typedLiteral(e.left, ref, col) : { ok: false as const };
      if (col && lit.ok) return [{ kind: 'compare', column: col, op: FLIP[op], value: lit.value }];
      return undefined;
    }
    case 'InList': {
      const col = columnOf(e.expr, ref, siblings);
      if (!col) return undefined;
      const values: Value[] = [];
      for (const x of e.list) {
        const v = typedLiteral(x, ref, col);
        if (!v.ok) return undefined;
        values.push(v.value);
      }
      return [{ kind: 'in', column: col, values, not: e.not }];
    }
    case 'IsNull': {
      const col = columnOf(e.expr, ref, siblings);
      return col ? [{ kind: 'isnull', column: col, not: e.not }] : undefined;
    }
    case 'Like': {
      const col = columnOf(e.expr, ref, siblings);
      const p = literalValue(e.pattern);
      const type = col ? ref.table.columns.find((c) => c.name === col)?.type : undefined;
      if (!col || !p.ok || typeof p.value !== 'string' || e.escape || e.caseInsensitive || (type !== 'varchar' && type !== 'guid')) return undefined;
      return [{ kind: 'like', column: col, pattern: p.value, not: e.not }];
    }
    case 'Between': {
      const col = columnOf(e.expr, ref, siblings);
      const lo = col ? typedLiteral(e.low, ref, col) : { ok: false as const };
      const hi = col ? typedLiteral(e.high, ref, col) : { ok: false as const };
      if (!col || !lo.ok || !hi.ok || e.not) return undefined;
      return [
        { kind: 'compare', column: col, op: '>=', value: lo.value },
        { kind: 'compare', column: col, op: '<=', value: hi.value },
      ];
    }
    default:
      return undefined;
  }
}

/** Partition ids a predicate restricts the partition column to; undefined when it does not restrict. */
function partitionIds(p: Predicate, partitionColumn: string): Set<string> | undefined {
  if (p.kind === 'compare' && p.op === '=' && eq(p.column, partitionColumn)) return new Set([String(p.value)]);
  if (p.kind === 'in' && !p.not && eq(p.column, partitionColumn)) return new Set(p.values.map(String));
  return undefined;
}

/** Whether the query is a plain single-table select a provider limit can answer. */
function isSimpleSelect(query: Query | undefined, ref: BoundRef): boolean {
  if (!query || query.with.length > 0 || query.body.kind !== 'Select') return false;
  const s = query.body;
  if (s.distinct || s.groupBy.length > 0 || s.having || s.from.length !== 1 || s.from[0] !== ref.node) return false;
  const hasAggregateOrWindow = (e: Expr): boolean =>
    e.kind === 'FunctionCall' &&
    (e.over !== undefined || e.star || ['count', 'sum', 'min', 'max', 'avg', 'listagg', 'string_agg', 'median', 'stddev', 'variance'].includes(e.name));
  return !s.items.some((i) => hasAggregateOrWindow(i.expr));
}

function orderOf(query: Query, ref: BoundRef, siblings: readonly BoundRef[]): { column: string; descending: boolean }[] | undefined {
  const out: { column: string; descending: boolean }[] = [];
  const items = query.body.kind === 'Select' ? query.body.items : [];
  for (const o of query.orderBy) {
    const column = columnOf(o.expr, ref, siblings);
    // ORDER BY x means the select item named x when there is one; only a plain column item is the column itself.
    const shadow = o.expr.kind === 'ColumnRef' && o.expr.qualifier.length === 0 ? items.find((i) => i.alias !== undefined && eq(i.alias, (o.expr as ColumnRef).name)) : undefined;
    if (shadow && !(shadow.expr.kind === 'ColumnRef' && columnOf(shadow.expr, ref, siblings) === column)) return undefined;
    // Explicit NULLS placement is a promise providers cannot make; keep such orders local.
    if (!column || o.nulls !== undefined) return undefined;
    out.push({ column, descending: o.descending });
  }
  return out;
}

function limitOf(query: Query): number | undefined {
  const e = query.limit ?? (query.body.kind === 'Select' ? query.body.top : undefined);
  if (!e || e.kind !== 'Literal' || e.type !== 'number') return undefined;
  let n = Number(e.value);
  if (query.offset) {
    if (query.offset.kind !== 'Literal' || query.offset.type !== 'number') return undefined;
    n += Number(query.offset.value);
  }
  return Number.isFinite(n) ? n : undefined;
}

export interface PlanOptions {
  /** The statement's top-level query, for limit pushdown. */
  readonly query?: Query;
  /** Partitions currently selected for the container (undefined: unpartitioned). */
  readonly selected: readonly Partition[];
  /** Whether the container has partitions at all. */
  readonly partitioned: boolean;
  /** Extra columns the caller needs (e.g. key columns for update/delete). */
  readonly extraColumns?: readonly string[];
  /** Table function arguments, evaluated to constants. */
  readonly arguments?: readonly Value[];
}

/** Plan one remote table reference. */
export function planTable(ref: BoundRef, siblings: readonly BoundRef[], options: PlanOptions): TablePlan {
  const table: TableInfo = ref.table;
  const container: Container = ref.container;
  const wanted = new Set([...ref.needed, ...(options.extraColumns ?? []).map((c) => c.toLowerCase())]);
  const columns = table.columns.filter((c) => wanted.has(c.name.toLowerCase())).map((c) => c.name);
  if (table.partitionColumn && table.scope !== 'system' && !columns.some((c) => eq(c, table.partitionColumn!)) && wanted.has(table.partitionColumn.toLowerCase())) {
    columns.push(table.partitionColumn);
  }

  const predicates: Predicate[] = [];
  const sources: Expr[] = [];
  for (const c of ref.conjuncts) {
    const ps = toPredicates(c, ref, siblings);
    if (!ps) continue;
    for (const p of ps) {
      predicates.push(p);
      sources.push(c);
    }
  }

  const simple = isSimpleSelect(options.query, ref);
  // An ORDER BY travels with the limit only when it names this table's columns; otherwise neither travels.
  const orderBy = simple && options.query && options.query.orderBy.length > 0 ? orderOf(options.query, ref, siblings) : undefined;
  const orderOk = !options.query || options.query.orderBy.length === 0 || orderBy !== undefined;
  const limit = simple && orderOk && options.query ? limitOf(options.query) : undefined;
  const args = options.arguments ? { arguments: options.arguments } : {};
  const ordered = limit !== undefined && orderBy ? { orderBy } : {};
  let plan = container.plan(table, { columns, conjuncts: predicates, limit, ...ordered, ...args });
  const allExact = plan.conjuncts.every((s) => s === 'exact') && plan.conjuncts.length === predicates.length;
  const unconverted = ref.conjuncts.some((c) => !sources.includes(c));
  if (limit !== undefined && (!allExact || unconverted || (orderBy !== undefined && !plan.orderApplied))) {
    // A remote limit under a filter the provider does not apply exactly would drop qualifying rows.
    plan = container.plan(table, { columns, conjuncts: predicates, ...args });
  }

  let partitions: (Partition | undefined)[];
  let fanout: string;
  const unselected: string[] = [];
  if (table.scope === 'system' || !options.partitioned) {
    partitions = [undefined];
    fanout = table.scope === 'system' ? 'system-wide: scanned once' : 'unpartitioned: scanned once';
  } else {
    let selected = [...options.selected];
    if (table.partitionColumn) {
      for (const p of predicates) {
        const ids = partitionIds(p, table.partitionColumn);
        if (!ids) continue;
        selected = selected.filter((s) => ids.has(s.id));
        for (const id of ids) if (!options.selected.some((s) => s.id === id)) unselected.push(id);
      }
    }
    if (table.scope === 'subscription') {
      const byGroup = new Map<string, Partition>();
      for (const p of selected) {
        const g = p.group ?? p.id;
        if (!byGroup.has(g)) byGroup.set(g, p);
      }
      partitions = [...byGroup.values()];
      fanout = `subscription: once per subscription (${partitions.length} of ${selected.length} selected partitions)`;
    } else {
      partitions = selected;
      fanout = `partitioned: once per selected partition (${selected.length} of ${options.selected.length} after pruning)`;
    }
  }
  return { ref, plan, sources, partitions, fanout, columns, ...(unselected.length > 0 ? { unselected } : {}) };
}

export function describePredicate(p: Predicate): string {
  const v = (x: Value) => (x instanceof Date ? x.toISOString() : typeof x === 'string' ? `'${x}'` : String(x));
  switch (p.kind) {
    case 'compare':
      return `${p.column} ${p.op} ${v(p.value)}`;
    case 'in':
      return `${p.column} ${p.not ? 'not in' : 'in'} (${p.values.map(v).join(', ')})`;
    case 'isnull':
      return `${p.column} is ${p.not ? 'not ' : ''}null`;
    case 'like':
      return `${p.column} ${p.not ? 'not like' : 'like'} '${p.pattern}'`;
    case 'or':
      return `(${p.predicates.map(describePredicate).join(' or ')})`;
    case 'and':
      return `(${p.predicates.map(describePredicate).join(' and ')})`;
  }
}

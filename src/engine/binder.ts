/**
 * The binder: turns names in the AST into containers, tables and columns.
 *
 * Table names resolve across every container of the session (`name`,
 * `schema.name`, `catalog.schema.name`, `catalog..name`, optionally
 * `@alias`, case-insensitively, also by a table's aliases); a name without
 * `@alias` must be found in exactly one container. Column references are
 * checked against the tables in scope (with did-you-mean on a miss), and the
 * binder records which columns of each table the statement needs, so the
 * planner asks providers for those only. Output feeds planner.ts.
 */
import { findNodes } from '../sql/walk.js';
import type { ColumnType, Container, TableInfo } from '../provider/types.js';
import type {
  ColumnRef,
  Expr,
  FromItem,
  Query,
  QueryBody,
  SelectCore,
  Span,
  TableFunction,
  TableName,
  TableRef,
} from '../sql/ast.js';
import { SluiceError, type SqlLocation } from '../util/errors.js';
import { NILADIC } from './functions.js';
import { FailedContainer } from './failed-container.js';
import { chainOperands, flattenOp } from './chains.js';

export interface ResolvedTable {
  readonly container: Container;
  readonly table: TableInfo;
}

/** One table reference of a statement, bound. */
export interface BoundRef {
  readonly node: TableRef | TableFunction;
  readonly container: Container;
  readonly table: TableInfo;
  /** The name the statement uses for it (alias, else table name), lower-cased. */
  readonly alias: string;
  /** Lower-cased names of the columns the statement reads from it. */
  readonly needed: Set<string>;
  /** WHERE conjuncts of the select it sits in directly, safe to push into it (not under an outer join's nullable side). */
  readonly conjuncts: Expr[];
  /** The enclosing select, when this ref sits directly in its FROM. */
  readonly select?: SelectCore;
}

export interface BoundStatement {
  readonly refs: BoundRef[];
  /** Column name (lower-case) → type, across the bound tables, for type-dependent functions. */
  readonly columnTypes: Map<string, ColumnType>;
}

export function tableDisplayName(n: TableName): string {
  const parts = n.catalog !== undefined ? `${n.catalog}.${n.schema ?? ''}.${n.name}` : n.schema !== undefined ? `${n.schema}.${n.name}` : n.name;
  return n.container ? `${parts}@${n.container}` : parts;
}

export function locationOf(span: Span | undefined, text?: string): SqlLocation | undefined {
  if (!span) return undefined;
  const sourceLine = text !== undefined ? text.split('\n')[span.start.line - 1] : undefined;
  return { line: span.start.line, column: span.start.column, sourceLine };
}

export function editDistance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  for (let i = 1; i <= m; i++) {
    const cur = [i];
    for (let j = 1; j <= n; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[n];
}

/** Up to three closest names, when close enough to be a plausible typo. */
export function suggestions(name: string, candidates: Iterable<string>): string[] {
  const lower = name.toLowerCase();
  const scored: { c: string; d: number }[] = [];
  const seen = new Set<string>();
  for (const c of candidates) {
    const key = c.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    const d = editDistance(lower, key);
    if (d <= Math.max(2, Math.floor(lower.length / 3))) scored.push({ c, d });
  }
  return scored.sort((x, y) => x.d - y.d || x.c.localeCompare(y.c)).slice(0, 3).map((x) => x.c);
}

function eq(a: string | undefined, b: string | undefined): boolean {
  return (a ?? '').toLowerCase() === (b ?? '').toLowerCase();
}

function matches(t: TableInfo, n: TableName): boolean {
  const nameOk = eq(t.name, n.name) || (t.aliases ?? []).some((a) => eq(a, n.name));
  if (!nameOk) return false;
  if (n.schema !== undefined && n.schema !== '' && !eq(t.schema, n.schema)) return false;
  if (n.catalog !== undefined && n.catalog !== '' && !eq(t.catalog, n.catalog)) return false;
  return true;
}

/** Resolve a table name across the session's containers. */
export function resolveTable(containers: readonly Container[], n: TableName, text?: string): ResolvedTable {
  const where = locationOf(n.span, text);
  let pool = containers;
  if (n.container) {
    const c = containers.find((x) => eq(x.alias, n.container));
    if (!c) {
      const hint = suggestions(n.container, containers.map((x) => x.alias));
      throw new SluiceError('ENG022', `Unknown data container "${n.container}".`, {
        location: where,
        hint: hint.length ? `Did you mean ${hint.map((h) => `@${h}`).join(', ')}? Containers: ${containers.map((x) => x.alias).join(', ')}.` : `Containers: ${containers.map((x) => x.alias).join(', ')}.`,
      });
    }
    // A container that failed to connect has no known tables: say why, not "unknown table".
    if (c instanceof FailedContainer) throw c.error;
    pool = [c];
  }
  const found: ResolvedTable[] = [];
  for (const c of pool) {
    for (const t of c.tables()) if (matches(t, n)) found.push({ container: c, table: t });
  }
  // An exact name match beats a match by alias.
  const exact = found.filter((f) => eq(f.table.name, n.name));
  const pick = exact.length > 0 ? exact : found;
  if (pick.length === 1) return pick[0];
  if (pick.length > 1) {
    const candidates = pick.map((f) => `${f.table.catalog}.${f.table.schema}.${f.table.name}@${f.container.alias}`);
    throw new SluiceError('ENG021', `Table name "${tableDisplayName(n)}" is ambiguous: ${candidates.join(', ')}.`, {
      location: where,
      hint: 'Add @container (and catalog or schema) to say which one.',
    });
  }
  const all = pool.flatMap((c) => c.tables().map((t) => t.name));
  const hint = suggestions(n.name, all);
  const failed = pool.filter((c): c is FailedContainer => c instanceof FailedContainer);
  const unknownTables = failed.length > 0 ? ` It may be in ${failed.map((c) => c.alias).join(', ')}, whose tables are unknown: it failed to connect (${failed[0].error.message}).` : '';
  throw new SluiceError('ENG020', `Unknown table "${tableDisplayName(n)}".${unknownTables}`, {
    location: where,
    hint: hint.length ? `Did you mean ${hint.join(', ')}?` : 'See the table list in datadictionary systemtables.',
  });
}

// ---------------------------------------------------------------------------
// Scopes and columns

interface ScopeEntry {
  readonly alias: string;
  /** Known output columns (original case); undefined when not statically known. */
  readonly columns?: readonly string[];
  readonly ref?: BoundRef;
}

interface Scope {
  readonly entries: ScopeEntry[];
  /** Aliases of select items, usable in ORDER BY / GROUP BY / HAVING. */
  readonly itemAliases: Set<string>;
  readonly parent?: Scope;
}

export class Binder {
  readonly refs: BoundRef[] = [];
  readonly columnTypes = new Map<string, ColumnType>();

  constructor(
    private readonly containers: readonly Container[],
    private readonly text?: string,
    /** Table-function calls already described for their arguments (see collectTableFunctions). */
    private readonly functions: ReadonlyMap<TableFunction, ResolvedTable> = new Map(),
  ) {}

  bound(): BoundStatement {
    return { refs: this.refs, columnTypes: this.columnTypes };
  }

  bindQuery(q: Query, parent?: Scope, ctes: Map<string, readonly string[] | undefined> = new Map()): readonly string[] | undefined {
    const local = new Map(ctes);
    for (const c of q.with) {
      const cols = this.bindQuery(c.query, parent, local);
      local.set(c.name.toLowerCase(), c.columns.length > 0 ? c.columns : cols);
    }
    const { columns, scope } = this.bindBody(q.body, parent, local);
    if (scope) {
      for (const o of q.orderBy) this.bindExpr(o.expr, scope, local, true);
    }
    return columns;
  }

  private bindBody(b: QueryBody, parent: Scope | undefined, ctes: Map<string, readonly string[] | undefined>): { columns?: readonly string[]; scope?: Scope } {
    switch (b.kind) {
      case 'Query':
        return { columns: this.bindQuery(b, parent, ctes) };
      case 'SetOperation': {
        const l = this.bindBody(b.left, parent, ctes);
        this.bindBody(b.right, parent, ctes);
        return { columns: l.columns };
      }
      case 'Select':
        return this.bindSelect(b, parent, ctes);
    }
  }

  private bindSelect(s: SelectCore, parent: Scope | undefined, ctes: Map<string, readonly string[] | undefined>) {
    const scope: Scope = { entries: [], itemAliases: new Set(s.items.filter((i) => i.alias).map((i) => i.alias!.toLowerCase())), parent };
    const pushable = new Set<BoundRef>();
    const onConjuncts: Expr[] = [];
    for (const f of s.from) this.bindFrom(f, scope, ctes, s, pushable, false, onConjuncts);
    for (const c of onConjuncts) for (const r of pushable) r.conjuncts.push(c);
    if (s.where) {
      this.bindExpr(s.where, scope, ctes, false);
      for (const c of splitConjuncts(s.where)) for (const r of pushable) r.conjuncts.push(c);
    }
    let unknown = false;
    const out: string[] = [];
    for (const it of s.items) {
      if (it.expr.kind === 'Star') {
        const q = it.expr.qualifier;
        const targets = q.length > 0 ? scope.entries.filter((e) => eq(e.alias, q[q.length - 1])) : scope.entries;
        if (q.length > 0 && targets.length === 0) this.unknownAlias(q[q.length - 1], it.expr.span, scope);
        for (const t of targets) {
          if (t.ref) for (const c of t.ref.table.columns) t.ref.needed.add(c.name.toLowerCase());
          if (t.columns) out.push(...t.columns);
          else unknown = true;
        }
      } else {
        this.bindExpr(it.expr, scope, ctes, false);
        out.push(it.alias ?? (it.expr.kind === 'ColumnRef' ? it.expr.name : `col${out.length + 1}`));
      }
    }
    for (const g of s.groupBy) this.bindExpr(g, scope, ctes, true);
    if (s.having) this.bindExpr(s.having, scope, ctes, true);
    if (s.top) this.bindExpr(s.top, scope, ctes, false);
    return { columns: unknown ? undefined : out, scope };
  }

  private bindFrom(
    f: FromItem,
    scope: Scope,
    ctes: Map<string, readonly string[] | undefined>,
    select: SelectCore,
    pushable: Set<BoundRef>,
    nullable: boolean,
    onConjuncts: Expr[],
  ): void {
    switch (f.kind) {
      case 'TableRef': {
        const n = f.name;
        const cteName = !n.container && n.schema === undefined && n.catalog === undefined ? n.name.toLowerCase() : undefined;
        if (cteName !== undefined && ctes.has(cteName)) {
          scope.entries.push({ alias: f.alias ?? n.name, columns: ctes.get(cteName) });
          return;
        }
        if (isDual(n) && !this.containers.some((c) => c.tables().some((t) => matches(t, n)))) {
          scope.entries.push({ alias: f.alias ?? n.name, columns: ['dummy'] });
          return;
        }
        const ref = this.addRef(f, resolveTable(this.containers, n, this.text), f.alias ?? n.name, select);
        scope.entries.push({ alias: ref.alias, columns: ref.table.columns.map((c) => c.name), ref });
        if (!nullable) pushable.add(ref);
        return;
      }
      case 'TableFunction': {
        for (const a of f.args) this.bindExpr(a, scope, ctes, false);
        const ref = this.addRef(f, this.functions.get(f) ?? resolveTable(this.containers, f.name, this.text), f.alias ?? f.name.name, select);
        scope.entries.push({ alias: ref.alias, columns: ref.table.columns.map((c) => c.name), ref });
        return;
      }
      case 'DerivedTable': {
        const cols = this.bindQuery(f.query, scope.parent, ctes);
        scope.entries.push({ alias: f.alias ?? '__derived', columns: f.columnAliases.length > 0 ? f.columnAliases : cols });
        return;
      }
      case 'Join': {
        const leftNullable = nullable || f.type === 'right' || f.type === 'full';
        const rightNullable = nullable || f.type === 'left' || f.type === 'full';
        this.bindFrom(f.left, scope, ctes, select, pushable, leftNullable, onConjuncts);
        this.bindFrom(f.right, scope, ctes, select, pushable, rightNullable, onConjuncts);
        if (f.on) {
          this.bindExpr(f.on, scope, ctes, false);
          // In a tree of inner joins outside any outer join, an ON condition filters exactly like WHERE.
          if (!nullable && innerOnly(f)) onConjuncts.push(...splitConjuncts(f.on));
        }
        for (const u of f.using) this.markColumn(u, scope);
        return;
      }
    }
  }

  private addRef(node: TableRef | TableFunction, r: ResolvedTable, alias: string, select?: SelectCore): BoundRef {
    const ref: BoundRef = { node, container: r.container, table: r.table, alias: alias.toLowerCase(), needed: new Set(), conjuncts: [], select };
    for (const c of r.table.columns) if (!this.columnTypes.has(c.name.toLowerCase())) this.columnTypes.set(c.name.toLowerCase(), c.type);
    this.refs.push(ref);
    return ref;
  }

  /** Bind a table that a DML statement targets; its where/assignments bind against it. */
  bindTarget(name: TableName, alias: string | undefined): { ref: BoundRef; scope: Scope } {
    const r = resolveTable(this.containers, name, this.text);
    const ref = this.addRef({ kind: 'TableRef', name, alias, span: name.span }, r, alias ?? name.name);
    const scope: Scope = { entries: [{ alias: ref.alias, columns: r.table.columns.map((c) => c.name), ref }], itemAliases: new Set() };
    return { ref, scope };
  }

  bindInScope(e: Expr, scope: Scope): void {
    this.bindExpr(e, scope, new Map(), false);
  }

  private markColumn(name: string, scope: Scope): void {
    for (const e of scope.entries) {
      if (e.ref && e.columns?.some((c) => eq(c, name))) e.ref.needed.add(name.toLowerCase());
    }
  }

  private unknownAlias(alias: string, span: Span | undefined, scope: Scope): never {
    const names: string[] = [];
    for (let s: Scope | undefined = scope; s; s = s.parent) names.push(...s.entries.map((e) => e.alias));
    const hint = suggestions(alias, names);
    throw new SluiceError('ENG024', `Unknown table or alias "${alias}".`, {
      location: locationOf(span, this.text),
      hint: hint.length ? `Did you mean ${hint.join(', ')}?` : `In scope: ${names.join(', ') || '(none)'}.`,
    });
  }

  private bindColumn(c: ColumnRef, scope: Scope, allowItemAlias: boolean): void {
    const name = c.name;
    if (c.qualifier.length > 0) {
      const q = c.qualifier[c.qualifier.length - 1];
      for (let s: Scope | undefined = scope; s; s = s.parent) {
        const e = s.entries.find((x) => eq(x.alias, q));
        if (!e) continue;
        if (!e.columns || e.columns.some((x) => eq(x, name))) {
          e.ref?.needed.add(name.toLowerCase());
          return;
        }
        this.unknownColumn(c, e.columns);
      }
      this.unknownAlias(q, c.span, scope);
    }
    for (let s: Scope | undefined = scope; s; s = s.parent) {
      let found = false;
      for (const e of s.entries) {
        if (!e.columns) {
          found = true;
          continue;
        }
        if (e.columns.some((x) => eq(x, name))) {
          e.ref?.needed.add(name.toLowerCase());
          found = true;
        }
      }
      if (found) return;
      if ((allowItemAlias || s !== scope) && s.itemAliases.has(name.toLowerCase())) return;
    }
    if (scope.itemAliases.has(name.toLowerCase())) return;
    if (NILADIC.has(name.toLowerCase())) return;
    // Oracle's pseudo-column; the printer turns it into a row number (duckdb-printer.ts).
    if (name.toLowerCase() === 'rownum' && c.qualifier.length === 0) return;
    const all: string[] = [];
    for (let s: Scope | undefined = scope; s; s = s.parent) for (const e of s.entries) all.push(...(e.columns ?? []));
    this.unknownColumn(c, all);
  }

  private unknownColumn(c: ColumnRef, candidates: readonly string[]): never {
    const hint = suggestions(c.name, candidates);
    const full = [...c.qualifier, c.name].join('.');
    throw new SluiceError('ENG023', `Unknown column "${full}".`, {
      location: locationOf(c.span, this.text),
      hint: hint.length ? `Did you mean ${hint.join(', ')}?` : undefined,
    });
  }

  private bindExpr(e: Expr, scope: Scope, ctes: Map<string, readonly string[] | undefined>, allowItemAlias: boolean): void {
    const sub = (q: Query) => this.bindQuery(q, scope, ctes);
    const rec = (x: Expr) => this.bindExpr(x, scope, ctes, allowItemAlias);
    switch (e.kind) {
      case 'ColumnRef':
        this.bindColumn(e, scope, allowItemAlias);
        return;
      case 'Literal':
      case 'IntervalLiteral':
      case 'Parameter':
      case 'Star':
        return;
      case 'Unary':
        rec(e.operand);
        return;
      case 'Binary':
        // A generated `a = 1 or a = 2 or …` is a left-deep tree as deep as it is long: walk its spine in a loop.
        for (const x of chainOperands(e, e.op)) rec(x);
        return;
      case 'Like':
        rec(e.expr);
        rec(e.pattern);
        if (e.escape) rec(e.escape);
        return;
      case 'Between':
        rec(e.expr);
        rec(e.low);
        rec(e.high);
        return;
      case 'InList':
        rec(e.expr);
        e.list.forEach(rec);
        return;
      case 'InSubquery':
        rec(e.expr);
        sub(e.query);
        return;
      case 'IsNull':
        rec(e.expr);
        return;
      case 'Exists':
      case 'ScalarSubquery':
        sub(e.query);
        return;
      case 'FunctionCall':
        // extract(year from d): the unit arrives as a bare word, not a column.
        (e.name === 'extract' ? e.args.slice(1) : e.args).forEach(rec);
        if (e.filter) rec(e.filter);
        e.withinGroup?.forEach((o) => rec(o.expr));
        if (e.over) {
          e.over.partitionBy.forEach(rec);
          e.over.orderBy.forEach((o) => rec(o.expr));
        }
        return;
      case 'Case':
        if (e.operand) rec(e.operand);
        for (const w of e.whens) {
          rec(w.when);
          rec(w.then);
        }
        if (e.else) rec(e.else);
        return;
      case 'Cast':
        rec(e.expr);
        return;
    }
  }
}

function innerOnly(f: FromItem): boolean {
  if (f.kind !== 'Join') return true;
  return (f.type === 'inner' || f.type === 'cross') && innerOnly(f.left) && innerOnly(f.right);
}

/** Oracle's one-row table, for `select … from dual` habits; a real table called dual wins. */
export function isDual(n: TableName): boolean {
  return !n.container && n.schema === undefined && n.catalog === undefined && n.name.toLowerCase() === 'dual';
}

export function splitConjuncts(e: Expr): Expr[] {
  return flattenOp(e, 'and');
}

/** Every table-function call anywhere in a statement (the AST is a tree of plain objects). */
export function collectTableFunctions(root: unknown, out: TableFunction[] = []): TableFunction[] {
  out.push(...findNodes<TableFunction>(root, (n) => n.kind === 'TableFunction'));
  return out;
}

/**
 * Prints a bound AST as DuckDB SQL. The executor calls it after filling temp
 * tables: each table reference is replaced by what the context says (a temp
 * table filled by a scan, or a local relation of in-memory storage), and
 * function calls go through the library in functions.ts. Oracle habits are
 * kept here: '' is NULL, `||` skips NULLs, descending order puts NULLs first.
 */
import type {
  Expr,
  FromItem,
  FunctionCall,
  OrderItem,
  Query,
  QueryBody,
  SelectCore,
  TableFunction,
  TableRef,
  TypeName,
  WindowFrameBound,
  WindowSpec,
} from '../sql/ast.js';
import { SluiceError } from '../util/errors.js';
import { FUNCTIONS, NILADIC, divide, type ExprKind } from './functions.js';
import { quoteIdent, quoteString } from './local.js';

export interface PrintContext {
  /** The DuckDB relation (already quoted) a table reference reads. */
  relation(ref: TableRef | TableFunction): string;
  /** Best-effort type of an expression, for type-dependent functions (to_char, trunc). */
  kindOf?(expr: Expr): ExprKind;
  /** Whether a bare name is a column in scope (so `sysdate` as a column is not the function). */
  isColumn?(name: string): boolean;
  /** Best-effort: whether an expression is an exact decimal (so `avg` of it stays decimal). */
  isDecimal?(expr: Expr): boolean;
  now(): number;
}

export function printQuery(q: Query, ctx: PrintContext): string {
  const parts: string[] = [];
  if (q.with.length > 0) {
    parts.push(
      'WITH ' +
        q.with
          .map((c) => `${quoteIdent(c.name)}${c.columns.length ? `(${c.columns.map(quoteIdent).join(', ')})` : ''} AS (${printQuery(c.query, ctx)})`)
          .join(', '),
    );
  }
  // `select top n` acts like a limit applied after the query's ORDER BY.
  const top = q.body.kind === 'Select' ? q.body.top : undefined;
  parts.push(printBody(q.body, ctx, top !== undefined && q.limit === undefined));
  if (q.orderBy.length > 0) parts.push('ORDER BY ' + q.orderBy.map((o) => printOrder(o, ctx)).join(', '));
  const limit = q.limit ?? top;
  if (limit) parts.push('LIMIT ' + printExpr(limit, ctx));
  if (q.offset) parts.push('OFFSET ' + printExpr(q.offset, ctx));
  return parts.join(' ');
}

function printBody(b: QueryBody, ctx: PrintContext, topHandledOutside = false): string {
  switch (b.kind) {
    case 'Select':
      return printSelect(b, ctx, topHandledOutside);
    case 'Query':
      return `(${printQuery(b, ctx)})`;
    case 'SetOperation': {
      const op = b.op === 'minus' ? 'EXCEPT' : b.op.toUpperCase();
      const side = (x: QueryBody) => (x.kind === 'Select' && !x.top ? printSelect(x, ctx, false) : `(${x.kind === 'Select' ? printSelect(x, ctx, false) : printBody(x, ctx)})`);
      return `${side(b.left)} ${op}${b.all ? ' ALL' : ''} ${side(b.right)}`;
    }
  }
}

const ROW_NUMBER = 'row_number() OVER ()';

/** Whether an expression is Oracle's `rownum` pseudo-column (a real column of that name wins). */
function isRownum(e: Expr, ctx: PrintContext): boolean {
  return e.kind === 'ColumnRef' && e.qualifier.length === 0 && e.name.toLowerCase() === 'rownum' && !(ctx.isColumn?.('rownum') ?? false);
}

/** Whether `rownum` occurs in an expression, outside nested queries (which number their own rows). */
function mentionsRownum(node: unknown, ctx: PrintContext): boolean {
  if (Array.isArray(node)) return node.some((x) => mentionsRownum(x, ctx));
  if (!node || typeof node !== 'object') return false;
  const n = node as { kind?: unknown };
  if (n.kind === 'Query') return false;
  if (n.kind === 'ColumnRef') return isRownum(node as Expr, ctx);
  return Object.entries(node).some(([k, v]) => k !== 'span' && mentionsRownum(v, ctx));
}

function conjunctsOf(e: Expr): Expr[] {
  if (e.kind === 'Binary' && e.op === 'and') return [...conjunctsOf(e.left), ...conjunctsOf(e.right)];
  return [e];
}

const AGGREGATES = new Set(['count', 'sum', 'avg', 'min', 'max', 'listagg', 'string_agg', 'median', 'stddev', 'variance', 'any_value', 'first', 'last']);

function hasAggregate(node: unknown): boolean {
  if (Array.isArray(node)) return node.some(hasAggregate);
  if (!node || typeof node !== 'object') return false;
  const n = node as { kind?: unknown; name?: unknown; over?: unknown };
  if (n.kind === 'Query') return false;
  if (n.kind === 'FunctionCall' && !n.over && typeof n.name === 'string' && AGGREGATES.has(n.name)) return true;
  return Object.entries(node).some(([k, v]) => k !== 'span' && hasAggregate(v));
}

/**
 * Oracle's `where rownum <= n` (also `< n`, `= 1`, and written the other way
 * round): rows are numbered as they pass the WHERE and the numbering stops at
 * n. Printed as `QUALIFY row_number() OVER () <= n`, so a `rownum` in the
 * select list numbers the same rows 1..n. Other uses of rownum in a WHERE are
 * refused rather than given DuckDB's meaning.
 */
function rownumLimit(conjunct: Expr, ctx: PrintContext): string | undefined {
  if (conjunct.kind !== 'Binary') return undefined;
  const flip: Record<string, string> = { '<=': '>=', '<': '>', '=': '=', '>=': '<=', '>': '<' };
  let op = conjunct.op as string;
  let bound: Expr;
  if (isRownum(conjunct.left, ctx)) bound = conjunct.right;
  else if (isRownum(conjunct.right, ctx) && flip[op]) {
    op = flip[op];
    bound = conjunct.left;
  } else return undefined;
  if (mentionsRownum(bound, ctx)) return undefined;
  if (op === '<=' || op === '<') return `${ROW_NUMBER} ${op} ${printExpr(bound, ctx)}`;
  if (op === '=' && bound.kind === 'Literal' && bound.type === 'number' && Number(bound.value) === 1) return `${ROW_NUMBER} = 1`;
  return undefined;
}

function printSelect(s: SelectCore, ctx: PrintContext, topHandledOutside: boolean): string {
  let where = s.where;
  const qualify: string[] = [];
  if (where && mentionsRownum(where, ctx)) {
    const rest: Expr[] = [];
    for (const c of conjunctsOf(where)) {
      if (!mentionsRownum(c, ctx)) {
        rest.push(c);
        continue;
      }
      const limit = rownumLimit(c, ctx);
      if (!limit) {
        throw new SluiceError('ENG140', 'rownum is supported in a where clause only as "rownum <= n", "rownum < n" or "rownum = 1", joined to the rest with and.', spanDetails(c));
      }
      qualify.push(limit);
    }
    if (s.groupBy.length > 0 || s.having || hasAggregate(s.items)) {
      throw new SluiceError('ENG141', 'rownum in the where clause of a grouped or aggregating select is not supported.', {
        ...spanDetails(where),
        hint: 'Number the rows in a derived table first: select count(*) from (select * from t where rownum <= 10).',
      });
    }
    where = rest.length === 0 ? undefined : rest.reduce((l, r) => ({ kind: 'Binary', op: 'and', left: l, right: r }) as Expr);
  }
  let sql = 'SELECT ' + (s.distinct ? 'DISTINCT ' : '');
  sql += s.items
    .map((it) => {
      const e = it.expr.kind === 'Star' ? printStar(it.expr.qualifier) : printExpr(it.expr, ctx);
      // A bare rownum keeps its name as the column name.
      const alias = it.alias ?? (it.expr.kind === 'ColumnRef' && isRownum(it.expr, ctx) ? it.expr.name : undefined);
      return alias !== undefined ? `${e} AS ${quoteIdent(alias)}` : e;
    })
    .join(', ');
  if (s.from.length > 0) sql += ' FROM ' + s.from.map((f) => printFrom(f, ctx)).join(', ');
  if (where) sql += ' WHERE ' + printExpr(where, ctx);
  if (s.groupBy.length > 0) sql += ' GROUP BY ' + s.groupBy.map((g) => printExpr(g, ctx)).join(', ');
  if (s.having) sql += ' HAVING ' + printExpr(s.having, ctx);
  if (qualify.length > 0) sql += ' QUALIFY ' + qualify.join(' AND ');
  if (s.top && !topHandledOutside) sql += ' LIMIT ' + printExpr(s.top, ctx);
  return sql;
}

function printStar(qualifier: readonly string[]): string {
  return qualifier.length > 0 ? `${quoteIdent(qualifier[qualifier.length - 1])}.*` : '*';
}

export function printFrom(f: FromItem, ctx: PrintContext): string {
  switch (f.kind) {
    case 'TableRef':
      return `${ctx.relation(f)} AS ${quoteIdent(f.alias ?? f.name.name)}`;
    case 'TableFunction':
      return `${ctx.relation(f)} AS ${quoteIdent(f.alias ?? f.name.name)}`;
    case 'DerivedTable': {
      const alias = f.alias ?? '__derived';
      const cols = f.columnAliases.length ? `(${f.columnAliases.map(quoteIdent).join(', ')})` : '';
      return `(${printQuery(f.query, ctx)}) AS ${quoteIdent(alias)}${cols}`;
    }
    case 'Join': {
      const left = printFrom(f.left, ctx);
      const right = f.right.kind === 'Join' ? `(${printFrom(f.right, ctx)})` : printFrom(f.right, ctx);
      if (f.type === 'cross') return `${left} CROSS JOIN ${right}`;
      const type = { inner: 'JOIN', left: 'LEFT JOIN', right: 'RIGHT JOIN', full: 'FULL JOIN' }[f.type];
      if (f.using.length > 0) return `${left} ${type} ${right} USING (${f.using.map(quoteIdent).join(', ')})`;
      return `${left} ${type} ${right} ON ${f.on ? printExpr(f.on, ctx) : 'TRUE'}`;
    }
  }
}

function printOrder(o: OrderItem, ctx: PrintContext): string {
  let s = printExpr(o.expr, ctx) + (o.descending ? ' DESC' : ' ASC');
  // Oracle: NULLs sort as the largest value; DuckDB defaults to NULLS LAST both ways.
  const nulls = o.nulls ?? (o.descending ? 'first' : 'last');
  s += nulls === 'first' ? ' NULLS FIRST' : ' NULLS LAST';
  return s;
}


export function printType(t: TypeName): string {
  const name = t.name.toLowerCase();
  switch (name) {
    case 'number':
    case 'numeric':
    case 'decimal':
      if (t.args.length === 0) return 'DOUBLE';
      if (t.args.length === 1 || t.args[1] === 0) return t.args[0] > 18 ? 'HUGEINT' : 'BIGINT';
      return `DECIMAL(${Math.min(38, t.args[0])}, ${t.args[1]})`;
    case 'varchar2':
    case 'nvarchar2':
    case 'varchar':
    case 'nvarchar':
    case 'char':
    case 'nchar':
    case 'text':
    case 'string':
    case 'clob':
    case 'guid':
    case 'uuid':
      return 'VARCHAR';
    case 'int':
    case 'integer':
    case 'int32':
      return 'INTEGER';
    case 'int64':
    case 'bigint':
      return 'BIGINT';
    case 'float':
    case 'double':
    case 'real':
    case 'binary_double':
      return 'DOUBLE';
    case 'bool':
    case 'boolean':
      return 'BOOLEAN';
    case 'date':
      return 'DATE';
    case 'datetime':
    case 'timestamp':
      return 'TIMESTAMP';
    case 'blob':
    case 'raw':
    case 'bytea':
      return 'BLOB';
    default:
      return t.name.toUpperCase() + (t.args.length ? `(${t.args.join(', ')})` : '');
  }
}

export function printExpr(e: Expr, ctx: PrintContext): string {
  switch (e.kind) {
    case 'Literal':
      switch (e.type) {
        case 'number':
          return e.value;
        case 'string':
          return e.value === '' ? 'NULL' : quoteString(e.value);
        case 'boolean':
          return e.value === 'true' ? 'TRUE' : 'FALSE';
        case 'null':
          return 'NULL';
        case 'date':
          return `DATE ${quoteString(e.value)}`;
        case 'timestamp':
          return `TIMESTAMP ${quoteString(e.value)}`;
      }
      break;
    case 'IntervalLiteral':
      return `INTERVAL ${quoteString(`${e.value} ${e.unit}`)}`;
    case 'ColumnRef': {
      if (isRownum(e, ctx)) return ROW_NUMBER;
      if (e.qualifier.length === 0 && NILADIC.has(e.name.toLowerCase()) && !(ctx.isColumn?.(e.name) ?? false)) {
        return printCall({ kind: 'FunctionCall', name: e.name.toLowerCase(), args: [], distinct: false, star: false }, ctx);
      }
      const q = e.qualifier.length > 0 ? quoteIdent(e.qualifier[e.qualifier.length - 1]) + '.' : '';
      return q + quoteIdent(e.name);
    }
    case 'Star':
      return printStar(e.qualifier);
    case 'Parameter':
      throw new SluiceError('ENG130', `The parameter :${e.name} has no value.`, spanDetails(e));
    case 'Unary':
      return e.op === 'not' ? `(NOT ${printExpr(e.operand, ctx)})` : `(${e.op}${printExpr(e.operand, ctx)})`;
    case 'Binary': {
      if (e.op === '||') {
        // Oracle: NULL behaves as '' in concatenation, and an empty result is NULL. A chain
        // a || b || c is one flat concat (nested nullif(concat(…)) made DuckDB slow on long chains).
        return `nullif(concat(${concatOperands(e).map((x) => printExpr(x, ctx)).join(', ')}), '')`;
      }
      // Each side is printed exactly once: printing a side again per branch makes a chain of n
      // operators cost 2^n (an OData `$filter` of 30 `add` terms would never finish).
      const left = printExpr(e.left, ctx);
      const right = printExpr(e.right, ctx);
      if ((e.op === '+' || e.op === '-') && ctx.kindOf) {
        // Oracle date arithmetic: date ± number of (fractional) days; date - date = days between.
        const l = ctx.kindOf(e.left);
        const r = ctx.kindOf(e.right);
        if (l === 'date' && r === 'number') return `(CAST(${left} AS TIMESTAMP) ${e.op} to_microseconds(CAST(round((${right}) * 86400000000) AS BIGINT)))`;
        if (e.op === '+' && l === 'number' && r === 'date') return `(CAST(${right} AS TIMESTAMP) + to_microseconds(CAST(round((${left}) * 86400000000) AS BIGINT)))`;
        if (e.op === '-' && l === 'date' && r === 'date') return `((epoch(CAST(${left} AS TIMESTAMP)) - epoch(CAST(${right} AS TIMESTAMP))) / 86400.0)`;
      }
      if (COMPARISONS.has(e.op) && ctx.kindOf) {
        // Like Oracle, text compared with a number literal compares as numbers — the same for = and >.
        // TRY_CAST: a text value that is not a number matches no numeric comparison instead of failing the query.
        const l = ctx.kindOf(e.left);
        const r = ctx.kindOf(e.right);
        if (l === 'string' && isNumberLiteral(e.right)) return `(TRY_CAST(${left} AS DOUBLE) ${e.op} ${right})`;
        if (r === 'string' && isNumberLiteral(e.left)) return `(${left} ${e.op} TRY_CAST(${right} AS DOUBLE))`;
      }
      // Oracle raises ORA-01476 on division by zero; DuckDB would return NULL.
      if (e.op === '/') return divide(left, right);
      const op = e.op === 'and' ? 'AND' : e.op === 'or' ? 'OR' : e.op;
      return `(${left} ${op} ${right})`;
    }
    case 'Like': {
      const op = (e.not ? 'NOT ' : '') + (e.caseInsensitive ? 'ILIKE' : 'LIKE');
      return `(${printExpr(e.expr, ctx)} ${op} ${printExpr(e.pattern, ctx)}${e.escape ? ' ESCAPE ' + printExpr(e.escape, ctx) : ''})`;
    }
    case 'Between': {
      // Text between numbers compares as numbers, like the comparison operators above.
      const text = ctx.kindOf?.(e.expr) === 'string' && isNumberLiteral(e.low) && isNumberLiteral(e.high);
      const subject = text ? `TRY_CAST(${printExpr(e.expr, ctx)} AS DOUBLE)` : printExpr(e.expr, ctx);
      return `(${subject} ${e.not ? 'NOT ' : ''}BETWEEN ${printExpr(e.low, ctx)} AND ${printExpr(e.high, ctx)})`;
    }
    case 'InList': {
      const text = ctx.kindOf?.(e.expr) === 'string' && e.list.length > 0 && e.list.every(isNumberLiteral);
      const subject = text ? `TRY_CAST(${printExpr(e.expr, ctx)} AS DOUBLE)` : printExpr(e.expr, ctx);
      return `(${subject} ${e.not ? 'NOT ' : ''}IN (${e.list.map((x) => printExpr(x, ctx)).join(', ')}))`;
    }
    case 'InSubquery':
      return `(${printExpr(e.expr, ctx)} ${e.not ? 'NOT ' : ''}IN (${printQuery(e.query, ctx)}))`;
    case 'IsNull':
      return `(${printExpr(e.expr, ctx)} IS ${e.not ? 'NOT ' : ''}NULL)`;
    case 'Exists':
      return `(${e.not ? 'NOT ' : ''}EXISTS (${printQuery(e.query, ctx)}))`;
    case 'ScalarSubquery':
      return `(${printQuery(e.query, ctx)})`;
    case 'FunctionCall':
      return printCall(e, ctx);
    case 'Case': {
      let s = 'CASE';
      if (e.operand) s += ' ' + printExpr(e.operand, ctx);
      for (const w of e.whens) s += ` WHEN ${printExpr(w.when, ctx)} THEN ${printExpr(w.then, ctx)}`;
      if (e.else) s += ` ELSE ${printExpr(e.else, ctx)}`;
      return s + ' END';
    }
    case 'Cast':
      return `CAST(${printExpr(e.expr, ctx)} AS ${printType(e.type)})`;
  }
  throw new SluiceError('ENG131', `Cannot print expression of kind ${(e as { kind: string }).kind}.`);
}

const COMPARISONS = new Set(['=', '<>', '<', '<=', '>', '>=']);

/** The operands of a chain of `||`, left to right, gathered without recursion. */
function concatOperands(e: Expr): Expr[] {
  const out: Expr[] = [];
  const stack: Expr[] = [e];
  while (stack.length > 0) {
    const x = stack.pop() as Expr;
    if (x.kind === 'Binary' && x.op === '||') stack.push(x.right, x.left);
    else out.push(x);
  }
  return out;
}

function isNumberLiteral(e: Expr): boolean {
  return (e.kind === 'Literal' && e.type === 'number') || (e.kind === 'Unary' && e.op === '-' && isNumberLiteral(e.operand));
}

function spanDetails(e: { span?: { start: { line: number; column: number } } }) {
  return e.span ? { location: { line: e.span.start.line, column: e.span.start.column } } : {};
}

function printCall(f: FunctionCall, ctx: PrintContext): string {
  const args = f.args.map((a) => printExpr(a, ctx));
  const mapped = FUNCTIONS[f.name];
  if (mapped && !f.over) {
    const withinGroup = f.withinGroup?.map((o) => printOrder(o, ctx)).join(', ');
    return mapped({ args, call: f, kindOf: (x) => ctx.kindOf?.(x) ?? 'unknown', now: () => ctx.now(), withinGroup });
  }
  let s = `${f.name.split('.').map(quoteIdentIfNeeded).join('.')}(`;
  if (f.star) s += '*';
  else s += (f.distinct ? 'DISTINCT ' : '') + args.join(', ');
  s += ')';
  if (f.filter) s += ` FILTER (WHERE ${printExpr(f.filter, ctx)})`;
  if (f.over) s += ` OVER (${printWindow(f.over, ctx)})`;
  // DuckDB averages a DECIMAL as a DOUBLE; keep averages of decimals decimal (10 places) so they print cleanly.
  if (f.name === 'avg' && f.args.length === 1 && ctx.isDecimal?.(f.args[0])) s = `CAST(${s} AS DECIMAL(38, 10))`;
  return s;
}

function quoteIdentIfNeeded(name: string): string {
  return /^[a-z_][a-z0-9_]*$/.test(name) ? name : quoteIdent(name);
}

function printWindow(w: WindowSpec, ctx: PrintContext): string {
  const parts: string[] = [];
  if (w.partitionBy.length) parts.push('PARTITION BY ' + w.partitionBy.map((x) => printExpr(x, ctx)).join(', '));
  if (w.orderBy.length) parts.push('ORDER BY ' + w.orderBy.map((o) => printOrder(o, ctx)).join(', '));
  if (w.frame) {
    const b = (x: WindowFrameBound) => {
      switch (x.kind) {
        case 'unboundedPreceding':
          return 'UNBOUNDED PRECEDING';
        case 'unboundedFollowing':
          return 'UNBOUNDED FOLLOWING';
        case 'currentRow':
          return 'CURRENT ROW';
        case 'preceding':
          return `${x.offset ? printExpr(x.offset, ctx) : '1'} PRECEDING`;
        case 'following':
          return `${x.offset ? printExpr(x.offset, ctx) : '1'} FOLLOWING`;
      }
    };
    const unit = w.frame.unit.toUpperCase();
    parts.push(w.frame.end ? `${unit} BETWEEN ${b(w.frame.start)} AND ${b(w.frame.end)}` : `${unit} ${b(w.frame.start)}`);
  }
  return parts.join(' ');
}

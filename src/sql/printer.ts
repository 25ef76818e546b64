/**
 * The printer: AST → Sluice SQL text.
 *
 * Used for EXPLAIN output, error messages, the server's query log and tests.
 * The contract is that parsing the printed text gives back the same tree
 * (ignoring spans), so the printer adds parentheses exactly where precedence
 * needs them and quotes names that are not plain identifiers or are
 * reserved. Output is one line per statement, lower-case keywords.
 */
import type {
  Expr,
  FromItem,
  OrderItem,
  Query,
  QueryBody,
  Script,
  SelectCore,
  Statement,
  TableName,
  TypeName,
  UseItem,
  WindowFrameBound,
  WindowSpec,
} from './ast.js';
import { isReservedKeyword, STATEMENT_KEYWORDS } from './keywords.js';
import { EXTRACT_FIELDS, NILADIC_FUNCTIONS } from './parser.js';

const PLAIN_NAME = /^[A-Za-z_][A-Za-z0-9_$#]*$/;

/** A name as it must be written to read back as the same name. */
export function quoteIdentifier(name: string): string {
  if (PLAIN_NAME.test(name) && !isReservedKeyword(name) && !NILADIC_FUNCTIONS.has(name.toLowerCase())) return name;
  return `"${name.replace(/"/g, '""')}"`;
}

export function quoteString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

const BINARY_PREC: Readonly<Record<string, number>> = {
  or: 1, and: 2, '=': 4, '<>': 4, '<': 4, '<=': 4, '>': 4, '>=': 4, '||': 5, '+': 6, '-': 6, '*': 7, '/': 7, '%': 7,
};

function precedence(e: Expr): number {
  switch (e.kind) {
    case 'Binary': return BINARY_PREC[e.op];
    case 'Unary': return e.op === 'not' ? 3 : 8;
    case 'Like':
    case 'Between':
    case 'InList':
    case 'InSubquery':
    case 'IsNull':
      return 4;
    default:
      return 9;
  }
}

/** Print `e`, in parentheses when its precedence is below `min`. */
function sub(e: Expr, min: number): string {
  const s = printExpr(e);
  return precedence(e) < min ? `(${s})` : s;
}

export function printExpr(e: Expr): string {
  switch (e.kind) {
    case 'Literal':
      switch (e.type) {
        case 'number': return e.value;
        case 'string': return quoteString(e.value);
        case 'boolean': return e.value;
        case 'null': return 'null';
        case 'date': return `date ${quoteString(e.value)}`;
        case 'timestamp': return `timestamp ${quoteString(e.value)}`;
      }
      break;
    case 'IntervalLiteral':
      return `interval ${quoteString(e.value)} ${e.unit}`;
    case 'ColumnRef':
      return [...e.qualifier, e.name].map(quoteIdentifier).join('.');
    case 'Star':
      return [...e.qualifier.map(quoteIdentifier), '*'].join('.');
    case 'Parameter':
      return `:${e.name}`;
    case 'Unary': {
      if (e.op === 'not') {
        // `not exists (…)` would read back as one Exists node.
        const operand = e.operand.kind === 'Exists' && !e.operand.not ? `(${printExpr(e.operand)})` : sub(e.operand, 3);
        return `not ${operand}`;
      }
      const operand = sub(e.operand, 8);
      // "- -1" must not become the comment "--1".
      return operand.startsWith(e.op) || operand.startsWith('-') ? `${e.op} ${operand}` : `${e.op}${operand}`;
    }
    case 'Binary': {
      // Walk the left spine in a loop: a generated `a or b or …` with
      // thousands of terms is a tree that deep, too deep to recurse down.
      const p = BINARY_PREC[e.op];
      const rights: string[] = [];
      let left: Expr = e;
      while (left.kind === 'Binary' && BINARY_PREC[left.op] === p) {
        rights.push(`${left.op} ${sub(left.right, p + 1)}`);
        left = left.left;
      }
      return `${sub(left, p)} ${rights.reverse().join(' ')}`;
    }
    case 'Like': {
      const op = `${e.not ? 'not ' : ''}${e.caseInsensitive ? 'ilike' : 'like'}`;
      const escape = e.escape ? ` escape ${sub(e.escape, 5)}` : '';
      return `${sub(e.expr, 4)} ${op} ${sub(e.pattern, 5)}${escape}`;
    }
    case 'Between':
      return `${sub(e.expr, 4)} ${e.not ? 'not ' : ''}between ${sub(e.low, 5)} and ${sub(e.high, 5)}`;
    case 'InList':
      return `${sub(e.expr, 4)} ${e.not ? 'not ' : ''}in (${e.list.map(printExpr).join(', ')})`;
    case 'InSubquery':
      return `${sub(e.expr, 4)} ${e.not ? 'not ' : ''}in (${printQuery(e.query)})`;
    case 'IsNull':
      return `${sub(e.expr, 4)} is ${e.not ? 'not ' : ''}null`;
    case 'Exists':
      return `${e.not ? 'not ' : ''}exists (${printQuery(e.query)})`;
    case 'ScalarSubquery':
      return `(${printQuery(e.query)})`;
    case 'FunctionCall': {
      if (e.args.length === 0 && !e.star && !e.distinct && !e.filter && !e.over && !e.withinGroup && NILADIC_FUNCTIONS.has(e.name)) return e.name;
      let args: string;
      const first = e.args[0];
      if (
        e.name === 'extract' &&
        e.args.length === 2 &&
        !e.distinct &&
        first.kind === 'Literal' &&
        first.type === 'string' &&
        EXTRACT_FIELDS.has(first.value)
      ) {
        args = `${first.value} from ${printExpr(e.args[1])}`;
      } else {
        args = `${e.distinct ? 'distinct ' : ''}${e.star ? '*' : e.args.map(printExpr).join(', ')}`;
      }
      const within = e.withinGroup ? ` within group (order by ${printOrder(e.withinGroup)})` : '';
      const filter = e.filter ? ` filter (where ${printExpr(e.filter)})` : '';
      const over = e.over ? ` over (${printWindow(e.over)})` : '';
      return `${e.name}(${args})${within}${filter}${over}`;
    }
    case 'Case': {
      const parts = ['case'];
      if (e.operand) parts.push(printExpr(e.operand));
      for (const w of e.whens) parts.push(`when ${printExpr(w.when)} then ${printExpr(w.then)}`);
      if (e.else) parts.push(`else ${printExpr(e.else)}`);
      parts.push('end');
      return parts.join(' ');
    }
    case 'Cast':
      return `cast(${printExpr(e.expr)} as ${printType(e.type)})`;
  }
  throw new Error('unreachable');
}

export function printType(t: TypeName): string {
  return t.args.length > 0 ? `${t.name}(${t.args.join(', ')})` : t.name;
}

function printBound(b: WindowFrameBound): string {
  switch (b.kind) {
    case 'unboundedPreceding': return 'unbounded preceding';
    case 'unboundedFollowing': return 'unbounded following';
    case 'currentRow': return 'current row';
    case 'preceding': return `${b.offset ? sub(b.offset, 6) : '1'} preceding`;
    case 'following': return `${b.offset ? sub(b.offset, 6) : '1'} following`;
  }
}

function printWindow(w: WindowSpec): string {
  const parts: string[] = [];
  if (w.partitionBy.length > 0) parts.push(`partition by ${w.partitionBy.map(printExpr).join(', ')}`);
  if (w.orderBy.length > 0) parts.push(`order by ${printOrder(w.orderBy)}`);
  if (w.frame) {
    const f = w.frame;
    parts.push(f.end ? `${f.unit} between ${printBound(f.start)} and ${printBound(f.end)}` : `${f.unit} ${printBound(f.start)}`);
  }
  return parts.join(' ');
}

function printOrder(items: readonly OrderItem[]): string {
  return items
    .map((o) => `${printExpr(o.expr)}${o.descending ? ' desc' : ''}${o.nulls ? ` nulls ${o.nulls}` : ''}`)
    .join(', ');
}

export function printTableName(t: TableName): string {
  let s: string;
  if (t.catalog !== undefined) {
    s = `${quoteIdentifier(t.catalog)}.${t.schema !== undefined ? quoteIdentifier(t.schema) : ''}.${quoteIdentifier(t.name)}`;
  } else if (t.schema !== undefined) {
    s = `${quoteIdentifier(t.schema)}.${quoteIdentifier(t.name)}`;
  } else {
    s = quoteIdentifier(t.name);
  }
  return t.container !== undefined ? `${s}@${quoteIdentifier(t.container)}` : s;
}

function printFrom(f: FromItem): string {
  switch (f.kind) {
    case 'TableRef':
      return `${printTableName(f.name)}${f.alias !== undefined ? ` ${quoteIdentifier(f.alias)}` : ''}`;
    case 'TableFunction': {
      const { container, ...bare } = f.name;
      const name = printTableName(bare);
      const at = container !== undefined ? `@${quoteIdentifier(container)}` : '';
      return `${name}(${f.args.map(printExpr).join(', ')})${at}${f.alias !== undefined ? ` ${quoteIdentifier(f.alias)}` : ''}`;
    }
    case 'DerivedTable': {
      let s = `(${printQuery(f.query)})`;
      if (f.alias !== undefined) s += ` ${quoteIdentifier(f.alias)}`;
      if (f.columnAliases.length > 0) s += `(${f.columnAliases.map(quoteIdentifier).join(', ')})`;
      return s;
    }
    case 'Join': {
      const right = f.right.kind === 'Join' ? `(${printFrom(f.right)})` : printFrom(f.right);
      const kw = f.type === 'inner' ? 'join' : `${f.type} join`;
      let s = `${printFrom(f.left)} ${kw} ${right}`;
      if (f.on) s += ` on ${printExpr(f.on)}`;
      else if (f.using.length > 0) s += ` using (${f.using.map(quoteIdentifier).join(', ')})`;
      return s;
    }
  }
}

function printSelect(s: SelectCore): string {
  const parts = ['select'];
  if (s.distinct) parts.push('distinct');
  if (s.top) parts.push(`top ${s.top.kind === 'Literal' && s.top.type === 'number' ? s.top.value : `(${printExpr(s.top)})`}`);
  parts.push(
    s.items.map((i) => (i.alias !== undefined ? `${printExpr(i.expr)} as ${quoteIdentifier(i.alias)}` : printExpr(i.expr))).join(', '),
  );
  if (s.from.length > 0) parts.push(`from ${s.from.map(printFrom).join(', ')}`);
  if (s.where) parts.push(`where ${printExpr(s.where)}`);
  if (s.groupBy.length > 0) parts.push(`group by ${s.groupBy.map(printExpr).join(', ')}`);
  if (s.having) parts.push(`having ${printExpr(s.having)}`);
  return parts.join(' ');
}

const SET_PREC = { union: 1, minus: 1, intersect: 2 } as const;

function printBody(b: QueryBody): string {
  switch (b.kind) {
    case 'Select':
      return printSelect(b);
    case 'Query':
      return `(${printQuery(b)})`;
    case 'SetOperation': {
      const p = SET_PREC[b.op];
      const operand = (x: QueryBody, right: boolean): string => {
        if (x.kind === 'SetOperation') {
          const q = SET_PREC[x.op];
          return q < p || (right && q <= p) ? `(${printBody(x)})` : printBody(x);
        }
        return printBody(x);
      };
      return `${operand(b.left, false)} ${b.op}${b.all ? ' all' : ''} ${operand(b.right, true)}`;
    }
  }
}

export function printQuery(q: Query): string {
  const parts: string[] = [];
  if (q.with.length > 0) {
    const ctes = q.with.map(
      (c) => `${quoteIdentifier(c.name)}${c.columns.length > 0 ? `(${c.columns.map(quoteIdentifier).join(', ')})` : ''} as (${printQuery(c.query)})`,
    );
    parts.push(`with ${ctes.join(', ')}`);
  }
  parts.push(printBody(q.body));
  if (q.orderBy.length > 0) parts.push(`order by ${printOrder(q.orderBy)}`);
  if (q.limit) parts.push(`limit ${printExpr(q.limit)}`);
  if (q.offset) parts.push(q.limit ? `offset ${printExpr(q.offset)}` : `offset ${printExpr(q.offset)} rows`);
  return parts.join(' ');
}

function printUseItem(item: UseItem, last: boolean): string {
  switch (item.kind) {
    case 'query':
      return last ? printQuery(item.query) : `(${printQuery(item.query)})`;
    case 'code': {
      const code = /^\d+$/.test(item.code) ? item.code : quoteString(item.code);
      return item.container !== undefined ? `${code}@${quoteIdentifier(item.container)}` : code;
    }
    default:
      return item.container !== undefined ? `${item.kind}@${quoteIdentifier(item.container)}` : item.kind;
  }
}

function printSettingName(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_$#]*([.-][A-Za-z0-9_$#]+)*$/.test(name) ? name : quoteIdentifier(name);
}

function printSettingValue(value: string): string {
  if (/^-?\d+(\.\d+)?$/.test(value)) return value;
  // A bare statement keyword would read as the next statement, not as the value.
  if (/^[A-Za-z_][A-Za-z0-9_$#]*$/.test(value) && !STATEMENT_KEYWORDS.has(value.toLowerCase())) return value;
  return quoteString(value);
}

export function printStatement(s: Statement): string {
  switch (s.kind) {
    case 'QueryStatement':
      return printQuery(s.query);
    case 'Use':
      return `use ${s.items.map((item, i) => printUseItem(item, i === s.items.length - 1)).join(', ')}`;
    case 'Set':
      return `set ${printSettingName(s.name)}${s.container !== undefined ? `@${quoteIdentifier(s.container)}` : ''} ${printSettingValue(s.value)}`;
    case 'CreateTable': {
      let out = `create ${s.orReplace ? 'or replace ' : ''}table ${s.ifNotExists ? 'if not exists ' : ''}${printTableName(s.name)}`;
      if (s.columns.length > 0) {
        const cols = s.columns.map(
          (c) => `${quoteIdentifier(c.name)} ${printType(c.type)}${c.notNull ? ' not null' : ''}${c.primaryKey ? ' primary key' : ''}`,
        );
        out += ` (${cols.join(', ')})`;
      }
      if (s.query) out += ` as ${printQuery(s.query)}`;
      return out;
    }
    case 'DropTable':
      return `drop table ${s.ifExists ? 'if exists ' : ''}${printTableName(s.name)}`;
    case 'Insert': {
      let out = `insert into ${printTableName(s.table)}`;
      if (s.columns.length > 0) out += ` (${s.columns.map(quoteIdentifier).join(', ')})`;
      if (s.source.kind === 'Values') out += ` values ${s.source.rows.map((r) => `(${r.map(printExpr).join(', ')})`).join(', ')}`;
      else out += ` ${printQuery(s.source.query)}`;
      return out;
    }
    case 'Update': {
      let out = `update ${printTableName(s.table)}${s.alias !== undefined ? ` ${quoteIdentifier(s.alias)}` : ''} set `;
      out += s.assignments.map((a) => `${quoteIdentifier(a.column)} = ${printExpr(a.value)}`).join(', ');
      if (s.where) out += ` where ${printExpr(s.where)}`;
      return out;
    }
    case 'Delete': {
      let out = `delete from ${printTableName(s.table)}${s.alias !== undefined ? ` ${quoteIdentifier(s.alias)}` : ''}`;
      if (s.where) out += ` where ${printExpr(s.where)}`;
      return out;
    }
    case 'Explain':
      return `explain ${printStatement(s.statement)}`;
    case 'Synchronize': {
      const parts = [
        s.direction === 'to'
          ? `synchronize ${printTableName(s.source)} to ${printTableName(s.target)}`
          : `synchronize ${printTableName(s.target)} from ${printTableName(s.source)}`,
      ];
      if (s.actions.length > 0) {
        const actions = s.actions.map((a) => (a.cap ? `${a.action} ${a.cap.mode} after ${a.cap.rows} rows` : a.action));
        parts.push(`with ${actions.join(' or ')}`);
      }
      if (s.identifiedBy.length > 0) parts.push(`identified by ${s.identifiedBy.map(quoteIdentifier).join(', ')}`);
      if (s.ignoreChanges.length > 0) parts.push(`ignore changes to ${s.ignoreChanges.map(quoteIdentifier).join(', ')}`);
      if (s.ignoreNulls) parts.push('ignore nulls');
      if (s.continueOnErrors !== undefined) parts.push(`continue on first ${s.continueOnErrors} errors`);
      return parts.join(' ');
    }
  }
}

/** A whole script, one statement per line, each ended by ";". */
export function printScript(script: Script | readonly Statement[]): string {
  const statements: readonly Statement[] = isStatementList(script) ? script : script.statements;
  return statements.map((s) => `${printStatement(s)};`).join('\n');
}

function isStatementList(x: Script | readonly Statement[]): x is readonly Statement[] {
  return Array.isArray(x);
}

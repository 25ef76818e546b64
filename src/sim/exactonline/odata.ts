/**
 * The OData v2 subset Exact Online accepts in `$filter`, compiled to a row
 * predicate: eq ne gt ge lt le, and or not, parentheses; literals 'text'
 * (with '' escapes), 123, 1.5, 123L, true/false, null, guid'…',
 * datetime'…'; functions trim, tolower, toupper, length, indexof, startswith,
 * endswith, substring. `substringof` is recognised and answered 501, as the
 * real API does. Errors carry Exact's wording and the 0-based position.
 */
import type { ExactColumn } from '../../catalogs/exactonline.js';
import type { Row, SimValue } from './world.js';

export class ODataError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

type Tok =
  | { t: 'id'; v: string; pos: number }
  | { t: 'str'; v: string; pos: number }
  | { t: 'num'; v: number; pos: number; int64: boolean }
  | { t: 'guid'; v: string; pos: number }
  | { t: 'date'; v: number; pos: number }
  | { t: 'punct'; v: string; pos: number }
  | { t: 'end'; pos: number };

function lex(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    const pos = i;
    if (c === '(' || c === ')' || c === ',') {
      out.push({ t: 'punct', v: c, pos });
      i++;
      continue;
    }
    if (c === "'") {
      let v = '';
      i++;
      for (;;) {
        if (i >= src.length) throw new ODataError(400, `Unterminated string literal at position ${pos} in '${src}'.`);
        if (src[i] === "'") {
          if (src[i + 1] === "'") {
            v += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        v += src[i++];
      }
      out.push({ t: 'str', v, pos });
      continue;
    }
    if (/[0-9-]/.test(c)) {
      const m = /^-?\d+(\.\d+)?([eE][+-]?\d+)?([LlMmDdFf])?/.exec(src.slice(i));
      if (m) {
        out.push({ t: 'num', v: Number(m[0].replace(/[LlMmDdFf]$/, '')), pos, int64: /^-?\d+[Ll]$/.test(m[0]) });
        i += m[0].length;
        continue;
      }
    }
    if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i)) as RegExpExecArray;
      const word = m[0];
      i += word.length;
      if (src[i] === "'" && (word.toLowerCase() === 'guid' || word.toLowerCase() === 'datetime' || word.toLowerCase() === 'datetimeoffset')) {
        const end = src.indexOf("'", i + 1);
        if (end < 0) throw new ODataError(400, `Unterminated literal at position ${pos} in '${src}'.`);
        const body = src.slice(i + 1, end);
        i = end + 1;
        if (word.toLowerCase() === 'guid') {
          if (!/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(body)) {
            throw new ODataError(400, `Unrecognized 'Edm.Guid' literal 'guid'${body}'' at '${pos}' in '${src}'.`);
          }
          out.push({ t: 'guid', v: body.toLowerCase(), pos });
        } else {
          const ms = Date.parse(/[zZ]|[+-]\d\d:\d\d$/.test(body) ? body : `${body}Z`);
          if (Number.isNaN(ms)) throw new ODataError(400, `Unrecognized 'Edm.DateTime' literal '${word}'${body}'' at '${pos}' in '${src}'.`);
          out.push({ t: 'date', v: ms, pos });
        }
        continue;
      }
      out.push({ t: 'id', v: word, pos });
      continue;
    }
    throw new ODataError(400, `Syntax error: character '${c}' is not valid at position ${pos} in '${src}'.`);
  }
  out.push({ t: 'end', pos: src.length });
  return out;
}

type Expr =
  | { k: 'lit'; v: SimValue; pos: number; int64?: boolean }
  | { k: 'col'; name: string; col: ExactColumn; pos: number }
  | { k: 'bin'; op: string; l: Expr; r: Expr; pos: number }
  | { k: 'not'; e: Expr; pos: number }
  | { k: 'fn'; name: string; args: Expr[]; pos: number };

const COMPARE = new Set(['eq', 'ne', 'gt', 'ge', 'lt', 'le']);
const ARITH = new Set(['add', 'sub', 'mul', 'div', 'mod']);

export interface CompiledFilter {
  readonly test: (row: Row) => boolean;
  /** Columns the filter mentions (for mandatory filtering and sync checks). */
  readonly columns: ReadonlySet<string>;
  /**
   * The values a column is pinned to by the filter: a top-level conjunct
   * `col eq v` or an `or` of such (an IN list), so rows can be found by key
   * instead of by a scan. Undefined when the filter does not pin it.
   */
  readonly pinned: (column: string) => readonly SimValue[] | undefined;
  /** The `n` of a filter that is exactly `Timestamp gt nL`. */
  readonly timestampAfter?: number;
  /** Whether the filter is exactly `Timestamp gt nL` (an Int64 literal), the one form sync endpoints take. */
  readonly onlyTimestampGt: boolean;
  /** Whether the filter is a conjunction of `Timestamp gt|ge n` (with or without L): what a lenient sync endpoint takes. */
  readonly timestampLowerBoundOnly: boolean;
}

export function parseFilter(src: string, columns: ReadonlyMap<string, ExactColumn>, typeName: string): CompiledFilter {
  const toks = lex(src);
  let p = 0;
  const used = new Set<string>();
  const peek = () => toks[p];
  const isWord = (w: string) => {
    const t = toks[p];
    return t.t === 'id' && t.v.toLowerCase() === w;
  };
  const expectPunct = (v: string) => {
    const t = toks[p];
    if (t.t !== 'punct' || t.v !== v) throw new ODataError(400, `')' or operator expected at position ${t.pos} in '${src}'.`);
    p++;
  };

  const parseOr = (): Expr => {
    let l = parseAnd();
    while (isWord('or')) {
      const pos = peek().pos;
      p++;
      l = { k: 'bin', op: 'or', l, r: parseAnd(), pos };
    }
    return l;
  };
  const parseAnd = (): Expr => {
    let l = parseNot();
    while (isWord('and')) {
      const pos = peek().pos;
      p++;
      l = { k: 'bin', op: 'and', l, r: parseNot(), pos };
    }
    return l;
  };
  const parseNot = (): Expr => {
    if (isWord('not')) {
      const pos = peek().pos;
      p++;
      return { k: 'not', e: parseNot(), pos };
    }
    return parseCompare();
  };
  const parseCompare = (): Expr => {
    let l = parseArith();
    const t = peek();
    if (t.t === 'id' && COMPARE.has(t.v.toLowerCase())) {
      p++;
      l = { k: 'bin', op: t.v.toLowerCase(), l, r: parseArith(), pos: t.pos };
    }
    return l;
  };
  const parseArith = (): Expr => {
    let l = parsePrimary();
    for (;;) {
      const t = peek();
      if (t.t === 'id' && ARITH.has(t.v.toLowerCase())) {
        p++;
        l = { k: 'bin', op: t.v.toLowerCase(), l, r: parsePrimary(), pos: t.pos };
      } else return l;
    }
  };
  const parsePrimary = (): Expr => {
    const t = peek();
    switch (t.t) {
      case 'punct':
        if (t.v === '(') {
          p++;
          const e = parseOr();
          expectPunct(')');
          return e;
        }
        throw new ODataError(400, `Expression expected at position ${t.pos} in '${src}'.`);
      case 'str':
        p++;
        return { k: 'lit', v: t.v, pos: t.pos };
      case 'num':
        p++;
        return { k: 'lit', v: t.v, pos: t.pos, int64: t.int64 };
      case 'guid':
        p++;
        return { k: 'lit', v: t.v, pos: t.pos };
      case 'date':
        p++;
        return { k: 'lit', v: t.v, pos: t.pos };
      case 'end':
        throw new ODataError(400, `Expression expected at position ${t.pos} in '${src}'.`);
      case 'id': {
        p++;
        const w = t.v.toLowerCase();
        if (w === 'true' || w === 'false') return { k: 'lit', v: w === 'true', pos: t.pos };
        if (w === 'null') return { k: 'lit', v: null, pos: t.pos };
        const next = peek();
        if (next.t === 'punct' && next.v === '(') {
          p++;
          const args: Expr[] = [];
          if (!(peek().t === 'punct' && (peek() as { v: string }).v === ')')) {
            args.push(parseOr());
            while (peek().t === 'punct' && (peek() as { v: string }).v === ',') {
              p++;
              args.push(parseOr());
            }
          }
          expectPunct(')');
          if (w === 'substringof') throw new ODataError(501, 'The method or operation is not implemented.');
          if (!['trim', 'tolower', 'toupper', 'length', 'indexof', 'startswith', 'endswith', 'substring', 'year', 'month', 'day', 'round', 'floor', 'ceiling'].includes(w)) {
            throw new ODataError(400, `Unknown function '${t.v}' at position ${t.pos} in '${src}'.`);
          }
          return { k: 'fn', name: w, args, pos: t.pos };
        }
        const col = columns.get(t.v.toLowerCase());
        if (!col) throw new ODataError(400, `No property '${t.v}' exists in type '${typeName}' at position ${t.pos}.`);
        used.add(col.name);
        return { k: 'col', name: col.name, col, pos: t.pos };
      }
    }
  };

  const ast = parseOr();
  if (peek().t !== 'end') throw new ODataError(400, `Syntax error at position ${peek().pos} in '${src}'.`);
  if (!isBooleanExpr(ast)) throw new ODataError(400, `Expression of type 'System.Boolean' expected at position 0 in '${src}'.`);
  const notFilterable = [...used].filter((c) => columns.get(c.toLowerCase())?.filterable === false);
  if (notFilterable.length > 0) throw new ODataError(400, `Filtering on these fields is not supported: ${notFilterable.join(', ')}`);

  const fn = compile(ast);
  const strict = isTimestampGtInt64(ast);
  const lenient = isTimestampLowerBound(ast);
  const after = lenient ? timestampLowerBound(ast) : undefined;
  const pinned = (column: string) => pinnedValues(ast, column);
  return { test: (row) => fn(row) === true, columns: used, pinned, onlyTimestampGt: strict, timestampLowerBoundOnly: lenient, ...(after !== undefined ? { timestampAfter: after } : {}) };
}

/** Values `column` must equal for `e` to hold (see CompiledFilter.pinned). */
function pinnedValues(e: Expr, column: string): SimValue[] | undefined {
  if (e.k === 'bin' && e.op === 'and') return pinnedValues(e.l, column) ?? pinnedValues(e.r, column);
  const alternatives = (x: Expr): SimValue[] | undefined => {
    if (x.k === 'bin' && x.op === 'or') {
      const l = alternatives(x.l);
      const r = l && alternatives(x.r);
      return l && r ? [...l, ...r] : undefined;
    }
    if (x.k !== 'bin' || x.op !== 'eq') return undefined;
    if (x.l.k === 'col' && x.l.name === column && x.r.k === 'lit' && x.r.v !== null) return [x.r.v];
    if (x.r.k === 'col' && x.r.name === column && x.l.k === 'lit' && x.l.v !== null) return [x.l.v];
    return undefined;
  };
  return alternatives(e);
}

function isBooleanExpr(e: Expr): boolean {
  if (e.k === 'bin') return e.op === 'and' || e.op === 'or' || COMPARE.has(e.op);
  if (e.k === 'not') return true;
  if (e.k === 'fn') return e.name === 'startswith' || e.name === 'endswith';
  if (e.k === 'lit') return typeof e.v === 'boolean';
  if (e.k === 'col') return e.col.edmType === 'Edm.Boolean';
  return false;
}

/** Exactly `Timestamp gt nL`: the only filter the real sync endpoints take. */
function isTimestampGtInt64(e: Expr): boolean {
  return e.k === 'bin' && e.op === 'gt' && e.l.k === 'col' && e.l.name === 'Timestamp' && e.r.k === 'lit' && e.r.int64 === true && Number.isInteger(e.r.v);
}

function isTimestampLowerBound(e: Expr): boolean {
  if (e.k === 'bin' && e.op === 'and') return isTimestampLowerBound(e.l) && isTimestampLowerBound(e.r);
  return e.k === 'bin' && (e.op === 'gt' || e.op === 'ge') && e.l.k === 'col' && e.l.name === 'Timestamp' && e.r.k === 'lit' && typeof e.r.v === 'number';
}

function timestampLowerBound(e: Expr): number {
  if (e.k === 'bin' && e.op === 'and') return Math.max(timestampLowerBound(e.l), timestampLowerBound(e.r));
  if (e.k === 'bin' && e.r.k === 'lit' && typeof e.r.v === 'number') return e.op === 'ge' ? e.r.v - 1 : e.r.v;
  return 0;
}

type Fn = (row: Row) => SimValue;

function cmp(a: SimValue, b: SimValue): number | undefined {
  if (a === null || b === null) return undefined;
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'boolean' && typeof b === 'boolean') return a === b ? 0 : a ? 1 : -1;
  const sa = String(a);
  const sb = String(b);
  // Exact compares strings case-insensitively (SQL Server collation).
  const la = sa.toLowerCase();
  const lb = sb.toLowerCase();
  return la < lb ? -1 : la > lb ? 1 : 0;
}

function compile(e: Expr): Fn {
  switch (e.k) {
    case 'lit': {
      const v = e.v;
      return () => v;
    }
    case 'col': {
      const n = e.name;
      const isGuid = e.col.edmType === 'Edm.Guid';
      return isGuid
        ? (r) => {
            const v = r[n];
            return typeof v === 'string' ? v.toLowerCase() : v ?? null;
          }
        : (r) => r[n] ?? null;
    }
    case 'not': {
      const f = compile(e.e);
      return (r) => f(r) !== true;
    }
    case 'fn': {
      const args = e.args.map(compile);
      const str = (r: Row, i: number) => {
        const v = args[i]?.(r);
        return v === null || v === undefined ? null : String(v);
      };
      switch (e.name) {
        case 'trim': return (r) => str(r, 0)?.trim() ?? null;
        case 'tolower': return (r) => str(r, 0)?.toLowerCase() ?? null;
        case 'toupper': return (r) => str(r, 0)?.toUpperCase() ?? null;
        case 'length': return (r) => str(r, 0)?.length ?? null;
        case 'indexof': return (r) => {
          const a = str(r, 0);
          const b = str(r, 1);
          return a === null || b === null ? null : a.toLowerCase().indexOf(b.toLowerCase());
        };
        case 'startswith': return (r) => {
          const a = str(r, 0);
          const b = str(r, 1);
          return a !== null && b !== null && a.toLowerCase().startsWith(b.toLowerCase());
        };
        case 'endswith': return (r) => {
          const a = str(r, 0);
          const b = str(r, 1);
          return a !== null && b !== null && a.toLowerCase().endsWith(b.toLowerCase());
        };
        case 'substring': return (r) => {
          const a = str(r, 0);
          const from = Number(args[1]?.(r));
          const len = args[2] ? Number(args[2](r)) : undefined;
          return a === null ? null : len === undefined ? a.substring(from) : a.substring(from, from + len);
        };
        case 'year': case 'month': case 'day': {
          const part = e.name;
          return (r) => {
            const v = args[0]?.(r);
            if (typeof v !== 'number') return null;
            const d = new Date(v);
            return part === 'year' ? d.getUTCFullYear() : part === 'month' ? d.getUTCMonth() + 1 : d.getUTCDate();
          };
        }
        default: {
          const m = e.name === 'round' ? Math.round : e.name === 'floor' ? Math.floor : Math.ceil;
          return (r) => {
            const v = args[0]?.(r);
            return typeof v === 'number' ? m(v) : null;
          };
        }
      }
    }
    case 'bin': {
      const l = compile(e.l);
      const r = compile(e.r);
      switch (e.op) {
        case 'and': return (row) => l(row) === true && r(row) === true;
        case 'or': return (row) => l(row) === true || r(row) === true;
        case 'eq': return (row) => {
          const a = l(row);
          const b = r(row);
          return a === null || b === null ? a === b : cmp(a, b) === 0;
        };
        case 'ne': return (row) => {
          const a = l(row);
          const b = r(row);
          return a === null || b === null ? a !== b : cmp(a, b) !== 0;
        };
        case 'gt': return (row) => (cmp(l(row), r(row)) ?? 0) > 0;
        case 'ge': return (row) => { const c = cmp(l(row), r(row)); return c !== undefined && c >= 0; };
        case 'lt': return (row) => (cmp(l(row), r(row)) ?? 0) < 0;
        case 'le': return (row) => { const c = cmp(l(row), r(row)); return c !== undefined && c <= 0; };
        default: return (row) => {
          const a = l(row);
          const b = r(row);
          if (typeof a !== 'number' || typeof b !== 'number') return null;
          switch (e.op) {
            case 'add': return a + b;
            case 'sub': return a - b;
            case 'mul': return a * b;
            case 'div': return a / b;
            default: return a % b;
          }
        };
      }
    }
  }
}

/** `$orderby=Name desc,Code` → the sort keys as the API spells them; unknown properties are 400s. */
export function orderByKeys(src: string, columns: ReadonlyMap<string, ExactColumn>, typeName: string): { name: string; desc: boolean }[] {
  return src.split(',').map((part) => {
    const [name, dir] = part.trim().split(/\s+/);
    const col = columns.get((name ?? '').toLowerCase());
    if (!col) throw new ODataError(400, `No property '${name}' exists in type '${typeName}' at position 0.`);
    const d = (dir ?? '').toLowerCase();
    if (d !== '' && d !== 'asc' && d !== 'desc') throw new ODataError(400, `Syntax error at position ${src.indexOf(dir ?? '')} in '${src}'.`);
    return { name: col.name, desc: d === 'desc' };
  });
}

/** Order of two cells as `$orderby` sorts them: nulls first, strings case-insensitively. */
export function compareCells(x: SimValue | undefined, y: SimValue | undefined): number {
  const a = x ?? null;
  const b = y ?? null;
  if (a === null || b === null) return a === b ? 0 : a === null ? -1 : 1;
  return cmp(a, b) ?? 0;
}

/** `$orderby=Name desc,Code` → comparator; unknown properties are 400s. */
export function parseOrderBy(src: string, columns: ReadonlyMap<string, ExactColumn>, typeName: string): (a: Row, b: Row) => number {
  const keys = orderByKeys(src, columns, typeName);
  return (a, b) => {
    for (const k of keys) {
      const c = compareCells(a[k.name], b[k.name]);
      if (c !== 0) return k.desc ? -c : c;
    }
    return 0;
  };
}

/**
 * The OData v4 `$filter` parser: turns the text a client sends (Power BI,
 * Excel, any OData library) into the engine's AST `Expr`, never into SQL text.
 * Property names are resolved against the entity type through a callback, so
 * an unknown name is a 400 with its position, and literals become `Literal`
 * nodes whose values the engine binds — there is nothing to inject into.
 *
 * Supported: eq ne gt ge lt le, and or not, parentheses, `in (…)`, add sub mul
 * div mod, negation (`-Price`), contains / startswith / endswith, tolower / toupper / trim / length
 * / indexof / substring / concat, year / month / day / hour / minute / second
 * / date, round / floor / ceiling; literals: strings ('' escapes), numbers,
 * true / false / null, dates, date-times with offset, guids.
 */
import type { Expr, Literal } from '../../sql/ast.js';
import { SluiceError } from '../../util/errors.js';

/** Resolves an OData property name to the column it stands for; undefined when unknown. */
export type PropertyResolver = (name: string) => string | undefined;

type Tok =
  | { readonly t: 'ident'; readonly v: string; readonly pos: number }
  | { readonly t: 'lit'; readonly lit: Literal; readonly pos: number }
  | { readonly t: 'punct'; readonly v: '(' | ')' | ',' | '-'; readonly pos: number }
  | { readonly t: 'end'; readonly pos: number };

const GUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/;
const DATETIME_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,12})?)?(Z|[+-]\d{2}:\d{2})?/i;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})(?![\dT:])/;
const NUMBER_RE = /^-?(?:\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|INF|NaN)(?![A-Za-z_\d])/;
const IDENT_RE = /^[A-Za-z_][A-Za-z0-9_]*/;

/** A 400-class error for a bad `$filter`, with the 1-based character position. */
export function filterError(message: string, pos: number): SluiceError {
  return new SluiceError('ODATA010', `Invalid $filter at position ${pos + 1}: ${message}`, {
    hint: 'See docs/server.md for the $filter operators and functions Sluice understands.',
  });
}

function lit(type: Literal['type'], value: string): Literal {
  return { kind: 'Literal', type, value };
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

function checkDate(y: number, m: number, d: number, pos: number): void {
  const days = new Date(Date.UTC(y, m, 0)).getUTCDate();
  if (m < 1 || m > 12 || d < 1 || d > days) throw filterError(`${y}-${pad(m)}-${pad(d)} is not a valid date`, pos);
}

function tokenize(text: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    if (c === '(' || c === ')' || c === ',') {
      toks.push({ t: 'punct', v: c, pos: i });
      i++;
      continue;
    }
    if (c === "'") {
      let j = i + 1;
      let value = '';
      for (;;) {
        if (j >= text.length) throw filterError('string literal is not closed', i);
        if (text[j] === "'") {
          if (text[j + 1] === "'") {
            value += "'";
            j += 2;
            continue;
          }
          break;
        }
        value += text[j];
        j++;
      }
      toks.push({ t: 'lit', lit: lit('string', value), pos: i });
      i = j + 1;
      continue;
    }
    const rest = text.slice(i, i + 64);
    const guid = GUID_RE.exec(rest);
    if (guid) {
      toks.push({ t: 'lit', lit: lit('string', guid[0].toLowerCase()), pos: i });
      i += guid[0].length;
      continue;
    }
    const dt = DATETIME_RE.exec(rest);
    if (dt) {
      const [, y, mo, d, h, mi, s, frac, zone] = dt;
      checkDate(+y, +mo, +d, i);
      if (+h > 23 || +mi > 59 || (s !== undefined && +s > 59)) throw filterError(`${dt[0]} is not a valid time`, i);
      // Normalise to a UTC timestamp: the engine's timestamps are UTC instants.
      let ms = Date.UTC(+y, +mo - 1, +d, +h, +mi, s === undefined ? 0 : +s, frac ? Math.floor(Number(`0${frac}`) * 1000) : 0);
      if (zone && zone.toUpperCase() !== 'Z') {
        const sign = zone[0] === '-' ? -1 : 1;
        ms -= sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6))) * 60_000;
      }
      const u = new Date(ms);
      const text2 =
        `${u.getUTCFullYear()}-${pad(u.getUTCMonth() + 1)}-${pad(u.getUTCDate())} ` +
        `${pad(u.getUTCHours())}:${pad(u.getUTCMinutes())}:${pad(u.getUTCSeconds())}` +
        (u.getUTCMilliseconds() ? `.${pad(u.getUTCMilliseconds(), 3)}` : '');
      toks.push({ t: 'lit', lit: lit('timestamp', text2), pos: i });
      i += dt[0].length;
      continue;
    }
    const date = DATE_RE.exec(rest);
    if (date) {
      checkDate(+date[1], +date[2], +date[3], i);
      toks.push({ t: 'lit', lit: lit('date', date[0]), pos: i });
      i += date[0].length;
      continue;
    }
    const num = NUMBER_RE.exec(rest);
    if (num && (c === '-' || (c >= '0' && c <= '9'))) {
      toks.push({ t: 'lit', lit: lit('number', num[0]), pos: i });
      i += num[0].length;
      continue;
    }
    if (c === '-') {
      // Not the sign of a number literal: OData's negation operator (`-Price`, `-(a add b)`).
      toks.push({ t: 'punct', v: '-', pos: i });
      i++;
      continue;
    }
    const id = IDENT_RE.exec(rest);
    if (id) {
      // Qualified names (navigation, casts, enums) are not supported; say so rather than misread them.
      if (text[i + id[0].length] === '/' || text[i + id[0].length] === '.') {
        throw filterError(`navigation and qualified names such as "${id[0]}${text[i + id[0].length]}…" are not supported`, i);
      }
      toks.push({ t: 'ident', v: id[0], pos: i });
      i += id[0].length;
      continue;
    }
    throw filterError(`unexpected character "${c}"`, i);
  }
  toks.push({ t: 'end', pos: text.length });
  return toks;
}

const COMPARE: Readonly<Record<string, '=' | '<>' | '<' | '<=' | '>' | '>='>> = {
  eq: '=',
  ne: '<>',
  lt: '<',
  le: '<=',
  gt: '>',
  ge: '>=',
};

function fn(name: string, args: readonly Expr[]): Expr {
  return { kind: 'FunctionCall', name, args, distinct: false, star: false };
}

function num(n: number): Literal {
  return lit('number', String(n));
}

function isNullLit(e: Expr): boolean {
  return e.kind === 'Literal' && e.type === 'null';
}

/** Escape LIKE wildcards in a literal; returns the pattern and whether an escape character is needed. */
function likeLiteral(text: string): { readonly text: string; readonly escaped: boolean } {
  const escaped = /[%_\\]/.test(text);
  return { text: escaped ? text.replace(/[%_\\]/g, (m) => `\\${m}`) : text, escaped };
}

class Parser {
  private i = 0;
  private depth = 0;
  constructor(
    private readonly toks: readonly Tok[],
    private readonly resolve: PropertyResolver,
  ) {}

  private peek(): Tok {
    return this.toks[this.i];
  }

  private next(): Tok {
    return this.toks[this.i++];
  }

  private isWord(word: string): boolean {
    const t = this.peek();
    return t.t === 'ident' && t.v === word;
  }

  private expectPunct(v: '(' | ')' | ','): void {
    const t = this.next();
    if (t.t !== 'punct' || t.v !== v) throw filterError(`expected "${v}"`, t.pos);
  }

  parseAll(): Expr {
    const e = this.parseOr();
    const t = this.peek();
    if (t.t !== 'end') throw filterError(`unexpected ${describe(t)}`, t.pos);
    return e;
  }

  private parseOr(): Expr {
    let left = this.parseAnd();
    while (this.isWord('or')) {
      this.next();
      left = { kind: 'Binary', op: 'or', left, right: this.parseAnd() };
    }
    return left;
  }

  private parseAnd(): Expr {
    let left = this.parseNot();
    while (this.isWord('and')) {
      this.next();
      left = { kind: 'Binary', op: 'and', left, right: this.parseNot() };
    }
    return left;
  }

  private parseNot(): Expr {
    if (this.isWord('not')) {
      this.next();
      if (++this.depth > 100) throw filterError('"not" is nested more than 100 deep', this.peek().pos);
      const operand = this.parseNot();
      this.depth--;
      return { kind: 'Unary', op: 'not', operand };
    }
    return this.parseComparison();
  }

  private parseComparison(): Expr {
    const left = this.parseAdditive();
    const t = this.peek();
    if (t.t === 'ident' && COMPARE[t.v]) {
      this.next();
      const right = this.parseAdditive();
      const op = COMPARE[t.v];
      if (op === '=' || op === '<>') {
        if (isNullLit(right)) return { kind: 'IsNull', expr: left, not: op === '<>' };
        if (isNullLit(left)) return { kind: 'IsNull', expr: right, not: op === '<>' };
      } else if (isNullLit(left) || isNullLit(right)) {
        throw filterError(`null can only be compared with eq or ne`, t.pos);
      }
      return { kind: 'Binary', op, left, right };
    }
    if (t.t === 'ident' && t.v === 'in') {
      this.next();
      this.expectPunct('(');
      const list: Expr[] = [];
      if (this.peek().t === 'punct' && (this.peek() as { v: string }).v === ')') {
        throw filterError('the list after "in" is empty', this.peek().pos);
      }
      for (;;) {
        list.push(this.parseAdditive());
        const sep = this.next();
        if (sep.t === 'punct' && sep.v === ')') break;
        if (sep.t !== 'punct' || sep.v !== ',') throw filterError('expected "," or ")" in the list after "in"', sep.pos);
      }
      return { kind: 'InList', expr: left, list, not: false };
    }
    if (t.t === 'ident' && (t.v === 'has' || t.v === 'divby')) throw filterError(`operator "${t.v}" is not supported`, t.pos);
    return left;
  }

  private parseAdditive(): Expr {
    let left = this.parseMultiplicative();
    for (;;) {
      if (this.isWord('add') || this.isWord('sub')) {
        const op = (this.next() as { v: string }).v === 'add' ? '+' : '-';
        left = { kind: 'Binary', op, left, right: this.parseMultiplicative() };
      } else return left;
    }
  }

  private parseMultiplicative(): Expr {
    let left = this.parseUnary();
    for (;;) {
      if (this.isWord('mul') || this.isWord('div') || this.isWord('mod')) {
        const w = (this.next() as { v: string }).v;
        const op = w === 'mul' ? '*' : w === 'div' ? '/' : '%';
        left = { kind: 'Binary', op, left, right: this.parseUnary() };
      } else return left;
    }
  }

  private parseUnary(): Expr {
    const t = this.peek();
    if (t.t === 'punct' && t.v === '-') {
      this.next();
      if (++this.depth > 100) throw filterError('"-" is nested more than 100 deep', t.pos);
      const operand = this.parseUnary();
      this.depth--;
      // A negated number is a number literal (so it still pushes down as a constant).
      // (Never `-` before a printed `-1`: the printed SQL must not get a `--`.)
      if (operand.kind === 'Literal' && operand.type === 'number') {
        return lit('number', operand.value.startsWith('-') ? operand.value.slice(1) : `-${operand.value}`);
      }
      return { kind: 'Unary', op: '-', operand };
    }
    if (this.isWord('not')) {
      this.next();
      if (++this.depth > 100) throw filterError('"not" is nested more than 100 deep', this.peek().pos);
      const operand = this.parseUnary();
      this.depth--;
      return { kind: 'Unary', op: 'not', operand };
    }
    return this.parsePrimary();
  }

  private parsePrimary(): Expr {
    const t = this.next();
    if (t.t === 'lit') return t.lit;
    if (t.t === 'punct') {
      if (t.v !== '(') throw filterError(`unexpected "${t.v}"`, t.pos);
      if (++this.depth > 100) throw filterError('parentheses are nested more than 100 deep', t.pos);
      const e = this.parseOr();
      this.expectPunct(')');
      this.depth--;
      return e;
    }
    if (t.t === 'end') throw filterError('the expression ends too early', t.pos);
    if (t.v === 'true' || t.v === 'false') return lit('boolean', t.v);
    if (t.v === 'null') return lit('null', '');
    if (t.v === 'INF' || t.v === 'NaN') return lit('number', t.v);
    const after = this.peek();
    if (after.t === 'punct' && after.v === '(') {
      this.next();
      if (++this.depth > 100) throw filterError('function calls are nested more than 100 deep', t.pos);
      const args: { readonly e: Expr; readonly pos: number }[] = [];
      const close = this.peek();
      if (!(close.t === 'punct' && close.v === ')')) {
        for (;;) {
          const pos = this.peek().pos;
          args.push({ e: this.parseOr(), pos });
          const sep = this.next();
          if (sep.t === 'punct' && sep.v === ')') break;
          if (sep.t !== 'punct' || sep.v !== ',') throw filterError(`expected "," or ")" in the arguments of ${t.v}`, sep.pos);
        }
      } else this.next();
      this.depth--;
      return this.call(t.v, args, t.pos);
    }
    const column = this.resolve(t.v);
    if (column === undefined) throw filterError(`unknown property "${t.v}"`, t.pos);
    return { kind: 'ColumnRef', qualifier: [], name: column };
  }

  private call(name: string, args: readonly { readonly e: Expr; readonly pos: number }[], pos: number): Expr {
    const arity = (min: number, max = min): void => {
      if (args.length < min || args.length > max) {
        const want = min === max ? `${min}` : `${min} to ${max}`;
        throw filterError(`${name} takes ${want} argument${max === 1 ? '' : 's'}, not ${args.length}`, pos);
      }
    };
    const a = args.map((x) => x.e);
    switch (name) {
      case 'contains':
      case 'startswith':
      case 'endswith': {
        arity(2);
        const [subject, needle] = a;
        if (needle.kind === 'Literal' && needle.type === 'string') {
          const { text, escaped } = likeLiteral(needle.value);
          const pattern = name === 'contains' ? `%${text}%` : name === 'startswith' ? `${text}%` : `%${text}`;
          return {
            kind: 'Like',
            expr: subject,
            pattern: lit('string', pattern),
            ...(escaped ? { escape: lit('string', '\\') } : {}),
            not: false,
            caseInsensitive: false,
          };
        }
        // A non-literal needle: compare positions instead of building a pattern.
        const at = fn('instr', [subject, needle]);
        if (name === 'contains') return { kind: 'Binary', op: '>', left: at, right: num(0) };
        if (name === 'startswith') return { kind: 'Binary', op: '=', left: at, right: num(1) };
        return {
          kind: 'Binary',
          op: '=',
          left: fn('substr', [subject, { kind: 'Binary', op: '+', left: { kind: 'Binary', op: '-', left: fn('length', [subject]), right: fn('length', [needle]) }, right: num(1) }]),
          right: needle,
        };
      }
      case 'tolower':
        arity(1);
        return fn('lower', a);
      case 'toupper':
        arity(1);
        return fn('upper', a);
      case 'trim':
        arity(1);
        return fn('trim', a);
      case 'length':
        arity(1);
        return fn('length', a);
      case 'indexof':
        arity(2);
        // OData counts from 0 and answers -1 when absent; instr counts from 1 and answers 0.
        return { kind: 'Binary', op: '-', left: fn('instr', a), right: num(1) };
      case 'substring': {
        arity(2, 3);
        const start: Expr = { kind: 'Binary', op: '+', left: a[1], right: num(1) };
        return fn('substr', a.length === 3 ? [a[0], start, a[2]] : [a[0], start]);
      }
      case 'concat':
        arity(2);
        return { kind: 'Binary', op: '||', left: a[0], right: a[1] };
      case 'year':
      case 'month':
      case 'day':
      case 'hour':
      case 'minute':
      case 'second':
        arity(1);
        // The dialect's extract(unit, x): the engine maps it to date_part.
        return fn('extract', [lit('string', name), a[0]]);
      case 'date':
        arity(1);
        return { kind: 'Cast', expr: a[0], type: { kind: 'TypeName', name: 'date', args: [] } };
      case 'round':
        arity(1);
        return fn('round', a);
      case 'floor':
        arity(1);
        return fn('floor', a);
      case 'ceiling':
        arity(1);
        return fn('ceil', a);
      default:
        throw filterError(`function "${name}" is not supported`, pos);
    }
  }
}

function describe(t: Tok): string {
  switch (t.t) {
    case 'ident':
      return `"${t.v}"`;
    case 'lit':
      return 'literal';
    case 'punct':
      return `"${t.v}"`;
    case 'end':
      return 'end of expression';
  }
}

/** Parse a `$filter` value into an AST expression. Throws ODATA010 (a 400) on anything it does not understand. */
export function parseFilter(text: string, resolve: PropertyResolver): Expr {
  if (text.length > 20_000) throw filterError('the filter is longer than 20,000 characters', 20_000);
  const toks = tokenize(text);
  if (toks.length > 4_000) throw filterError('the filter has more than 4,000 tokens', 0);
  return new Parser(toks, resolve).parseAll();
}

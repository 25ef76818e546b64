/**
 * The recursive-descent parser: tokens (lexer.ts) → the AST (ast.ts).
 *
 * One token of lookahead almost everywhere and no backtracking, so parsing
 * is linear in the text. Expressions use precedence climbing (OR < AND < NOT
 * < comparison/LIKE/IN/BETWEEN/IS < || < + - < * / % < unary < ::), which
 * also keeps the recursion shallow; nesting is capped so a thousand nested
 * parentheses give a clean SQL112 error instead of a stack overflow.
 *
 * Statements may be separated by `;` or by nothing but the next statement
 * keyword (seed 001): every statement keyword is reserved, so it can never be
 * taken for a trailing alias. Errors say what was expected where, and
 * suggest a keyword when the offending word is a near miss ("form" → FROM).
 */
import type {
  Assignment,
  Case,
  ColumnDef,
  Cte,
  Expr,
  FromItem,
  FunctionCall,
  IntervalUnit,
  Join,
  JoinType,
  OrderItem,
  Position,
  Query,
  QueryBody,
  Script,
  SelectCore,
  SelectItem,
  Span,
  Statement,
  SyncActionClause,
  SynchronizeStatement,
  TableName,
  TypeName,
  UseItem,
  WindowFrameBound,
  WindowSpec,
} from './ast.js';
import { SqlErrorCode, sqlError } from './errors.js';
import { closestKeyword, isReservedKeyword, STATEMENT_KEYWORDS } from './keywords.js';
import { lex, type Token } from './lexer.js';
import { SluiceError } from '../util/errors.js';

/** Deepest nesting of expressions/queries accepted; far beyond hand-written SQL, far below the stack limit. */
export const MAX_NESTING = 200;

const PREC_OR = 1;
const PREC_AND = 2;
const PREC_NOT = 3;
const PREC_COMPARE = 4;
const PREC_CONCAT = 5;
const PREC_ADD = 6;
const PREC_MUL = 7;
const PREC_UNARY = 8;

const COMPARISON_OPS = new Set(['=', '<>', '<', '<=', '>', '>=']);
/** Reserved words that are still function names when followed by "(". */
const RESERVED_FUNCTIONS = new Set(['left', 'right']);
/** Functions Oracle writes without parentheses. */
export const NILADIC_FUNCTIONS: ReadonlySet<string> = new Set(['sysdate', 'sysdateutc']);
const INTERVAL_UNITS: Readonly<Record<string, IntervalUnit>> = {
  year: 'year', years: 'year', month: 'month', months: 'month', day: 'day', days: 'day',
  hour: 'hour', hours: 'hour', minute: 'minute', minutes: 'minute', second: 'second', seconds: 'second',
};
/** Fields accepted by `extract(field from x)`. */
export const EXTRACT_FIELDS: ReadonlySet<string> = new Set([
  'year', 'quarter', 'month', 'week', 'day', 'hour', 'minute', 'second', 'dow', 'doy', 'epoch',
  'timezone_hour', 'timezone_minute',
]);

/** Label priority in "expected …" messages: the most local, most likely continuations first. */
const LABEL_PRIORITY: Readonly<Record<string, number>> = {
  FROM: 1, 'a column alias': 2, 'a table alias': 3, ON: 1, USING: 2, JOIN: 4, '","': 5, '")"': 1,
  WHERE: 6, 'GROUP BY': 7, HAVING: 8, UNION: 9, 'ORDER BY': 10, LIMIT: 11, '";"': 20,
};

/** Drop properties whose value is undefined, so parsed trees compare cleanly. */
function clean<T extends object>(o: T): T {
  const rec = o as Record<string, unknown>;
  let hasUndefined = false;
  for (const k in rec) {
    if (rec[k] === undefined) {
      hasUndefined = true;
      break;
    }
  }
  if (!hasUndefined) return o;
  const out: Record<string, unknown> = {};
  for (const k in rec) if (rec[k] !== undefined) out[k] = rec[k];
  return out as T;
}

function describe(t: Token): string {
  if (t.type === 'eof') return 'the end of the text';
  if (t.type === 'string') return `the string '${truncate(t.value)}'`;
  return `"${truncate(t.raw)}"`;
}

function truncate(s: string): string {
  return s.length > 30 ? `${s.slice(0, 27)}...` : s;
}

function joinAlternatives(labels: readonly string[]): string {
  if (labels.length === 1) return labels[0];
  return `${labels.slice(0, -1).join(', ')} or ${labels[labels.length - 1]}`;
}

function hasTail(q: Query): boolean {
  return q.with.length > 0 || q.orderBy.length > 0 || q.limit !== undefined || q.offset !== undefined;
}

export class Parser {
  /** Tokens pulled from the lexer so far (older ones are dropped between statements). */
  private tokens: Token[] = [];
  private readonly source: Generator<Token, void, undefined>;
  private pos = 0;
  private depth = 0;
  /** What the parser would have accepted at the current token: labels for messages. */
  private expected: string[] = [];
  /** Keywords it would have accepted here: candidates for "did you mean". */
  private candidates: string[] = [];
  /** The last bare word taken as an alias, with what else could have stood there. */
  private bareAlias: { index: number; candidates: string[] } | undefined;

  constructor(private readonly text: string) {
    this.source = lex(text);
  }

  /** Make sure tokens[index] exists, unless the text has ended before it. */
  private fill(index: number): void {
    while (this.tokens.length <= index) {
      const r = this.source.next();
      if (r.done) return;
      this.tokens.push(r.value);
    }
  }

  /** Between statements: forget tokens already consumed, keeping the last one for "after …" messages. */
  private forgetConsumed(): void {
    if (this.pos > 256) {
      this.tokens = this.tokens.slice(this.pos - 1);
      this.pos = 1;
      this.bareAlias = undefined;
    }
  }

  // -------------------------------------------------------------------------
  // Token handling

  private get tok(): Token {
    if (this.pos >= this.tokens.length) this.fill(this.pos);
    return this.tokens[this.pos];
  }

  private peek(k = 1): Token {
    const i = this.pos + k;
    if (i >= this.tokens.length) this.fill(i);
    return this.tokens[Math.min(i, this.tokens.length - 1)];
  }

  private advance(): Token {
    const t = this.tok;
    if (t.type !== 'eof') this.pos++;
    if (this.expected.length > 0) this.expected = [];
    if (this.candidates.length > 0) this.candidates = [];
    return t;
  }

  private get prevEnd(): Position {
    return this.pos > 0 ? this.tokens[this.pos - 1].end : this.tok.start;
  }

  private span(start: Position): Span {
    return { start, end: this.prevEnd };
  }

  private isWord(w: string, k = 0): boolean {
    const t = this.peek(k);
    return t.type === 'word' && t.value === w;
  }

  private isOp(o: string, k = 0): boolean {
    const t = this.peek(k);
    return t.type === 'op' && t.value === o;
  }

  /** Take keyword `w` if it is next; otherwise remember it was possible here. */
  private acceptWord(w: string, label: string | null = w.toUpperCase()): boolean {
    if (this.isWord(w)) {
      this.advance();
      return true;
    }
    if (label !== null) this.expected.push(label);
    this.candidates.push(w);
    return false;
  }

  private acceptOp(o: string): boolean {
    if (this.isOp(o)) {
      this.advance();
      return true;
    }
    this.expected.push(`"${o}"`);
    return false;
  }

  private expectWord(w: string, label?: string): Token {
    const t = this.tok;
    if (!this.acceptWord(w, label)) throw this.fail();
    return t;
  }

  private expectOp(o: string): Token {
    const t = this.tok;
    if (!this.acceptOp(o)) throw this.fail();
    return t;
  }

  private expecting(label: string): void {
    this.expected.push(label);
  }

  /** The error for the current token, saying what was expected after what. */
  fail(): SluiceError {
    const t = this.tok;
    const prev = this.pos > 0 ? this.tokens[this.pos - 1] : undefined;
    // A typo of a clause keyword is often first swallowed as a bare alias ("select a form t").
    if (this.bareAlias && this.bareAlias.index === this.pos - 1 && prev) {
      const meant = closestKeyword(prev.value, this.bareAlias.candidates);
      if (meant) {
        return sqlError(SqlErrorCode.unexpectedToken, `unexpected "${prev.raw}"; did you mean ${meant.toUpperCase()}?`, this.text, prev.start.offset);
      }
    }
    if (t.type === 'word') {
      const pool = this.candidates.length > 0 ? this.candidates : this.pos === 0 ? [...STATEMENT_KEYWORDS] : [];
      const meant = closestKeyword(t.value, pool);
      if (meant) {
        return sqlError(SqlErrorCode.unexpectedToken, `unexpected "${t.raw}"; did you mean ${meant.toUpperCase()}?`, this.text, t.start.offset);
      }
    }
    const labels = [...new Set(this.expected)];
    labels.sort((a, b) => (LABEL_PRIORITY[a] ?? 8.5) - (LABEL_PRIORITY[b] ?? 8.5));
    // Right after a select item the two likely fixes are the FROM and an alias; more would be noise.
    const shown =
      labels.includes('a column alias') && labels.includes('FROM')
        ? ['FROM', 'a column alias']
        : labels.length > 4
          ? labels.slice(0, 4)
          : labels;
    const cut = labels.length > shown.length && shown.length === 4;
    const after = prev ? ` after "${truncate(prev.raw)}"` : '';
    const code = t.type === 'eof' ? SqlErrorCode.unexpectedEnd : SqlErrorCode.unexpectedToken;
    const message =
      shown.length > 0
        ? `expected ${cut ? `${shown.join(', ')}, …` : joinAlternatives(shown)}${after}, found ${describe(t)}`
        : `unexpected ${describe(t)}${after}`;
    return sqlError(code, message, this.text, t.start.offset);
  }

  private error(code: string, message: string, at: Token): SluiceError {
    return sqlError(code, message, this.text, at.start.offset);
  }

  private enter(): void {
    if (++this.depth > MAX_NESTING) {
      throw this.error(SqlErrorCode.tooDeep, `the SQL is nested too deeply (more than ${MAX_NESTING} levels of parentheses or subqueries)`, this.tok);
    }
  }

  // -------------------------------------------------------------------------
  // Names

  /** A name: a quoted identifier or a word that is not reserved. Returns it as written. */
  private identifier(label = 'a name'): string {
    const t = this.tok;
    if (t.type === 'quoted') {
      this.advance();
      return t.value;
    }
    if (t.type === 'word' && !isReservedKeyword(t.value)) {
      this.advance();
      return t.raw;
    }
    this.expecting(label);
    throw this.fail();
  }

  /** After AS, or after `@`: any word will do, reserved or not. */
  private anyName(label: string): string {
    const t = this.tok;
    if (t.type === 'quoted' || t.type === 'word') {
      this.advance();
      return t.type === 'quoted' ? t.value : t.raw;
    }
    this.expecting(label);
    throw this.fail();
  }

  private identifierList(label: string): string[] {
    const names = [this.identifier(label)];
    while (this.acceptOp(',')) names.push(this.identifier(label));
    return names;
  }

  private container(): string | undefined {
    if (this.isOp('@')) {
      this.advance();
      return this.anyName('a data container alias');
    }
    return undefined;
  }

  /** `t`, `s.t`, `c.s.t`, `c..t`, without the container. */
  private dottedName(label: string): { start: Position; parts: string[] } {
    const start = this.tok.start;
    const parts = [this.identifier(label)];
    while (this.isOp('.') && parts.length < 3) {
      this.advance();
      if (this.isOp('.') && parts.length === 1) {
        this.advance();
        parts.push('');
      }
      parts.push(this.identifier(label));
    }
    return { start, parts };
  }

  private toTableName(start: Position, parts: string[], container: string | undefined): TableName {
    const name = parts[parts.length - 1];
    const schema = parts.length >= 2 && parts[parts.length - 2] !== '' ? parts[parts.length - 2] : undefined;
    const catalog = parts.length === 3 ? parts[0] : undefined;
    return clean({ kind: 'TableName', catalog, schema, name, container, span: this.span(start) });
  }

  tableName(): TableName {
    const { start, parts } = this.dottedName('a table name');
    const container = this.container();
    return this.toTableName(start, parts, container);
  }

  private typeName(): TypeName {
    const start = this.tok.start;
    const t = this.tok;
    if (t.type !== 'word' && t.type !== 'quoted') {
      this.expecting('a type name');
      throw this.fail();
    }
    this.advance();
    let name = t.value.toLowerCase();
    // Two-word type names.
    if ((name === 'double' && this.isWord('precision')) || (name === 'character' && this.isWord('varying'))) {
      name = `${name} ${this.advance().value}`;
    }
    const args: number[] = [];
    if (this.isOp('(')) {
      this.advance();
      do args.push(this.integer('a type length')); while (this.acceptOp(','));
      this.expectOp(')');
    }
    return { kind: 'TypeName', name, args, span: this.span(start) };
  }

  private integer(label: string): number {
    const t = this.tok;
    if (t.type === 'number') {
      if (!/^\d+$/.test(t.value) || !Number.isSafeInteger(Number(t.value))) {
        throw this.error(SqlErrorCode.badValue, `expected ${label} (a whole number), found ${t.value}`, t);
      }
      this.advance();
      return Number(t.value);
    }
    this.expecting(label);
    throw this.fail();
  }

  // -------------------------------------------------------------------------
  // Expressions

  expression(minPrec = 0): Expr {
    this.enter();
    try {
      const start = this.tok.start;
      let left = this.prefix();
      for (;;) {
        const t = this.tok;
        let prec = 0;
        if (t.type === 'op') {
          if (COMPARISON_OPS.has(t.value)) prec = PREC_COMPARE;
          else if (t.value === '||') prec = PREC_CONCAT;
          else if (t.value === '+' || t.value === '-') prec = PREC_ADD;
          else if (t.value === '*' || t.value === '/' || t.value === '%') prec = PREC_MUL;
        } else if (t.type === 'word') {
          switch (t.value) {
            case 'or': prec = PREC_OR; break;
            case 'and': prec = PREC_AND; break;
            case 'like': case 'ilike': case 'in': case 'between': case 'is': prec = PREC_COMPARE; break;
            case 'not': {
              const n = this.peek();
              if (n.type === 'word' && ['like', 'ilike', 'in', 'between'].includes(n.value)) prec = PREC_COMPARE;
              break;
            }
          }
        }
        if (prec === 0 || prec <= minPrec) return left;
        left = this.infix(left, start, prec);
      }
    } finally {
      this.depth--;
    }
  }

  private infix(left: Expr, start: Position, prec: number): Expr {
    const t = this.advance();
    if (t.type === 'op') {
      const op = t.value as '=' | '<>' | '<' | '<=' | '>' | '>=' | '||' | '+' | '-' | '*' | '/' | '%';
      const right = this.expression(prec);
      return { kind: 'Binary', op, left, right, span: this.span(start) };
    }
    switch (t.value) {
      case 'or':
      case 'and': {
        const right = this.expression(prec);
        return { kind: 'Binary', op: t.value, left, right, span: this.span(start) };
      }
      case 'is': {
        const not = this.acceptWord('not');
        this.expectWord('null');
        return { kind: 'IsNull', expr: left, not, span: this.span(start) };
      }
      default: {
        let word = t.value;
        let not = false;
        if (word === 'not') {
          not = true;
          word = this.advance().value;
        }
        if (word === 'like' || word === 'ilike') {
          const pattern = this.expression(PREC_COMPARE);
          const escape = this.acceptWord('escape', null) ? this.expression(PREC_COMPARE) : undefined;
          return clean({ kind: 'Like', expr: left, pattern, escape, not, caseInsensitive: word === 'ilike', span: this.span(start) });
        }
        if (word === 'between') {
          const low = this.expression(PREC_COMPARE);
          this.expectWord('and');
          const high = this.expression(PREC_COMPARE);
          return { kind: 'Between', expr: left, low, high, not, span: this.span(start) };
        }
        // in
        this.expectOp('(');
        if (this.isWord('select') || this.isWord('with')) {
          const query = this.query();
          this.expectOp(')');
          return { kind: 'InSubquery', expr: left, query, not, span: this.span(start) };
        }
        const list = [this.expression()];
        if (list[0].kind === 'ScalarSubquery' && this.atQueryContinuation()) {
          const query = this.continueQuery(list[0].query, list[0].span?.start ?? start);
          this.expectOp(')');
          return { kind: 'InSubquery', expr: left, query, not, span: this.span(start) };
        }
        while (this.acceptOp(',')) list.push(this.expression());
        this.expectOp(')');
        return { kind: 'InList', expr: left, list, not, span: this.span(start) };
      }
    }
  }

  private prefix(): Expr {
    const t = this.tok;
    const start = t.start;
    if (t.type === 'word' && t.value === 'not') {
      this.advance();
      if (this.isWord('exists') && this.isOp('(', 1)) {
        const e = this.exists(start);
        return { ...e, not: true };
      }
      const operand = this.expression(PREC_NOT);
      return { kind: 'Unary', op: 'not', operand, span: this.span(start) };
    }
    if (t.type === 'op' && (t.value === '-' || t.value === '+')) {
      this.advance();
      const operand = this.expression(PREC_UNARY - 1);
      return { kind: 'Unary', op: t.value, operand, span: this.span(start) };
    }
    let e = this.primary();
    while (this.isOp('::')) {
      this.advance();
      const type = this.typeName();
      e = { kind: 'Cast', expr: e, type, span: this.span(start) };
    }
    return e;
  }

  private exists(start: Position): Expr & { kind: 'Exists' } {
    this.expectWord('exists');
    this.expectOp('(');
    const query = this.query();
    this.expectOp(')');
    return { kind: 'Exists', query, not: false, span: this.span(start) };
  }

  private primary(): Expr {
    const t = this.tok;
    const start = t.start;
    switch (t.type) {
      case 'number':
        this.advance();
        return { kind: 'Literal', type: 'number', value: t.value, span: this.span(start) };
      case 'string':
        this.advance();
        return { kind: 'Literal', type: 'string', value: t.value, span: this.span(start) };
      case 'param':
        this.advance();
        return { kind: 'Parameter', name: t.value, span: this.span(start) };
      case 'quoted':
        return this.namePath();
      case 'op':
        if (t.value === '(') {
          this.advance();
          if (this.isWord('select') || this.isWord('with')) {
            const query = this.query();
            this.expectOp(')');
            return { kind: 'ScalarSubquery', query, span: this.span(start) };
          }
          const inner = this.expression();
          if (inner.kind === 'ScalarSubquery' && this.atQueryContinuation()) {
            const query = this.continueQuery(inner.query, inner.span?.start ?? start);
            this.expectOp(')');
            return { kind: 'ScalarSubquery', query, span: this.span(start) };
          }
          this.expectOp(')');
          return inner;
        }
        break;
      case 'word':
        return this.wordPrimary(t);
      default:
        break;
    }
    this.expecting('an expression');
    throw this.fail();
  }

  private wordPrimary(t: Token): Expr {
    const start = t.start;
    const v = t.value;
    const next = this.peek();
    const nextIsParen = next.type === 'op' && next.value === '(';
    switch (v) {
      case 'null':
        this.advance();
        return { kind: 'Literal', type: 'null', value: '', span: this.span(start) };
      case 'true':
      case 'false':
        this.advance();
        return { kind: 'Literal', type: 'boolean', value: v, span: this.span(start) };
      case 'case':
        return this.caseExpr();
      case 'exists':
        if (nextIsParen) return this.exists(start);
        break;
      case 'cast':
        if (nextIsParen) {
          this.advance();
          this.advance();
          const expr = this.expression();
          this.expectWord('as');
          const type = this.typeName();
          this.expectOp(')');
          return { kind: 'Cast', expr, type, span: this.span(start) };
        }
        break;
      case 'date':
      case 'timestamp':
        if (next.type === 'string') {
          this.advance();
          this.advance();
          const value = v === 'date' ? normaliseDate(next.value) : normaliseTimestamp(next.value);
          if (value === undefined) {
            const shape = v === 'date' ? 'YYYY-MM-DD' : 'YYYY-MM-DD HH:MM[:SS[.fff]]';
            throw this.error(SqlErrorCode.badLiteral, `invalid ${v} literal '${truncate(next.value)}': expected ${shape}`, next);
          }
          return { kind: 'Literal', type: v, value, span: this.span(start) };
        }
        break;
      case 'interval':
        if (next.type === 'string') {
          this.advance();
          this.advance();
          const u = this.tok;
          const unit = u.type === 'word' ? INTERVAL_UNITS[u.value] : undefined;
          if (unit === undefined) {
            this.expecting('an interval unit (YEAR, MONTH, DAY, HOUR, MINUTE or SECOND)');
            throw this.fail();
          }
          if (!/^\s*[-+]?\d+(\.\d+)?\s*$/.test(next.value)) {
            throw this.error(SqlErrorCode.badLiteral, `invalid interval '${truncate(next.value)}': expected a number such as '3'`, next);
          }
          this.advance();
          return { kind: 'IntervalLiteral', value: next.value.trim(), unit, span: this.span(start) };
        }
        break;
      case 'extract':
        if (nextIsParen && this.peek(2).type === 'word' && this.isWord('from', 3)) {
          this.advance();
          this.advance();
          const field = this.advance();
          if (!EXTRACT_FIELDS.has(field.value)) {
            throw this.error(SqlErrorCode.badValue, `unknown field "${field.raw}" for extract; expected one of ${[...EXTRACT_FIELDS].join(', ')}`, field);
          }
          this.advance();
          const from = this.expression();
          this.expectOp(')');
          const fieldLit: Expr = { kind: 'Literal', type: 'string', value: field.value, span: { start: field.start, end: field.end } };
          return { kind: 'FunctionCall', name: 'extract', args: [fieldLit, from], distinct: false, star: false, span: this.span(start) };
        }
        break;
      default:
        break;
    }
    if (nextIsParen && (!isReservedKeyword(v) || RESERVED_FUNCTIONS.has(v))) {
      this.advance();
      return this.functionCall(v, start);
    }
    if (NILADIC_FUNCTIONS.has(v) && !this.isOp('.', 1)) {
      this.advance();
      return { kind: 'FunctionCall', name: v, args: [], distinct: false, star: false, span: this.span(start) };
    }
    if (isReservedKeyword(v)) {
      this.expecting('an expression');
      throw this.fail();
    }
    return this.namePath();
  }

  /** `a`, `a.b`, `a.b.c`, `a.*`, or a qualified function call `pkg.fn(…)`. */
  private namePath(): Expr {
    const start = this.tok.start;
    const parts = [this.identifier('a column name')];
    while (this.isOp('.')) {
      this.advance();
      if (this.isOp('*')) {
        this.advance();
        return { kind: 'Star', qualifier: parts, span: this.span(start) };
      }
      // After a dot only a name can follow, so even a reserved word is one (t.From).
      parts.push(this.anyName('a column name'));
    }
    if (parts.length > 1 && this.isOp('(')) {
      return this.functionCall(parts.join('.').toLowerCase(), start);
    }
    return { kind: 'ColumnRef', qualifier: parts.slice(0, -1), name: parts[parts.length - 1], span: this.span(start) };
  }

  /** At "(": the arguments, then optional FILTER and OVER. */
  private functionCall(name: string, start: Position): FunctionCall {
    if (name === 'trim') {
      const special = this.trimCall(start);
      if (special) return special;
    }
    this.expectOp('(');
    let distinct = false;
    let star = false;
    const args: Expr[] = [];
    if (this.acceptWord('distinct', null)) distinct = true;
    else this.acceptWord('all', null);
    if (this.isOp('*') && !distinct) {
      this.advance();
      star = true;
    } else if (!this.isOp(')') || distinct) {
      do args.push(this.expression()); while (this.acceptOp(','));
    }
    this.expectOp(')');
    let withinGroup: OrderItem[] | undefined;
    if (this.isWord('within') && this.isWord('group', 1)) {
      this.advance();
      this.advance();
      this.expectOp('(');
      this.expectWord('order');
      this.expectWord('by');
      withinGroup = this.orderItems();
      this.expectOp(')');
    }
    let filter: Expr | undefined;
    if (this.isWord('filter') && this.isOp('(', 1)) {
      this.advance();
      this.advance();
      this.expectWord('where');
      filter = this.expression();
      this.expectOp(')');
    }
    let over: WindowSpec | undefined;
    if (this.isWord('over') && this.isOp('(', 1)) over = this.windowSpec();
    return clean({ kind: 'FunctionCall', name, args, distinct, star, withinGroup, filter, over, span: this.span(start) });
  }

  /**
   * At "(" of trim: the standard forms `trim([leading|trailing|both] [x] from y)`
   * become ltrim(y, x), rtrim(y, x) or trim(y, x), so no new AST node is needed.
   * Returns undefined (consuming nothing) for the plain call trim(y[, x]).
   */
  private trimCall(start: Position): FunctionCall | undefined {
    const side = this.peek(1);
    const sideWord = side.type === 'word' && ['leading', 'trailing', 'both'].includes(side.value) ? side.value : undefined;
    if (!sideWord) {
      // trim(x from y): look for FROM at this nesting level before the closing parenthesis.
      let depth = 0;
      let k = 1;
      for (;; k++) {
        const t = this.peek(k);
        if (t.type === 'eof') return undefined;
        if (t.type === 'op' && t.value === '(') depth++;
        else if (t.type === 'op' && t.value === ')') {
          if (depth === 0) return undefined;
          depth--;
        } else if (depth === 0 && t.type === 'word' && t.value === 'from') break;
      }
    }
    this.expectOp('(');
    if (sideWord) this.advance();
    const chars = this.isWord('from') ? undefined : this.expression();
    this.expectWord('from');
    const source = this.expression();
    this.expectOp(')');
    const name = sideWord === 'leading' ? 'ltrim' : sideWord === 'trailing' ? 'rtrim' : 'trim';
    return { kind: 'FunctionCall', name, args: chars ? [source, chars] : [source], distinct: false, star: false, span: this.span(start) };
  }

  private windowSpec(): WindowSpec {
    const start = this.tok.start;
    this.advance(); // over
    this.expectOp('(');
    let partitionBy: Expr[] = [];
    let orderBy: OrderItem[] = [];
    if (this.acceptWord('partition', 'PARTITION BY')) {
      this.expectWord('by');
      partitionBy = this.expressionList();
    }
    if (this.acceptWord('order', 'ORDER BY')) {
      this.expectWord('by');
      orderBy = this.orderItems();
    }
    let frame: WindowSpec['frame'];
    const unitTok = this.tok;
    if (this.acceptWord('rows') || this.acceptWord('range')) {
      const unit = unitTok.value as 'rows' | 'range';
      if (this.acceptWord('between', null)) {
        const s = this.frameBound();
        this.expectWord('and');
        const e = this.frameBound();
        frame = { unit, start: s, end: e };
      } else {
        frame = { unit, start: this.frameBound() };
      }
    }
    this.expectOp(')');
    return clean({ partitionBy, orderBy, frame, span: this.span(start) });
  }

  private frameBound(): WindowFrameBound {
    if (this.acceptWord('unbounded', null)) {
      if (this.acceptWord('preceding')) return { kind: 'unboundedPreceding' };
      this.expectWord('following');
      return { kind: 'unboundedFollowing' };
    }
    if (this.acceptWord('current', 'CURRENT ROW')) {
      this.expectWord('row');
      return { kind: 'currentRow' };
    }
    this.expecting('UNBOUNDED');
    const offset = this.expression(PREC_ADD - 1);
    if (this.acceptWord('preceding')) return { kind: 'preceding', offset };
    this.expectWord('following');
    return { kind: 'following', offset };
  }

  private caseExpr(): Case {
    const start = this.tok.start;
    this.advance();
    const operand = this.isWord('when') ? undefined : this.expression();
    const whens: { when: Expr; then: Expr }[] = [];
    while (this.acceptWord('when')) {
      const when = this.expression();
      this.expectWord('then');
      whens.push({ when, then: this.expression() });
    }
    if (whens.length === 0) throw this.fail();
    const otherwise = this.acceptWord('else') ? this.expression() : undefined;
    this.expectWord('end');
    return clean({ kind: 'Case', operand, whens, else: otherwise, span: this.span(start) });
  }

  private expressionList(): Expr[] {
    const list = [this.expression()];
    while (this.acceptOp(',')) list.push(this.expression());
    return list;
  }

  private orderItems(): OrderItem[] {
    const items: OrderItem[] = [];
    do {
      const start = this.tok.start;
      const expr = this.expression();
      let descending = false;
      if (this.acceptWord('desc')) descending = true;
      else this.acceptWord('asc');
      let nulls: 'first' | 'last' | undefined;
      if (this.acceptWord('nulls', 'NULLS FIRST')) {
        if (this.acceptWord('first')) nulls = 'first';
        else {
          this.expectWord('last');
          nulls = 'last';
        }
      }
      items.push(clean({ expr, descending, nulls, span: this.span(start) }));
    } while (this.acceptOp(','));
    return items;
  }

  // -------------------------------------------------------------------------
  // Queries

  /** True when the token after a parenthesised subquery continues it as a query (set operator or tail). */
  private atQueryContinuation(): boolean {
    const t = this.tok;
    return t.type === 'word' && ['union', 'intersect', 'minus', 'except', 'order', 'limit', 'offset', 'fetch'].includes(t.value);
  }

  /** `(select …) union …` met in expression position: carry on as a query whose first operand is `q`. */
  private continueQuery(q: Query, start: Position): Query {
    const first: QueryBody = hasTail(q) ? q : q.body;
    const body = this.setOperationRest(first, 0, start);
    return this.queryTail([], body, start);
  }

  query(): Query {
    this.enter();
    try {
      const start = this.tok.start;
      const ctes: Cte[] = [];
      if (this.acceptWord('with', null)) {
        do {
          const cteStart = this.tok.start;
          const name = this.identifier('a name for the WITH query');
          const columns = this.isOp('(') ? this.parenIdentifiers('a column name') : [];
          this.expectWord('as');
          this.expectOp('(');
          const query = this.query();
          this.expectOp(')');
          ctes.push({ name, columns, query, span: this.span(cteStart) });
        } while (this.acceptOp(','));
      }
      const body = this.setOperationRest(this.setOperand(), 0, start);
      return this.queryTail(ctes, body, start);
    } finally {
      this.depth--;
    }
  }

  private parenIdentifiers(label: string): string[] {
    this.expectOp('(');
    const names = this.identifierList(label);
    this.expectOp(')');
    return names;
  }

  private setOperand(): QueryBody {
    if (this.isOp('(')) {
      this.advance();
      const q = this.query();
      this.expectOp(')');
      return hasTail(q) ? q : q.body;
    }
    if (this.isWord('select')) return this.selectCore();
    this.expecting('SELECT');
    this.expecting('"("');
    throw this.fail();
  }

  private setOperationRest(left: QueryBody, minPrec: number, start: Position): QueryBody {
    for (;;) {
      const t = this.tok;
      let prec = 0;
      let op: 'union' | 'intersect' | 'minus' = 'union';
      if (t.type === 'word') {
        if (t.value === 'union') prec = 1;
        else if (t.value === 'minus' || t.value === 'except') {
          prec = 1;
          op = 'minus';
        } else if (t.value === 'intersect') {
          prec = 2;
          op = 'intersect';
        }
      }
      if (prec === 0) {
        this.expected.push('UNION');
        this.candidates.push('union', 'intersect', 'minus');
      }
      if (prec === 0 || prec <= minPrec) return left;
      this.advance();
      let all = false;
      if (this.acceptWord('all', null)) all = true;
      else this.acceptWord('distinct', null);
      const rightStart = this.tok.start;
      const right = this.setOperationRest(this.setOperand(), prec, rightStart);
      left = { kind: 'SetOperation', op, all, left, right, span: this.span(start) };
    }
  }

  private queryTail(ctes: Cte[], body: QueryBody, start: Position): Query {
    let orderBy: OrderItem[] = [];
    let limit: Expr | undefined;
    let offset: Expr | undefined;
    if (this.acceptWord('order', 'ORDER BY')) {
      this.expectWord('by');
      orderBy = this.orderItems();
    }
    if (this.acceptWord('limit')) {
      limit = this.expression();
      if (this.acceptWord('offset')) offset = this.expression();
    } else if (this.acceptWord('offset', null)) {
      offset = this.expression();
      if (!this.acceptWord('rows', null)) this.acceptWord('row', null);
    }
    if (limit === undefined && this.acceptWord('fetch', null)) {
      if (!this.acceptWord('first', null)) this.expectWord('next', 'FIRST or NEXT');
      limit = this.isWord('rows') || this.isWord('row') ? { kind: 'Literal', type: 'number', value: '1', span: this.span(this.tok.start) } : this.expression();
      if (!this.acceptWord('rows', null)) this.expectWord('row', 'ROWS');
      this.expectWord('only');
    }
    // "((select … limit 1))": extra parentheses around a whole query add nothing.
    if (ctes.length === 0 && orderBy.length === 0 && limit === undefined && offset === undefined && body.kind === 'Query') return body;
    return clean({ kind: 'Query', with: ctes, body, orderBy, limit, offset, span: this.span(start) });
  }

  private selectCore(): SelectCore {
    const start = this.tok.start;
    this.expectWord('select');
    let distinct = false;
    if (this.acceptWord('distinct', null)) distinct = true;
    else this.acceptWord('all', null);
    let top: Expr | undefined;
    if (this.isWord('top') && (this.peek().type === 'number' || this.isOp('(', 1))) {
      this.advance();
      top = this.primary();
    }
    const items: SelectItem[] = [];
    do items.push(this.selectItem()); while (this.acceptOp(','));
    let from: FromItem[] = [];
    if (this.acceptWord('from')) {
      from = [this.joinChain()];
      while (this.acceptOp(',')) from.push(this.joinChain());
    }
    const where = this.acceptWord('where') ? this.expression() : undefined;
    let groupBy: Expr[] = [];
    if (this.acceptWord('group', 'GROUP BY')) {
      this.expectWord('by');
      groupBy = this.expressionList();
    }
    const having = this.acceptWord('having') ? this.expression() : undefined;
    return clean({ kind: 'Select', distinct, top, items, from, where, groupBy, having, span: this.span(start) });
  }

  private selectItem(): SelectItem {
    const start = this.tok.start;
    let expr: Expr;
    if (this.isOp('*')) {
      this.advance();
      expr = { kind: 'Star', qualifier: [], span: this.span(start) };
    } else {
      expr = this.expression();
    }
    let alias: string | undefined;
    if (expr.kind !== 'Star') {
      if (this.acceptWord('as', null)) alias = this.anyName('a column alias');
      else alias = this.bareAliasHere('a column alias', ['from']);
    }
    return clean({ expr, alias, span: this.span(start) });
  }

  /**
   * An alias without AS: a quoted name or a word that is not reserved. A word
   * that is a near miss of a keyword that could stand here is still taken as
   * an alias, but remembered so a later error can say "did you mean …?".
   */
  private bareAliasHere(label: string, nearMisses: string[]): string | undefined {
    const t = this.tok;
    if (t.type === 'quoted') {
      this.advance();
      return t.value;
    }
    if (t.type === 'word' && !isReservedKeyword(t.value)) {
      this.advance();
      this.bareAlias = { index: this.pos - 1, candidates: [...nearMisses, ...STATEMENT_KEYWORDS] };
      return t.raw;
    }
    this.expecting(label);
    return undefined;
  }

  private joinChain(): FromItem {
    const start = this.tok.start;
    let left = this.fromPrimary();
    for (;;) {
      let type: JoinType | undefined;
      const t = this.tok;
      if (t.type === 'word') {
        switch (t.value) {
          case 'join': type = 'inner'; break;
          case 'inner': type = 'inner'; break;
          case 'left': case 'right': case 'full': case 'cross':
            type = t.value; break;
        }
      }
      if (type === undefined) {
        this.expecting('JOIN');
        this.candidates.push('join', 'inner', 'left', 'right', 'full', 'cross', 'where', 'group', 'order');
        return left;
      }
      if (t.value !== 'join') {
        this.advance();
        if (type !== 'inner' && type !== 'cross') this.acceptWord('outer', null);
      }
      this.expectWord('join');
      const right = this.fromPrimary();
      let on: Expr | undefined;
      let using: string[] = [];
      if (type !== 'cross') {
        if (this.acceptWord('on')) on = this.expression();
        else if (this.acceptWord('using')) using = this.parenIdentifiers('a column name');
        else throw this.fail();
      }
      const join: Join = clean({ kind: 'Join', type, left, right, on, using, span: this.span(start) });
      left = join;
    }
  }

  private fromPrimary(): FromItem {
    const start = this.tok.start;
    if (this.isOp('(')) {
      let k = 1;
      while (this.isOp('(', k)) k++;
      if (this.isWord('select', k) || this.isWord('with', k)) {
        this.advance();
        const query = this.query();
        this.expectOp(')');
        let alias: string | undefined;
        let columnAliases: string[] = [];
        if (this.acceptWord('as', null)) alias = this.anyName('a table alias');
        else alias = this.bareAliasHere('a table alias', ['where', 'group', 'order', 'join', 'inner', 'left', 'right', 'full', 'cross']);
        if (alias !== undefined && this.isOp('(')) columnAliases = this.parenIdentifiers('a column alias');
        return clean({ kind: 'DerivedTable', query, alias, columnAliases, span: this.span(start) });
      }
      this.enter();
      try {
        this.advance();
        const inner = this.joinChain();
        this.expectOp(')');
        return inner;
      } finally {
        this.depth--;
      }
    }
    const { parts } = this.dottedName('a table name');
    if (this.isOp('(')) {
      this.advance();
      const args = this.isOp(')') ? [] : this.expressionList();
      this.expectOp(')');
      const name = this.toTableName(start, parts, this.container());
      const alias = this.tableAlias();
      return clean({ kind: 'TableFunction', name, args, alias, span: this.span(start) });
    }
    const name = this.toTableName(start, parts, this.container());
    const alias = this.tableAlias();
    return clean({ kind: 'TableRef', name, alias, span: this.span(start) });
  }

  private tableAlias(): string | undefined {
    if (this.acceptWord('as', null)) return this.anyName('a table alias');
    return this.bareAliasHere('a table alias', ['where', 'group', 'order', 'join', 'inner', 'left', 'right', 'full', 'cross']);
  }

  // -------------------------------------------------------------------------
  // Statements

  private isQueryStart(): boolean {
    return this.isWord('select') || this.isWord('with') || this.isOp('(');
  }

  statement(): Statement {
    const t = this.tok;
    const start = t.start;
    if (t.type === 'op' && t.value === '(') {
      return { kind: 'QueryStatement', query: this.query(), span: this.span(start) };
    }
    if (t.type === 'word') {
      switch (t.value) {
        case 'select':
        case 'with':
          return { kind: 'QueryStatement', query: this.query(), span: this.span(start) };
        case 'use': return this.useStatement();
        case 'set': return this.setStatement();
        case 'create': return this.createStatement();
        case 'drop': return this.dropStatement();
        case 'insert': return this.insertStatement();
        case 'update': return this.updateStatement();
        case 'delete': return this.deleteStatement();
        case 'explain': {
          this.advance();
          this.enter();
          try {
            const statement = this.statement();
            return { kind: 'Explain', statement, span: this.span(start) };
          } finally {
            this.depth--;
          }
        }
        case 'synchronize': return this.synchronizeStatement();
      }
    }
    this.expecting('a statement (SELECT, USE, SET, CREATE, DROP, INSERT, UPDATE, DELETE, EXPLAIN or SYNCHRONIZE)');
    this.candidates.push(...STATEMENT_KEYWORDS);
    throw this.fail();
  }

  private useStatement(): Statement {
    const start = this.tok.start;
    this.advance();
    const items: UseItem[] = [];
    do {
      const t = this.tok;
      const itemStart = t.start;
      if (this.isQueryStart()) {
        const query = this.query();
        items.push({ kind: 'query', query, span: this.span(itemStart) });
        continue;
      }
      if (t.type === 'word' && (t.value === 'all' || t.value === 'default')) {
        this.advance();
        const container = this.container();
        items.push(clean({ kind: t.value, container, span: this.span(itemStart) }));
        continue;
      }
      let code: string | undefined;
      if (t.type === 'number' || t.type === 'string' || t.type === 'quoted') code = t.value;
      else if (t.type === 'word' && !isReservedKeyword(t.value)) code = t.raw;
      if (code === undefined) {
        this.expecting('a partition code, ALL, DEFAULT or a query');
        this.candidates.push('all', 'default', 'select');
        throw this.fail();
      }
      this.advance();
      const container = this.container();
      items.push(clean({ kind: 'code' as const, code, container, span: this.span(itemStart) }));
    } while (this.acceptOp(','));
    return { kind: 'Use', items, span: this.span(start) };
  }

  private setStatement(): Statement {
    const start = this.tok.start;
    this.advance();
    const first = this.tok;
    if (first.type !== 'word' && first.type !== 'quoted') {
      this.expecting('a setting name');
      throw this.fail();
    }
    this.advance();
    let name = first.type === 'quoted' ? first.value : first.raw;
    // Setting names may contain "-" and "." (use-http-disk-cache): glue tokens written without spaces.
    while (first.type === 'word') {
      const sep = this.tok;
      const part = this.peek();
      if (sep.type !== 'op' || (sep.value !== '-' && sep.value !== '.')) break;
      if (sep.start.offset !== this.prevEnd.offset || part.start.offset !== sep.end.offset) break;
      if (part.type !== 'word' && part.type !== 'number') break;
      this.advance();
      this.advance();
      name += sep.value + part.raw;
    }
    const container = this.container();
    const v = this.tok;
    let value: string;
    if (v.type === 'string' || v.type === 'number' || v.type === 'quoted') {
      this.advance();
      value = v.value;
    } else if (v.type === 'word' && !STATEMENT_KEYWORDS.has(v.value)) {
      this.advance();
      value = v.raw;
    } else if (v.type === 'op' && v.value === '-' && this.peek().type === 'number' && this.peek().start.offset === v.end.offset) {
      this.advance();
      value = `-${this.advance().value}`;
    } else {
      this.expecting('a value');
      throw this.fail();
    }
    return clean({ kind: 'Set', name, container, value, span: this.span(start) });
  }

  private createStatement(): Statement {
    const start = this.tok.start;
    this.advance();
    let orReplace = false;
    if (this.acceptWord('or', 'OR REPLACE')) {
      this.expectWord('replace');
      orReplace = true;
    }
    this.expectWord('table');
    let ifNotExists = false;
    if (this.acceptWord('if', 'IF NOT EXISTS')) {
      this.expectWord('not');
      this.expectWord('exists');
      ifNotExists = true;
    }
    const name = this.tableName();
    const columns: ColumnDef[] = [];
    if (this.isOp('(') && !this.isWord('select', 1) && !this.isWord('with', 1)) {
      this.advance();
      do columns.push(this.columnDef()); while (this.acceptOp(','));
      this.expectOp(')');
    } else {
      this.expecting('"("');
    }
    let query: Query | undefined;
    if (this.acceptWord('as')) query = this.query();
    else if (columns.length === 0) throw this.fail();
    return clean({ kind: 'CreateTable', orReplace, ifNotExists, name, columns, query, span: this.span(start) });
  }

  private columnDef(): ColumnDef {
    const start = this.tok.start;
    const name = this.identifier('a column name');
    const type = this.typeName();
    let notNull = false;
    let primaryKey = false;
    for (;;) {
      if (this.acceptWord('not', 'NOT NULL')) {
        this.expectWord('null');
        notNull = true;
      } else if (this.acceptWord('null', null)) {
        notNull = false;
      } else if (this.acceptWord('primary', 'PRIMARY KEY')) {
        this.expectWord('key');
        primaryKey = true;
      } else {
        break;
      }
    }
    return { name, type, notNull, primaryKey, span: this.span(start) };
  }

  private dropStatement(): Statement {
    const start = this.tok.start;
    this.advance();
    this.expectWord('table');
    let ifExists = false;
    if (this.acceptWord('if', 'IF EXISTS')) {
      this.expectWord('exists');
      ifExists = true;
    }
    const name = this.tableName();
    return { kind: 'DropTable', ifExists, name, span: this.span(start) };
  }

  private insertStatement(): Statement {
    const start = this.tok.start;
    this.advance();
    this.expectWord('into');
    const table = this.tableName();
    let columns: string[] = [];
    if (this.isOp('(') && !this.isWord('select', 1) && !this.isWord('with', 1) && !this.isOp('(', 1)) {
      columns = this.parenIdentifiers('a column name');
    }
    if (this.acceptWord('values')) {
      const rows: Expr[][] = [];
      do {
        this.expectOp('(');
        rows.push(this.expressionList());
        this.expectOp(')');
      } while (this.acceptOp(','));
      return { kind: 'Insert', table, columns, source: { kind: 'Values', rows }, span: this.span(start) };
    }
    if (!this.isQueryStart()) {
      this.expecting('SELECT');
      throw this.fail();
    }
    const query = this.query();
    return { kind: 'Insert', table, columns, source: { kind: 'Query', query }, span: this.span(start) };
  }

  private updateStatement(): Statement {
    const start = this.tok.start;
    this.advance();
    const table = this.tableName();
    const alias = this.tableAlias();
    this.expectWord('set');
    const assignments: Assignment[] = [];
    do {
      const aStart = this.tok.start;
      let column = this.identifier('a column name');
      // A qualified target (alias.column) names the same column.
      while (this.isOp('.')) {
        this.advance();
        column = this.identifier('a column name');
      }
      this.expectOp('=');
      const value = this.expression();
      assignments.push({ column, value, span: this.span(aStart) });
    } while (this.acceptOp(','));
    const where = this.acceptWord('where') ? this.expression() : undefined;
    return clean({ kind: 'Update', table, alias, assignments, where, span: this.span(start) });
  }

  private deleteStatement(): Statement {
    const start = this.tok.start;
    this.advance();
    this.acceptWord('from', null);
    const table = this.tableName();
    const alias = this.tableAlias();
    const where = this.acceptWord('where') ? this.expression() : undefined;
    return clean({ kind: 'Delete', table, alias, where, span: this.span(start) });
  }

  private synchronizeStatement(): SynchronizeStatement {
    const start = this.tok.start;
    this.advance();
    const first = this.tableName();
    let direction: 'to' | 'from';
    if (this.acceptWord('to')) direction = 'to';
    else {
      this.expectWord('from');
      direction = 'from';
    }
    const second = this.tableName();
    let actions: SyncActionClause[] | undefined;
    let identifiedBy: string[] | undefined;
    let ignoreChanges: string[] | undefined;
    let ignoreNulls = false;
    let continueOnErrors: number | undefined;
    // The optional clauses may come in any order, each at most once.
    for (;;) {
      const t = this.tok;
      if (actions === undefined && this.acceptWord('with')) {
        actions = [];
        do actions.push(this.syncAction()); while (this.acceptWord('or', null));
      } else if (identifiedBy === undefined && this.acceptWord('identified', 'IDENTIFIED BY')) {
        this.expectWord('by');
        identifiedBy = this.identifierList('a column name');
      } else if ((ignoreChanges === undefined || !ignoreNulls) && this.acceptWord('ignore', 'IGNORE')) {
        if (ignoreChanges === undefined && this.acceptWord('changes', 'CHANGES TO')) {
          this.expectWord('to');
          ignoreChanges = this.identifierList('a column name');
        } else if (!ignoreNulls) {
          this.expectWord('nulls');
          ignoreNulls = true;
        } else {
          throw this.fail();
        }
      } else if (continueOnErrors === undefined && this.acceptWord('continue', 'CONTINUE ON')) {
        this.expectWord('on');
        this.acceptWord('first', null);
        continueOnErrors = this.integer('a number of errors');
        if (!this.acceptWord('errors', null)) this.expectWord('error', 'ERRORS');
      } else {
        // A second WITH that does not list actions starts the next statement (a WITH query).
        const nextWith = t.type === 'word' && t.value === 'with' && !['insert', 'update', 'delete'].includes(this.peek().value);
        if (t.type === 'word' && ['with', 'identified', 'ignore', 'continue'].includes(t.value) && !nextWith) {
          throw this.error(SqlErrorCode.unexpectedToken, `the ${t.value.toUpperCase()} clause of synchronize appears twice`, t);
        }
        break;
      }
    }
    const [source, target] = direction === 'to' ? [first, second] : [second, first];
    return clean({
      kind: 'Synchronize',
      source,
      target,
      direction,
      actions: actions ?? [],
      identifiedBy: identifiedBy ?? [],
      ignoreChanges: ignoreChanges ?? [],
      ignoreNulls,
      continueOnErrors,
      span: this.span(start),
    });
  }

  private syncAction(): SyncActionClause {
    const start = this.tok.start;
    const t = this.tok;
    if (t.type !== 'word' || !['insert', 'update', 'delete'].includes(t.value)) {
      this.expecting('INSERT, UPDATE or DELETE');
      this.candidates.push('insert', 'update', 'delete');
      throw this.fail();
    }
    this.advance();
    const action = t.value as 'insert' | 'update' | 'delete';
    let cap: SyncActionClause['cap'];
    const m = this.tok;
    if (this.acceptWord('exit', null) || this.acceptWord('error', null)) {
      this.expectWord('after');
      const rows = this.integer('a number of rows');
      if (!this.acceptWord('rows', null)) this.expectWord('row', 'ROWS');
      cap = { mode: m.value as 'exit' | 'error', rows };
    }
    return clean({ action, cap, span: this.span(start) });
  }

  // -------------------------------------------------------------------------
  // Entry points

  script(): Script {
    const statements: Statement[] = [];
    for (;;) {
      while (this.isOp(';')) this.advance();
      if (this.tok.type === 'eof') break;
      statements.push(this.statement());
      this.forgetConsumed();
      const t = this.tok;
      if (t.type === 'eof') break;
      if (t.type === 'op' && t.value === ';') continue;
      if (t.type === 'word' && STATEMENT_KEYWORDS.has(t.value)) continue;
      this.expecting('";"');
      throw this.fail();
    }
    return { statements, text: this.text };
  }

  standaloneExpression(): Expr {
    const e = this.expression();
    if (this.tok.type !== 'eof') {
      this.expecting('the end of the expression');
      throw this.fail();
    }
    return e;
  }
}

function normaliseDate(s: string): string | undefined {
  const m = /^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$/.exec(s);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (!validDate(y, mo, d)) return undefined;
  return `${m[1]}-${pad(mo)}-${pad(d)}`;
}

function normaliseTimestamp(s: string): string | undefined {
  const m = /^\s*(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?\s*$/.exec(s);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const [h, mi, se] = [Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)];
  if (!validDate(y, mo, d) || h > 23 || mi > 59 || se > 59) return undefined;
  return `${m[1]}-${pad(mo)}-${pad(d)} ${pad(h)}:${pad(mi)}:${pad(se)}${m[7] ?? ''}`;
}

function validDate(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1) return false;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  return d <= (m === 2 ? (leap ? 29 : 28) : m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31);
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** Run a parse, turning a stack overflow on pathological input into a clean SQL error. */
export function guarded<T>(text: string, run: (p: Parser) => T): T {
  const p = new Parser(text);
  try {
    return run(p);
  } catch (e) {
    if (e instanceof RangeError) {
      throw sqlError(SqlErrorCode.tooDeep, 'the SQL is nested too deeply to parse', text, 0);
    }
    throw e;
  }
}


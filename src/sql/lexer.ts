/**
 * The lexer: turns Sluice SQL text into tokens with positions.
 *
 * Words keep their original spelling in `raw` and a lower-cased `value` for
 * keyword matching (keywords are case-insensitive). `"quoted"` and
 * `[bracketed]` identifiers become `quoted` tokens so the parser never takes
 * them for keywords. Comments and whitespace are skipped. It scans the whole
 * text once, up front, in linear time; problems (an unterminated string, a
 * stray character) are SluiceErrors with the line and column.
 */
import type { Position } from './ast.js';
import { SqlErrorCode, sqlError } from './errors.js';

export type TokenType = 'word' | 'quoted' | 'string' | 'number' | 'op' | 'param' | 'eof';

export interface Token {
  readonly type: TokenType;
  /**
   * word: lower-cased; quoted: the name without quotes; string: the text with
   * '' unescaped; number: as written; op: the symbol (`!=` given as `<>`);
   * param: the name after `:`.
   */
  readonly value: string;
  /** The text exactly as written (a word's original case). */
  readonly raw: string;
  readonly start: Position;
  readonly end: Position;
}

/**
 * Positions are kept as numbers and made into objects only when asked for:
 * a big script has hundreds of thousands of tokens, and allocating two
 * Position objects for each dominated lexing time.
 */
class Tok implements Token {
  private s: Position | undefined;
  private e: Position | undefined;
  constructor(
    readonly type: TokenType,
    readonly value: string,
    readonly raw: string,
    private readonly offset: number,
    private readonly line: number,
    private readonly column: number,
    private readonly endOffset: number,
    private readonly endLine: number,
    private readonly endColumn: number,
  ) {}
  get start(): Position {
    return (this.s ??= { line: this.line, column: this.column, offset: this.offset });
  }
  get end(): Position {
    return (this.e ??= { line: this.endLine, column: this.endColumn, offset: this.endOffset });
  }
}

const OPS2 = new Set(['<>', '!=', '<=', '>=', '||', '::']);
const OPS1 = new Set(['(', ')', ',', ';', '.', '@', '*', '/', '%', '+', '-', '=', '<', '>']);

function isIdentStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || (c > 127 && /\p{L}/u.test(String.fromCharCode(c)));
}

function isIdentPart(c: number): boolean {
  return (
    (c >= 97 && c <= 122) ||
    (c >= 65 && c <= 90) ||
    (c >= 48 && c <= 57) ||
    c === 95 ||
    c === 36 ||
    c === 35 ||
    (c > 127 && /[\p{L}\p{N}]/u.test(String.fromCharCode(c)))
  );
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Tokenize all of `text`; the last token is always `eof`. */
export function tokenize(text: string): Token[] {
  return [...lex(text)];
}

/**
 * Tokens one at a time, ending with `eof`. The parser pulls from this so a
 * long script's tokens do not all have to be alive at once.
 */
export function* lex(text: string): Generator<Token, void, undefined> {
  const n = text.length;
  let i = 0;
  let line = 1;
  let lineStart = 0;

  const pos = (offset: number): Position => ({ line, column: offset - lineStart + 1, offset });
  // Advance line bookkeeping over text[from, to) which may contain newlines.
  const passNewlines = (from: number, to: number): void => {
    for (let k = text.indexOf('\n', from); k !== -1 && k < to; k = text.indexOf('\n', k + 1)) {
      line++;
      lineStart = k + 1;
    }
  };
  // Words repeat (keywords, column names): share their lower-cased spelling.
  const lower = new Map<string, string>();
  let startLine = 1;
  let startColumn = 1;
  const make = (type: TokenType, value: string, startOffset: number): Tok => {
    return new Tok(type, value, text.slice(startOffset, i), startOffset, startLine, startColumn, i, line, i - lineStart + 1);
  };

  while (i < n) {
    const c = text.charCodeAt(i);
    // whitespace
    if (c === 10) {
      i++;
      line++;
      lineStart = i;
      continue;
    }
    if (c === 32 || c === 9 || c === 13 || c === 12 || c === 11 || c === 0xa0 || c === 0xfeff) {
      i++;
      continue;
    }
    // comments
    if (c === 45 && text.charCodeAt(i + 1) === 45) {
      const eol = text.indexOf('\n', i);
      i = eol === -1 ? n : eol;
      continue;
    }
    if (c === 47 && text.charCodeAt(i + 1) === 42) {
      const close = text.indexOf('*/', i + 2);
      if (close === -1) {
        throw sqlError(SqlErrorCode.unterminatedComment, 'unterminated comment: "/*" without a closing "*/"', text, i);
      }
      passNewlines(i, close);
      i = close + 2;
      continue;
    }
    const startOffset = i;
    startLine = line;
    startColumn = i - lineStart + 1;
    // N'…' is a national character string: the same as a plain string here.
    const national = (c === 78 || c === 110) && text.charCodeAt(i + 1) === 39;
    // words
    if (isIdentStart(c) && !national) {
      i++;
      while (i < n && isIdentPart(text.charCodeAt(i))) i++;
      const raw = text.slice(startOffset, i);
      let value = lower.get(raw);
      if (value === undefined) {
        value = raw.toLowerCase();
        lower.set(raw, value);
      }
      yield make('word', value, startOffset);
      continue;
    }
    // numbers: 12, 12.50, .5, 1e3, 2.5E-3
    if (isDigit(c) || (c === 46 && isDigit(text.charCodeAt(i + 1)))) {
      while (i < n && isDigit(text.charCodeAt(i))) i++;
      if (text.charCodeAt(i) === 46 && text.charCodeAt(i + 1) !== 46) {
        i++;
        while (i < n && isDigit(text.charCodeAt(i))) i++;
      }
      const e = text.charCodeAt(i);
      if (e === 101 || e === 69) {
        let j = i + 1;
        const sign = text.charCodeAt(j);
        if (sign === 43 || sign === 45) j++;
        if (!isDigit(text.charCodeAt(j))) {
          throw sqlError(SqlErrorCode.badNumber, `malformed number "${text.slice(startOffset, j)}": expected digits after the exponent`, text, startOffset);
        }
        i = j;
        while (i < n && isDigit(text.charCodeAt(i))) i++;
      }
      if (i < n && isIdentStart(text.charCodeAt(i))) {
        let j = i;
        while (j < n && isIdentPart(text.charCodeAt(j))) j++;
        throw sqlError(
          SqlErrorCode.badNumber,
          `malformed number "${text.slice(startOffset, j)}": a number cannot be followed directly by letters`,
          text,
          startOffset,
        );
      }
      yield make('number', text.slice(startOffset, i), startOffset);
      continue;
    }
    // string literals with '' escapes
    if (c === 39 || national) {
      let value = '';
      let j = national ? i + 2 : i + 1;
      for (;;) {
        const q = text.indexOf("'", j);
        if (q === -1) {
          throw sqlError(SqlErrorCode.unterminatedString, 'unterminated string: a quote (\') was opened but never closed', text, startOffset);
        }
        value += text.slice(j, q);
        if (text.charCodeAt(q + 1) === 39) {
          value += "'";
          j = q + 2;
          continue;
        }
        j = q + 1;
        break;
      }
      passNewlines(i, j);
      i = j;
      yield make('string', value, startOffset);
      continue;
    }
    // quoted identifiers: "a ""b""" and [a b]
    if (c === 34 || c === 91) {
      const close = c === 34 ? '"' : ']';
      let value = '';
      let j = i + 1;
      for (;;) {
        const q = text.indexOf(close, j);
        if (q === -1) {
          throw sqlError(
            SqlErrorCode.unterminatedIdentifier,
            `unterminated quoted name: "${String.fromCharCode(c)}" was opened but never closed with "${close}"`,
            text,
            startOffset,
          );
        }
        value += text.slice(j, q);
        if (text[q + 1] === close) {
          value += close;
          j = q + 2;
          continue;
        }
        j = q + 1;
        break;
      }
      if (value.length === 0) {
        throw sqlError(SqlErrorCode.unterminatedIdentifier, 'empty quoted name', text, startOffset);
      }
      passNewlines(i, j);
      i = j;
      yield make('quoted', value, startOffset);
      continue;
    }
    // bind parameters :name (but not the :: cast operator)
    if (c === 58 && text.charCodeAt(i + 1) !== 58) {
      if (isIdentStart(text.charCodeAt(i + 1)) || isDigit(text.charCodeAt(i + 1))) {
        i++;
        while (i < n && isIdentPart(text.charCodeAt(i))) i++;
        yield make('param', text.slice(startOffset + 1, i), startOffset);
        continue;
      }
    }
    const two = text.slice(i, i + 2);
    if (OPS2.has(two)) {
      i += 2;
      yield make('op', two === '!=' ? '<>' : two, startOffset);
      continue;
    }
    const one = text[i];
    if (OPS1.has(one)) {
      i++;
      yield make('op', one, startOffset);
      continue;
    }
    const cp = text.codePointAt(i) ?? c;
    throw sqlError(
      SqlErrorCode.unexpectedCharacter,
      `unexpected character "${String.fromCodePoint(cp)}"`,
      text,
      startOffset,
    );
  }
  const eof = pos(n);
  yield new Tok('eof', '', '', n, eof.line, eof.column, n, eof.line, eof.column);
}

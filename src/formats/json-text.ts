/**
 * A small exact JSON parser for what JSON.parse cannot do in Node 20: keep
 * integers beyond 2^53 as bigint, and say where a syntax error is (line and
 * column). Used only when the fast path needs it: big integers in the text,
 * or JSON.parse failed.
 */

export class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

const SAFE_DIGITS = /\d{16,}/;

/** Parse JSON; integers that do not fit a double exactly become bigint. Throws JsonSyntaxError with the offset. */
export function parseJsonExact(text: string): unknown {
  if (!SAFE_DIGITS.test(text)) {
    try {
      return JSON.parse(text);
    } catch {
      // fall through to the slow parser for the position
    }
  }
  let i = 0;
  const n = text.length;
  const fail = (what: string): never => {
    throw new JsonSyntaxError(i >= n ? `unexpected end of input, expected ${what}` : `unexpected ${JSON.stringify(text[i])}, expected ${what}`, i);
  };
  const ws = () => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 9 || c === 10 || c === 13) i++;
      else break;
    }
  };
  const str = (): string => {
    const start = i;
    i++;
    for (;;) {
      const q = text.indexOf('"', i);
      if (q < 0) {
        i = start;
        fail('a closing quote');
      }
      let back = 0;
      for (let k = q - 1; k > start && text[k] === '\\'; k--) back++;
      i = q + 1;
      if (back % 2 === 0) break;
    }
    try {
      return JSON.parse(text.slice(start, i)) as string;
    } catch {
      i = start;
      return fail('a valid string');
    }
  };
  const num = (): number | bigint => {
    const m = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
    m.lastIndex = i;
    const r = m.exec(text);
    if (!r) return fail('a value');
    i += r[0].length;
    if (r[1] === undefined && r[2] === undefined) {
      const v = Number(r[0]);
      return Number.isSafeInteger(v) ? v : BigInt(r[0]);
    }
    return Number(r[0]);
  };
  const value = (): unknown => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const o: Record<string, unknown> = {};
      ws();
      if (text[i] === '}') {
        i++;
        return o;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('a property name');
        const k = str();
        ws();
        if (text[i] !== ':') fail("':'");
        i++;
        o[k] = value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return o;
        }
        fail("',' or '}'");
      }
    }
    if (c === '[') {
      i++;
      const a: unknown[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return a;
      }
      for (;;) {
        a.push(value());
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return a;
        }
        fail("',' or ']'");
      }
    }
    if (c === '"') return str();
    if (text.startsWith('true', i)) {
      i += 4;
      return true;
    }
    if (text.startsWith('false', i)) {
      i += 5;
      return false;
    }
    if (text.startsWith('null', i)) {
      i += 4;
      return null;
    }
    return num();
  };
  const result = value();
  ws();
  if (i < n) fail('the end of the document');
  return result;
}

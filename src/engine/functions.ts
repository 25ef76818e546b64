/**
 * The Oracle-flavoured function library, mapped onto DuckDB in one place.
 *
 * Each entry says how a call prints as DuckDB SQL, given its arguments already
 * printed. The DuckDB printer (duckdb-printer.ts) consults this table and
 * nothing else, so adding or fixing a function is a change here only.
 * Functions not listed pass through unchanged (DuckDB's standard scalar,
 * aggregate and window functions).
 *
 * Decisions (see docs/dialect.md):
 * - Oracle's '' is NULL: the printer turns the literal '' into NULL, `||`
 *   skips NULLs ('a' || null = 'a') and yields NULL for an empty result.
 * - Date format masks and number masks are translated when they are literals;
 *   a computed mask is refused with a clear error.
 */
import type { Expr, FunctionCall } from '../sql/ast.js';
import { SluiceError } from '../util/errors.js';

export type ExprKind = 'number' | 'date' | 'string' | 'unknown';

export interface FunctionPrintContext {
  /** The printed arguments. */
  readonly args: readonly string[];
  readonly call: FunctionCall;
  /** Best-effort static type of an argument (from column types and literals). */
  kindOf(expr: Expr): ExprKind;
  /** The session clock's "now" in ms, so sysdate is deterministic under test. */
  now(): number;
}

type FunctionPrinter = (ctx: FunctionPrintContext) => string;

function literalString(expr: Expr | undefined): string | undefined {
  if (expr && expr.kind === 'Literal' && expr.type === 'string') return expr.value;
  return undefined;
}

function needArgs(ctx: FunctionPrintContext, min: number, max: number): void {
  const n = ctx.args.length;
  if (n < min || n > max) {
    const span = ctx.call.span;
    throw new SluiceError(
      'ENG120',
      `Function ${ctx.call.name} takes ${min === max ? min : `${min} to ${max}`} argument(s), got ${n}.`,
      span ? { location: { line: span.start.line, column: span.start.column } } : {},
    );
  }
}

function sqlString(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/** Oracle date format mask → strftime pattern. */
export function oracleDateMask(mask: string): string {
  const tokens: [RegExp, string][] = [
    [/^YYYY/i, '%Y'],
    [/^RRRR/i, '%Y'],
    [/^YY/i, '%y'],
    [/^MONTH/i, '%B'],
    [/^MON/i, '%b'],
    [/^MM/i, '%m'],
    [/^DDD/i, '%j'],
    [/^DD/i, '%d'],
    [/^DAY/i, '%A'],
    [/^DY/i, '%a'],
    [/^HH24/i, '%H'],
    [/^HH12/i, '%I'],
    [/^HH/i, '%I'],
    [/^MI/i, '%M'],
    [/^SS/i, '%S'],
    [/^FF[1-9]?/i, '%g'],
    [/^AM|^PM/i, '%p'],
    [/^IW/i, '%V'],
    [/^FM/i, ''],
  ];
  let out = '';
  let rest = mask;
  // FM ("fill mode") toggles dropping the leading zeros of the numeric fields that follow.
  let fill = false;
  const unpadded: Record<string, string> = { '%m': '%-m', '%d': '%-d', '%H': '%-H', '%I': '%-I', '%M': '%-M', '%S': '%-S', '%j': '%-j' };
  outer: while (rest.length > 0) {
    if (rest[0] === '"') {
      const close = rest.indexOf('"', 1);
      const lit = close < 0 ? rest.slice(1) : rest.slice(1, close);
      out += lit.replace(/%/g, '%%');
      rest = close < 0 ? '' : rest.slice(close + 1);
      continue;
    }
    for (const [re, rep] of tokens) {
      const m = re.exec(rest);
      if (m) {
        if (/^FM$/i.test(m[0])) fill = !fill;
        out += fill ? (unpadded[rep] ?? rep) : rep;
        rest = rest.slice(m[0].length);
        continue outer;
      }
    }
    out += rest[0] === '%' ? '%%' : rest[0];
    rest = rest.slice(1);
  }
  return out;
}

function isDateMask(mask: string): boolean {
  return /YY|MM|DD|HH|MI|SS|MON|DAY|RR/i.test(mask);
}

/** Oracle number mask (basics: 9, 0, '.', ',', FM) → a DuckDB expression formatting `x`. */
function numberMask(x: string, mask: string): string {
  const fm = /^FM/i.test(mask);
  const body = mask.replace(/^FM/i, '');
  const dot = body.indexOf('.');
  const decimals = dot < 0 ? 0 : body.slice(dot + 1).replace(/[^09]/g, '').length;
  const group = body.includes(',') ? ',' : '';
  const formatted = `format('{:${group}.${decimals}f}', CAST(${x} AS DOUBLE))`;
  // Oracle pads to the mask's width plus one position for the sign, unless FM.
  return fm ? formatted : `lpad(${formatted}, ${body.length + 1}, ' ')`;
}

function asTimestamp(x: string, kind: ExprKind): string {
  return kind === 'date' ? `CAST(${x} AS TIMESTAMP)` : `TRY_CAST(CAST(${x} AS VARCHAR) AS TIMESTAMP)`;
}

const DATE_UNITS: Record<string, string> = {
  yyyy: 'year', yyy: 'year', yy: 'year', y: 'year', year: 'year', syyyy: 'year', rrrr: 'year',
  q: 'quarter',
  mm: 'month', mon: 'month', month: 'month', rm: 'month',
  ww: 'week', iw: 'week', w: 'week',
  dd: 'day', ddd: 'day', j: 'day', d: 'day', day: 'day', dy: 'day',
  hh: 'hour', hh12: 'hour', hh24: 'hour',
  mi: 'minute',
};

function localTimestampLiteral(ms: number, utc: boolean): string {
  const d = new Date(ms);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const parts = utc
    ? [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()]
    : [d.getFullYear(), d.getMonth() + 1, d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds()];
  return `TIMESTAMP '${pad(parts[0], 4)}-${pad(parts[1])}-${pad(parts[2])} ${pad(parts[3])}:${pad(parts[4])}:${pad(parts[5])}'`;
}

/** name → printer. The single place where the dialect's functions meet DuckDB. */
export const FUNCTIONS: Readonly<Record<string, FunctionPrinter>> = {
  nvl: (c) => {
    needArgs(c, 2, 2);
    return `coalesce(${c.args[0]}, ${c.args[1]})`;
  },
  nvl2: (c) => {
    needArgs(c, 3, 3);
    return `(CASE WHEN ${c.args[0]} IS NOT NULL THEN ${c.args[1]} ELSE ${c.args[2]} END)`;
  },
  decode: (c) => {
    if (c.args.length < 3) needArgs(c, 3, 255);
    const [x, ...rest] = c.args;
    const parts: string[] = [];
    let i = 0;
    // Oracle's decode pairs NULL with NULL, hence IS NOT DISTINCT FROM.
    for (; i + 1 < rest.length; i += 2) parts.push(`WHEN ${x} IS NOT DISTINCT FROM ${rest[i]} THEN ${rest[i + 1]}`);
    const otherwise = i < rest.length ? ` ELSE ${rest[i]}` : '';
    return `(CASE ${parts.join(' ')}${otherwise} END)`;
  },
  substr: (c) => {
    needArgs(c, 2, 3);
    const start = `(CASE WHEN ${c.args[1]} = 0 THEN 1 ELSE CAST(${c.args[1]} AS BIGINT) END)`;
    const s = `CAST(${c.args[0]} AS VARCHAR)`;
    const body =
      c.args.length === 3
        ? `(CASE WHEN ${c.args[2]} < 1 OR -${start} > length(${s}) THEN NULL ELSE substring(${s}, ${start}, CAST(${c.args[2]} AS BIGINT)) END)`
        : `(CASE WHEN -${start} > length(${s}) THEN NULL ELSE substring(${s}, ${start}) END)`;
    return `nullif(${body}, '')`;
  },
  instr: (c) => {
    needArgs(c, 2, 3);
    if (c.args.length === 2) return `instr(${c.args[0]}, ${c.args[1]})`;
    const [s, sub, pos] = c.args;
    const found = `strpos(substring(${s}, ${pos}), ${sub})`;
    return `(CASE WHEN ${found} = 0 THEN 0 ELSE ${found} + ${pos} - 1 END)`;
  },
  length: (c) => {
    needArgs(c, 1, 1);
    return `length(CAST(${c.args[0]} AS VARCHAR))`;
  },
  initcap: (c) => {
    needArgs(c, 1, 1);
    return `array_to_string(list_transform(string_split(lower(${c.args[0]}), ' '), lambda w: concat(upper(w[1]), w[2:])), ' ')`;
  },
  lpad: (c) => {
    needArgs(c, 2, 3);
    return `lpad(CAST(${c.args[0]} AS VARCHAR), CAST(${c.args[1]} AS INTEGER), ${c.args[2] ?? "' '"})`;
  },
  rpad: (c) => {
    needArgs(c, 2, 3);
    return `rpad(CAST(${c.args[0]} AS VARCHAR), CAST(${c.args[1]} AS INTEGER), ${c.args[2] ?? "' '"})`;
  },
  ltrim: (c) => {
    needArgs(c, 1, 2);
    return `nullif(ltrim(${c.args.join(', ')}), '')`;
  },
  rtrim: (c) => {
    needArgs(c, 1, 2);
    return `nullif(rtrim(${c.args.join(', ')}), '')`;
  },
  trim: (c) => {
    needArgs(c, 1, 2);
    return `nullif(trim(${c.args.join(', ')}), '')`;
  },
  replace: (c) => {
    needArgs(c, 2, 3);
    return `nullif(replace(${c.args[0]}, coalesce(${c.args[1]}, ''), coalesce(${c.args[2] ?? 'NULL'}, '')), '')`;
  },
  regexp_replace: (c) => {
    needArgs(c, 2, 3);
    return `nullif(regexp_replace(${c.args[0]}, ${c.args[1]}, coalesce(${c.args[2] ?? 'NULL'}, ''), 'g'), '')`;
  },
  regexp_substr: (c) => {
    needArgs(c, 2, 2);
    return `nullif(regexp_extract(${c.args[0]}, ${c.args[1]}), '')`;
  },
  round: (c) => {
    needArgs(c, 1, 2);
    if (c.kindOf(c.call.args[0]) === 'date') {
      return `CAST(date_trunc('day', CAST(${c.args[0]} AS TIMESTAMP) + INTERVAL 12 HOUR) AS TIMESTAMP)`;
    }
    return `round(${c.args[0]}, ${c.args[1] ?? '0'})`;
  },
  trunc: (c) => {
    needArgs(c, 1, 2);
    const fmt = literalString(c.call.args[1]);
    const kind = c.kindOf(c.call.args[0]);
    if (fmt !== undefined || kind === 'date') {
      const unit = fmt === undefined ? 'day' : DATE_UNITS[fmt.toLowerCase()];
      if (!unit) throw new SluiceError('ENG121', `trunc: unknown date format '${fmt}'.`, { hint: "Use 'YYYY', 'Q', 'MM', 'DD', 'HH24' or 'MI'." });
      return `CAST(date_trunc('${unit}', ${asTimestamp(c.args[0], kind)}) AS TIMESTAMP)`;
    }
    if (c.args.length === 1) return `trunc(${c.args[0]})`;
    return `(trunc(${c.args[0]} * power(10, ${c.args[1]})) / power(10, ${c.args[1]}))`;
  },
  add_months: (c) => {
    needArgs(c, 2, 2);
    return `CAST(CAST(${c.args[0]} AS TIMESTAMP) + to_months(CAST(${c.args[1]} AS INTEGER)) AS TIMESTAMP)`;
  },
  months_between: (c) => {
    needArgs(c, 2, 2);
    const [a, b] = c.args;
    return `((year(${a}) - year(${b})) * 12 + month(${a}) - month(${b}) + (day(${a}) - day(${b})) / 31.0)`;
  },
  last_day: (c) => {
    needArgs(c, 1, 1);
    return `CAST(last_day(CAST(${c.args[0]} AS TIMESTAMP)) AS TIMESTAMP)`;
  },
  sysdate: (c) => {
    needArgs(c, 0, 0);
    return localTimestampLiteral(c.now(), false);
  },
  sysdateutc: (c) => {
    needArgs(c, 0, 0);
    return localTimestampLiteral(c.now(), true);
  },
  current_date: (c) => {
    needArgs(c, 0, 0);
    return `CAST(${localTimestampLiteral(c.now(), false)} AS DATE)`;
  },
  current_timestamp: (c) => {
    needArgs(c, 0, 0);
    return localTimestampLiteral(c.now(), false);
  },
  extract: (c) => {
    needArgs(c, 2, 2);
    const first = c.call.args[0];
    const unit = first.kind === 'ColumnRef' ? first.name : literalString(first) ?? 'year';
    return `date_part('${unit.toLowerCase().replace(/'/g, '')}', ${c.args[1]})`;
  },
  to_date: (c) => {
    needArgs(c, 1, 2);
    const fmt = literalString(c.call.args[1]);
    if (c.args.length === 1) return `CAST(${c.args[0]} AS TIMESTAMP)`;
    if (fmt === undefined) throw new SluiceError('ENG122', 'to_date: the format mask must be a text literal.');
    return `strptime(CAST(${c.args[0]} AS VARCHAR), ${sqlString(oracleDateMask(fmt))})`;
  },
  to_number: (c) => {
    needArgs(c, 1, 2);
    return `CAST(replace(trim(CAST(${c.args[0]} AS VARCHAR)), ',', '') AS DOUBLE)`;
  },
  to_char: (c) => {
    needArgs(c, 1, 2);
    const kind = c.kindOf(c.call.args[0]);
    if (c.args.length === 1) {
      if (kind === 'date') return `strftime(CAST(${c.args[0]} AS TIMESTAMP), '%Y-%m-%d %H:%M:%S')`;
      return `CAST(${c.args[0]} AS VARCHAR)`;
    }
    const mask = literalString(c.call.args[1]);
    if (mask === undefined) throw new SluiceError('ENG122', 'to_char: the format mask must be a text literal.');
    if (isDateMask(mask)) return `strftime(${asTimestamp(c.args[0], kind)}, ${sqlString(oracleDateMask(mask))})`;
    return numberMask(c.args[0], mask);
  },
  mod: (c) => {
    needArgs(c, 2, 2);
    return `(${c.args[0]} % ${c.args[1]})`;
  },
  listagg: (c) => {
    needArgs(c, 1, 2);
    return `string_agg(${c.args[0]}, ${c.args[1] ?? "''"})`;
  },
};

/** Bare words that Oracle treats as functions without parentheses. */
export const NILADIC = new Set(['sysdate', 'sysdateutc', 'current_date', 'current_timestamp']);

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
import { dateFormatSql, isNumberMask, numberFormatSql, numberTextSql, raiseSql, sqlString, toNumberSql } from './functions/formats.js';

export { runtimeErrorCode } from './functions/formats.js';

export type ExprKind = 'number' | 'date' | 'string' | 'unknown';

export interface FunctionPrintContext {
  /** The printed arguments. */
  readonly args: readonly string[];
  readonly call: FunctionCall;
  /** Best-effort static type of an argument (from column types and literals). */
  kindOf(expr: Expr): ExprKind;
  /** The session clock's "now" in ms, so sysdate is deterministic under test. */
  now(): number;
  /** The printed `within group (order by …)` items, if the call has them. */
  readonly withinGroup?: string;
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

/** `l / r` with Oracle's ORA-01476: dividing by zero is an error, not NULL or Infinity. */
export function divide(l: string, r: string): string {
  // NULL / 0 stays NULL, as in Oracle.
  return `list_transform([{'l': ${l}, 'd': ${r}}], lambda p: CASE WHEN p.d = 0 AND p.l IS NOT NULL THEN ${raiseSql('ENG150', "'divisor is equal to zero'")} ELSE p.l / p.d END)[1]`;
}

/** Oracle regexp match flags (i, c, n, m) → RE2 options for DuckDB. */
function regexpFlags(c: FunctionPrintContext, index: number): string {
  if (c.call.args.length <= index) return '';
  const flags = literalString(c.call.args[index]);
  if (flags === undefined) throw new SluiceError('ENG122', `${c.call.name}: the match flags must be a text literal.`);
  let out = '';
  for (const f of flags) {
    if (f === 'i' || f === 'c') out += f;
    else if (f === 'n') out += 's';
    else if (f === 'm') out += 'm';
    else throw new SluiceError('ENG123', `${c.call.name}: the match flag '${f}' is not supported.`, { hint: "Use 'i' (ignore case), 'c' (case-sensitive), 'n' or 'm'." });
  }
  return `, ${sqlString(out)}`;
}

/** Oracle date format mask → strftime pattern. */
export function oracleDateMask(mask: string): string {
  const tokens: [RegExp, string][] = [
    [/^YYYY/i, '%Y'],
    [/^RRRR/i, '%Y'],
    [/^YY/i, '%y'],
    [/^RR/i, '%y'],
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


function asTimestamp(x: string, kind: ExprKind): string {
  return kind === 'date' ? `CAST(${x} AS TIMESTAMP)` : `TRY_CAST(CAST(${x} AS VARCHAR) AS TIMESTAMP)`;
}

const DATE_UNITS: Record<string, string> = {
  yyyy: 'year', yyy: 'year', yy: 'year', y: 'year', year: 'year', syyyy: 'year', rrrr: 'year',
  q: 'quarter',
  mm: 'month', mon: 'month', month: 'month', rm: 'month',
  iw: 'week',
  dd: 'day', ddd: 'day', j: 'day',
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
    needArgs(c, 2, 4);
    if (c.args.length === 2) return `instr(${c.args[0]}, ${c.args[1]})`;
    const [s, sub, pos] = c.args;
    const nth = c.args[3] ?? '1';
    // Every (overlapping) match position; a negative start searches backwards from length + start + 1.
    const all = `list_filter(range(1, length(s) + 1), lambda i: substring(s, i, length(u)) = u)`;
    const body =
      `(CASE WHEN s IS NULL OR u IS NULL OR p IS NULL OR n IS NULL THEN NULL ` +
      `WHEN n < 1 THEN ${raiseSql('ENG151', "concat('instr: the occurrence must be at least 1, got ', n)")} ` +
      `WHEN p = 0 THEN 0 ` +
      `WHEN p > 0 THEN coalesce(list_filter(${all}, lambda i: i >= p)[n], 0) ` +
      `ELSE coalesce(list_reverse(list_filter(${all}, lambda i: i <= length(s) + p + 1))[n], 0) END)`;
    return `list_transform([{'s': CAST(${s} AS VARCHAR), 'u': CAST(${sub} AS VARCHAR), 'p': CAST(${pos} AS BIGINT), 'n': CAST(${nth} AS BIGINT)}], lambda r: list_transform([r.s], lambda s: list_transform([r.u], lambda u: list_transform([r.p], lambda p: list_transform([r.n], lambda n: ${body})[1])[1])[1])[1])[1]`;
  },
  length: (c) => {
    needArgs(c, 1, 1);
    return `length(CAST(${c.args[0]} AS VARCHAR))`;
  },
  initcap: (c) => {
    needArgs(c, 1, 1);
    // Oracle capitalises the first letter after any character that is not a letter or digit.
    const body = `array_to_string(list_transform(range(1, length(s) + 1), lambda i: CASE WHEN i = 1 OR NOT regexp_matches(s[i - 1], '[\\pL\\pN]') THEN upper(s[i]) ELSE lower(s[i]) END), '')`;
    return `list_transform([CAST(${c.args[0]} AS VARCHAR)], lambda s: CASE WHEN s IS NULL THEN NULL ELSE nullif(${body}, '') END)[1]`;
  },
  lpad: (c) => {
    needArgs(c, 2, 3);
    // Oracle truncates a longer value to n characters; n <= 0 gives NULL ('' is NULL).
    return `nullif(lpad(CAST(${c.args[0]} AS VARCHAR), greatest(CAST(${c.args[1]} AS INTEGER), 0), ${c.args[2] ?? "' '"}), '')`;
  },
  rpad: (c) => {
    needArgs(c, 2, 3);
    return `nullif(rpad(CAST(${c.args[0]} AS VARCHAR), greatest(CAST(${c.args[1]} AS INTEGER), 0), ${c.args[2] ?? "' '"}), '')`;
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
  regexp_like: (c) => {
    needArgs(c, 2, 3);
    return `regexp_matches(${c.args[0]}, ${c.args[1]}${regexpFlags(c, 2)})`;
  },
  regexp_count: (c) => {
    needArgs(c, 2, 2);
    return `CASE WHEN ${c.args[0]} IS NULL THEN NULL ELSE len(regexp_extract_all(${c.args[0]}, ${c.args[1]})) END`;
  },
  regexp_instr: (c) => {
    needArgs(c, 2, 2);
    // The shortest prefix before a match gives the leftmost match's position.
    const prefix = `regexp_extract(${c.args[0]}, concat('^(?s)(.*?)(?:', ${c.args[1]}, ')'), 1)`;
    return `(CASE WHEN regexp_matches(${c.args[0]}, ${c.args[1]}) THEN length(${prefix}) + 1 ELSE 0 END)`;
  },
  regexp_substr: (c) => {
    needArgs(c, 2, 5);
    if (c.args.length === 2) return `nullif(regexp_extract(${c.args[0]}, ${c.args[1]}), '')`;
    // regexp_substr(s, p, start[, n[, flags]]): the n-th match from position start.
    const from = `substring(CAST(${c.args[0]} AS VARCHAR), CAST(${c.args[2]} AS BIGINT))`;
    return `nullif(regexp_extract_all(${from}, ${c.args[1]}, 0${regexpFlags(c, 4)})[CAST(${c.args[3] ?? '1'} AS BIGINT)], '')`;
  },
  round: (c) => {
    needArgs(c, 1, 2);
    const fmt = literalString(c.call.args[1]);
    if (c.kindOf(c.call.args[0]) === 'date' || fmt !== undefined) {
      const t = asTimestamp(c.args[0], c.kindOf(c.call.args[0]));
      // Oracle rounds a date up from the middle of the unit: noon, the 16th of the month, 1 July, the 16th of a quarter's 2nd month.
      switch ((fmt ?? 'dd').toLowerCase()) {
        case 'dd':
        case 'ddd':
        case 'j':
          return `CAST(date_trunc('day', ${t} + INTERVAL 12 HOUR) AS TIMESTAMP)`;
        case 'mm':
        case 'mon':
        case 'month':
          return `list_transform([${t}], lambda t: CAST(date_trunc('month', t) + CASE WHEN day(t) >= 16 THEN INTERVAL 1 MONTH ELSE INTERVAL 0 MONTH END AS TIMESTAMP))[1]`;
        case 'yyyy':
        case 'yyy':
        case 'yy':
        case 'y':
        case 'year':
        case 'rrrr':
          return `list_transform([${t}], lambda t: CAST(date_trunc('year', t) + CASE WHEN month(t) >= 7 THEN INTERVAL 1 YEAR ELSE INTERVAL 0 YEAR END AS TIMESTAMP))[1]`;
        case 'q':
          return `list_transform([${t}], lambda t: CAST(date_trunc('quarter', t) + CASE WHEN (month(t) - 1) % 3 = 2 OR ((month(t) - 1) % 3 = 1 AND day(t) >= 16) THEN INTERVAL 3 MONTH ELSE INTERVAL 0 MONTH END AS TIMESTAMP))[1]`;
        case 'hh':
        case 'hh12':
        case 'hh24':
          return `CAST(date_trunc('hour', ${t} + INTERVAL 30 MINUTE) AS TIMESTAMP)`;
        case 'mi':
          return `CAST(date_trunc('minute', ${t} + INTERVAL 30 SECOND) AS TIMESTAMP)`;
        default:
          throw new SluiceError('ENG121', `round: unknown date format '${fmt}'.`, { hint: "Use 'YYYY', 'Q', 'MM', 'DD', 'HH24' or 'MI'." });
      }
    }
    return `round(${c.args[0]}, ${c.args[1] ?? '0'})`;
  },
  trunc: (c) => {
    needArgs(c, 1, 2);
    const fmt = literalString(c.call.args[1]);
    const kind = c.kindOf(c.call.args[0]);
    if (fmt !== undefined || kind === 'date') {
      const t = asTimestamp(c.args[0], kind);
      const f = fmt?.toLowerCase();
      // Oracle's D/DAY/DY: the first day of the week (Sunday, AMERICAN territory);
      // WW: weeks counted from 1 January; W: weeks counted from the 1st of the month.
      if (f === 'd' || f === 'day' || f === 'dy') return `list_transform([${t}], lambda t: CAST(date_trunc('day', t) - to_days(CAST(dayofweek(t) AS INTEGER)) AS TIMESTAMP))[1]`;
      if (f === 'ww') return `list_transform([${t}], lambda t: CAST(date_trunc('year', t) + to_days(CAST((dayofyear(t) - 1) // 7 * 7 AS INTEGER)) AS TIMESTAMP))[1]`;
      if (f === 'w') return `list_transform([${t}], lambda t: CAST(date_trunc('month', t) + to_days(CAST((day(t) - 1) // 7 * 7 AS INTEGER)) AS TIMESTAMP))[1]`;
      const unit = f === undefined ? 'day' : DATE_UNITS[f];
      if (!unit) throw new SluiceError('ENG121', `trunc: unknown date format '${fmt}'.`, { hint: "Use 'YYYY', 'Q', 'MM', 'DD', 'HH24' or 'MI'." });
      return `CAST(date_trunc('${unit}', ${t}) AS TIMESTAMP)`;
    }
    if (c.args.length === 1) return `trunc(${c.args[0]})`;
    return `(trunc(${c.args[0]} * power(10, ${c.args[1]})) / power(10, ${c.args[1]}))`;
  },
  add_months: (c) => {
    needArgs(c, 2, 2);
    // Oracle: the last day of a month maps to the last day of the target month.
    const t = `CAST(${c.args[0]} AS TIMESTAMP)`;
    const moved = `(t + to_months(CAST(${c.args[1]} AS INTEGER)))`;
    return `list_transform([${t}], lambda t: CASE WHEN day(t) = day(last_day(t)) THEN CAST(last_day(${moved}) AS TIMESTAMP) + (t - date_trunc('day', t)) ELSE ${moved} END)[1]`;
  },
  months_between: (c) => {
    needArgs(c, 2, 2);
    const [a, b] = c.args;
    // Oracle: whole months when both days are the same day of the month or both are month ends;
    // otherwise the day difference (time included) counts in 31-day months.
    const body =
      `((year(a) - year(b)) * 12 + month(a) - month(b) + CASE WHEN day(a) = day(b) OR (day(a) = day(last_day(a)) AND day(b) = day(last_day(b))) THEN 0 ` +
      `ELSE ((day(a) - day(b)) + (epoch(a - date_trunc('day', a)) - epoch(b - date_trunc('day', b))) / 86400.0) / 31.0 END)`;
    return `list_transform([{'a': CAST(${a} AS TIMESTAMP), 'b': CAST(${b} AS TIMESTAMP)}], lambda r: list_transform([r.a], lambda a: list_transform([r.b], lambda b: ${body})[1])[1])[1]`;
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
    const bad = raiseSql('ENG124', `concat('to_date: ''', s, ''' is not a valid date for the format ', ${sqlString(sqlString(fmt))}, '.')`);
    let parsed = `try_strptime(trim(s), ${sqlString(oracleDateMask(fmt))})`;
    // Two-digit years: strptime reads 69–99 as 19xx. Oracle's YY is always this century (20xx),
    // RR is 2000–2049 for 00–49 and 1950–1999 for 50–99.
    const twoDigit = /(?<![YR])(YY|RR)(?![YR])/i.exec(fmt.replace(/"[^"]*"/g, ''))?.[1]?.toUpperCase();
    if (twoDigit === 'YY') parsed = `list_transform([${parsed}], lambda r: CASE WHEN year(r) < 2000 THEN r + INTERVAL 100 YEAR ELSE r END)[1]`;
    if (twoDigit === 'RR') parsed = `list_transform([${parsed}], lambda r: CASE WHEN year(r) BETWEEN 2050 AND 2068 THEN r - INTERVAL 100 YEAR ELSE r END)[1]`;
    return `list_transform([CAST(${c.args[0]} AS VARCHAR)], lambda s: CASE WHEN s IS NULL THEN NULL ELSE coalesce(${parsed}, ${bad}) END)[1]`;
  },
  to_number: (c) => {
    needArgs(c, 1, 2);
    if (c.args.length === 2 && literalString(c.call.args[1]) === undefined) throw new SluiceError('ENG122', 'to_number: the format mask must be a text literal.');
    return toNumberSql(c.args[0], literalString(c.call.args[1]));
  },
  to_char: (c) => {
    needArgs(c, 1, 2);
    const kind = c.kindOf(c.call.args[0]);
    if (c.args.length === 1) {
      if (kind === 'date') return `strftime(CAST(${c.args[0]} AS TIMESTAMP), '%Y-%m-%d %H:%M:%S')`;
      return kind === 'string' ? `CAST(${c.args[0]} AS VARCHAR)` : numberTextSql(c.args[0]);
    }
    const mask = literalString(c.call.args[1]);
    if (mask === undefined) throw new SluiceError('ENG122', 'to_char: the format mask must be a text literal.');
    if (kind !== 'date' && isNumberMask(mask)) return numberFormatSql(c.args[0], mask);
    return dateFormatSql(asTimestamp(c.args[0], kind), mask);
  },
  mod: (c) => {
    needArgs(c, 2, 2);
    return `(${c.args[0]} % ${c.args[1]})`;
  },
  listagg: (c) => {
    needArgs(c, 1, 2);
    const order = c.withinGroup ? ` ORDER BY ${c.withinGroup}` : '';
    return `string_agg(${c.args[0]}, ${c.args[1] ?? "''"}${order})`;
  },
};

/** Bare words that Oracle treats as functions without parentheses. */
export const NILADIC = new Set(['sysdate', 'sysdateutc', 'current_date', 'current_timestamp']);

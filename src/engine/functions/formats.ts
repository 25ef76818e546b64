/**
 * Oracle format models (to_char / to_number / to_date masks) as DuckDB SQL.
 *
 * Masks are literals, so each mask is parsed here, at print time, into a
 * DuckDB expression built for that mask; nothing is interpreted per row in
 * JavaScript. functions.ts calls these for to_char, to_number and to_date.
 *
 * NLS is fixed to Oracle's AMERICAN defaults: D is '.', G is ',', the
 * currency '$' is written literally; English day and month names.
 */
import { SluiceError } from '../../util/errors.js';

export function sqlString(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/**
 * A runtime failure raised from inside DuckDB (the `error()` function). The
 * text starts with the stable code so the error translation can recover it:
 * see runtimeErrorCode.
 */
export function raiseSql(code: string, messageSql: string): string {
  return `error(concat(${sqlString(`${code}: `)}, ${messageSql}))`;
}

/** The code and message of a failure raised with raiseSql, found in a DuckDB error text. */
export function runtimeErrorCode(text: string): { code: string; message: string } | undefined {
  const m = /\b(ENG1[0-9]{2}): (.*)$/s.exec(text);
  return m ? { code: m[1], message: m[2] } : undefined;
}

/** Bind `valueSql` to `name` once, so a long expression does not repeat it. */
function bind(valueSql: string, name: string, bodySql: string): string {
  return `list_transform([${valueSql}], lambda ${name}: ${bodySql})[1]`;
}

function maskError(fn: string, mask: string, why: string): SluiceError {
  return new SluiceError('ENG123', `${fn}: the format mask '${mask}' ${why}.`, {
    hint: "Number masks use 9, 0, G, D, ',', '.', '$', FM, S, MI and PR; date masks YYYY, MM, DD, HH24, MI, SS, MON, DAY, …",
  });
}

/** A number format model, parsed. */
interface NumberMask {
  fm: boolean;
  sign: 'default' | 'S-lead' | 'S-trail' | 'MI' | 'PR';
  dollar: boolean;
  /** Integer part, left to right: 'd' a digit position, ',' a group separator. */
  intPart: ('d' | ',')[];
  /** Digit positions from the first '0' of the integer part to its end (these always print). */
  zeroInt: number;
  hasPoint: boolean;
  /** Fraction digits, and how many of them FM must keep (up to the last '0'). */
  decimals: number;
  keepDecimals: number;
}

/** True when the mask is a number format model rather than a date mask. */
export function isNumberMask(mask: string): boolean {
  return /^(FM)?S?\$?[09GD,.$]*(MI|PR|S)?$/i.test(mask.trim()) && /[09]/.test(mask);
}

export function parseNumberMask(mask: string, fn = 'to_char'): NumberMask {
  let rest = mask.trim().toUpperCase();
  const fm = rest.startsWith('FM');
  if (fm) rest = rest.slice(2);
  let sign: NumberMask['sign'] = 'default';
  if (rest.startsWith('S')) {
    sign = 'S-lead';
    rest = rest.slice(1);
  } else if (rest.endsWith('MI')) {
    sign = 'MI';
    rest = rest.slice(0, -2);
  } else if (rest.endsWith('PR')) {
    sign = 'PR';
    rest = rest.slice(0, -2);
  } else if (rest.endsWith('S')) {
    sign = 'S-trail';
    rest = rest.slice(0, -1);
  }
  const dollar = rest.includes('$');
  if (rest.indexOf('$') !== rest.lastIndexOf('$')) throw maskError(fn, mask, "has more than one '$'");
  rest = rest.replace('$', '');
  if (!/^[09GD,.]*$/.test(rest)) throw maskError(fn, mask, 'has an element Sluice does not support');
  const point = rest.search(/[D.]/);
  const intText = point < 0 ? rest : rest.slice(0, point);
  const fracText = point < 0 ? '' : rest.slice(point + 1);
  if (/[D.]/.test(fracText)) throw maskError(fn, mask, 'has more than one decimal separator');
  if (/[G,]/.test(fracText)) throw maskError(fn, mask, 'has a group separator after the decimal separator');
  const intPart = [...intText].map((ch) => (ch === 'G' || ch === ',' ? ',' : 'd')) as ('d' | ',')[];
  const intDigits = [...intText].filter((ch) => ch === '9' || ch === '0');
  const firstZero = intDigits.indexOf('0');
  return {
    fm,
    sign,
    dollar,
    intPart,
    zeroInt: firstZero < 0 ? 0 : intDigits.length - firstZero,
    hasPoint: point >= 0,
    decimals: fracText.length,
    keepDecimals: fracText.lastIndexOf('0') + 1,
  };
}

/** to_char(x, numberMask) as DuckDB SQL, following Oracle's format model rules. */
export function numberFormatSql(x: string, mask: string): string {
  const m = parseNumberMask(mask);
  const nInt = m.intPart.filter((p) => p === 'd').length;
  const signWidth = m.sign === 'PR' ? 2 : 1;
  const width = m.intPart.length + (m.hasPoint ? 1 + m.decimals : 0) + (m.dollar ? 1 : 0) + signWidth;
  // v: the value rounded to the mask's decimals (DECIMAL rounds half away from zero, as Oracle).
  // a: its absolute value as text; ip/fp its integer and fraction digits.
  const ip = `split_part(a, '.', 1)`;
  const fp = `split_part(a, '.', 2)`;
  // Oracle prints no integer digit for 0.5 with '99.99' ('.50'), but '0' for 0 with '999'.
  const idig = m.decimals > 0 || m.hasPoint ? `(CASE WHEN ${ip} = '0' THEN '' ELSE ${ip} END)` : ip;
  const q = `lpad(${idig}, CAST(greatest(length(${idig}), ${m.zeroInt}) AS INTEGER), '0')`;
  const p = `lpad(${q}, ${nInt}, ' ')`;
  const pieces: string[] = [];
  let k = 0;
  for (const part of m.intPart) {
    if (part === 'd') {
      k++;
      pieces.push(`substr(${p}, ${k}, 1)`);
    } else if (k > 0) {
      // A separator shows only once a digit has been printed to its left.
      pieces.push(`(CASE WHEN length(${q}) > ${nInt - k} THEN ',' ELSE '' END)`);
    }
  }
  const intStr = pieces.length > 0 ? `ltrim(concat(${pieces.join(', ')}))` : `''`;
  let frac = '';
  if (m.hasPoint) {
    const digits = m.fm && m.keepDecimals < m.decimals ? `rpad(rtrim(${fp}, '0'), CAST(greatest(length(rtrim(${fp}, '0')), ${m.keepDecimals}) AS INTEGER), '0')` : m.decimals > 0 ? fp : `''`;
    frac = `, '.', ${digits}`;
  }
  const body = `concat(${m.dollar ? `'$', ` : ''}${intStr}${frac})`;
  const neg = 'v < 0';
  let signed: string;
  switch (m.sign) {
    case 'default':
      signed = `concat(CASE WHEN ${neg} THEN '-' ELSE '' END, ${body})`;
      break;
    case 'S-lead':
      signed = `concat(CASE WHEN ${neg} THEN '-' ELSE '+' END, ${body})`;
      break;
    case 'S-trail':
      signed = `concat(${body}, CASE WHEN ${neg} THEN '-' ELSE '+' END)`;
      break;
    case 'MI':
      signed = `concat(${body}, CASE WHEN ${neg} THEN '-' ELSE '${m.fm ? '' : ' '}' END)`;
      break;
    case 'PR':
      signed = `(CASE WHEN ${neg} THEN concat('<', ${body}, '>') ELSE ${m.fm ? body : `concat(${body}, ' ')`} END)`;
      break;
  }
  const padded = m.fm ? signed : `lpad(${signed}, ${width}, ' ')`;
  // Too many integer digits for the mask: Oracle fills the whole field with '#'.
  const out = `(CASE WHEN v IS NULL THEN NULL WHEN length(${idig}) > ${nInt} THEN ${sqlString('#'.repeat(width))} ELSE ${padded} END)`;
  return bind(`CAST(${x} AS DECIMAL(38, ${m.decimals}))`, 'v', bind('CAST(abs(v) AS VARCHAR)', 'a', out));
}

/** to_char(x) of a number without a mask: the shortest text, as Oracle (no trailing zeros, '.5' for 0.5). */
export function numberTextSql(x: string): string {
  const body = `(CASE WHEN regexp_matches(t, '^-?[0-9]+\\.[0-9]*$') THEN regexp_replace(regexp_replace(rtrim(rtrim(t, '0'), '.'), '^(-?)0\\.', '\\1.'), '^-?$', '0') ELSE t END)`;
  return bind(`CAST(${x} AS VARCHAR)`, 't', body);
}

/**
 * to_number(s, mask): the mask says which characters are allowed (G/',' group
 * separators, '$', MI/PR/S signs); everything else must be a plain number, so
 * '12,5' with '99D9' fails rather than silently becoming 125.
 */
export function toNumberSql(s: string, mask: string | undefined): string {
  if (mask === undefined) return `CAST(trim(CAST(${s} AS VARCHAR)) AS DOUBLE)`;
  const m = parseNumberMask(mask, 'to_number');
  let t = `trim(CAST(${s} AS VARCHAR))`;
  if (m.intPart.includes(',')) t = `replace(${t}, ',', '')`;
  if (m.dollar) t = `replace(${t}, '$', '')`;
  if (m.sign === 'PR') t = `regexp_replace(${t}, '^<(.*)>$', '-\\1')`;
  if (m.sign === 'MI' || m.sign === 'S-trail') t = `regexp_replace(${t}, '^(.*)([-+])$', '\\2\\1')`;
  return `CAST(${t} AS DOUBLE)`;
}

// ---------------------------------------------------------------------------
// Date masks

const DATE_TOKENS = [
  'SYYYY', 'YYYY', 'RRRR', 'YYY', 'YY', 'RR', 'MONTH', 'MON', 'MM', 'DDD', 'DD', 'DAY', 'DY', 'D',
  'HH24', 'HH12', 'HH', 'MI', 'SS', 'FF', 'A.M.', 'P.M.', 'AM', 'PM', 'IW', 'WW', 'Q', 'FM',
];

function caseOf(text: string, name: string): string {
  if (/[a-z]/.test(text[0])) return `lower(${name})`;
  if (text.length > 1 && /[a-z]/.test(text[1])) return name;
  return `upper(${name})`;
}

/** to_char(t, dateMask) as DuckDB SQL; `t` must already be a TIMESTAMP expression. */
export function dateFormatSql(t: string, mask: string): string {
  const pieces: string[] = [];
  let fill = false;
  let rest = mask;
  const num = (padded: string, unpadded: string) => `strftime(v, '${fill ? unpadded : padded}')`;
  const int = (expr: string, w: number) => (fill ? `CAST(${expr} AS VARCHAR)` : `lpad(CAST(${expr} AS VARCHAR), ${w}, '0')`);
  const name = (text: string, fmt: string, w: number) => {
    const cased = caseOf(text, `strftime(v, '${fmt}')`);
    return fill || w === 0 ? cased : `rpad(${cased}, ${w}, ' ')`;
  };
  while (rest.length > 0) {
    if (rest[0] === '"') {
      const close = rest.indexOf('"', 1);
      pieces.push(sqlString(close < 0 ? rest.slice(1) : rest.slice(1, close)));
      rest = close < 0 ? '' : rest.slice(close + 1);
      continue;
    }
    const upper = rest.toUpperCase();
    let tok = DATE_TOKENS.find((x) => upper.startsWith(x));
    let digits = 0;
    if (tok === 'FF') {
      const d = /^FF([1-9])/i.exec(rest);
      digits = d ? Number(d[1]) : 6;
      tok = d ? d[0] : 'FF';
    }
    if (tok === undefined) {
      if (/[A-Za-z]/.test(rest[0])) throw maskError('to_char', mask, `has the unknown element '${rest.match(/^[A-Za-z]+/)?.[0] ?? rest[0]}'`);
      pieces.push(sqlString(rest[0]));
      rest = rest.slice(1);
      continue;
    }
    const text = rest.slice(0, tok.length);
    rest = rest.slice(tok.length);
    switch (tok.toUpperCase().replace(/^FF\d$/, 'FF')) {
      case 'FM':
        fill = !fill;
        break;
      case 'SYYYY':
      case 'YYYY':
      case 'RRRR':
        pieces.push(`strftime(v, '%Y')`);
        break;
      case 'YYY':
        pieces.push(`right(strftime(v, '%Y'), 3)`);
        break;
      case 'YY':
      case 'RR':
        pieces.push(`strftime(v, '%y')`);
        break;
      case 'MONTH':
        pieces.push(name(text, '%B', 9));
        break;
      case 'MON':
        pieces.push(name(text, '%b', 0));
        break;
      case 'MM':
        pieces.push(num('%m', '%-m'));
        break;
      case 'DDD':
        pieces.push(num('%j', '%-j'));
        break;
      case 'DD':
        pieces.push(num('%d', '%-d'));
        break;
      case 'DAY':
        pieces.push(name(text, '%A', 9));
        break;
      case 'DY':
        pieces.push(name(text, '%a', 0));
        break;
      case 'D':
        // Oracle's AMERICAN territory: Sunday is day 1.
        pieces.push(`CAST(dayofweek(v) + 1 AS VARCHAR)`);
        break;
      case 'HH24':
        pieces.push(num('%H', '%-H'));
        break;
      case 'HH12':
      case 'HH':
        pieces.push(num('%I', '%-I'));
        break;
      case 'MI':
        pieces.push(num('%M', '%-M'));
        break;
      case 'SS':
        pieces.push(num('%S', '%-S'));
        break;
      case 'FF': {
        const micros = `lpad(CAST(microsecond(v) % 1000000 AS VARCHAR), 6, '0')`;
        pieces.push(digits <= 6 ? `left(${micros}, ${digits})` : `rpad(${micros}, ${digits}, '0')`);
        break;
      }
      case 'AM':
      case 'PM':
        pieces.push(/[a-z]/.test(text[0]) ? `lower(strftime(v, '%p'))` : `strftime(v, '%p')`);
        break;
      case 'A.M.':
      case 'P.M.': {
        const s = `(CASE WHEN hour(v) < 12 THEN 'A.M.' ELSE 'P.M.' END)`;
        pieces.push(/[a-z]/.test(text[0]) ? `lower(${s})` : s);
        break;
      }
      case 'IW':
        pieces.push(int(`weekofyear(v)`, 2));
        break;
      case 'WW':
        // Oracle's WW: week 1 starts on 1 January, whatever the weekday.
        pieces.push(int(`(dayofyear(v) - 1) // 7 + 1`, 2));
        break;
      case 'Q':
        pieces.push(`CAST(quarter(v) AS VARCHAR)`);
        break;
    }
  }
  const body = pieces.length === 0 ? `''` : `concat(${pieces.join(', ')})`;
  return bind(t, 'v', `(CASE WHEN v IS NULL THEN NULL ELSE nullif(${body}, '') END)`);
}

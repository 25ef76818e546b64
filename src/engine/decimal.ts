/**
 * Exact decimals at the boundary between provider `Value`s and DuckDB DECIMAL.
 *
 * Inside DuckDB decimals are scaled integers, so `sum(amount)` is exact. Only
 * at the edges do they meet JS numbers:
 * - in (provider → DuckDB): a number, bigint or numeric string becomes the
 *   scaled integer of the column's scale, rounded half away from zero;
 * - out (DuckDB → `Value`): the decimal's exact digits become a JS number
 *   when that number prints as exactly those digits (211915.15 stays
 *   211915.15), else the digits as a string (beyond ~15-17 significant
 *   digits a double cannot hold them). See docs/architecture.md.
 */
import { SluiceError } from '../util/errors.js';

const POW10: bigint[] = [];
for (let i = 0n, p = 1n; i <= 76n; i++, p *= 10n) POW10.push(p);

/** Plain decimal text (no exponent) of a JS number's shortest form: 1e-7 → "0.0000001". */
export function plainNumberText(n: number): string {
  const s = String(n);
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(s);
  if (!m) return s;
  const [, sign, lead, frac = '', expText] = m;
  const exp = Number(expText);
  const digits = lead + frac;
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  const intLen = exp + 1;
  return digits.length <= intLen ? `${sign}${digits}${'0'.repeat(intLen - digits.length)}` : `${sign}${digits.slice(0, intLen)}.${digits.slice(intLen)}`;
}

/** Decimal text → scaled integer at `scale`, rounding half away from zero; undefined when not a number. */
export function parseScaled(text: string, scale: number): bigint | undefined {
  const m = /^\s*([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?\s*$/.exec(text);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return undefined;
  const [, sign, intPart, fracPart = '', expText] = m;
  // Shift the point by the exponent plus the scale, then cut.
  const shift = scale + (expText ? Number(expText) : 0);
  const digits = intPart + fracPart;
  const pointAt = intPart.length + shift;
  let whole: string;
  let rest: string;
  if (pointAt >= digits.length) {
    whole = digits + '0'.repeat(pointAt - digits.length);
    rest = '';
  } else if (pointAt <= 0) {
    whole = '0';
    rest = '0'.repeat(-pointAt) + digits;
  } else {
    whole = digits.slice(0, pointAt);
    rest = digits.slice(pointAt);
  }
  let v = BigInt(whole === '' ? '0' : whole);
  if (rest.length > 0 && rest.charCodeAt(0) >= 53 /* '5' */) v += 1n;
  return sign === '-' ? -v : v;
}

/** A provider value → the scaled integer DuckDB stores for DECIMAL(precision, scale). */
export function toScaledDecimal(value: unknown, precision: number, scale: number): bigint | null {
  let scaled: bigint | undefined;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return null;
    const p = value * 10 ** scale;
    // Below 2^51 the float product is within 0.25 of the exact one, so rounding it is exact (the fast path).
    if (Math.abs(p) < 2 ** 51) scaled = BigInt(Math.sign(p) * Math.round(Math.abs(p)));
    else scaled = parseScaled(plainNumberText(value), scale);
  } else if (typeof value === 'bigint') {
    scaled = value * POW10[scale];
  } else if (typeof value === 'boolean') {
    scaled = value ? POW10[scale] : 0n;
  } else if (value instanceof Date) {
    const ms = value.getTime();
    if (Number.isNaN(ms)) return null;
    scaled = BigInt(ms) * POW10[scale];
  } else if (typeof value === 'string') {
    scaled = parseScaled(value, scale);
  }
  if (scaled === undefined) return null;
  const limit = POW10[precision];
  if (scaled >= limit || scaled <= -limit) {
    throw new SluiceError('ENG501', `The value ${String(value)} does not fit DECIMAL(${precision}, ${scale}).`, {
      hint: 'Declare the column with a larger precision.',
    });
  }
  return scaled;
}

/** Exact decimal text (as DuckDB prints it, e.g. "211915.1500000000") → number when it prints the same, else trimmed text. */
export function decimalTextToValue(text: string): number | string {
  let t = text;
  if (t.includes('.')) t = t.replace(/0+$/, '').replace(/\.$/, '');
  if (t === '-0') t = '0';
  const n = Number(t);
  return plainNumberText(n) === t ? n : t;
}

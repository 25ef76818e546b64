/**
 * Value conversions shared by the readers and writers: recognising typed
 * values in text (numbers, ISO and Dutch dates, booleans), inferring a
 * column's type from a sample, converting a raw value to that type, and
 * rendering values back to text. One place, so a file written by Sluice reads
 * back with the same types.
 */
import type { ColumnType, Value } from '../provider/types.js';

/** A column as a reader found it: its name, inferred type, and how numbers are written. */
export interface InferredColumn {
  readonly name: string;
  readonly type: ColumnType;
  /** Decimals written with a comma ("1.234,56"), as Dutch Excel exports do. */
  readonly decimalComma?: boolean;
  /** Dates (and timestamps) written day first ("31-12-2024"), as Dutch Excel exports do. */
  readonly dayFirst?: boolean;
}

/** Marks a raw value that does not fit the column's type. */
export const INVALID: unique symbol = Symbol('invalid');

const INT_RE = /^[+-]?(0|[1-9]\d*)$/;
const DEC_POINT_RE = /^[+-]?(?:(?:0|[1-9]\d*)(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const DEC_COMMA_RE = /^[+-]?(?:(?:0|[1-9]\d{0,2}(?:\.\d{3})+|[1-9]\d*)(?:,\d+)?|,\d+)$/;
const ISO_DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const NL_DATE_RE = /^(\d{1,2})-(\d{1,2})-(\d{4})$/;
const ISO_TS_RE = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;
const NL_TS_RE = /^(\d{1,2})-(\d{1,2})-(\d{4}) (\d{1,2}):(\d{2})(?::(\d{2}))?$/;

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function validDate(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1) return false;
  return d <= new Date(Date.UTC(y, m, 0)).getUTCDate();
}

function utcDate(y: number, m: number, d: number): Date {
  const date = new Date(Date.UTC(2000, m - 1, d));
  date.setUTCFullYear(y);
  return date;
}

/** A date written as YYYY-MM-DD or D-M-YYYY, as a UTC midnight; undefined when it is not one. */
export function parseDateText(s: string): Date | undefined {
  let m = ISO_DATE_RE.exec(s);
  if (m) {
    const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
    return validDate(y, mo, d) ? utcDate(y, mo, d) : undefined;
  }
  m = NL_DATE_RE.exec(s);
  if (m) {
    const [d, mo, y] = [Number(m[1]), Number(m[2]), Number(m[3])];
    return validDate(y, mo, d) ? utcDate(y, mo, d) : undefined;
  }
  return undefined;
}

/** A timestamp (ISO with optional zone, or D-M-YYYY H:MM[:SS]); without a zone it is taken as UTC. */
export function parseTimestampText(s: string): Date | undefined {
  let m = ISO_TS_RE.exec(s);
  if (m) {
    const [y, mo, d, h, mi] = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])];
    const sec = m[6] ? Number(m[6]) : 0;
    const ms = m[7] ? Number(m[7].slice(0, 3).padEnd(3, '0')) : 0;
    if (!validDate(y, mo, d) || h > 23 || mi > 59 || sec > 59) return undefined;
    const base = utcDate(y, mo, d).getTime() + ((h * 60 + mi) * 60 + sec) * 1000 + ms;
    let offset = 0;
    const zone = m[8];
    if (zone && zone.toUpperCase() !== 'Z') {
      const sign = zone.startsWith('-') ? -1 : 1;
      const digits = zone.slice(1).replace(':', '');
      offset = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || '0')) * 60000;
    }
    return new Date(base - offset);
  }
  m = NL_TS_RE.exec(s);
  if (m) {
    const [d, mo, y, h, mi] = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])];
    const sec = m[6] ? Number(m[6]) : 0;
    if (!validDate(y, mo, d) || h > 23 || mi > 59 || sec > 59) return undefined;
    return new Date(utcDate(y, mo, d).getTime() + ((h * 60 + mi) * 60 + sec) * 1000);
  }
  return undefined;
}

function parseBoolean(s: string): boolean | undefined {
  const l = s.toLowerCase();
  if (l === 'true') return true;
  if (l === 'false') return false;
  return undefined;
}

function isMidnightUtc(d: Date): boolean {
  return d.getTime() % 86400000 === 0;
}

/**
 * Watches the raw values of one column and says which type holds them all.
 * Text is recognised by pattern; values that arrive typed (JSON numbers,
 * spreadsheet dates) by their JS type. Mixed kinds fall back to varchar, and
 * text integers with a leading zero (account codes like "0100", postcodes)
 * stay text.
 */
export class TypeGuesser {
  private seen = 0;
  private bool = true;
  private int = true;
  private int32 = true;
  private int64 = true;
  private decPoint = true;
  private decComma: boolean;
  private date = true;
  private ts = true;
  private jsFloat = false;
  private isoDates = false;
  private dayFirstDates = false;

  constructor(allowDecimalComma: boolean) {
    this.decComma = allowDecimalComma;
  }

  observe(v: unknown): void {
    if (v === null || v === undefined) return;
    this.seen++;
    if (typeof v === 'string') {
      this.observeText(v);
      return;
    }
    if (typeof v === 'boolean') {
      this.int = this.decPoint = this.decComma = this.date = this.ts = false;
      return;
    }
    this.bool = false;
    if (typeof v === 'number' || typeof v === 'bigint') {
      this.date = this.ts = this.decComma = false;
      if (typeof v === 'number' && !Number.isInteger(v)) {
        this.int = false;
        this.jsFloat = true;
        if (!Number.isFinite(v)) this.decPoint = false;
      } else if (typeof v === 'number') {
        if (v < INT32_MIN || v > INT32_MAX) this.int32 = false;
        if (!Number.isSafeInteger(v)) this.int64 = BigInt(v) >= INT64_MIN && BigInt(v) <= INT64_MAX;
      } else {
        if (v < INT32_MIN || v > INT32_MAX) this.int32 = false;
        if (v < INT64_MIN || v > INT64_MAX) this.int64 = false;
      }
      return;
    }
    if (v instanceof Date) {
      this.int = this.decPoint = this.decComma = false;
      if (!isMidnightUtc(v)) this.date = false;
      return;
    }
    this.int = this.decPoint = this.decComma = this.date = this.ts = false;
  }

  private observeText(s: string): void {
    if (this.bool && parseBoolean(s) === undefined) this.bool = false;
    if (this.int) {
      if (!INT_RE.test(s)) this.int = false;
      else {
        const n = BigInt(s);
        if (n < INT32_MIN || n > INT32_MAX) this.int32 = false;
        if (n < INT64_MIN || n > INT64_MAX) this.int64 = false;
      }
    }
    if (this.decPoint && !DEC_POINT_RE.test(s)) this.decPoint = false;
    if (this.decComma && !DEC_COMMA_RE.test(s)) this.decComma = false;
    if (this.date && parseDateText(s) === undefined) this.date = false;
    if (this.ts && parseDateText(s) === undefined && parseTimestampText(s) === undefined) this.ts = false;
    if (this.date || this.ts) {
      if (NL_DATE_RE.test(s) || NL_TS_RE.test(s)) this.dayFirstDates = true;
      else this.isoDates = true;
    }
  }

  result(name: string): InferredColumn {
    if (this.seen === 0) return { name, type: 'varchar' };
    if (this.bool) return { name, type: 'boolean' };
    if (this.int && this.int32) return { name, type: 'integer' };
    if (this.int && this.int64) return { name, type: 'bigint' };
    if (this.decPoint) return { name, type: this.jsFloat ? 'double' : 'decimal' };
    if (this.decComma) return { name, type: 'decimal', decimalComma: true };
    const dayFirst = this.dayFirstDates && !this.isoDates ? { dayFirst: true } : {};
    if (this.date) return { name, type: 'date', ...dayFirst };
    if (this.ts) return { name, type: 'timestamp', ...dayFirst };
    return { name, type: 'varchar' };
  }
}

function textOf(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v instanceof Date) return v.toISOString();
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  if (typeof v === 'object') return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
  return String(v);
}

function integerValue(n: bigint): number | bigint {
  return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
}

/** Convert one raw value (text or a JS value) to the column's type; INVALID when it does not fit. */
export function convertValue(v: unknown, column: InferredColumn): Value | typeof INVALID {
  if (v === null || v === undefined) return null;
  switch (column.type) {
    case 'varchar':
      return textOf(v);
    case 'boolean':
      if (typeof v === 'boolean') return v;
      if (typeof v === 'string') return parseBoolean(v) ?? INVALID;
      return INVALID;
    case 'integer':
    case 'bigint':
      if (typeof v === 'number') return Number.isInteger(v) ? v : INVALID;
      if (typeof v === 'bigint') return integerValue(v);
      if (typeof v === 'string' && INT_RE.test(v)) return integerValue(BigInt(v));
      return INVALID;
    case 'decimal':
    case 'double':
      if (typeof v === 'number') return v;
      if (typeof v === 'bigint') return Number(v);
      if (typeof v === 'string') {
        if (column.decimalComma) {
          return DEC_COMMA_RE.test(v) ? Number(v.replace(/\./g, '').replace(',', '.')) : INVALID;
        }
        return DEC_POINT_RE.test(v) ? Number(v) : INVALID;
      }
      return INVALID;
    case 'date':
      if (v instanceof Date) return v;
      if (typeof v === 'string') return parseDateText(v) ?? INVALID;
      return INVALID;
    case 'timestamp':
      if (v instanceof Date) return v;
      if (typeof v === 'string') return parseDateText(v) ?? parseTimestampText(v) ?? INVALID;
      return INVALID;
    default:
      return textOf(v);
  }
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

/** YYYY-MM-DD of a date's UTC day. */
export function formatDate(d: Date): string {
  const y = d.getUTCFullYear();
  const year = y >= 0 && y <= 9999 ? pad(y, 4) : String(y);
  return `${year}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

/** YYYY-MM-DD HH:MM:SS[.mmm] in UTC: readable in a spreadsheet and read back exactly. */
export function formatTimestamp(d: Date): string {
  const ms = d.getUTCMilliseconds();
  const base = `${formatDate(d)} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  return ms === 0 ? base : `${base}.${pad(ms, 3)}`;
}

/** How a file writes its values, as a reader found them (InferredColumn's decimalComma and dayFirst). */
export interface TextStyle {
  readonly decimalComma?: boolean;
  readonly dayFirst?: boolean;
}

/** D-M-YYYY as DD-MM-YYYY[ HH:MM:SS]; milliseconds (which that form cannot hold) fall back to ISO. */
function formatDayFirst(d: Date, type: ColumnType): string | undefined {
  const date = `${pad(d.getUTCDate())}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCFullYear(), 4)}`;
  if (type === 'date') return date;
  if (d.getUTCMilliseconds() !== 0) return undefined;
  return `${date} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/**
 * A value as text for CSV: dates by the column type, bigints exact, blobs as
 * base64. With a style (appending to a file that has one), numbers and dates
 * follow the file's own conventions, so its columns keep their types.
 */
export function formatText(v: Value, type: ColumnType, style: TextStyle = {}): string {
  if (v === null) return '';
  if (v instanceof Date) {
    if (Number.isNaN(v.getTime())) return '';
    const dayFirst = style.dayFirst && (type === 'date' || type === 'timestamp') ? formatDayFirst(v, type) : undefined;
    return dayFirst ?? (type === 'date' ? formatDate(v) : formatTimestamp(v));
  }
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (style.decimalComma && typeof v === 'number' && Number.isFinite(v)) {
    // Plain digits (no exponent), so the text matches what the reader takes as a decimal-comma number.
    const plain = Math.abs(v) < 1e21 ? v.toLocaleString('en-US', { useGrouping: false, maximumFractionDigits: 20 }) : String(v);
    return plain.replace('.', ',');
  }
  return String(v);
}

/**
 * A value as a JSON literal. Bigints are written as exact number literals
 * (valid JSON; readers that need all digits parse them as such); dates as ISO
 * strings; blobs as base64.
 */
export function jsonLiteral(v: Value, type: ColumnType): string {
  if (v === null) return 'null';
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (v instanceof Date) {
    if (Number.isNaN(v.getTime())) return 'null';
    return JSON.stringify(type === 'date' ? formatDate(v) : v.toISOString());
  }
  if (v instanceof Uint8Array) return JSON.stringify(Buffer.from(v).toString('base64'));
  return JSON.stringify(v);
}

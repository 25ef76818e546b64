/**
 * How one cell value reads in the table display. Dates and timestamps follow
 * the same rules as src/formats' CSV writer (calendar dates and
 * YYYY-MM-DD HH:MM:SS in UTC), so a value looks the same on screen and in a
 * file; 64-bit integers stay exact; binary shows as hex.
 */
import type { ColumnType, Value } from '../../provider/types.js';

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** A Date as YYYY-MM-DD (UTC). */
export function formatDate(d: Date): string {
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

/** A Date as YYYY-MM-DD HH:MM:SS[.mmm] (UTC); milliseconds only when there are any. */
export function formatTimestamp(d: Date): string {
  const ms = d.getUTCMilliseconds();
  const base = `${formatDate(d)} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  return ms === 0 ? base : `${base}.${pad(ms, 3)}`;
}

/**
 * The text of a value. NULL becomes the empty string: in a table an empty
 * cell, in CSV an empty field, as psql and spreadsheet users expect.
 */
export function valueToText(value: Value, type?: ColumnType): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) return '';
    if (type === 'date') return formatDate(value);
    const midnight = value.getUTCHours() === 0 && value.getUTCMinutes() === 0 && value.getUTCSeconds() === 0 && value.getUTCMilliseconds() === 0;
    return type === undefined && midnight ? formatDate(value) : formatTimestamp(value);
  }
  if (value instanceof Uint8Array) return `\\x${Buffer.from(value).toString('hex')}`;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return String(value);
}

/** Whether a column's values line up on the right (numbers) in a table. */
export function isNumericType(type: ColumnType | undefined): boolean {
  return type === 'integer' || type === 'bigint' || type === 'double' || type === 'decimal';
}

/**
 * Exact Online JSON values ↔ Sluice values. Reading: `/Date(ms)/` becomes a
 * Date, guids lower-case, Int64 beyond 2^53 a bigint, padded codes trimmed,
 * `__metadata` and deferred navigation properties dropped. Writing: ISO 8601
 * dates, numbers as numbers, with a type check that names the column.
 */
import type { ExactColumn } from '../../catalogs/exactonline.js';
import type { Value } from '../../provider/types.js';
import type { Json } from './http.js';
import { isTrimmed } from './tables.js';

const MS_DATE = /^\/Date\((-?\d+)([+-]\d{4})?\)\/$/;

export function parseMsDate(s: string): Date | undefined {
  const m = MS_DATE.exec(s);
  return m ? new Date(Number(m[1])) : undefined;
}

/** One property of an entity as a Sluice value of the column's type. */
export function readValue(col: ExactColumn | undefined, v: Json | undefined): Value {
  if (v === undefined || v === null) return null;
  if (typeof v === 'object') {
    // Deferred navigation ({"__deferred":…}) or an expanded collection: not a column value.
    if (!Array.isArray(v) && 'results' in v && Array.isArray(v['results'])) return JSON.stringify(v['results']);
    return null;
  }
  const type = col?.edmType ?? '';
  if (typeof v === 'string') {
    const d = parseMsDate(v);
    if (d) return d;
    switch (type) {
      case 'Edm.Guid':
        return v.toLowerCase();
      case 'Edm.Int64': {
        if (!/^-?\d+$/.test(v)) return v;
        const b = BigInt(v);
        return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b;
      }
      case 'Edm.Int16':
      case 'Edm.Int32':
      case 'Edm.Byte':
      case 'Edm.Double':
      case 'Edm.Decimal': {
        const n = Number(v);
        return v.trim() !== '' && Number.isFinite(n) ? n : v;
      }
      case 'Edm.DateTime': {
        const t = Date.parse(v);
        return Number.isNaN(t) ? v : new Date(t);
      }
      case 'Edm.Binary':
        return new Uint8Array(Buffer.from(v, 'base64'));
      default:
        return col && isTrimmed(col) ? v.trim() : v;
    }
  }
  if (typeof v === 'number') {
    if (type === 'Edm.Boolean') return v !== 0;
    if (type === 'Edm.String') return String(v);
    return v;
  }
  return v;
}

export class WriteTypeError extends Error {}

/** A Sluice value as JSON for Exact, or a WriteTypeError naming what is wrong. */
export function writeValue(col: ExactColumn, v: Value): Json {
  if (v === null) return null;
  const bad = () => new WriteTypeError(`${col.name} expects ${col.edmType.replace('Edm.', '')}, got ${v instanceof Date ? 'a date' : typeof v === 'string' ? `'${v}'` : String(v)}`);
  switch (col.edmType) {
    case 'Edm.Guid':
      if (typeof v === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v)) return v.toLowerCase();
      // Users naturally write the account code they see in Exact ("1000"); references take the row's ID.
      throw new WriteTypeError(`${bad().message} (the ID of the row it refers to, not its code)`);
    case 'Edm.Int16':
    case 'Edm.Int32':
    case 'Edm.Int64':
    case 'Edm.Byte': {
      const n = typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? v : typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : typeof v === 'boolean' ? Number(v) : NaN;
      if (!Number.isInteger(n)) throw bad();
      return n;
    }
    case 'Edm.Double':
    case 'Edm.Decimal': {
      const n = typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
      if (!Number.isFinite(n)) throw bad();
      return n;
    }
    case 'Edm.Boolean':
      if (typeof v === 'boolean') return v;
      if (v === 0 || v === 1) return v === 1;
      if (typeof v === 'string' && /^(true|false)$/i.test(v)) return v.toLowerCase() === 'true';
      throw bad();
    case 'Edm.DateTime': {
      const d = v instanceof Date ? v : typeof v === 'string' ? new Date(v) : undefined;
      if (!d || Number.isNaN(d.getTime())) throw bad();
      return d.toISOString();
    }
    case 'Edm.Binary':
      if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
      throw bad();
    default:
      if (v instanceof Date) return v.toISOString();
      if (v instanceof Uint8Array) throw bad();
      return typeof v === 'string' ? v : String(v);
  }
}

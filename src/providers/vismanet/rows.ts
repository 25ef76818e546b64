/**
 * Between Visma.net DTOs and Sluice rows: reading a flattened column out of
 * a nested read DTO (`mainaddress_country_id` ← `mainAddress.country.id`),
 * and building the wrapped write DTO (`{"mainAddress":{"value":
 * {"countryId":{"value":"NL"}}}}`) from column values, following the paths
 * the catalog recorded.
 */
import type { ColumnType, Value } from '../../provider/types.js';
import type { VismaColumn } from '../../catalogs/vismanet.js';

function at(dto: unknown, path: readonly string[]): unknown {
  let cur = dto;
  for (const p of path) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}

/** Visma writes date-times without a zone; read them as UTC. */
function toDate(v: unknown): Date | null {
  if (typeof v !== 'string' || v === '') return null;
  const t = /([zZ]|[+-]\d\d:?\d\d)$/.test(v) ? v : `${v}Z`;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? null : new Date(ms);
}

export function toValue(raw: unknown, column: VismaColumn): Value {
  const v = column.path.length === 0 ? raw : at(raw, column.path);
  if (v === undefined || v === null) return null;
  if (column.json) return JSON.stringify(v);
  return convert(v, column.type);
}

function convert(v: unknown, type: ColumnType): Value {
  switch (type) {
    case 'timestamp':
    case 'date':
      return toDate(v);
    case 'integer':
    case 'bigint':
    case 'double':
    case 'decimal': {
      const n = typeof v === 'number' ? v : Number(v);
      return Number.isFinite(n) ? n : null;
    }
    case 'boolean':
      return typeof v === 'boolean' ? v : v === 'true' ? true : v === 'false' ? false : null;
    default:
      return typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
  }
}

/** A value as Visma's JSON wants it. */
export function toJson(v: Value, type: ColumnType): unknown {
  if (v === null) return null;
  if (v instanceof Date) return type === 'date' ? v.toISOString().slice(0, 10) : v.toISOString();
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  if (type === 'varchar' && typeof v !== 'string') return String(v);
  return v;
}

/** Put one value into a write DTO at its path, wrapping every level in `{"value": …}`. */
export function setWrapped(body: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let cur = body;
  for (let i = 0; i < path.length - 1; i++) {
    const existing = cur[path[i]] as { value?: Record<string, unknown> } | undefined;
    if (!existing || typeof existing.value !== 'object' || existing.value === null) {
      const inner: Record<string, unknown> = {};
      cur[path[i]] = { value: inner };
      cur = inner;
    } else {
      cur = existing.value;
    }
  }
  cur[path[path.length - 1]] = { value };
}

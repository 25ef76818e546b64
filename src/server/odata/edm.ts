/**
 * The wire formats of OData v4: the CSDL `$metadata` document, the service
 * document, and the JSON rendering of values (Edm types from ColumnType).
 * Kept small and dependency-free because the row serializer is on the hot
 * path of every feed: rows are rendered as JSON text directly.
 */
import type { ColumnType, Value } from '../../provider/types.js';
import type { EntitySet, ServiceModel } from './model.js';

export const NAMESPACE = 'Sluice';

export function edmType(type: ColumnType): string {
  switch (type) {
    case 'boolean':
      return 'Edm.Boolean';
    case 'integer':
      return 'Edm.Int32';
    case 'bigint':
      return 'Edm.Int64';
    case 'double':
      return 'Edm.Double';
    case 'decimal':
      return 'Edm.Decimal';
    case 'varchar':
      return 'Edm.String';
    case 'date':
      return 'Edm.Date';
    case 'timestamp':
      return 'Edm.DateTimeOffset';
    case 'guid':
      return 'Edm.Guid';
    case 'blob':
      return 'Edm.Binary';
  }
}

function xmlAttr(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function entityType(set: EntitySet): string {
  const lines = [`      <EntityType Name="${xmlAttr(set.name)}">`, '        <Key>'];
  for (const k of set.key) lines.push(`          <PropertyRef Name="${xmlAttr(k)}"/>`);
  lines.push('        </Key>');
  for (const p of set.properties) {
    const extra = p.type === 'decimal' ? ' Precision="38" Scale="variable"' : p.type === 'timestamp' ? ' Precision="3"' : '';
    lines.push(`        <Property Name="${xmlAttr(p.name)}" Type="${edmType(p.type)}" Nullable="${p.nullable ? 'true' : 'false'}"${extra}/>`);
  }
  lines.push('      </EntityType>');
  return lines.join('\n');
}

/** The CSDL XML document for `$metadata`. */
export function metadataXml(model: ServiceModel): string {
  const parts = [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">',
    '  <edmx:DataServices>',
    `    <Schema Namespace="${NAMESPACE}" xmlns="http://docs.oasis-open.org/odata/ns/edm">`,
  ];
  for (const set of model.sets) parts.push(entityType(set));
  parts.push('      <EntityContainer Name="Container">');
  for (const set of model.sets) {
    parts.push(`        <EntitySet Name="${xmlAttr(set.name)}" EntityType="${NAMESPACE}.${xmlAttr(set.name)}"/>`);
  }
  parts.push('      </EntityContainer>', '    </Schema>', '  </edmx:DataServices>', '</edmx:Edmx>', '');
  return parts.join('\n');
}

/** The service document: every entity set. */
export function serviceDocument(model: ServiceModel, base: string): string {
  return JSON.stringify({
    '@odata.context': `${base}$metadata`,
    value: model.sets.map((s) => ({ name: s.name, kind: 'EntitySet', url: s.name })),
  });
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

export function isoDate(d: Date): string {
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

export function isoTimestamp(d: Date): string {
  return d.toISOString();
}

/** One value as JSON text, following the Edm type of its property. */
export function jsonValue(value: Value, type: ColumnType): string {
  if (value === null || value === undefined) return 'null';
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) return 'null';
    return type === 'date' ? `"${isoDate(value)}"` : `"${isoTimestamp(value)}"`;
  }
  switch (typeof value) {
    case 'number':
      // JSON has no NaN/Infinity; OData writes them as strings.
      if (!Number.isFinite(value)) return Number.isNaN(value) ? '"NaN"' : value > 0 ? '"INF"' : '"-INF"';
      return type === 'varchar' || type === 'guid' ? JSON.stringify(String(value)) : String(value);
    case 'bigint':
      return value.toString();
    case 'boolean':
      return type === 'varchar' ? `"${value}"` : value ? 'true' : 'false';
    case 'string':
      return JSON.stringify(value);
    default:
      if (value instanceof Uint8Array) return `"${Buffer.from(value).toString('base64')}"`;
      return JSON.stringify(String(value));
  }
}

/** One output property: its name, type, and the index of its value in the engine's rows (-1: the synthetic row id). */
export interface OutputSlot {
  readonly name: string;
  readonly type: ColumnType;
  readonly index: number;
}

/** A compiled row writer: property names pre-encoded once, then one string per row. */
export function rowWriter(slots: readonly OutputSlot[]): (row: readonly Value[], rowId: number) => string {
  const keys = slots.map((p) => `${JSON.stringify(p.name)}:`);
  return (row, rowId) => {
    let s = '{';
    for (let j = 0; j < slots.length; j++) {
      if (j > 0) s += ',';
      const slot = slots[j];
      s += keys[j] + (slot.index < 0 ? String(rowId) : jsonValue(row[slot.index], slot.type));
    }
    return s + '}';
  };
}

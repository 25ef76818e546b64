/**
 * The OData service model of one database: one entity set per table of its
 * containers, with names that are valid OData identifiers, stable across
 * restarts, and unique. Built from the containers' catalogs (no remote calls).
 *
 * Naming rule (documented in docs/server.md):
 *   entity set = Catalog_Schema_Table, empty parts left out, every character
 *   outside [A-Za-z0-9_] replaced by `_`, a leading digit prefixed with `_`.
 *   Tables are taken container by container in configuration order, and within
 *   a container sorted by catalog, schema, name. When a name is already taken,
 *   `_{alias}` (the container alias) is appended; if still taken, `_2`, `_3`, …
 *   Property names follow the same character rule; the synthetic key of a
 *   table without a key is `SluiceRowId`.
 */
import type { ColumnType, Container, TableInfo } from '../../provider/types.js';

export interface EntityProperty {
  /** The OData property name. */
  readonly name: string;
  /** The column it reads; undefined for the synthetic row id. */
  readonly column?: string;
  readonly type: ColumnType;
  readonly nullable: boolean;
}

export interface EntitySet {
  readonly name: string;
  readonly containerAlias: string;
  readonly table: TableInfo;
  readonly properties: readonly EntityProperty[];
  /** Key property names; `[SYNTHETIC_KEY]` when the table has no key. */
  readonly key: readonly string[];
  readonly syntheticKey: boolean;
}

export interface ServiceModel {
  readonly sets: readonly EntitySet[];
  find(name: string): EntitySet | undefined;
}

export const SYNTHETIC_KEY = 'SluiceRowId';

/** Make a valid OData SimpleIdentifier (max 128 chars) from free text. */
export function odataIdentifier(text: string): string {
  let id = text.replace(/[^A-Za-z0-9_]/g, '_');
  if (id.length === 0) id = '_';
  if (/^[0-9]/.test(id)) id = `_${id}`;
  return id.slice(0, 128);
}

function uniqueName(base: string, taken: Set<string>, suffix?: string): string {
  const lower = (s: string) => s.toLowerCase();
  if (!taken.has(lower(base))) return base;
  if (suffix !== undefined) {
    const withAlias = odataIdentifier(`${base}_${suffix}`);
    if (!taken.has(lower(withAlias))) return withAlias;
    base = withAlias;
  }
  for (let n = 2; ; n++) {
    const candidate = `${base}_${n}`;
    if (!taken.has(lower(candidate))) return candidate;
  }
}

function entitySetOf(container: Container, table: TableInfo, taken: Set<string>): EntitySet {
  const base = odataIdentifier([table.catalog, table.schema, table.name].filter((p) => p && p.length > 0).join('_'));
  const name = uniqueName(base, taken, container.alias);
  taken.add(name.toLowerCase());

  const propTaken = new Set<string>();
  const properties: EntityProperty[] = [];
  const byColumn = new Map<string, string>();
  const keyColumns = new Set(table.key.map((k) => k.toLowerCase()));
  for (const col of table.columns) {
    const prop = uniqueName(odataIdentifier(col.name), propTaken);
    propTaken.add(prop.toLowerCase());
    byColumn.set(col.name.toLowerCase(), prop);
    // Key properties must be non-nullable in CSDL.
    properties.push({ name: prop, column: col.name, type: col.type, nullable: keyColumns.has(col.name.toLowerCase()) ? false : col.nullable });
  }
  const key = table.key.map((k) => byColumn.get(k.toLowerCase())).filter((k): k is string => k !== undefined);
  const syntheticKey = key.length === 0 || key.length !== table.key.length;
  if (syntheticKey) {
    const prop = uniqueName(SYNTHETIC_KEY, propTaken);
    properties.push({ name: prop, type: 'bigint', nullable: false });
    return { name, containerAlias: container.alias, table, properties, key: [prop], syntheticKey };
  }
  return { name, containerAlias: container.alias, table, properties, key, syntheticKey };
}

function compareTables(a: TableInfo, b: TableInfo): number {
  const ka = `${a.catalog}\u0000${a.schema}\u0000${a.name}`.toLowerCase();
  const kb = `${b.catalog}\u0000${b.schema}\u0000${b.name}`.toLowerCase();
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/**
 * Providers whose tables are not published as entity sets: the data
 * dictionary describes the session itself (settings, containers, calls),
 * which is operator information, not customer data.
 */
const UNPUBLISHED = new Set(['datadictionary']);

/**
 * Build the model from a session's containers (in configuration order).
 * `hidden` leaves tables out (the server hides system-wide tables of
 * partitioned containers: they describe more than the database's partitions).
 */
export function buildModel(containers: readonly Container[], hidden: (container: Container, table: TableInfo) => boolean = () => false): ServiceModel {
  const taken = new Set<string>();
  const sets: EntitySet[] = [];
  for (const container of containers) {
    if (UNPUBLISHED.has(container.providerName.toLowerCase())) continue;
    const tables = container
      .tables()
      .filter((t) => !(t.parameters ?? []).some((p) => p.required) && !hidden(container, t))
      .slice()
      .sort(compareTables);
    for (const table of tables) sets.push(entitySetOf(container, table, taken));
  }
  const index = new Map(sets.map((s) => [s.name, s]));
  const lowerIndex = new Map(sets.map((s) => [s.name.toLowerCase(), s]));
  return {
    sets,
    find: (name) => index.get(name) ?? lowerIndex.get(name.toLowerCase()),
  };
}

/** Resolve a property name: exact first, then case-insensitive (clients differ in care). */
export function findProperty(set: EntitySet, name: string): EntityProperty | undefined {
  return set.properties.find((p) => p.name === name) ?? set.properties.find((p) => p.name.toLowerCase() === name.toLowerCase());
}

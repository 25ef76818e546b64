/**
 * The shell's view of the catalog: every table of every connected container,
 * looked up the way users type names (`accounts`, `crm.accounts`,
 * `exactonlinerest..accounts`, `accounts@eolnl`, Invantive short aliases),
 * case-insensitively. Backs \tables, \describe and tab completion.
 */
import type { Container, TableInfo } from '../provider/types.js';

export interface CatalogEntry {
  readonly container: string;
  readonly table: TableInfo;
}

export function catalogEntries(containers: readonly Container[]): CatalogEntry[] {
  const out: CatalogEntry[] = [];
  for (const c of containers) {
    let tables: readonly TableInfo[] = [];
    try {
      tables = c.tables();
    } catch {
      // A container whose catalog fails should not take the shell's completion down with it.
    }
    for (const t of tables) out.push({ container: c.alias, table: t });
  }
  return out;
}

/** Every way a table can be named without `@container`. */
export function namesOf(t: TableInfo): string[] {
  const names = [t.name, ...(t.aliases ?? [])];
  const out = new Set<string>();
  for (const n of names) {
    out.add(n);
    if (t.schema) out.add(`${t.schema}.${n}`);
    if (t.catalog) {
      out.add(`${t.catalog}..${n}`);
      if (t.schema) out.add(`${t.catalog}.${t.schema}.${n}`);
    }
  }
  return [...out];
}

export function qualifiedName(e: CatalogEntry): string {
  const t = e.table;
  const parts = [t.catalog, t.schema, t.name].filter((p) => p && p.length > 0);
  return `${parts.join('.')}@${e.container}`;
}

/** Tables a typed name refers to: `name`, `schema.name`, `catalog..name`, each with an optional `@container`. */
export function findTables(entries: readonly CatalogEntry[], typed: string): CatalogEntry[] {
  const at = typed.lastIndexOf('@');
  const name = (at >= 0 ? typed.slice(0, at) : typed).toLowerCase().replace(/["[\]]/g, '');
  const container = at >= 0 ? typed.slice(at + 1).toLowerCase() : undefined;
  return entries.filter(
    (e) => (container === undefined || e.container.toLowerCase() === container) && namesOf(e.table).some((n) => n.toLowerCase() === name),
  );
}

/** \tables filter: `%`/`_` or `*`/`?` wildcards, otherwise a case-insensitive substring of the name. */
export function matchesPattern(e: CatalogEntry, pattern: string | undefined): boolean {
  if (!pattern) return true;
  const texts = [...namesOf(e.table), `${e.table.name}@${e.container}`].map((s) => s.toLowerCase());
  const p = pattern.toLowerCase();
  if (/[%_*?]/.test(p)) {
    const source = p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/[%*]/g, '.*').replace(/[_?]/g, '.');
    const re = new RegExp(`^${source}$`);
    return texts.some((t) => re.test(t));
  }
  return texts.some((t) => t.includes(p));
}

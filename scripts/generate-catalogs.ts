/**
 * `npm run gen:catalogs [-- REFERENCE_DIR]`: regenerates the committed
 * catalogs in catalogs/ from the shared reference data (default
 * ../shared/reference relative to the repo root). Development-time only.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildExactCatalog, renderCatalog, type RefDeleted, type RefEndpoint, type RefEnum } from './catalog/exactonline.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const refDir = resolve(process.argv[2] ?? join(repoRoot, '..', 'shared', 'reference'));

function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

const eolDir = join(refDir, 'exactonline');
const catalog = buildExactCatalog(
  readJson<RefEndpoint[]>(join(eolDir, 'endpoints.json')),
  readJson<RefEnum[]>(join(eolDir, 'enums.json')),
  readJson<RefDeleted>(join(eolDir, 'deleted-entity-types.json')),
  'shared/reference/exactonline (endpoints.json, enums.json, deleted-entity-types.json), fetched 2026-11-25',
);
const out = join(repoRoot, 'catalogs', 'exactonline.json');
writeFileSync(out, renderCatalog(catalog));
console.log(`wrote ${out}: ${catalog.endpoints.length} endpoints, ${catalog.enums.length} enums, ${catalog.deletedEntityTypes.length} deleted entity types`);

// Visma.net Financials: owned by scripts/catalog/vismanet.ts.
{
  const { buildVismaCatalog, renderVismaCatalog } = await import('./catalog/vismanet.js');
  type Spec = Parameters<typeof buildVismaCatalog>[0];
  type Ops = Parameters<typeof buildVismaCatalog>[1];
  const vnDir = join(refDir, 'vismanet');
  const vn = buildVismaCatalog(readJson<Spec>(join(vnDir, 'openapi.json')), readJson<Ops>(join(vnDir, 'operations.json')), 'shared/reference/vismanet (openapi.json 9.66.02.1023, operations.json), fetched 2026-11-25');
  const vnOut = join(repoRoot, 'catalogs', 'vismanet.json');
  writeFileSync(vnOut, renderVismaCatalog(vn));
  console.log(`wrote ${vnOut}: ${vn.tables.length} tables`);
}

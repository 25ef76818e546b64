/**
 * Builds the Exact Online catalog (catalogs/exactonline.json, type
 * ExactCatalog in src/catalogs/exactonline.ts) from the reference data in
 * shared/reference/exactonline. Run by scripts/generate-catalogs.ts at
 * development time only; the product reads the generated JSON, never the
 * reference. Pure: same input, same output (sorted, no timestamps).
 */
import type { ColumnType } from '../../src/provider/types.js';
import type { ExactCatalog, ExactColumn, ExactEndpoint, ExactEndpointKind } from '../../src/catalogs/exactonline.js';

interface RefProperty {
  name: string;
  type: string;
  navigation?: boolean;
  readOnly?: boolean;
  mandatory?: boolean;
  createOnly?: boolean;
}
export interface RefEndpoint {
  service: string;
  entity: string;
  url: string;
  kind: ExactEndpointKind;
  needsDivision: boolean;
  primaryKey: string;
  methods: string[];
  methodsKnown: boolean;
  pageSize?: number;
  webhooks?: boolean;
  properties: RefProperty[];
}
export interface RefEnum {
  url: string;
  field: string;
  values: { code: string | number; name: string }[];
}
export interface RefDeleted {
  types: { code: number; entity: string; syncUrl?: string }[];
}

/** Service segment → Invantive-style schema casing. */
const SCHEMA_CASING: Record<string, string> = {
  accountancy: 'Accountancy', activities: 'Activities', assets: 'Assets', budget: 'Budget', cashflow: 'Cashflow',
  continuousmonitoring: 'ContinuousMonitoring', crm: 'CRM', current: 'System', customfield: 'CustomField',
  documents: 'Documents', expensemanagement: 'ExpenseManagement', financial: 'Financial',
  financialtransaction: 'FinancialTransaction', general: 'General', generaljournalentry: 'GeneralJournalEntry',
  hrm: 'HRM', inventory: 'Inventory', logistics: 'Logistics', mailbox: 'Mailbox', manufacturing: 'Manufacturing',
  openingbalance: 'OpeningBalance', payroll: 'Payroll', project: 'Project', purchase: 'Purchase',
  purchaseentry: 'PurchaseEntry', purchaseorder: 'PurchaseOrder', sales: 'Sales', salesentry: 'SalesEntry',
  salesinvoice: 'SalesInvoice', salesorder: 'SalesOrder', subscription: 'Subscription', sync: 'Sync',
  system: 'System', users: 'Users', vat: 'VAT', webhooks: 'Webhooks', workflow: 'Workflow',
};

/** Fixed table names that the naming rule would not produce (Invantive's names). */
const FIXED_TABLES: Record<string, string> = {
  'system/Divisions': 'SystemDivisions',
  'system/AllDivisions': 'SystemAllDivisions',
  'system/Users': 'Users',
  'current/Me': 'Me',
  'sync/Deleted': 'DeletedIncremental',
  'hrm/Divisions': 'HrmDivisions',
};

/** Endpoints that need no user division context: one answer for the whole connection. */
const SYSTEM_SCOPE = new Set([
  'current/Me', 'system/Divisions', 'system/AllDivisions', 'system/GetMostRecentlyUsedDivisions',
  'system/AccountantInfo', 'system/AvailableFeatures',
]);
/** Subscription-level data (seed 002): users and the division classification structure. */
const SUBSCRIPTION_SCOPE = new Set(['system/Users', 'hrm/DivisionClasses', 'hrm/DivisionClassNames', 'hrm/DivisionClassValues']);

/**
 * Regular endpoints that answer 400 "Please add a $select or a $top=1
 * statement to the query string." without $select. The real list is not
 * published (facts: "several regular endpoints"); these are the heavy ones.
 */
export const SELECT_REQUIRED_REGULAR = ['financialtransaction/TransactionLines'];

/**
 * Mandatory filtering (facts: "single and bulk endpoints that have a sync
 * twin demand a $filter on one of a listed set of fields"): every regular
 * and bulk endpoint with a sync twin gets it. The real per-endpoint field
 * lists are not published (unsure); the catalog lists the key plus the
 * usual date and parent fields the endpoint has. The simulator can switch
 * enforcement off (mandatoryFiltering: false).
 */
const MANDATORY_FILTER_CANDIDATES = ['Modified', 'Date', 'FinancialYear', 'EntryID', 'Account', 'GLAccount'];

/**
 * Endpoints whose methods the platform facts state where the reference data
 * says otherwise: `system/Divisions` is GET only (the reference lists DELETE).
 */
const METHODS_FROM_FACTS: Record<string, readonly string[]> = { 'system/Divisions': ['GET'] };

function mapType(edm: string): ColumnType {
  switch (edm) {
    case 'Edm.Guid': return 'guid';
    case 'Edm.String': return 'varchar';
    case 'Edm.Int16': case 'Edm.Int32': case 'Edm.Byte': return 'integer';
    case 'Edm.Int64': return 'bigint';
    case 'Edm.Double': return 'double';
    case 'Edm.Decimal': return 'decimal';
    case 'Edm.Boolean': return 'boolean';
    case 'Edm.DateTime': return 'timestamp';
    case 'Edm.Binary': return 'blob';
    default: return 'varchar';
  }
}

function schemaOf(ep: RefEndpoint): string {
  if (ep.kind === 'sync') return 'Sync';
  const svc = ep.kind === 'bulk' ? ep.url.split('/')[1].toLowerCase() : ep.service.toLowerCase();
  return SCHEMA_CASING[svc] ?? svc.charAt(0).toUpperCase() + svc.slice(1);
}

function lastSegment(entity: string): string {
  const parts = entity.split('/');
  return parts[parts.length - 1];
}

/** The entity name without the path (`sync/Financial/TransactionLines` → `TransactionLines`). */
function entityName(ep: RefEndpoint): string {
  return lastSegment(ep.entity);
}

function baseTable(ep: RefEndpoint): string {
  const fixed = FIXED_TABLES[ep.url];
  if (fixed) return fixed;
  const last = entityName(ep);
  if (ep.kind === 'bulk') return `${last}Bulk`;
  if (ep.kind === 'sync') return `${last}Incremental`;
  return last;
}

/** Lower number claims a contested name first. */
function kindPriority(ep: RefEndpoint): number {
  if (FIXED_TABLES[ep.url]) return -1;
  return { regular: 0, current: 0, system: 0, bulk: 1, sync: 1, read: 2, beta: 3 }[ep.kind];
}

function assignTables(eps: readonly RefEndpoint[]): Map<string, string> {
  const names = new Map<string, string>();
  const groups = new Map<string, RefEndpoint[]>();
  for (const ep of eps) {
    const b = baseTable(ep);
    const g = groups.get(b.toLowerCase()) ?? [];
    g.push(ep);
    groups.set(b.toLowerCase(), g);
  }
  const taken = new Set<string>();
  const pending: RefEndpoint[] = [];
  for (const g of groups.values()) {
    g.sort((a, b) => kindPriority(a) - kindPriority(b) || a.url.localeCompare(b.url));
    const winners = g.filter((e) => kindPriority(e) === kindPriority(g[0]));
    if (winners.length === 1) {
      names.set(g[0].url, baseTable(g[0]));
      taken.add(baseTable(g[0]).toLowerCase());
      pending.push(...g.slice(1));
    } else {
      pending.push(...g);
    }
  }
  pending.sort((a, b) => a.url.localeCompare(b.url));
  for (const ep of pending) {
    const base = baseTable(ep);
    const schema = schemaOf(ep);
    const joined = ep.entity.split('/').join('');
    const multi = ep.entity.includes('/') && ep.kind !== 'bulk' && ep.kind !== 'sync';
    const candidates = [
      ...(ep.kind === 'beta' ? [`${base}Beta`] : []),
      ...(multi ? [joined] : []),
      `${schema}${base}`,
      `${schema}${joined}`,
      `${schema}${joined}${ep.kind.charAt(0).toUpperCase()}${ep.kind.slice(1)}`,
    ];
    const pick = candidates.find((c) => !taken.has(c.toLowerCase()));
    if (!pick) throw new Error(`cannot name ${ep.url} uniquely`);
    taken.add(pick.toLowerCase());
    names.set(ep.url, pick);
  }
  return names;
}

export function buildExactCatalog(
  endpointsIn: readonly RefEndpoint[],
  enums: readonly RefEnum[],
  deleted: RefDeleted,
  source: string,
): ExactCatalog {
  const eps = [...endpointsIn].sort((a, b) => a.url.localeCompare(b.url));
  const tables = assignTables(eps);
  const byKindEntity = new Map<string, RefEndpoint>();
  for (const ep of eps) {
    if (ep.kind === 'sync' || ep.kind === 'bulk') byKindEntity.set(`${ep.kind}:${entityName(ep).toLowerCase()}`, ep);
  }
  const deletedByEntity = new Map<string, number>();
  for (const t of deleted.types) deletedByEntity.set(t.entity.toLowerCase(), t.code);

  const out: ExactEndpoint[] = eps.map((ep) => {
    const name = entityName(ep).toLowerCase();
    const twinnable = ep.kind === 'regular' || ep.kind === 'bulk';
    const syncTwin = ep.kind !== 'sync' && (twinnable || ep.kind === 'beta') ? byKindEntity.get(`sync:${name}`)?.url : undefined;
    const bulkTwin = ep.kind !== 'bulk' && (ep.kind === 'regular' || ep.kind === 'sync') ? byKindEntity.get(`bulk:${name}`)?.url : undefined;
    const colNames = new Set(ep.properties.map((p) => p.name));
    let key = ep.primaryKey.split(',').map((k) => k.trim()).filter((k) => k.length > 0);
    if (ep.kind === 'sync' && ep.url !== 'sync/Deleted' && colNames.has('ID')) {
      // The reference keys sync endpoints on Timestamp (the paging token); the row identity is ID.
      key = ['ID'];
    }
    const columns: ExactColumn[] = ep.properties.map((p) => {
      const c: {
        name: string; edmType: string; type: ColumnType; readOnly?: boolean; mandatory?: boolean;
        createOnly?: boolean; navigation?: boolean; filterable: boolean;
      } = { name: p.name, edmType: p.type, type: mapType(p.type), filterable: false };
      if (p.readOnly) c.readOnly = true;
      if (p.mandatory) c.mandatory = true;
      if (p.createOnly) c.createOnly = true;
      if (p.navigation) c.navigation = true;
      c.filterable = p.navigation ? false : ep.kind === 'sync' ? p.name === 'Timestamp' : true;
      return c;
    });
    const selectRequired = ep.kind === 'bulk' || ep.kind === 'sync' || SELECT_REQUIRED_REGULAR.includes(ep.url);
    const mandatoryFilterColumns =
      twinnable && syncTwin ? [...new Set([...key, ...MANDATORY_FILTER_CANDIDATES.filter((c) => colNames.has(c))])] : [];
    const scope = SYSTEM_SCOPE.has(ep.url) ? 'system' : SUBSCRIPTION_SCOPE.has(ep.url) ? 'subscription' : 'partitioned';
    const pageSize = ep.pageSize ?? (ep.kind === 'bulk' || ep.kind === 'sync' ? 1000 : 60);
    const deletedEntityType = deletedByEntity.get(name);
    const e: ExactEndpoint = {
      table: tables.get(ep.url) as string,
      schema: schemaOf(ep),
      url: ep.url,
      kind: ep.kind,
      service: ep.service,
      entity: ep.entity,
      needsDivision: ep.needsDivision,
      scope,
      key,
      methods: (METHODS_FROM_FACTS[ep.url] ?? ep.methods).filter((m): m is 'GET' | 'POST' | 'PUT' | 'DELETE' => ['GET', 'POST', 'PUT', 'DELETE'].includes(m)),
      methodsKnown: ep.methodsKnown,
      pageSize,
      selectRequired,
      mandatoryFilterColumns,
      ...(syncTwin ? { syncTwin } : {}),
      ...(bulkTwin ? { bulkTwin } : {}),
      ...(deletedEntityType !== undefined && (ep.kind === 'regular' || ep.kind === 'bulk' || ep.kind === 'sync') && ep.url !== 'sync/Deleted'
        ? { deletedEntityType }
        : {}),
      webhooks: ep.webhooks === true,
      columns,
    };
    return e;
  });

  return {
    source,
    endpoints: out,
    enums: [...enums]
      .map((e) => ({ url: e.url, field: e.field, values: e.values.map((v) => ({ code: v.code, name: v.name })) }))
      .sort((a, b) => a.url.localeCompare(b.url) || a.field.localeCompare(b.field)),
    deletedEntityTypes: [...deleted.types]
      .map((t) => ({ code: t.code, entity: t.entity, ...(t.syncUrl ? { syncUrl: t.syncUrl } : {}) }))
      .sort((a, b) => a.code - b.code),
  };
}

/** JSON with one endpoint / enum / deleted type per line: compact yet diff-able. */
export function renderCatalog(cat: ExactCatalog): string {
  const lines: string[] = ['{', `"source": ${JSON.stringify(cat.source)},`, '"endpoints": ['];
  cat.endpoints.forEach((e, i) => lines.push(JSON.stringify(e) + (i < cat.endpoints.length - 1 ? ',' : '')));
  lines.push('],', '"enums": [');
  cat.enums.forEach((e, i) => lines.push(JSON.stringify(e) + (i < cat.enums.length - 1 ? ',' : '')));
  lines.push('],', '"deletedEntityTypes": [');
  cat.deletedEntityTypes.forEach((e, i) => lines.push(JSON.stringify(e) + (i < cat.deletedEntityTypes.length - 1 ? ',' : '')));
  lines.push(']', '}', '');
  return lines.join('\n');
}

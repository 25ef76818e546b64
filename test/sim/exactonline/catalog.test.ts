/**
 * The generated Exact Online catalog (catalogs/exactonline.json) and its
 * generator: Invantive-style unique table names, schemas, EDM type mapping,
 * scopes, paging, required $select, mandatory filtering, twins and
 * deleted-entity codes; deterministic output.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { exactCatalog } from '../../../src/catalogs/exactonline.js';
import { buildExactCatalog, renderCatalog, type RefEndpoint } from '../../../scripts/catalog/exactonline.js';

describe('Exact Online catalog', () => {
  const cat = exactCatalog();
  const byUrl = new Map(cat.endpoints.map((e) => [e.url, e]));
  const ep = (url: string) => {
    const e = byUrl.get(url);
    assert.ok(e, url);
    return e;
  };

  it('has unique table names following the naming rules', () => {
    const names = cat.endpoints.map((e) => e.table.toLowerCase());
    assert.equal(new Set(names).size, names.length);
    assert.equal(ep('crm/Accounts').table, 'Accounts');
    assert.equal(ep('bulk/CRM/Accounts').table, 'AccountsBulk');
    assert.equal(ep('sync/CRM/Accounts').table, 'AccountsIncremental');
    assert.equal(ep('sync/Financial/TransactionLines').table, 'TransactionLinesIncremental');
    assert.equal(ep('sync/Deleted').table, 'DeletedIncremental');
    assert.equal(ep('system/Divisions').table, 'SystemDivisions');
    assert.equal(ep('system/AllDivisions').table, 'SystemAllDivisions');
    assert.equal(ep('system/Users').table, 'Users');
    assert.equal(ep('current/Me').table, 'Me');
    assert.equal(ep('hrm/Divisions').table, 'HrmDivisions');
    assert.equal(ep('read/sync/Sync/SyncTimestamp').table, 'SyncTimestamp');
    assert.equal(ep('beta/workflow/RequestAttachments').table, 'RequestAttachmentsBeta');
  });

  it('uses Invantive schema casing and maps EDM types', () => {
    assert.equal(ep('crm/Accounts').schema, 'CRM');
    assert.equal(ep('salesinvoice/SalesInvoices').schema, 'SalesInvoice');
    assert.equal(ep('financialtransaction/TransactionLines').schema, 'FinancialTransaction');
    assert.equal(ep('vat/VATCodes').schema, 'VAT');
    assert.equal(ep('bulk/CRM/Accounts').schema, 'CRM');
    assert.equal(ep('sync/CRM/Accounts').schema, 'Sync');
    const cols = new Map(ep('sync/CRM/Accounts').columns.map((c) => [c.name, c]));
    assert.equal(cols.get('ID')?.type, 'guid');
    assert.equal(cols.get('Timestamp')?.type, 'bigint');
    assert.equal(cols.get('Name')?.type, 'varchar');
    assert.equal(cols.get('Created')?.type, 'timestamp');
    assert.equal(cols.get('IsSupplier')?.type, 'boolean');
    assert.equal(cols.get('Timestamp')?.filterable, true);
    assert.equal(cols.get('Name')?.filterable, false, 'sync endpoints filter only on Timestamp');
    const inv = new Map(ep('salesinvoice/SalesInvoices').columns.map((c) => [c.name, c]));
    assert.equal(inv.get('SalesInvoiceLines')?.navigation, true);
    assert.equal(inv.get('SalesInvoiceLines')?.filterable, false);
    assert.equal(inv.get('AmountDC')?.type, 'double');
  });

  it('assigns scopes, page sizes, required $select and mandatory filtering', () => {
    for (const u of ['current/Me', 'system/Divisions', 'system/AllDivisions']) assert.equal(ep(u).scope, 'system');
    for (const u of ['system/Users', 'hrm/DivisionClasses', 'hrm/DivisionClassNames', 'hrm/DivisionClassValues']) assert.equal(ep(u).scope, 'subscription');
    assert.equal(ep('crm/Accounts').scope, 'partitioned');
    assert.equal(ep('crm/Accounts').pageSize, 60);
    assert.equal(ep('bulk/CRM/Accounts').pageSize, 1000);
    assert.equal(ep('sync/CRM/Accounts').pageSize, 1000);
    assert.equal(ep('crm/Accounts').selectRequired, false);
    assert.equal(ep('bulk/CRM/Accounts').selectRequired, true);
    assert.equal(ep('financialtransaction/TransactionLines').selectRequired, true);
    assert.ok(ep('financialtransaction/TransactionLines').mandatoryFilterColumns.includes('ID'));
    assert.ok(ep('bulk/Financial/TransactionLines').mandatoryFilterColumns.includes('FinancialYear'));
    // Every regular and bulk endpoint with a sync twin has mandatory filtering (facts); one without a twin has none.
    assert.deepEqual(ep('crm/Accounts').mandatoryFilterColumns, ['ID', 'Modified']);
    assert.ok(ep('bulk/CRM/Accounts').mandatoryFilterColumns.includes('Modified'));
    assert.deepEqual(ep('system/Divisions').mandatoryFilterColumns, []);
    assert.deepEqual(ep('system/Divisions').methods, ['GET'], 'GET only (facts)');
    assert.deepEqual(ep('sync/Financial/TransactionLines').mandatoryFilterColumns, []);
  });

  it('links twins and deleted-entity codes', () => {
    assert.equal(ep('crm/Accounts').syncTwin, 'sync/CRM/Accounts');
    assert.equal(ep('crm/Accounts').bulkTwin, 'bulk/CRM/Accounts');
    assert.equal(ep('sync/CRM/Accounts').bulkTwin, 'bulk/CRM/Accounts');
    assert.equal(ep('crm/Accounts').deletedEntityType, 2);
    assert.equal(ep('crm/Contacts').deletedEntityType, 5);
    assert.equal(ep('financialtransaction/TransactionLines').deletedEntityType, 1);
    assert.equal(ep('sync/Deleted').deletedEntityType, undefined);
    assert.deepEqual(ep('sync/CRM/Accounts').key, ['ID']);
    assert.equal(cat.deletedEntityTypes.find((t) => t.code === 2)?.entity, 'Accounts');
    assert.ok(cat.enums.some((e) => e.url === 'crm/Accounts' && e.field === 'Status'));
  });

  it('generates deterministically and resolves collisions by prefixing the schema', () => {
    const mk = (url: string, kind: RefEndpoint['kind'], service: string, entity: string): RefEndpoint => ({
      url, kind, service, entity, needsDivision: true, primaryKey: 'ID', methods: ['GET'], methodsKnown: true,
      properties: [{ name: 'ID', type: 'Edm.Guid' }, { name: 'Modified', type: 'Edm.DateTime' }],
    });
    const input = [
      mk('logistics/ReasonCodes', 'regular', 'logistics', 'ReasonCodes'),
      mk('crm/ReasonCodes', 'regular', 'crm', 'ReasonCodes'),
      mk('crm/Documents', 'regular', 'crm', 'Documents'),
      mk('read/crm/Documents', 'read', 'crm', 'Documents'),
    ];
    const a = buildExactCatalog(input, [], { types: [] }, 'test');
    const b = buildExactCatalog([...input].reverse(), [], { types: [] }, 'test');
    assert.equal(renderCatalog(a), renderCatalog(b));
    const names = Object.fromEntries(a.endpoints.map((e) => [e.url, e.table]));
    assert.deepEqual(names, {
      'crm/Documents': 'Documents',
      'crm/ReasonCodes': 'CRMReasonCodes',
      'logistics/ReasonCodes': 'LogisticsReasonCodes',
      'read/crm/Documents': 'CRMDocuments',
    });
    assert.doesNotThrow(() => JSON.parse(renderCatalog(a)));
  });
});

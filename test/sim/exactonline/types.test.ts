/**
 * Every value the simulator serves has the JSON shape its catalog EDM type
 * promises (Exact answers Edm.Byte flags such as IsCompetitor as 0/1, not
 * true/false): a client that trusts the catalog must never meet another type.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { exactCatalog } from '../../../src/catalogs/exactonline.js';
import { results, setup } from './helpers.js';

const MODELLED = [
  'crm/Accounts',
  'crm/Contacts',
  'crm/Addresses',
  'logistics/Items',
  'financial/GLAccounts',
  'vat/VATCodes',
  'financial/Journals',
  'salesinvoice/SalesInvoices',
  'salesinvoice/SalesInvoiceLines',
  'bulk/Financial/TransactionLines',
  'system/Divisions',
  'system/Users',
];

function shapeOk(edm: string, v: unknown): boolean {
  if (v === null) return true;
  switch (edm) {
    case 'Edm.Boolean':
      return typeof v === 'boolean';
    case 'Edm.Byte':
    case 'Edm.Int16':
    case 'Edm.Int32':
    case 'Edm.Int64':
    case 'Edm.Double':
    case 'Edm.Decimal':
      return typeof v === 'number';
    case 'Edm.String':
    case 'Edm.Guid':
      return typeof v === 'string';
    case 'Edm.DateTime':
      return typeof v === 'string' && /^\/Date\(-?\d+\)\/$/.test(v);
    default:
      return true;
  }
}

describe('Exact simulator value types', () => {
  let env: Awaited<ReturnType<typeof setup>>;
  before(async () => {
    env = await setup({ accountsPerDivision: 40, transactionLinesPerDivision: 200 });
  });
  after(async () => {
    await env.sim.close();
  });

  for (const url of MODELLED) {
    it(`${url}: every value matches its EDM type`, async () => {
      const ep = exactCatalog().endpoints.find((e) => e.url === url);
      assert.ok(ep, `catalog has ${url}`);
      const plain = ep.columns.filter((c) => !c.navigation && c.edmType.startsWith('Edm.'));
      const select = plain.map((c) => c.name).join(',');
      // Endpoints with mandatory filtering get a filter on one of their listed columns.
      const filter = ep.mandatoryFilterColumns.includes('FinancialYear') ? '&$filter=FinancialYear gt 0' : '';
      const r = await env.get(`/api/v1/102673/${url}?$select=${select}&$top=30${filter}`);
      assert.equal(r.status, 200, r.text.slice(0, 300));
      const rows = results(r);
      assert.ok(rows.length > 0, `${url} has rows`);
      const wrong: string[] = [];
      for (const row of rows) {
        for (const c of plain) {
          const v = (row as Record<string, unknown>)[c.name];
          if (!shapeOk(c.edmType, v)) wrong.push(`${c.name} (${c.edmType}) = ${JSON.stringify(v)}`);
        }
      }
      assert.deepEqual([...new Set(wrong)], []);
    });
  }
});

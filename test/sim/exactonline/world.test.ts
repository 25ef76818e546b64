/**
 * The accountant's world per division, read by plain HTTP and checked
 * against the platform facts and issue 3: sales journal 70, items whose
 * revenue GL account is one of the division's GL accounts, VAT codes the
 * items and lines use, contacts (FirstName/LastName, an existing Account),
 * addresses with a documented Type on an existing account, accounts with
 * Status A/S/P/C and both flags, and Exact's error body in full.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { call, results, setup, type Page, type Reply } from './helpers.js';

describe('Exact simulator world per division', () => {
  let env: Awaited<ReturnType<typeof setup>>;
  const D = 102673;

  before(async () => {
    env = await setup({ accountsPerDivision: 40, transactionLinesPerDivision: 300 });
  });
  after(async () => {
    await env.sim.close();
  });

  /** Every row of a regular endpoint, following __next. */
  const all = async (path: string): Promise<Record<string, unknown>[]> => {
    const out: Record<string, unknown>[] = [];
    let url: string | undefined = `/api/v1/${D}/${path}`;
    while (url) {
      const r: Reply = await env.get(url);
      assert.equal(r.status, 200, `${path}: ${r.text.slice(0, 200)}`);
      out.push(...results(r));
      url = (r.json as Page).d.__next;
    }
    return out;
  };

  it('has sales journal 70 among the journals', async () => {
    const journals = await all('financial/Journals?$select=Code,Description,Type');
    const sales = journals.find((j) => j.Code === '70');
    assert.ok(sales, `journal codes: ${journals.map((j) => String(j.Code)).join(', ')}`);
    assert.equal(sales.Description, 'Verkoop');
    assert.equal(sales.Type, 20, 'a sales journal');
  });

  it('gives every item a revenue GL account of the division and a VAT code that exists', async () => {
    const gl = new Map((await all('financial/GLAccounts?$select=ID,Code')).map((g) => [g.ID, String(g.Code)]));
    const vat = new Set((await all('vat/VATCodes?$select=Code')).map((v) => String(v.Code).trim()));
    assert.ok(vat.size > 0);
    const items = await all('logistics/Items?$select=ID,Code,GLRevenue,GLRevenueCode,SalesVatCode');
    assert.ok(items.length > 0);
    for (const it of items) {
      assert.equal(gl.get(it.GLRevenue), it.GLRevenueCode, `item ${String(it.Code)}: GLRevenue names GL account ${String(it.GLRevenueCode)}`);
      assert.match(String(it.GLRevenueCode), /^8\d{3}$/, 'a revenue account (class 8)');
      assert.ok(vat.has(String(it.SalesVatCode).trim()), `item ${String(it.Code)}: VAT code ${String(it.SalesVatCode)}`);
    }
    // Invoice lines use the same GL accounts and VAT codes.
    for (const l of await all('salesinvoice/SalesInvoiceLines?$select=GLAccount,VATCode&$top=100')) {
      assert.ok(gl.has(l.GLAccount), `line GL account ${String(l.GLAccount)}`);
      assert.ok(vat.has(String(l.VATCode).trim()), `line VAT code ${String(l.VATCode)}`);
    }
  });

  it('has accounts with Status A/S/P/C and both flags, and contacts and addresses on existing accounts', async () => {
    const accounts = await all('crm/Accounts?$select=ID,Status,IsSupplier,IsSales');
    assert.equal(accounts.length, 40);
    const ids = new Set(accounts.map((a) => a.ID));
    for (const a of accounts) {
      assert.ok(['A', 'S', 'P', 'C'].includes(String(a.Status)), String(a.Status));
      assert.equal(typeof a.IsSupplier, 'boolean');
      assert.equal(typeof a.IsSales, 'boolean');
    }
    assert.ok(accounts.some((a) => a.Status === 'C'), 'some customers');
    const contacts = await all('crm/Contacts?$select=Account,FirstName,LastName');
    assert.ok(contacts.length > 0);
    for (const c of contacts) {
      assert.ok(ids.has(c.Account), 'a contact belongs to an existing account');
      assert.ok(Boolean(c.FirstName) || Boolean(c.LastName), 'FirstName or LastName');
    }
    const addresses = await all('crm/Addresses?$select=Account,Type,Postcode');
    assert.ok(addresses.length > 0);
    for (const a of addresses) {
      assert.ok(ids.has(a.Account));
      assert.ok([1, 2, 3, 4].includes(Number(a.Type)), `Type ${String(a.Type)}`);
    }
  });

  it('answers XML when the request has no Accept header at all (XML is the default)', async () => {
    const r = await call(`${env.sim.baseUrl}/api/v1/${D}/crm/Accounts?$select=ID,Name&$top=2`, { headers: { Authorization: `Bearer ${env.token}` } });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /xml/);
    assert.equal((r.text.match(/<entry>/g) ?? []).length, 2);
    const json = results(await env.get(`/api/v1/${D}/crm/Accounts?$select=ID,Name&$top=2`));
    for (const row of json) assert.ok(r.text.includes(`<d:ID m:type="Edm.Guid">${String(row.ID)}</d:ID>`), 'the same rows as in JSON');
  });

  it('answers errors in Exact\'s body: {"error":{"code":"","message":{"lang":"","value":…}}}', async () => {
    const r = await env.get(`/api/v1/${D}/crm/Accounts?$filter=Nope eq 1`);
    assert.equal(r.status, 400);
    assert.match(r.headers.get('content-type') ?? '', /json/);
    const body = r.json as { error: { code: string; message: { lang: string; value: string } } };
    assert.deepEqual(Object.keys(body), ['error']);
    assert.equal(body.error.code, '');
    assert.equal(body.error.message.lang, '');
    assert.match(body.error.message.value, /Nope/);
    const v = await env.send('POST', `/api/v1/${D}/crm/Accounts`, { City: 'Delft' });
    assert.equal(v.status, 500, 'business validation is HTTP 500 in the same body');
    assert.deepEqual(Object.keys((v.json as { error: object }).error).sort(), ['code', 'message']);
  });
});

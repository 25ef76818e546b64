/**
 * Business validation as Exact reports it (platform facts: HTTP 500 with the
 * reason in Exact's error body): enumerated fields take only their catalog
 * codes, account codes are unique per division, account references must
 * exist (on unmodelled endpoints too), an account with sales invoices or
 * transactions cannot be deleted, and a draft invoice (status 10) cannot be
 * printed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { errorText, results, setup } from './helpers.js';

describe('Exact simulator validation', () => {
  let env: Awaited<ReturnType<typeof setup>>;
  const D = 102673;
  const NOBODY = '00000000-0000-4000-8000-0000000000aa';

  before(async () => {
    env = await setup({ accountsPerDivision: 20, transactionLinesPerDivision: 200 });
  });
  after(async () => {
    await env.sim.close();
  });

  it('refuses values outside an enumerated field\'s codes', async () => {
    const status = await env.send('POST', `/api/v1/${D}/crm/Accounts`, { Name: 'Enum B.V.', Status: 'X' });
    assert.equal(status.status, 500);
    assert.equal(errorText(status), "Status: 'X' is not a valid value; use one of A, S, P, C.");
    const [acc] = results(await env.get(`/api/v1/${D}/crm/Accounts?$select=ID&$top=1`));
    const type = await env.send('POST', `/api/v1/${D}/crm/Addresses`, { Account: acc.ID, Type: 9, AddressLine1: 'Straat 1' });
    assert.equal(type.status, 500);
    assert.match(errorText(type), /^Type: '9' is not a valid value/);
    const good = await env.send('POST', `/api/v1/${D}/crm/Accounts`, { Name: 'Prospect B.V.', Status: 'P' }, { Prefer: 'return=representation' });
    assert.equal(good.status, 201, good.text);
    assert.equal((good.json as { d: { Status: string } }).d.Status, 'P');
  });

  it('keeps account codes unique in a division', async () => {
    const [base] = results(await env.get(`/api/v1/${D}/crm/Accounts?$select=ID,Code&$skip=5&$top=1`));
    const code = String(base.Code).trim();
    const dup = await env.send('POST', `/api/v1/${D}/crm/Accounts`, { Name: 'Dubbel B.V.', Code: code });
    assert.equal(dup.status, 500);
    assert.equal(errorText(dup), `Code: '${code}' is already used by another account.`);
    const mine = await env.send('POST', `/api/v1/${D}/crm/Accounts`, { Name: 'Eigen B.V.', Code: '777001' });
    assert.equal(mine.status, 201, mine.text);
    const again = await env.send('POST', `/api/v1/${D}/crm/Accounts`, { Name: 'Nog een B.V.', Code: '  777001' });
    assert.equal(again.status, 500, 'padding does not make a code different');
    const [other] = results(await env.get(`/api/v1/${D}/crm/Accounts?$select=ID,Code&$skip=6&$top=1`));
    assert.equal((await env.send('PUT', `/api/v1/${D}/crm/Accounts(guid'${String(other.ID)}')`, { Code: code })).status, 500);
    assert.equal((await env.send('PUT', `/api/v1/${D}/crm/Accounts(guid'${String(other.ID)}')`, { Code: String(other.Code).trim() })).status, 204, 'its own code is no conflict');
    assert.equal((await env.send('PUT', `/api/v1/${D}/crm/Accounts(guid'${String(base.ID)}')`, { Code: '777002' })).status, 204);
    assert.equal((await env.send('POST', `/api/v1/${D}/crm/Accounts`, { Name: 'Vrijgekomen B.V.', Code: code })).status, 201, 'a code given up is free again');
  });

  it('checks account references on endpoints without a hand model', async () => {
    const bad = await env.send('POST', `/api/v1/${D}/project/Projects`, { Code: 'V1', Description: 'Test', Type: 2, Account: NOBODY });
    assert.equal(bad.status, 500);
    assert.equal(errorText(bad), `Account: '${NOBODY}' is not an existing account.`);
    const [acc] = results(await env.get(`/api/v1/${D}/crm/Accounts?$select=ID&$top=1`));
    const ok = await env.send('POST', `/api/v1/${D}/project/Projects`, { Code: 'V2', Description: 'Test', Type: 2, Account: acc.ID });
    assert.equal(ok.status, 201, ok.text);
    const id = String((ok.json as { d: { ID: string } }).d.ID);
    assert.equal((await env.send('PUT', `/api/v1/${D}/project/Projects(guid'${id}')`, { Account: NOBODY })).status, 500);
    const quote = await env.send('POST', `/api/v1/${D}/crm/Quotations`, { OrderAccount: NOBODY });
    assert.equal(quote.status, 500);
    assert.match(errorText(quote), /OrderAccount/);
  });

  it('refuses to delete an account with sales invoices, and deletes one without', async () => {
    const [inv] = results(await env.get(`/api/v1/${D}/salesinvoice/SalesInvoices?$select=InvoiceTo&$top=1`));
    const used = await env.send('DELETE', `/api/v1/${D}/crm/Accounts(guid'${String(inv.InvoiceTo)}')`);
    assert.equal(used.status, 500);
    assert.match(errorText(used), /is in use .* cannot be deleted/);
    const fresh = await env.send('POST', `/api/v1/${D}/crm/Accounts`, { Name: 'Los B.V.' });
    const freshId = String((fresh.json as { d: { ID: string } }).d.ID);
    const items = results(await env.get(`/api/v1/${D}/logistics/Items?$select=ID&$top=1`));
    const invoice = await env.send('POST', `/api/v1/${D}/salesinvoice/SalesInvoices`, { OrderedBy: freshId, Journal: '70', SalesInvoiceLines: [{ Item: items[0].ID }] });
    assert.equal(invoice.status, 201, invoice.text);
    assert.equal((await env.send('DELETE', `/api/v1/${D}/crm/Accounts(guid'${freshId}')`)).status, 500, 'a written invoice uses it too');
    const spare = await env.send('POST', `/api/v1/${D}/crm/Accounts`, { Name: 'Vrij B.V.' });
    assert.equal((await env.send('DELETE', `/api/v1/${D}/crm/Accounts(guid'${String((spare.json as { d: { ID: string } }).d.ID)}')`)).status, 204);
  });

  it('refuses to print a draft invoice', async () => {
    const drafts = results(await env.get(`/api/v1/${D}/salesinvoice/SalesInvoices?$select=InvoiceID,Status&$filter=Status eq 10`));
    assert.ok(drafts.length > 0, 'the world has draft invoices');
    const r = await env.send('POST', `/api/v1/${D}/salesinvoice/PrintedSalesInvoices`, { InvoiceID: drafts[0].InvoiceID });
    assert.equal(r.status, 500);
    assert.match(errorText(r), /draft/);
    const [still] = results(await env.get(`/api/v1/${D}/salesinvoice/SalesInvoices(guid'${String(drafts[0].InvoiceID)}')?$select=Status`));
    assert.equal(still.Status, 10);
  });
});

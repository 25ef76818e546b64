/**
 * Writes as Exact Online does them (platform facts): POST with and without
 * Prefer: return=representation, mandatory fields and references failing
 * as HTTP 500 with the reason, PUT and DELETE with empty bodies, sales
 * invoices with nested lines (GL account from the item), PrintedSalesInvoices
 * processing an invoice, processed invoices refusing changes, Timestamps
 * bumped on every write, deletions in sync/Deleted, SyncTimestamp.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../../src/util/clock.js';
import { call, errorText, results, setup } from './helpers.js';

describe('Exact simulator writes', () => {
  let env: Awaited<ReturnType<typeof setup>>;
  const D = 102673;
  const clock = new ManualClock(Date.UTC(2026, 10, 25, 10, 0, 0));

  before(async () => {
    env = await setup({ clock, accountsPerDivision: 20, transactionLinesPerDivision: 200 });
  });
  after(async () => {
    await env.sim.close();
  });

  const maxTimestamp = async (url: string) => {
    let ts = 0;
    let next: string | undefined = `/api/v1/${D}/${url}?$select=ID,Timestamp&$filter=Timestamp gt 0L`;
    while (next) {
      const r = await env.get(next);
      for (const row of results(r)) ts = Math.max(ts, Number(row.Timestamp));
      next = (r.json as { d: { __next?: string } }).d.__next;
    }
    return ts;
  };

  it('creates an account, pads its code, and returns only the sent fields without Prefer', async () => {
    const r = await env.send('POST', `/api/v1/${D}/crm/Accounts`, { Name: 'Nieuwe Klant B.V.', Code: '4711', City: 'Utrecht', Country: 'NL' });
    assert.equal(r.status, 201, r.text);
    const d = (r.json as { d: Record<string, unknown> }).d;
    assert.equal(typeof d.ID, 'string');
    assert.equal(d.Name, 'Nieuwe Klant B.V.');
    assert.equal(d.Status, undefined, 'only the sent fields without return=representation');
    const full = await env.send('POST', `/api/v1/${D}/crm/Accounts`, { Name: 'Volledig B.V.' }, { Prefer: 'return=representation' });
    const fd = (full.json as { d: Record<string, unknown> }).d;
    assert.equal(fd.Status, 'C');
    assert.equal(String(fd.Code).length, 18);
    const back = results(await env.get(`/api/v1/${D}/crm/Accounts(guid'${String(d.ID)}')?$select=Code,Country,Name`));
    assert.deepEqual(back.map((x) => [x.Code, x.Country]), [['              4711', 'NL ']]);
    const count = await env.get(`/api/v1/${D}/crm/Accounts/$count`);
    assert.equal(count.text, '22');
  });

  it('refuses missing mandatory fields and unknown references with HTTP 500 and the reason', async () => {
    const noName = await env.send('POST', `/api/v1/${D}/crm/Accounts`, { City: 'Delft' });
    assert.equal(noName.status, 500);
    assert.match(errorText(noName), /Name/);
    const noPerson = await env.send('POST', `/api/v1/${D}/crm/Contacts`, { Account: '00000000-0000-4000-8000-000000000000', Email: 'x@y.nl' });
    assert.equal(noPerson.status, 500);
    const badRef = await env.send('POST', `/api/v1/${D}/crm/Contacts`, { Account: '00000000-0000-4000-8000-000000000000', LastName: 'Jansen' });
    assert.equal(badRef.status, 500);
    assert.match(errorText(badRef), /Account/);
    const unknownField = await env.send('POST', `/api/v1/${D}/crm/Accounts`, { Name: 'X', Bogus: 1 });
    assert.equal(unknownField.status, 400);
    const badType = await env.send('POST', `/api/v1/${D}/crm/Accounts`, { Name: 'X', Blocked: 'yes' });
    assert.equal(badType.status, 400);
    const notAllowed = await env.send('POST', `/api/v1/${D}/financialtransaction/TransactionLines`, { Description: 'x' });
    assert.equal(notAllowed.status, 405);
  });

  it('updates with PUT and deletes with DELETE, both with empty bodies; Timestamps move and deletions reach sync/Deleted', async () => {
    const [acc] = results(await env.get(`/api/v1/${D}/crm/Accounts?$select=ID,Name&$top=1`));
    const before = await maxTimestamp('sync/CRM/Accounts');
    clock.advance(60_000);
    const put = await env.send('PUT', `/api/v1/${D}/crm/Accounts(guid'${String(acc.ID)}')`, { Name: 'Hernoemd B.V.' });
    assert.equal(put.status, 204);
    assert.equal(put.text, '');
    // The same query as before the change shows the new value (no stale rendering).
    assert.deepEqual(results(await env.get(`/api/v1/${D}/crm/Accounts?$select=ID,Name&$top=1`)).map((x) => x.Name), ['Hernoemd B.V.']);
    const after1 = await env.get(`/api/v1/${D}/sync/CRM/Accounts?$select=ID,Name,Timestamp&$filter=Timestamp gt ${before}L`);
    const changed = results(after1);
    assert.deepEqual(changed.map((x) => [x.ID, x.Name]), [[acc.ID, 'Hernoemd B.V.']]);
    assert.ok(Number(changed[0].Timestamp) > before);
    const [c] = results(await env.get(`/api/v1/${D}/crm/Contacts?$select=ID&$top=1`));
    const del = await env.send('DELETE', `/api/v1/${D}/crm/Contacts(guid'${String(c.ID)}')`);
    assert.equal(del.status, 204);
    assert.equal(del.text, '');
    assert.deepEqual(results(await env.get(`/api/v1/${D}/crm/Contacts(guid'${String(c.ID)}')`)), []);
    const deleted = results(await env.get(`/api/v1/${D}/sync/Deleted?$select=EntityKey,EntityType,Timestamp,DeletedDate&$filter=Timestamp gt 0L`));
    const mine = deleted.find((x) => x.EntityKey === c.ID) as Record<string, unknown>;
    assert.equal(mine.EntityType, 5, 'Contacts is EntityType 5');
    assert.ok(Number(mine.Timestamp) > Number(changed[0].Timestamp));
    assert.equal((await env.send('DELETE', `/api/v1/${D}/crm/Contacts(guid'${String(c.ID)}')`)).status, 404);
    const st = results(await env.get(`/api/v1/${D}/read/sync/Sync/SyncTimestamp?modified=datetime'2026-11-25T10:00:30'`));
    const ts = Number(st[0].TimeStampAsBigInt);
    assert.ok(ts < Number(changed[0].Timestamp));
    const since = results(await env.get(`/api/v1/${D}/sync/CRM/Accounts?$select=ID&$filter=Timestamp gt ${ts}L`));
    assert.ok(since.some((x) => x.ID === acc.ID));
  });

  it('creates a sales invoice with nested lines, defaults the GL account from the item, and processes it', async () => {
    const [customer] = results(await env.get(`/api/v1/${D}/crm/Accounts?$select=ID,Email&$filter=Status eq 'C'&$top=1`));
    const items = results(await env.get(`/api/v1/${D}/logistics/Items?$select=ID,GLRevenue,StandardSalesPrice&$top=2`));
    const r = await env.send(
      'POST',
      `/api/v1/${D}/salesinvoice/SalesInvoices`,
      {
        OrderedBy: customer.ID,
        Journal: '70',
        Description: 'Test',
        SalesInvoiceLines: [
          { Item: items[0].ID, Quantity: 2 },
          { Item: items[1].ID, Quantity: 1, UnitPrice: 10 },
        ],
      },
      { Prefer: 'return=representation' },
    );
    assert.equal(r.status, 201, r.text);
    const inv = (r.json as { d: Record<string, unknown> }).d;
    assert.equal(inv.Status, 20);
    assert.equal(inv.InvoiceNumber, null);
    assert.equal(inv.InvoiceTo, customer.ID);
    const lines = (inv.SalesInvoiceLines as { results: Record<string, unknown>[] }).results;
    assert.equal(lines.length, 2);
    assert.equal(lines[0].GLAccount, items[0].GLRevenue);
    assert.equal(lines[1].AmountFC, 10);
    assert.ok(Math.abs(Number(inv.AmountFC) - lines.reduce((s, l) => s + Number(l.AmountFC) + Number(l.VATAmountFC), 0)) < 0.01);

    const noLines = await env.send('POST', `/api/v1/${D}/salesinvoice/SalesInvoices`, { OrderedBy: customer.ID, Journal: '70', SalesInvoiceLines: [] });
    assert.equal(noLines.status, 500);
    const badCustomer = await env.send('POST', `/api/v1/${D}/salesinvoice/SalesInvoices`, { OrderedBy: '00000000-0000-4000-8000-000000000001', Journal: '70', SalesInvoiceLines: [{ Item: items[0].ID }] });
    assert.equal(badCustomer.status, 500);
    assert.match(errorText(badCustomer), /OrderedBy/);
    const noJournal = await env.send('POST', `/api/v1/${D}/salesinvoice/SalesInvoices`, { OrderedBy: customer.ID, SalesInvoiceLines: [{ Item: items[0].ID }] });
    assert.equal(noJournal.status, 500);

    const edit = await env.send('PUT', `/api/v1/${D}/salesinvoice/SalesInvoices(guid'${String(inv.InvoiceID)}')`, { Description: 'Aangepast' });
    assert.equal(edit.status, 204);

    const printed = await env.send('POST', `/api/v1/${D}/salesinvoice/PrintedSalesInvoices`, { InvoiceID: inv.InvoiceID, SendEmailToCustomer: true, SenderEmailAddress: 'factuur@demo.nl' });
    assert.equal(printed.status, 201, printed.text);
    const p = (printed.json as { d: Record<string, unknown> }).d;
    assert.equal(typeof p.DocumentCreationSuccess, 'string');
    if (String(customer.Email ?? '').includes('@')) {
      assert.equal(p.EmailCreationSuccess, `The invoice has been sent by e-mail to ${String(customer.Email)}.`);
      assert.equal(p.EmailCreationError, null);
    } else {
      assert.equal(p.EmailCreationSuccess, null);
      assert.equal(p.EmailCreationError, 'The customer has no e-mail address.');
    }
    assert.equal(p.SendEmailToCustomer, true);
    const [after] = results(await env.get(`/api/v1/${D}/salesinvoice/SalesInvoices(guid'${String(inv.InvoiceID)}')?$select=Status,InvoiceNumber,Description`));
    assert.equal(after.Status, 50);
    assert.equal(typeof after.InvoiceNumber, 'number');
    assert.equal(after.Description, 'Aangepast');

    const tl = results(await env.get(`/api/v1/${D}/financialtransaction/TransactionLines?$select=AmountDC,GLAccountCode&$filter=InvoiceNumber eq ${Number(after.InvoiceNumber)} and FinancialYear ge 2000`));
    assert.equal(tl.length, 4, 'debtor, two revenue lines, VAT');
    assert.ok(Math.abs(tl.reduce((s, x) => s + Number(x.AmountDC), 0)) < 0.005);

    const again = await env.send('PUT', `/api/v1/${D}/salesinvoice/SalesInvoices(guid'${String(inv.InvoiceID)}')`, { Description: 'Nogmaals' });
    assert.equal(again.status, 500);
    assert.match(errorText(again), /processed/);
    const delProcessed = await env.send('DELETE', `/api/v1/${D}/salesinvoice/SalesInvoices(guid'${String(inv.InvoiceID)}')`);
    assert.equal(delProcessed.status, 500);
    const reprint = await env.send('POST', `/api/v1/${D}/salesinvoice/PrintedSalesInvoices`, { InvoiceID: inv.InvoiceID });
    assert.equal(reprint.status, 500);
  });

  it('reports the e-mail outcome of printing per customer, numbers invoices apart, and refuses changes to a processed invoice\'s lines', async () => {
    const [item] = results(await env.get(`/api/v1/${D}/logistics/Items?$select=ID&$top=1`));
    const account = async (body: Record<string, unknown>) => String(((await env.send('POST', `/api/v1/${D}/crm/Accounts`, body)).json as { d: { ID: string } }).d.ID);
    const withMail = await account({ Name: 'Met Mail B.V.', Email: 'administratie@metmail.nl' });
    const withoutMail = await account({ Name: 'Zonder Mail B.V.' });
    const invoice = async (customer: string) => {
      const r = await env.send('POST', `/api/v1/${D}/salesinvoice/SalesInvoices`, { OrderedBy: customer, Journal: '70', SalesInvoiceLines: [{ Item: item.ID, Quantity: 1, UnitPrice: 100 }] }, { Prefer: 'return=representation' });
      assert.equal(r.status, 201, r.text);
      const d = (r.json as { d: { InvoiceID: string; SalesInvoiceLines: { results: { ID: string }[] } } }).d;
      return { id: d.InvoiceID, line: d.SalesInvoiceLines.results[0].ID };
    };
    const print = async (id: string, send: boolean) => {
      const r = await env.send('POST', `/api/v1/${D}/salesinvoice/PrintedSalesInvoices`, { InvoiceID: id, SendEmailToCustomer: send });
      assert.equal(r.status, 201, r.text);
      return (r.json as { d: Record<string, unknown> }).d;
    };
    const a = await invoice(withMail);
    const b = await invoice(withoutMail);
    const c = await invoice(withoutMail);
    const pa = await print(a.id, true);
    assert.equal(pa.EmailCreationSuccess, 'The invoice has been sent by e-mail to administratie@metmail.nl.');
    assert.equal(pa.EmailCreationError, null);
    const pb = await print(b.id, true);
    assert.equal(pb.EmailCreationSuccess, null);
    assert.equal(pb.EmailCreationError, 'The customer has no e-mail address.');
    const pc = await print(c.id, false);
    assert.equal(pc.EmailCreationSuccess, null, 'no e-mail asked, none sent');
    assert.equal(pc.EmailCreationError, null);
    for (const p of [pa, pb, pc]) assert.equal(p.DocumentCreationSuccess, 'The invoice document has been created.');

    const numbers = [];
    for (const inv of [a, b, c]) {
      const [row] = results(await env.get(`/api/v1/${D}/salesinvoice/SalesInvoices(guid'${inv.id}')?$select=Status,InvoiceNumber`));
      assert.equal(row.Status, 50);
      numbers.push(row.InvoiceNumber);
    }
    assert.equal(new Set(numbers).size, 3, `each processed invoice gets its own number: ${numbers.join(', ')}`);

    // Processed is immutable (platform facts): its lines too.
    const putLine = await env.send('PUT', `/api/v1/${D}/salesinvoice/SalesInvoiceLines(guid'${a.line}')`, { Quantity: 5 });
    assert.equal(putLine.status, 500, putLine.text);
    assert.equal(errorText(putLine), 'The invoice has been processed and can no longer be changed.');
    const delLine = await env.send('DELETE', `/api/v1/${D}/salesinvoice/SalesInvoiceLines(guid'${a.line}')`);
    assert.equal(delLine.status, 500, delLine.text);
    const addLine = await env.send('POST', `/api/v1/${D}/salesinvoice/SalesInvoiceLines`, { InvoiceID: a.id, Item: item.ID, Quantity: 1 });
    assert.equal(addLine.status, 500, addLine.text);
    assert.equal(errorText(addLine), 'The invoice has been processed and can no longer be changed.');
    const [line] = results(await env.get(`/api/v1/${D}/salesinvoice/SalesInvoiceLines(guid'${a.line}')?$select=Quantity`));
    assert.equal(line.Quantity, 1, 'the line is unchanged');
  });

  it('stores writes on unmodelled endpoints that allow them, checking their mandatory fields', async () => {
    const missing = await env.send('POST', `/api/v1/${D}/project/Projects`, { Code: 'P1', Description: 'Verbouwing' });
    assert.equal(missing.status, 500);
    assert.match(errorText(missing), /Type/);
    const r = await env.send('POST', `/api/v1/${D}/project/Projects`, { Code: 'P1', Description: 'Verbouwing', Type: 2 }, { Prefer: 'return=representation' });
    assert.equal(r.status, 201, r.text);
    const id = String((r.json as { d: Record<string, unknown> }).d.ID);
    assert.deepEqual(results(await env.get(`/api/v1/${D}/project/Projects?$select=ID,Code`)).map((x) => [x.ID, x.Code]), [[id, 'P1']]);
    assert.equal((await env.send('PUT', `/api/v1/${D}/project/Projects(guid'${id}')`, { Description: 'Nieuw' })).status, 204);
    assert.equal((await env.send('DELETE', `/api/v1/${D}/project/Projects(guid'${id}')`)).status, 204);
    assert.deepEqual(results(await env.get(`/api/v1/${D}/project/Projects?$select=ID`)), []);
  });
});

describe('Exact simulator division move', () => {
  it('sets DivisionMoveDate and regenerates every Timestamp above the old ones', async () => {
    const env = await setup({ accountsPerDivision: 10 });
    try {
      const D = 102673;
      const sync = async (after: number) => results(await env.get(`/api/v1/${D}/sync/CRM/Accounts?$select=ID,Timestamp&$filter=Timestamp gt ${after}L`));
      const created = await env.send('POST', `/api/v1/${D}/crm/Accounts`, { Name: 'Voor de verhuizing B.V.' });
      assert.equal(created.status, 201);
      const before = await sync(0);
      assert.equal(before.length, 11);
      const high = Math.max(...before.map((r) => Number(r.Timestamp)));
      assert.deepEqual(await sync(high), []);
      const [div0] = results(await env.get(`/api/v1/${D}/system/Divisions?$select=Code,DivisionMoveDate&$filter=Code eq ${D}`));
      assert.equal(div0.DivisionMoveDate, null);
      const moved = await call(`${env.sim.baseUrl}/__sim/move-division?division=${D}`, { method: 'POST' });
      assert.equal(moved.status, 200);
      const [div1] = results(await env.get(`/api/v1/${D}/system/Divisions?$select=Code,DivisionMoveDate&$filter=Code eq ${D}`));
      assert.match(String(div1.DivisionMoveDate), /^\/Date\(\d+\)\/$/);
      const after = await sync(high);
      assert.equal(after.length, 11, 'a client that kept the old Timestamp sees everything again');
      assert.deepEqual(after.map((r) => r.ID).sort(), before.map((r) => r.ID).sort());
      for (const r of after) assert.ok(Number(r.Timestamp) > high);
      const other = env.sim.divisions().find((d) => d !== D) as number;
      const untouched = results(await env.get(`/api/v1/${other}/sync/CRM/Accounts?$select=ID,Timestamp&$filter=Timestamp gt ${high}L`));
      assert.deepEqual(untouched, []);
    } finally {
      await env.sim.close();
    }
  });
});

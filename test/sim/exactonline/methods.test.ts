/**
 * Methods and keys as Exact answers them (platform facts): POST-only
 * endpoints refuse GET with 405; an action on an entity (AcceptQuotation,
 * CompleteSalesOrder, …) needs an existing one and fails as a validation
 * error (HTTP 500 with the reason) otherwise; a malformed key literal is a
 * 400 in Exact's error body; `$expand` of invoice lines works in XML too.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { errorText, results, setup } from './helpers.js';

describe('Exact simulator methods and keys', () => {
  let env: Awaited<ReturnType<typeof setup>>;
  const D = 102673;

  before(async () => {
    env = await setup({ accountsPerDivision: 10, transactionLinesPerDivision: 50 });
  });
  after(async () => {
    await env.sim.close();
  });

  it('answers GET on POST-only endpoints with 405 in Exact\'s error body', async () => {
    for (const url of ['salesinvoice/PrintedSalesInvoices', 'crm/AcceptQuotation', 'salesorder/CompleteSalesOrder']) {
      const r = await env.get(`/api/v1/${D}/${url}`);
      assert.equal(r.status, 405, `${url}: ${r.text}`);
      assert.equal(errorText(r), "The requested resource does not support http method 'GET'.");
    }
    const put = await env.send('PUT', `/api/v1/${D}/crm/AcceptQuotation`, {});
    assert.equal(put.status, 405);
  });

  it('refuses an action on an unknown or missing entity with HTTP 500 and the reason, and performs it on a real one', async () => {
    const bogus = await env.send('POST', `/api/v1/${D}/crm/AcceptQuotation`, { QuotationID: '00000000-0000-4000-8000-00000000abcd', Action: 0 });
    assert.equal(bogus.status, 500, bogus.text);
    assert.match(errorText(bogus), /QuotationID: '00000000-0000-4000-8000-00000000abcd' is not an existing quotation/);
    const missing = await env.send('POST', `/api/v1/${D}/crm/AcceptQuotation`, { Action: 0 });
    assert.equal(missing.status, 500);
    assert.equal(errorText(missing), 'Mandatory: QuotationID.');
    const order = await env.send('POST', `/api/v1/${D}/salesorder/CompleteSalesOrder`, { OrderID: '00000000-0000-4000-8000-00000000abcd' });
    assert.equal(order.status, 500);
    assert.match(errorText(order), /OrderID/);
    const assembly = await env.send('POST', `/api/v1/${D}/inventory/FinishAssemblyOrder`, { AssemblyOrder: '00000000-0000-4000-8000-00000000abcd', FinishOrderQuantity: 1 });
    assert.equal(assembly.status, 500);
    assert.match(errorText(assembly), /^AssemblyOrder: '00000000-0000-4000-8000-00000000abcd' is not an existing assembly order\.$/);

    const [account] = results(await env.get(`/api/v1/${D}/crm/Accounts?$select=ID&$top=1`));
    const q = await env.send('POST', `/api/v1/${D}/crm/Quotations`, { OrderAccount: account.ID, Description: 'Offerte' });
    assert.equal(q.status, 201, q.text);
    const qid = String((q.json as { d: { QuotationID: string } }).d.QuotationID);
    const accepted = await env.send('POST', `/api/v1/${D}/crm/AcceptQuotation`, { QuotationID: qid, Action: 0 });
    assert.equal(accepted.status, 201, accepted.text);
    assert.equal((accepted.json as { d: { QuotationID: string } }).d.QuotationID, qid);
  });

  it('refuses actions keyed by a plain ID (CompleteSalesOrderLine, ProcessPayments, InvoiceSalesOrders) on unknown or missing entities with HTTP 500', async () => {
    const BOGUS = '00000000-0000-4000-8000-00000000beef';
    const line = await env.send('POST', `/api/v1/${D}/salesorder/CompleteSalesOrderLine`, { ID: BOGUS, CompleteDelivery: true });
    assert.equal(line.status, 500, line.text);
    assert.equal(errorText(line), `ID: '${BOGUS}' is not an existing sales order line.`);
    const noLine = await env.send('POST', `/api/v1/${D}/salesorder/CompleteSalesOrderLine`, { CompleteDelivery: true });
    assert.equal(noLine.status, 500, noLine.text);
    assert.equal(errorText(noLine), 'Mandatory: ID.');
    const notAGuid = await env.send('POST', `/api/v1/${D}/salesorder/CompleteSalesOrderLine`, { ID: 'line-1' });
    assert.equal(notAGuid.status, 400, 'a malformed Guid in the body is a 400 like other wrong types');

    for (const body of [{ PaymentIDs: [{ ID: BOGUS }] }, { PaymentIDs: { results: [{ ID: BOGUS }] } }]) {
      const pay = await env.send('POST', `/api/v1/${D}/cashflow/ProcessPayments`, body);
      assert.equal(pay.status, 500, pay.text);
      assert.equal(errorText(pay), `PaymentIDs: '${BOGUS}' is not an existing payment.`);
    }
    for (const body of [{}, { PaymentIDs: [] }]) {
      const none = await env.send('POST', `/api/v1/${D}/cashflow/ProcessPayments`, body);
      assert.equal(none.status, 500, none.text);
      assert.equal(errorText(none), 'Mandatory: PaymentIDs.');
    }
    const inv = await env.send('POST', `/api/v1/${D}/salesinvoice/InvoiceSalesOrders`, { CreateMode: 0, InvoiceMode: 0, JournalCode: '70', SalesOrderIDs: [{ ID: BOGUS }] });
    assert.equal(inv.status, 500, inv.text);
    assert.equal(errorText(inv), `SalesOrderIDs: '${BOGUS}' is not an existing sales order.`);

    // On real entities the actions are performed (201).
    const [account] = results(await env.get(`/api/v1/${D}/crm/Accounts?$select=ID&$top=1`));
    const [item] = results(await env.get(`/api/v1/${D}/logistics/Items?$select=ID&$top=1`));
    const order = await env.send('POST', `/api/v1/${D}/salesorder/SalesOrders`, { OrderedBy: account.ID });
    assert.equal(order.status, 201, order.text);
    const orderId = String((order.json as { d: { OrderID: string } }).d.OrderID);
    const ol = await env.send('POST', `/api/v1/${D}/salesorder/SalesOrderLines`, { OrderID: orderId, Item: item.ID, Quantity: 2 });
    assert.equal(ol.status, 201, ol.text);
    const lineId = String((ol.json as { d: { ID: string } }).d.ID);
    const done = await env.send('POST', `/api/v1/${D}/salesorder/CompleteSalesOrderLine`, { ID: lineId, CompleteDelivery: true });
    assert.equal(done.status, 201, done.text);
    const invoiced = await env.send('POST', `/api/v1/${D}/salesinvoice/InvoiceSalesOrders`, { CreateMode: 0, InvoiceMode: 0, JournalCode: '70', SalesOrderIDs: [{ ID: orderId }] });
    assert.equal(invoiced.status, 201, invoiced.text);
    const mixed = await env.send('POST', `/api/v1/${D}/salesinvoice/InvoiceSalesOrders`, { CreateMode: 0, InvoiceMode: 0, JournalCode: '70', SalesOrderIDs: [{ ID: orderId }, { ID: BOGUS }] });
    assert.equal(mixed.status, 500, 'every named order must exist');
  });

  it('answers a malformed key literal with 400 in Exact\'s error body, not 200', async () => {
    for (const key of ["guid'xyz'", "guid'1234'", "'not-a-guid'", '42']) {
      const r = await env.get(`/api/v1/${D}/crm/Accounts(${key})?$select=ID`);
      assert.equal(r.status, 400, `${key}: ${r.text}`);
      assert.equal(errorText(r), 'Bad Request - Error in query syntax.');
    }
    const put = await env.send('PUT', `/api/v1/${D}/crm/Accounts(guid'xyz')`, { Name: 'X' });
    assert.equal(put.status, 400);
    const unknown = await env.get(`/api/v1/${D}/crm/Accounts(guid'00000000-0000-4000-8000-00000000abcd')?$select=ID`);
    assert.equal(unknown.status, 200, 'a well-formed unknown key is an empty result');
    assert.deepEqual(results(unknown), []);
    const div = await env.get(`/api/v1/${D}/system/Divisions(${D})?$select=Code`);
    assert.equal(div.status, 200, 'an Int32 key takes a number');
    assert.deepEqual(results(div).map((r) => r.Code), [D]);
  });

  it('expands invoice lines inline in XML as in JSON', async () => {
    const [inv] = results(await env.get(`/api/v1/${D}/salesinvoice/SalesInvoices?$select=InvoiceID&$top=1`));
    const json = await env.get(`/api/v1/${D}/salesinvoice/SalesInvoices(guid'${String(inv.InvoiceID)}')?$select=InvoiceID,SalesInvoiceLines&$expand=SalesInvoiceLines`);
    const lines = (results(json)[0].SalesInvoiceLines as { results: Record<string, unknown>[] }).results;
    assert.ok(lines.length > 0);
    const xml = await env.get(`/api/v1/${D}/salesinvoice/SalesInvoices(guid'${String(inv.InvoiceID)}')?$select=InvoiceID,SalesInvoiceLines&$expand=SalesInvoiceLines`, { Accept: 'application/xml' });
    assert.equal(xml.status, 200);
    assert.match(xml.text, /<m:inline><feed>/);
    assert.equal((xml.text.match(/<entry>/g) ?? []).length, 1 + lines.length, 'the invoice and each of its lines');
    for (const l of lines) assert.ok(xml.text.includes(`<d:ID m:type="Edm.Guid">${String(l.ID)}</d:ID>`), String(l.ID));
    const plain = await env.get(`/api/v1/${D}/salesinvoice/SalesInvoices(guid'${String(inv.InvoiceID)}')?$select=InvoiceID,SalesInvoiceLines`, { Accept: 'application/xml' });
    assert.doesNotMatch(plain.text, /<m:inline>/);
    assert.equal((plain.text.match(/<entry>/g) ?? []).length, 1);
  });
});

/**
 * Writes whose outcome is unclear, against the simulator behind a fault
 * proxy that fails exactly the POST a test names: the row is looked up
 * precisely (every value sent plus Created since the POST), an older similar
 * row is never taken for it, a POST-only endpoint is never re-sent, and a
 * 2xx with a broken body is an unclear outcome, not a failure.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { RowResult } from '../../../src/provider/types.js';
import type { ExactContainer } from '../../../src/providers/exactonline/index.js';
import { startExactSimulator, type ExactSimulator } from '../../../src/sim/exactonline/index.js';
import { connectSim, readAll, startFaultProxy, table, testEnv, type Fault, type FaultProxy, type TestEnv } from './helpers.js';

const signal = new AbortController().signal;

/** The proxy in front of the simulator: fails exactly the POSTs a test plans, per path. */
interface PostFaults {
  readonly proxy: FaultProxy;
  /** POSTs seen per path (after the division), e.g. `salesinvoice/SalesInvoices`. */
  readonly posts: Map<string, number>;
  /** Faults for the next POSTs to a path, used up in order. */
  fail(path: string, ...faults: Fault[]): void;
}

async function startPostFaults(target: string): Promise<PostFaults> {
  const posts = new Map<string, number>();
  const planned = new Map<string, Fault[]>();
  const proxy = await startFaultProxy(target, ({ method, url }) => {
    if (method !== 'POST' || !url.startsWith('/api/v1/')) return 'pass';
    const path = url.split('?')[0].replace(/^\/api\/v1\/\d+\//, '');
    posts.set(path, (posts.get(path) ?? 0) + 1);
    return planned.get(path)?.shift() ?? 'pass';
  });
  return { proxy, posts, fail: (path, ...faults) => planned.set(path, [...(planned.get(path) ?? []), ...faults]) };
}

async function collect(it: AsyncIterable<RowResult>): Promise<RowResult[]> {
  const out: RowResult[] = [];
  for await (const r of it) out.push(r);
  return out;
}

describe('unclear outcomes of writes', () => {
  let sim: ExactSimulator;
  let proxy: PostFaults;
  let env: TestEnv;
  let c: ExactContainer;

  before(async () => {
    sim = await startExactSimulator({ port: 0, divisions: 1, accountsPerDivision: 30, rateLimits: false });
    proxy = await startPostFaults(sim.baseUrl);
    env = testEnv();
    // A short settle period (default 15 s): long enough for the 504-late fault, which forwards after 300 ms.
    c = await connectSim({ baseUrl: proxy.proxy.baseUrl, clientId: sim.clientId, clientSecret: sim.clientSecret, redirectUri: sim.redirectUri, issueRefreshToken: () => sim.issueRefreshToken() }, env, 'eol', {
      'unclear-post-settle-ms': '1000',
    });
  });
  after(async () => {
    await c.close();
    await proxy.proxy.close();
    await sim.close();
    env.cleanup();
  });

  /** An account that already has an invoice in journal 70, and an item to invoice. */
  async function invoiceFixture() {
    const [p] = await c.partitions(signal);
    const old = (await readAll(c, 'SalesInvoices', { columns: ['InvoiceID', 'OrderedBy'], limit: 1 }, [p])).rows[0];
    const item = (await readAll(c, 'Items', { columns: ['ID'], limit: 1 }, [p])).rows[0][0];
    const lines = JSON.stringify([{ Item: item, Quantity: 3, UnitPrice: 12.5 }]);
    const invoicesOf = async (account: unknown) =>
      (await readAll(c, 'SalesInvoices', { columns: ['InvoiceID'], conjuncts: [{ kind: 'compare', column: 'OrderedBy', op: '=', value: account as string }] }, [p])).rows.map((r) => String(r[0]));
    return { p, oldInvoice: String(old[0]), account: old[1], lines, invoicesOf };
  }

  test('a POST dropped before it arrived is not mistaken for an older similar invoice: it is looked up, found absent and sent again', async () => {
    const { p, oldInvoice, account, lines, invoicesOf } = await invoiceFixture();
    const before = await invoicesOf(account);
    assert.ok(before.includes(oldInvoice));
    proxy.posts.clear();
    proxy.fail('salesinvoice/SalesInvoices', 'drop');
    const [r] = await collect(c.write(table(c, 'SalesInvoices'), { op: 'insert', rows: { columns: ['OrderedBy', 'Journal', 'SalesInvoiceLines'], rows: [[account, '70', lines]] }, partition: p, signal }));
    assert.equal(r.ok, true, r.message);
    const afterIds = await invoicesOf(account);
    assert.equal(afterIds.length, before.length + 1, 'exactly one new invoice');
    const created = afterIds.filter((id) => !before.includes(id));
    assert.deepEqual([String(r.returned?.InvoiceID)], created, 'the reported invoice is the new one, not an older one of the same account');
    assert.equal(proxy.posts.get('salesinvoice/SalesInvoices'), 2, 'sent again only after the lookup found nothing');
  });

  test('a POST whose answer was lost is found by the lookup and not sent again', async () => {
    const { p, account, lines, invoicesOf } = await invoiceFixture();
    const before = await invoicesOf(account);
    proxy.posts.clear();
    proxy.fail('salesinvoice/SalesInvoices', 'lose-answer');
    const [r] = await collect(
      c.write(table(c, 'SalesInvoices'), { op: 'insert', rows: { columns: ['OrderedBy', 'Journal', 'YourRef', 'Description', 'SalesInvoiceLines'], rows: [[account, '70', 'PO-LOST-1', 'Lost answer', lines]] }, partition: p, signal }),
    );
    assert.equal(r.ok, true, r.message);
    const created = (await invoicesOf(account)).filter((id) => !before.includes(id));
    assert.equal(created.length, 1);
    assert.equal(String(r.returned?.InvoiceID), created[0]);
    assert.equal(r.returned?.YourRef, 'PO-LOST-1');
    assert.equal(proxy.posts.get('salesinvoice/SalesInvoices'), 1);
  });

  test('a 201 whose body is cut off is an unclear outcome: looked up and found, not a failure', async () => {
    const { p } = await invoiceFixture();
    proxy.posts.clear();
    proxy.fail('crm/Accounts', 'break-body');
    const [r] = await collect(c.write(table(c, 'Accounts'), { op: 'insert', rows: { columns: ['Code', 'Name'], rows: [['991001', 'Broken Body B.V.']] }, partition: p, signal }));
    assert.equal(r.ok, true, r.message);
    assert.match(String(r.returned?.ID), /^[0-9a-f-]{36}$/);
    assert.equal(proxy.posts.get('crm/Accounts'), 1);
    const stored = await readAll(c, 'Accounts', { columns: ['ID'], conjuncts: [{ kind: 'compare', column: 'Code', op: '=', value: '991001' }] }, [p]);
    assert.deepEqual(stored.rows.map((x) => x[0]), [r.returned?.ID]);
  });

  test('a 503 to a POST is unclear: looked up, found absent, sent once more', async () => {
    const { p } = await invoiceFixture();
    proxy.posts.clear();
    proxy.fail('crm/Accounts', '503');
    const [r] = await collect(c.write(table(c, 'Accounts'), { op: 'insert', rows: { columns: ['Code', 'Name'], rows: [['991002', 'Gateway B.V.']] }, partition: p, signal }));
    assert.equal(r.ok, true, r.message);
    assert.equal(proxy.posts.get('crm/Accounts'), 2);
    const stored = await readAll(c, 'Accounts', { columns: ['ID'], conjuncts: [{ kind: 'compare', column: 'Code', op: '=', value: '991002' }] }, [p]);
    assert.equal(stored.rows.length, 1);
  });

  test('a gateway timeout while Exact still creates the row: not found at once, found after the settle period, not sent again', async () => {
    const { p } = await invoiceFixture();
    proxy.posts.clear();
    proxy.fail('crm/Accounts', '504-late');
    const [r] = await collect(c.write(table(c, 'Accounts'), { op: 'insert', rows: { columns: ['Code', 'Name'], rows: [['991003', 'Traag B.V.']] }, partition: p, signal }));
    assert.equal(r.ok, true, r.message);
    assert.equal(proxy.posts.get('crm/Accounts'), 1, 'not re-sent');
    const stored = await readAll(c, 'Accounts', { columns: ['ID'], conjuncts: [{ kind: 'compare', column: 'Code', op: '=', value: '991003' }] }, [p]);
    assert.deepEqual(stored.rows.map((x) => x[0]), [r.returned?.ID], 'exactly one account, the one reported');
  });

  test('a POST-only endpoint (PrintedSalesInvoices) is never re-sent: the row is reported as outcome unknown', async () => {
    const { p, account, lines } = await invoiceFixture();
    const [inv] = await collect(c.write(table(c, 'SalesInvoices'), { op: 'insert', rows: { columns: ['OrderedBy', 'Journal', 'YourRef', 'SalesInvoiceLines'], rows: [[account, '70', 'PO-PRINT-1', lines]] }, partition: p, signal }));
    assert.equal(inv.ok, true, inv.message);
    proxy.posts.clear();
    proxy.fail('salesinvoice/PrintedSalesInvoices', 'lose-answer');
    const [r] = await collect(c.write(table(c, 'PrintedSalesInvoices'), { op: 'insert', rows: { columns: ['InvoiceID', 'SendEmailToCustomer'], rows: [[inv.returned?.InvoiceID as string, false]] }, partition: p, signal }));
    assert.equal(r.ok, false);
    assert.equal(r.code, 'EOL063');
    assert.match(String(r.message), /outcome of the POST is unknown .*not re-sent.*POST only.*Check division \d+/);
    assert.equal(proxy.posts.get('salesinvoice/PrintedSalesInvoices'), 1, 'not re-sent');
    // The lost answer hid a success: the invoice was processed once.
    const status = await readAll(c, 'SalesInvoices', { columns: ['Status'], conjuncts: [{ kind: 'compare', column: 'InvoiceID', op: '=', value: inv.returned?.InvoiceID as string }] }, [p]);
    assert.equal(status.rows[0][0], 50);
  });

  test('two rows created since the POST that both match what was sent leave the outcome unknown (no guess, no re-send)', async () => {
    const { p } = await invoiceFixture();
    const t = table(c, 'Contacts');
    const account = (await readAll(c, 'Accounts', { columns: ['ID'], limit: 1 }, [p])).rows[0][0] as string;
    const [first] = await collect(c.write(t, { op: 'insert', rows: { columns: ['Account', 'FirstName', 'LastName'], rows: [[account, 'Twin', 'Unclear']] }, partition: p, signal }));
    assert.equal(first.ok, true, first.message);
    proxy.posts.clear();
    proxy.fail('crm/Contacts', 'lose-answer');
    const [r] = await collect(c.write(t, { op: 'insert', rows: { columns: ['Account', 'FirstName', 'LastName'], rows: [[account, 'Twin', 'Unclear']] }, partition: p, signal }));
    assert.equal(r.ok, false);
    assert.equal(r.code, 'EOL063');
    assert.match(String(r.message), /2 rows created around the time of the POST match/);
    assert.equal(proxy.posts.get('crm/Contacts'), 1);
  });
});

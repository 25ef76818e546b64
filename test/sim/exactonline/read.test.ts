/**
 * Reads as Exact Online answers them (platform facts): URL shapes, paging
 * with __next/$skiptoken to the end without duplicates, $count, $top,
 * $skip, $select (and where it is required), $orderby, $expand, keys,
 * __metadata and /Date(ms)/, padding, XML without a JSON Accept header,
 * mandatory filtering, 403 NoDivisionAccess, 404 only for unknown URLs,
 * and every catalog endpoint answering on its URL.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { exactCatalog } from '../../../src/catalogs/exactonline.js';
import { startExactSimulator, type ExactSimulator } from '../../../src/sim/exactonline/index.js';
import { accessToken, call, errorText, results, setup, type Page, type Reply } from './helpers.js';

describe('Exact simulator reads', () => {
  let env: Awaited<ReturnType<typeof setup>>;
  const D = 102673;

  before(async () => {
    env = await setup({ accountsPerDivision: 130, transactionLinesPerDivision: 1500 });
  });
  after(async () => {
    await env.sim.close();
  });

  it('serves current/Me without a division, with division 102673 as the current one', async () => {
    const r = await env.get('/api/v1/current/Me');
    assert.equal(r.status, 200);
    const [me] = results(r);
    assert.equal(me.CurrentDivision, D);
    assert.equal(typeof me.UserID, 'string');
    assert.equal(typeof me.FullName, 'string');
    assert.match(String(me.DivisionCustomerCode), /^ +\d+$/);
    assert.equal(String(me.DivisionCustomerCode).length, 18);
  });

  it('pages 60 rows at a time following __next to the end without duplicates', async () => {
    const seen = new Set<string>();
    let url: string | undefined = `/api/v1/${D}/crm/Accounts?$select=ID,Code,Name`;
    let pages = 0;
    while (url) {
      const r: Reply = await env.get(url);
      assert.equal(r.status, 200);
      const page = r.json as Page;
      if (page.d.__next) {
        assert.equal(page.d.results.length, 60);
        assert.match(page.d.__next, /\$skiptoken=guid'[0-9a-f-]{36}'/);
      }
      for (const row of page.d.results) {
        assert.ok(!seen.has(String(row.ID)), 'duplicate row');
        seen.add(String(row.ID));
      }
      url = page.d.__next;
      pages++;
    }
    assert.equal(seen.size, 130);
    assert.equal(pages, 3);
    const count = await env.get(`/api/v1/${D}/crm/Accounts/$count`);
    assert.equal(count.text, '130');
  });

  it('pads account codes to 18 characters and countries to 3, and trim() finds them', async () => {
    const r = await env.get(`/api/v1/${D}/crm/Accounts?$select=Code,Country,Status,IsSupplier,IsSales&$top=5`);
    for (const row of results(r)) {
      assert.equal(String(row.Code).length, 18);
      assert.match(String(row.Code), /^ +\d+$/);
      assert.equal(row.Country, 'NL ');
      assert.ok(['A', 'S', 'P', 'C'].includes(String(row.Status)));
      assert.equal(typeof row.IsSupplier, 'boolean');
    }
    const code = String(results(r)[2].Code);
    const exact = await env.get(`/api/v1/${D}/crm/Accounts?$select=Code&$filter=Code eq '${code.trim()}'`);
    assert.equal(results(exact).length, 0, 'without the padding nothing matches');
    const trimmed = await env.get(`/api/v1/${D}/crm/Accounts?$select=Code&$filter=trim(Code) eq '${code.trim()}'`);
    assert.deepEqual(results(trimmed).map((x) => x.Code), [code]);
    const padded = await env.get(`/api/v1/${D}/crm/Accounts?$select=Code&$filter=Code eq '${encodeURIComponent(code)}'`);
    assert.deepEqual(results(padded).map((x) => x.Code), [code]);
  });

  it('renders __metadata, deferred navigation properties and /Date(ms)/', async () => {
    const r = await env.get(`/api/v1/${D}/salesinvoice/SalesInvoices?$top=1`);
    const [inv] = results(r);
    const meta = inv.__metadata as { uri: string; type: string };
    assert.equal(meta.type, 'Exact.Web.Api.Models.SalesInvoice');
    assert.equal(meta.uri, `${env.sim.baseUrl}/api/v1/${D}/salesinvoice/SalesInvoices(guid'${String(inv.InvoiceID)}')`);
    assert.deepEqual(inv.SalesInvoiceLines, { __deferred: { uri: `${meta.uri}/SalesInvoiceLines` } });
    assert.match(String(inv.InvoiceDate), /^\/Date\(\d+\)\/$/);
    assert.match(r.text, /"\\\/Date\(\d+\)\\\/"/);
    const nav = await env.get(`${meta.uri}/SalesInvoiceLines`);
    assert.equal(nav.status, 200);
    assert.ok(results(nav).length >= 1);
    for (const l of results(nav)) assert.equal(l.InvoiceID, inv.InvoiceID);
  });

  it('expands SalesInvoiceLines and keeps invoices consistent with their lines and transaction lines', async () => {
    const r = await env.get(`/api/v1/${D}/salesinvoice/SalesInvoices?$select=InvoiceID,InvoiceNumber,Status,AmountDC,VATAmountDC,SalesInvoiceLines&$expand=SalesInvoiceLines&$filter=Status eq 50&$top=3`);
    assert.equal(r.status, 200);
    for (const inv of results(r)) {
      const lines = (inv.SalesInvoiceLines as { results: Record<string, unknown>[] }).results;
      assert.ok(lines.length >= 1);
      const net = lines.reduce((s, l) => s + Number(l.AmountFC), 0);
      const vat = lines.reduce((s, l) => s + Number(l.VATAmountFC), 0);
      assert.ok(Math.abs(Number(inv.AmountDC) - (net + vat)) < 0.01);
      for (const l of lines) assert.ok(typeof l.GLAccount === 'string');
      const tl = await env.get(`/api/v1/${D}/financialtransaction/TransactionLines?$select=AmountDC,GLAccountCode,InvoiceNumber&$filter=FinancialYear ge 2000 and InvoiceNumber eq ${Number(inv.InvoiceNumber)} and JournalCode eq '70'`);
      const amounts = results(tl);
      assert.equal(amounts.length, lines.length + 2, 'debtor + revenue lines + VAT line');
      assert.ok(Math.abs(amounts.reduce((s, a) => s + Number(a.AmountDC), 0)) < 0.005, 'entry balances');
      assert.ok(Math.abs(Number(amounts.find((a) => a.GLAccountCode === '1300')?.AmountDC) - Number(inv.AmountDC)) < 0.005);
    }
  });

  it('looks up by key and answers by key with a results array', async () => {
    const list = results(await env.get(`/api/v1/${D}/crm/Accounts?$select=ID,Name&$top=3`));
    const id = String(list[2].ID);
    const r = await env.get(`/api/v1/${D}/crm/Accounts(guid'${id}')?$select=ID,Name`);
    assert.deepEqual(results(r).map((x) => x.Name), [list[2].Name]);
  });

  it('honours $top, $skip, $orderby and $inlinecount', async () => {
    const top = await env.get(`/api/v1/${D}/crm/Accounts?$select=ID&$top=70`);
    assert.equal(results(top).length, 60);
    const next = (top.json as Page).d.__next as string;
    assert.match(next, /\$top=10/);
    assert.equal(results(await env.get(next)).length, 10);
    const all = results(await env.get(`/api/v1/${D}/crm/Accounts?$select=ID&$top=20`)).map((x) => x.ID);
    const skipped = results(await env.get(`/api/v1/${D}/crm/Accounts?$select=ID&$top=10&$skip=10`)).map((x) => x.ID);
    assert.deepEqual(skipped, all.slice(10));
    const ordered = results(await env.get(`/api/v1/${D}/crm/Accounts?$select=Name&$orderby=Name desc&$top=30`)).map((x) => String(x.Name).toLowerCase());
    assert.deepEqual(ordered, [...ordered].sort().reverse());
    const counted = (await env.get(`/api/v1/${D}/crm/Accounts?$select=ID&$top=5&$inlinecount=allpages`)).json as Page;
    assert.equal(counted.d.__count, '130');
  });

  it('pages an ordered query to the end in order, without duplicates', async () => {
    const rows: Record<string, unknown>[] = [];
    let url: string | undefined = `/api/v1/${D}/crm/Accounts?$select=ID,City,Name&$orderby=City,Name desc`;
    while (url) {
      const r: Reply = await env.get(url);
      assert.equal(r.status, 200);
      rows.push(...results(r));
      url = (r.json as Page).d.__next;
    }
    assert.equal(rows.length, 130);
    assert.equal(new Set(rows.map((r) => r.ID)).size, 130);
    for (let i = 1; i < rows.length; i++) {
      const [a, b] = [rows[i - 1], rows[i]];
      const city = String(a.City).toLowerCase().localeCompare(String(b.City).toLowerCase());
      assert.ok(String(a.City).toLowerCase() <= String(b.City).toLowerCase(), `${String(a.City)} before ${String(b.City)}`);
      if (city === 0) assert.ok(String(a.Name).toLowerCase() >= String(b.Name).toLowerCase());
    }
  });

  it('requires $select on bulk and sync endpoints and "$select or $top=1" on the heavy regular ones', async () => {
    const bulk = await env.get(`/api/v1/${D}/bulk/CRM/Accounts`);
    assert.equal(bulk.status, 400);
    assert.match(errorText(bulk), /\$select/);
    assert.deepEqual(Object.keys(bulk.json as object), ['error']);
    const sync = await env.get(`/api/v1/${D}/sync/CRM/Accounts?$filter=Timestamp gt 1L`);
    assert.equal(sync.status, 400);
    const heavy = await env.get(`/api/v1/${D}/financialtransaction/TransactionLines?$filter=FinancialYear eq 2026`);
    assert.equal(heavy.status, 400);
    assert.equal(errorText(heavy), 'Please add a $select or a $top=1 statement to the query string.');
    const one = await env.get(`/api/v1/${D}/financialtransaction/TransactionLines?$filter=FinancialYear eq 2026&$top=1`);
    assert.equal(one.status, 200);
    const bulkOk = await env.get(`/api/v1/${D}/bulk/CRM/Accounts?$select=ID,Name`);
    assert.equal(results(bulkOk).length, 130, 'bulk pages hold up to 1,000 rows');
  });

  it('applies mandatory filtering on transaction lines and accounts (and can switch it off)', async () => {
    const on = await setup({ mandatoryFiltering: true, transactionLinesPerDivision: 100 });
    try {
      const r = await on.get(`/api/v1/${D}/financialtransaction/TransactionLines?$select=ID`);
      assert.equal(r.status, 400);
      assert.match(errorText(r), /^This endpoint has mandatory filtering applied\./);
      const ok = await on.get(`/api/v1/${D}/bulk/Financial/TransactionLines?$select=ID&$filter=FinancialYear eq 2026`);
      assert.equal(ok.status, 200);
      assert.equal((await on.get(`/api/v1/${D}/crm/Accounts?$select=ID`)).status, 400);
      assert.equal((await on.get(`/api/v1/${D}/crm/Accounts?$select=ID&$filter=Modified ge datetime'1900-01-01T00:00:00'`)).status, 200);
      assert.equal((await on.get(`/api/v1/${D}/sync/CRM/Accounts?$select=ID&$filter=Timestamp gt 0L`)).status, 200);
    } finally {
      await on.sim.close();
    }
    const off = await startExactSimulator({ mandatoryFiltering: false, rateLimits: false, transactionLinesPerDivision: 100 });
    try {
      const t = await accessToken(off);
      const r2 = await call(`${off.baseUrl}/api/v1/${D}/financialtransaction/TransactionLines?$select=ID`, { headers: { Authorization: `Bearer ${t}`, Accept: 'application/json' } });
      assert.equal(r2.status, 200);
    } finally {
      await off.close();
    }
  });

  it('pages sync endpoints by Timestamp, 1,000 a page', async () => {
    const seen = new Set<string>();
    let url: string | undefined = `/api/v1/${D}/sync/Financial/TransactionLines?$select=ID,Timestamp&$filter=Timestamp gt 1L`;
    let lastTs = 0;
    let pages = 0;
    while (url) {
      const r: Reply = await env.get(url);
      assert.equal(r.status, 200, r.text);
      const page = r.json as Page;
      for (const row of page.d.results) {
        assert.ok(Number(row.Timestamp) > lastTs, 'Timestamps increase');
        lastTs = Number(row.Timestamp);
        assert.ok(!seen.has(String(row.ID)));
        seen.add(String(row.ID));
      }
      if (page.d.__next) assert.equal(page.d.results.length, 1000);
      url = page.d.__next;
      pages++;
    }
    assert.equal(seen.size, Number((await env.get(`/api/v1/${D}/financialtransaction/TransactionLines/$count?$filter=FinancialYear ge 2000`)).text));
    assert.equal(pages, 2);
    const none = await env.get(`/api/v1/${D}/sync/Financial/TransactionLines?$select=ID&$filter=Timestamp gt ${lastTs}L`);
    assert.deepEqual(results(none), []);
    const other = await env.get(`/api/v1/${D}/sync/CRM/Accounts?$select=ID&$filter=Name eq 'x'`);
    assert.equal(other.status, 400);
    assert.match(errorText(other), /Filtering on these fields is not supported: Name/);
    const eq = await env.get(`/api/v1/${D}/sync/CRM/Accounts?$select=ID&$filter=Timestamp eq 5L`);
    assert.equal(errorText(eq), 'This $filter parameter is not supported for this resource');
  });

  it('answers XML (Atom) when the client does not ask for JSON', async () => {
    const r = await env.get(`/api/v1/${D}/crm/Accounts?$select=ID,Name,Created&$top=2`, { Accept: '*/*' });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /xml/);
    assert.match(r.text, /^<\?xml/);
    assert.equal((r.text.match(/<entry>/g) ?? []).length, 2);
    assert.match(r.text, /<d:Created m:type="Edm.DateTime">\d{4}-\d\d-\d\dT/);
    assert.match(r.text, /<d:ID m:type="Edm.Guid">[0-9a-f-]{36}<\/d:ID>/);
  });

  it('lists SystemDivisions with the subscription fields and answers 403 NoDivisionAccess elsewhere', async () => {
    const r = await env.get(`/api/v1/${D}/system/Divisions`);
    const divs = results(r);
    assert.deepEqual(divs.map((x) => x.Code).sort(), [...env.sim.divisions()].sort());
    const cur = divs.find((x) => x.Code === D) as Record<string, unknown>;
    assert.equal(cur.Current, true);
    for (const f of ['Description', 'Customer', 'CustomerCode', 'CustomerName', 'Status', 'BlockingStatus', 'Hid', 'IsMainDivision', 'Country', 'Currency', 'Legislation', 'StartDate', 'ArchiveDate', 'DivisionMoveDate']) {
      assert.ok(f in cur, f);
    }
    assert.equal(String(cur.CustomerCode).length, 18);
    assert.ok(new Set(divs.map((x) => x.Customer)).size >= 2, 'several subscriptions');
    const forbidden = await env.get(`/api/v1/${env.sim.world.foreignDivision}/crm/Accounts`);
    assert.equal(forbidden.status, 403);
    assert.equal(forbidden.headers.get('reason'), 'NoDivisionAccess');
    assert.equal((await env.get('/api/v1/999999/crm/Accounts')).status, 403);
  });

  it('shows subscription data (Users, division classifications) per division\'s subscription', async () => {
    const [a, b] = env.sim.divisions().filter((d) => env.sim.world.subscriptionOf(d).index !== env.sim.world.subscriptionOf(D).index);
    const usersHere = results(await env.get(`/api/v1/${D}/system/Users`));
    const usersThere = results(await env.get(`/api/v1/${a ?? b}/system/Users`));
    assert.ok(usersHere.length > 0 && usersThere.length > 0);
    assert.notDeepEqual(usersHere.map((u) => u.UserID), usersThere.map((u) => u.UserID));
    const noDiv = results(await env.get('/api/v1/system/Users'));
    assert.deepEqual(noDiv.map((u) => u.UserID), usersHere.map((u) => u.UserID));
    const values = results(await env.get(`/api/v1/${D}/hrm/DivisionClassValues`));
    assert.ok(values.some((v) => v.Division === D));
    const classes = results(await env.get(`/api/v1/${D}/hrm/DivisionClasses`));
    const ids = new Set(classes.map((c) => c.ID));
    for (const v of values) assert.ok(ids.has(v.Class_01_ID));
  });

  it('answers every catalog endpoint on its URL, and 404 only for unknown URLs', async () => {
    const cat = exactCatalog();
    const failures: string[] = [];
    for (const ep of cat.endpoints) {
      if (!ep.methods.includes('GET')) continue;
      const base = ep.url === 'current/Me' ? '/api/v1/current/Me' : ep.kind === 'beta' ? `/api/v1/beta/${D}/${ep.url.slice(5)}` : `/api/v1/${D}/${ep.url}`;
      const params: string[] = [];
      const plain = ep.columns.filter((c) => !c.navigation && c.edmType.startsWith('Edm.'));
      if (ep.selectRequired) params.push(`$select=${plain.slice(0, 3).map((c) => c.name).join(',')}`);
      if (ep.mandatoryFilterColumns.length > 0) params.push(`$filter=${ep.mandatoryFilterColumns.includes('FinancialYear') ? 'FinancialYear eq 2026' : `${ep.mandatoryFilterColumns[0]} ne null`}`);
      if (ep.url === 'read/sync/Sync/SyncTimestamp') params.push("modified=datetime'2026-01-01T00:00:00'");
      if (ep.kind === 'sync') params.push('$filter=Timestamp gt 0L');
      const r = await env.get(`${base}${params.length ? `?${params.join('&')}` : ''}`);
      if (r.status !== 200 || !Array.isArray((r.json as Page | undefined)?.d?.results)) failures.push(`${ep.url}: ${r.status} ${r.text.slice(0, 120)}`);
    }
    assert.deepEqual(failures, []);
    assert.equal((await env.get(`/api/v1/${D}/crm/NoSuchThing`)).status, 404);
    assert.equal((await env.get(`/api/v1/${D}/CRM/accounts?$top=1`)).status, 200, 'service and entity are case-insensitive');
  });

  it('answers only the configured endpoints without a division (unsure fact, switchable)', async () => {
    assert.equal((await env.get('/api/v1/system/Divisions')).status, 404, 'not division-less by default');
    const other = await setup({ accountsPerDivision: 5, divisionlessUrls: ['current/Me', 'system/Users', 'system/Divisions'] });
    try {
      const r = await other.get('/api/v1/system/Divisions?$select=Code,Current');
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(results(r).map((x) => x.Code).sort(), [...other.sim.divisions()].sort());
      assert.equal((await other.get('/api/v1/current/Me')).status, 200);
      assert.equal((await other.get('/api/v1/crm/Accounts')).status, 404);
    } finally {
      await other.sim.close();
    }
  });

  it('rejects unknown properties in $select with a 400', async () => {
    const r = await env.get(`/api/v1/${D}/crm/Accounts?$select=ID,Nope`);
    assert.equal(r.status, 400);
    assert.match(errorText(r), /Nope/);
  });
});

describe('Exact simulator world', () => {
  it('is deterministic for a seed and different for another', async () => {
    const read = async (sim: ExactSimulator) => {
      const t = await accessToken(sim);
      const r = await call(`${sim.baseUrl}/api/v1/102673/crm/Accounts?$select=ID,Name,Code,Postcode,City&$top=10`, { headers: { Authorization: `Bearer ${t}`, Accept: 'application/json' } });
      // The port differs between simulators, so leave the metadata URIs out.
      return results(r).map(({ __metadata: _m, ...rest }) => rest);
    };
    const a = await startExactSimulator({ seed: 7, rateLimits: false, mandatoryFiltering: false });
    const b = await startExactSimulator({ seed: 7, rateLimits: false, mandatoryFiltering: false });
    const c = await startExactSimulator({ seed: 8, rateLimits: false, mandatoryFiltering: false });
    try {
      assert.deepEqual(await read(a), await read(b));
      assert.notDeepEqual(await read(a), await read(c));
      assert.deepEqual(a.divisions(), b.divisions());
      for (const row of await read(a)) assert.match(String(row.Postcode), /^\d{4} [A-Z]{2}$/);
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
    }
  });

  it('scales to 1,000 divisions and 1,000,000 transaction lines without generating them up front', async () => {
    const sim = await startExactSimulator({ divisions: 1000, transactionLinesPerDivision: 1_000_000, rateLimits: false });
    try {
      assert.equal(sim.divisions().length, 1000);
      const t = await accessToken(sim);
      const h = { Authorization: `Bearer ${t}`, Accept: 'application/json' };
      const count = await call(`${sim.baseUrl}/api/v1/102673/financialtransaction/TransactionLines/$count?$filter=FinancialYear ge 2000`, { headers: h });
      assert.equal(count.text, '1000000');
      const last = sim.divisions()[999];
      const page = await call(`${sim.baseUrl}/api/v1/${last}/sync/Financial/TransactionLines?$select=ID,Timestamp&$filter=Timestamp gt 1000999000L`, { headers: h });
      assert.equal(page.status, 200);
      assert.equal(results(page).length, 1000);
    } finally {
      await sim.close();
    }
  });
});

describe('Exact simulator blocked divisions', () => {
  it('lists a blocked division with its BlockingStatus and answers its data with 403 DivisionBlocked', async () => {
    const env = await setup();
    try {
      const other = env.sim.divisions().find((d) => d !== 102673) as number;
      env.sim.blockDivision(other, 3);
      const divs = results(await env.get('/api/v1/102673/system/Divisions?$select=Code,BlockingStatus'));
      assert.equal(divs.find((d) => d.Code === other)?.BlockingStatus, 3);
      assert.equal(divs.find((d) => d.Code === 102673)?.BlockingStatus, 0);
      const r = await env.get(`/api/v1/${other}/crm/Accounts?$top=1`);
      assert.equal(r.status, 403);
      assert.equal(r.headers.get('reason'), 'DivisionBlocked');
      assert.equal((await env.get(`/api/v1/${other}/system/Divisions`)).status, 200, 'system tables stay readable');
      env.sim.blockDivision(other, 0);
      assert.equal((await env.get(`/api/v1/${other}/crm/Accounts?$top=1`)).status, 200);
    } finally {
      await env.sim.close();
    }
  });
});

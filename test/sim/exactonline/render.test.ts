/**
 * The simulator's fast paths must not change what it answers: hand-written
 * JSON (escaping), the rendered-row cache, the row cache, and pages rendered
 * by row number. Each check compares plain HTTP answers.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { results, setup } from './helpers.js';

type Env = Awaited<ReturnType<typeof setup>>;

describe('Exact simulator rendering and caches', () => {
  let cached: Env;
  let uncached: Env;
  before(async () => {
    cached = await setup({ seed: 5, divisions: 3, accountsPerDivision: 300, transactionLinesPerDivision: 3000 });
    uncached = await setup({ seed: 5, divisions: 3, accountsPerDivision: 300, transactionLinesPerDivision: 3000, rowCacheSize: 0, renderCacheChars: 0 });
  });
  after(async () => {
    await cached.sim.close();
    await uncached.sim.close();
  });

  it('answers byte for byte the same with and without caches, first and second time', async () => {
    const paths = [
      '/api/v1/102673/crm/Accounts?$select=ID,Code,Name,City,Modified,MainContact&$skip=120',
      '/api/v1/102673/crm/Accounts',
      '/api/v1/102673/sync/Financial/TransactionLines?$select=ID,AmountDC,Date,Timestamp&$filter=Timestamp gt 1L',
      '/api/v1/102673/salesinvoice/SalesInvoices?$top=5',
    ];
    for (const p of paths) {
      const a1 = await cached.get(p);
      const a2 = await cached.get(p);
      const b = await uncached.get(p);
      assert.equal(a1.status, 200, p);
      // Base URLs differ by port; everything else must match.
      const norm = (t: string, base: string) => t.split(base).join('BASE');
      assert.equal(norm(a2.text, cached.sim.baseUrl), norm(a1.text, cached.sim.baseUrl), p);
      assert.equal(norm(b.text, uncached.sim.baseUrl), norm(a1.text, cached.sim.baseUrl), p);
    }
  });

  it('pages by row number the same way a filtered scan does', async () => {
    // `ne null` on a column every row has keeps every row but takes the general (filtering) path.
    const fast = await cached.get('/api/v1/102673/crm/Accounts?$select=ID,Name');
    const slow = await cached.get(`/api/v1/102673/crm/Accounts?$select=ID,Name&$filter=ID ne guid'00000000-0000-0000-0000-000000000000'`);
    assert.deepEqual(results(slow), results(fast));
    const nextFast = (fast.json as { d: { __next: string } }).d.__next;
    const nextSlow = (slow.json as { d: { __next: string } }).d.__next;
    assert.equal(new URL(nextFast).searchParams.get('$skiptoken'), new URL(nextSlow).searchParams.get('$skiptoken'));
  });

  it('escapes quotes, backslashes and control characters and writes dates as \\/Date(ms)\\/', async () => {
    const name = 'Quote " back \\ tab \t nl \n bell \u0007 end)/"';
    const created = await cached.send('POST', '/api/v1/102673/crm/Accounts', { Code: '99001', Name: name, Status: 'C' });
    assert.equal(created.status, 201, created.text);
    const id = (created.json as { d: { ID: string } }).d.ID;
    const r = await cached.get(`/api/v1/102673/crm/Accounts(guid'${id}')?$select=ID,Name,Modified`);
    const row = results(r)[0];
    assert.equal(row.Name, name);
    assert.match(r.text, /"Modified":"\\\/Date\(\d+\)\\\/"/);
    assert.match(String(row.Modified), /^\/Date\(\d+\)\/$/);
    // A written row shows up in the scan (the page is no longer rendered by row number only).
    let next: string | undefined = '/api/v1/102673/crm/Accounts?$select=ID,Name';
    let found = false;
    while (next) {
      const page = await cached.get(next);
      if (results(page).some((x) => x.ID === id && x.Name === name)) found = true;
      next = (page.json as { d: { __next?: string } }).d.__next;
    }
    assert.ok(found);
  });

  it('a division move is visible through the rendered-row cache', async () => {
    const p = '/api/v1/102673/sync/CRM/Contacts?$select=ID,Timestamp&$filter=Timestamp gt 1L';
    const before1 = results(await cached.get(p));
    cached.sim.moveDivision(102673);
    const after1 = results(await cached.get(p));
    assert.equal(after1.length, before1.length);
    assert.ok(Number(after1[0].Timestamp) > Number(before1[before1.length - 1].Timestamp));
  });
});

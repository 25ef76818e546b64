/**
 * Reads that must not walk a whole division: a `$filter` pinning the key
 * (`ID eq guid'…'`, or an `or` list of them) is answered by lookups, and an
 * `$orderby` query sorts once into an index reused by its later pages until
 * the next write. These tests check the answers (same rows, same order as a
 * scan would give, writes seen at once); the speed is measured by
 * bench/sim-large.bench.ts, never asserted.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { allPages, results, setup, type Page } from './helpers.js';

describe('Exact simulator key lookups and sort indexes', () => {
  let env: Awaited<ReturnType<typeof setup>>;
  const D = 102673;
  const TL = `/api/v1/${D}/financialtransaction/TransactionLines`;

  before(async () => {
    env = await setup({ accountsPerDivision: 30, transactionLinesPerDivision: 600 });
  });
  after(async () => {
    await env.sim.close();
  });

  const all = (path: string) => allPages((p) => env.get(p), path);

  it('finds rows by a pinned key, in scan order, with the rest of the filter applied', async () => {
    const scan = await all(`${TL}?$select=ID,AmountDC,FinancialYear&$filter=FinancialYear ge 2000`);
    assert.equal(scan.length, 600);
    const [a, b, c] = [scan[500], scan[3], scan[250]];
    env.sim.resetStats();
    const one = await env.get(`${TL}?$select=ID,AmountDC&$filter=ID eq guid'${String(a.ID).toUpperCase()}'`);
    assert.deepEqual(results(one).map((r) => [r.ID, r.AmountDC]), [[a.ID, a.AmountDC]]);
    assert.ok(env.sim.stats().rowsGenerated <= 1, `a key lookup generated ${env.sim.stats().rowsGenerated} rows`);
    const list = await env.get(`${TL}?$select=ID&$filter=(ID eq guid'${String(a.ID)}' or ID eq guid'${String(b.ID)}' or ID eq guid'${String(c.ID)}') and FinancialYear ge 2000`);
    assert.deepEqual(results(list).map((r) => r.ID), [b.ID, c.ID, a.ID], 'scan order, not the order of the list');
    const none = await env.get(`${TL}?$select=ID&$filter=ID eq guid'${String(a.ID)}' and FinancialYear eq 1900`);
    assert.deepEqual(results(none), []);
    const count = await env.get(`${TL}/$count?$filter=ID eq guid'${String(a.ID)}' or ID eq guid'${String(b.ID)}'`);
    assert.equal(count.text, '2');
    const ordered = await env.get(`${TL}?$select=ID,AmountDC&$filter=ID eq guid'${String(a.ID)}' or ID eq guid'${String(b.ID)}' or ID eq guid'${String(c.ID)}'&$orderby=AmountDC desc`);
    assert.deepEqual(results(ordered).map((r) => r.ID), [a, b, c].sort((x, y) => Number(y.AmountDC) - Number(x.AmountDC)).map((r) => r.ID));
  });

  it('sees inserted, changed and deleted rows through a pinned key', async () => {
    const [acc] = results(await env.get(`/api/v1/${D}/crm/Accounts?$select=ID,Name&$top=1`));
    const created = await env.send('POST', `/api/v1/${D}/crm/Accounts`, { Name: 'Sleutel B.V.' });
    const id = String((created.json as { d: { ID: string } }).d.ID);
    const both = await env.get(`/api/v1/${D}/crm/Accounts?$select=ID,Name&$filter=ID eq guid'${id}' or ID eq guid'${String(acc.ID)}'`);
    assert.deepEqual(results(both).map((r) => r.ID), [acc.ID, id], 'base rows before inserted ones');
    assert.equal((await env.send('PUT', `/api/v1/${D}/crm/Accounts(guid'${String(acc.ID)}')`, { Name: 'Gewijzigd B.V.' })).status, 204);
    assert.equal((await env.send('DELETE', `/api/v1/${D}/crm/Accounts(guid'${id}')`)).status, 204);
    const after1 = await env.get(`/api/v1/${D}/crm/Accounts?$select=ID,Name&$filter=ID eq guid'${id}' or ID eq guid'${String(acc.ID)}'`);
    assert.deepEqual(results(after1).map((r) => [r.ID, r.Name]), [[acc.ID, 'Gewijzigd B.V.']]);
  });

  it('pages through an ordered query like a client-side sort, and re-sorts after a write', async () => {
    const scan = await all(`${TL}?$select=ID,AmountDC,Date&$filter=FinancialYear ge 2000`);
    const expected = [...scan].sort((x, y) => Number(y.AmountDC) - Number(x.AmountDC) || scan.indexOf(x) - scan.indexOf(y)).map((r) => r.ID);
    env.sim.resetStats();
    const firstPage = await env.get(`${TL}?$select=ID,AmountDC&$filter=FinancialYear ge 2000&$orderby=AmountDC desc`);
    assert.equal(env.sim.stats().rowsGenerated, 600, 'the first page sorts the division once');
    env.sim.resetStats();
    const paged = [...results(firstPage), ...(await all(String((firstPage.json as Page).d.__next)))];
    assert.ok(env.sim.stats().rowsGenerated <= 600, `the later pages reuse the sort: ${env.sim.stats().rowsGenerated} rows generated for 9 pages`);
    assert.deepEqual(paged.map((r) => r.ID), expected);
    const count = await env.get(`${TL}/$count?$filter=FinancialYear ge 2000&$orderby=AmountDC desc`);
    assert.equal(count.text, '600');

    const accounts = await all(`/api/v1/${D}/crm/Accounts?$select=ID,Name&$orderby=Name`);
    const names = accounts.map((r) => String(r.Name).toLowerCase());
    assert.deepEqual(names, [...names].sort());
    const last = accounts[accounts.length - 1];
    assert.equal((await env.send('PUT', `/api/v1/${D}/crm/Accounts(guid'${String(last.ID)}')`, { Name: '0 Eerste B.V.' })).status, 204);
    const [first] = results(await env.get(`/api/v1/${D}/crm/Accounts?$select=ID,Name&$orderby=Name&$top=1`));
    assert.deepEqual([first.ID, first.Name], [last.ID, '0 Eerste B.V.'], 'the sort index was rebuilt after the write');
  });
});

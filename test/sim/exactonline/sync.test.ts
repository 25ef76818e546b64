/**
 * The sync API (platform facts): writes through any regular endpoint reach
 * its sync twin with a higher Int64 Timestamp, deletions reach sync/Deleted
 * with the entity's EntityType code (exactonline/deleted-entity-types.json),
 * also for endpoints the simulator has no hand-made model of; and sync
 * endpoints take only `$filter=Timestamp gt {n}L`, answering anything else
 * with a 400 in Exact's error body.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { errorText, results, setup } from './helpers.js';

describe('Exact simulator sync of unmodelled endpoints', () => {
  let env: Awaited<ReturnType<typeof setup>>;
  const D = 102673;

  before(async () => {
    env = await setup({ accountsPerDivision: 10, transactionLinesPerDivision: 50 });
  });
  after(async () => {
    await env.sim.close();
  });

  const syncRows = async (url: string, select: string, after: number) => {
    const r = await env.get(`/api/v1/${D}/${url}?$select=${select}&$filter=Timestamp gt ${after}L`);
    assert.equal(r.status, 200, r.text);
    return results(r);
  };

  it('shows an inserted and an updated project in sync/Project/Projects with rising Timestamps', async () => {
    assert.deepEqual(await syncRows('sync/Project/Projects', 'ID,Code,Timestamp', 0), []);
    const created = await env.send('POST', `/api/v1/${D}/project/Projects`, { Code: 'SYNC1', Description: 'Verbouwing', Type: 2 });
    assert.equal(created.status, 201, created.text);
    const id = String((created.json as { d: { ID: string } }).d.ID);
    const first = await syncRows('sync/Project/Projects', 'ID,Code,Description,Timestamp', 0);
    assert.deepEqual(first.map((r) => [r.ID, r.Code, r.Description]), [[id, 'SYNC1', 'Verbouwing']]);
    const ts1 = Number(first[0].Timestamp);
    assert.ok(ts1 > 0);
    assert.deepEqual(await syncRows('sync/Project/Projects', 'ID', ts1), [], 'nothing newer than the insert yet');

    assert.equal((await env.send('PUT', `/api/v1/${D}/project/Projects(guid'${id}')`, { Description: 'Aanbouw' })).status, 204);
    const changed = await syncRows('sync/Project/Projects', 'ID,Description,Timestamp', ts1);
    assert.deepEqual(changed.map((r) => [r.ID, r.Description]), [[id, 'Aanbouw']]);
    assert.ok(Number(changed[0].Timestamp) > ts1);
  });

  it('lists a deleted project in sync/Deleted with EntityType 21 (Projects)', async () => {
    const created = await env.send('POST', `/api/v1/${D}/project/Projects`, { Code: 'SYNC2', Description: 'Sloop', Type: 2 });
    assert.equal(created.status, 201, created.text);
    const id = String((created.json as { d: { ID: string } }).d.ID);
    const [row] = (await syncRows('sync/Project/Projects', 'ID,Timestamp', 0)).filter((r) => r.ID === id);
    assert.equal((await env.send('DELETE', `/api/v1/${D}/project/Projects(guid'${id}')`)).status, 204);
    const gone = await syncRows('sync/Project/Projects', 'ID', 0);
    assert.equal(gone.some((r) => r.ID === id), false, 'a deleted row leaves the sync endpoint');
    const deleted = (await syncRows('sync/Deleted', 'EntityKey,EntityType,Division,Timestamp', 0)).filter((r) => r.EntityKey === id);
    assert.equal(deleted.length, 1);
    assert.equal(deleted[0].EntityType, 21);
    assert.equal(deleted[0].Division, D);
    assert.ok(Number(deleted[0].Timestamp) > Number(row.Timestamp));
  });

  it('keeps the key under both names when the sync twin names it differently (Quotations: QuotationID / ID)', async () => {
    const [account] = results(await env.get(`/api/v1/${D}/crm/Accounts?$select=ID&$top=1`));
    const created = await env.send('POST', `/api/v1/${D}/crm/Quotations`, { OrderAccount: account.ID, Description: 'Offerte', QuotationLines: [] });
    assert.equal(created.status, 201, created.text);
    const qid = String((created.json as { d: { QuotationID: string } }).d.QuotationID);
    const synced = await syncRows('sync/CRM/Quotations', 'ID,Timestamp', 0);
    assert.deepEqual(synced.map((r) => r.ID), [qid]);
    const bulk = await env.get(`/api/v1/${D}/bulk/CRM/Quotations?$select=QuotationID`);
    assert.equal(bulk.status, 200, bulk.text);
    assert.deepEqual(results(bulk).map((r) => r.QuotationID), [qid]);
  });
});

describe('Exact simulator sync $filter strictness', () => {
  let env: Awaited<ReturnType<typeof setup>>;
  const D = 102673;

  before(async () => {
    env = await setup({ accountsPerDivision: 10, transactionLinesPerDivision: 50 });
  });
  after(async () => {
    await env.sim.close();
  });

  const sync = (filter: string | undefined) =>
    env.get(`/api/v1/${D}/sync/CRM/Accounts?$select=ID,Timestamp${filter === undefined ? '' : `&$filter=${encodeURIComponent(filter)}`}`);

  it('accepts Timestamp gt {n}L, with any spacing and case of the keyword', async () => {
    const all = await sync('Timestamp gt 0L');
    assert.equal(all.status, 200, all.text);
    assert.equal(results(all).length, 10);
    const second = Number(results(all)[1].Timestamp);
    const rest = await sync(`Timestamp  GT  ${second}l`);
    assert.equal(rest.status, 200, rest.text);
    assert.equal(results(rest).length, 8);
  });

  it('refuses ge, lt, eq, a missing L, a decimal, and, or, and no filter at all, with 400 and Exact\'s message', async () => {
    for (const f of ['Timestamp ge 0L', 'Timestamp lt 99999999L', 'Timestamp eq 1L', 'Timestamp gt 0', 'Timestamp gt 0L and Timestamp gt 5L', 'Timestamp gt 0L or Timestamp gt 5L', 'Timestamp gt 1.5', undefined]) {
      const r = await sync(f);
      assert.equal(r.status, 400, `${String(f)}: ${r.text}`);
      assert.equal(errorText(r), 'This $filter parameter is not supported for this resource', String(f));
      assert.equal(r.headers.get('content-type'), 'application/json; charset=utf-8');
    }
  });

  it('holds for every sync endpoint, sync/Deleted included', async () => {
    for (const url of ['sync/Deleted', 'sync/Financial/TransactionLines', 'sync/Project/Projects']) {
      assert.equal((await env.get(`/api/v1/${D}/${url}?$select=Timestamp&$filter=Timestamp ge 1L`)).status, 400, url);
      assert.equal((await env.get(`/api/v1/${D}/${url}?$select=Timestamp&$filter=Timestamp gt 1L`)).status, 200, url);
    }
  });
});

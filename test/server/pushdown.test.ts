/**
 * Query options reach the platform's API, checked where the calls land: a
 * `$filter` on Division calls only that division (the Exact Online
 * simulator's request statistics), and `$select` becomes the API's `$select`
 * (the URLs in the session's remote-call log, datadictionary SessionIOs).
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Session } from '../../src/engine/api.js';
import { engineSessionFactory } from '../../src/server/engine-sessions.js';
import { startServer } from '../../src/server/server.js';
import type { RunningServer } from '../../src/server/server.js';
import { demoSetup } from '../../src/server/setup.js';
import type { ServerSetup } from '../../src/server/setup.js';

describe('OData query options pushed down to the platform API', () => {
  let setup: ServerSetup;
  let server: RunningServer;
  const sessions: Session[] = [];
  const auth = { authorization: `Basic ${Buffer.from('demo:demo').toString('base64')}` };

  before(async () => {
    setup = await demoSetup({ simulatedPlatforms: true });
    const base = engineSessionFactory(setup.dataDir, setup.secrets);
    server = await startServer({
      store: setup.store,
      secrets: setup.secrets,
      // One session, so the call log read below is the one the feed used.
      maxSessionsPerDatabase: 1,
      sessionFactory: async (containers, db) => {
        const s = await base(containers, db);
        sessions.push(s);
        return s;
      },
      log: () => undefined,
    });
  });
  after(async () => {
    await server.close();
    await setup.stop?.();
    await setup.store.close();
    rmSync(setup.dataDir, { recursive: true, force: true });
  });

  async function remoteUrls(session: Session): Promise<string[]> {
    const urls: string[] = [];
    for await (const r of session.execute("select url from sessionios@datadictionary where lower(url) like '%crm/accounts%'")) {
      if (r.kind !== 'rows') continue;
      for await (const b of r.batches) for (const row of b.rows) urls.push(String(row[0]));
    }
    return urls;
  }

  it('calls only the filtered division, asking the API for the selected columns only', async () => {
    const sim = setup.simulators?.exact;
    assert.ok(sim);
    const [, division] = sim.divisions();
    // Warm up: the session opens (its startup SQL lists the divisions) before counting.
    await (await fetch(`${server.url}/demo/odata4/`, { headers: auth })).text();
    sim.resetStats();
    const urlsBefore = (await remoteUrls(sessions[0])).length;

    const filter = encodeURIComponent(`Division eq ${division}`);
    const res = await fetch(`${server.url}/demo/odata4/ExactOnlineREST_CRM_Accounts?$filter=${filter}&$select=Code,Name`, { headers: auth });
    const body = (await res.json()) as { value: { Code: string; Name: string }[] };
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.ok(body.value.length > 0);
    assert.deepEqual(Object.keys(body.value[0]).sort(), ['Code', 'Name']);

    const stats = sim.stats();
    assert.deepEqual(Object.keys(stats.byDivision), [String(division)], `only division ${division} was called: ${JSON.stringify(stats.byDivision)}`);
    // The accounts come from Exact's accounts endpoint (a full read goes to its sync twin:
    // crm/Accounts has mandatory filtering).
    assert.deepEqual(Object.keys(stats.byEndpoint).filter((e) => !/^((bulk|sync)\/)?crm\/accounts$/i.test(e)), [], JSON.stringify(stats));

    assert.equal(sessions.length, 1);
    const urls = (await remoteUrls(sessions[0])).slice(urlsBefore);
    assert.ok(urls.length >= 1);
    for (const u of urls) {
      const url = new URL(u);
      assert.match(url.pathname, new RegExp(`/api/v1/${division}/((bulk|sync)/)?crm/accounts$`, 'i'), u);
      const select = (url.searchParams.get('$select') ?? '').split(',').map((c) => c.trim().toLowerCase());
      assert.ok(select.includes('code') && select.includes('name'), `$select reaches the API: ${u}`);
      assert.ok(!select.includes('addressline1') && select.length <= 4, `and asks for no other columns than it needs: ${u}`);
    }
  });
});

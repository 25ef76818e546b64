/**
 * The startup SQL holds for every request: a changed configuration drops the
 * database's cached responses, parked streams and pooled sessions on the next
 * request; the startup SQL's `use` runs again whenever a pooled session is
 * handed out (a `use select …` follows its data); sessions past the maximum
 * age are reopened.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openSession } from '../../src/engine/index.js';
import { engineSessionFactory } from '../../src/server/engine-sessions.js';
import { startServer } from '../../src/server/server.js';
import type { RunningServer } from '../../src/server/server.js';
import { PostgresStateStore } from '../../src/server/state/postgres.js';
import { Tenancy } from '../../src/server/tenancy.js';
import { SecretBox } from '../../src/util/secrets.js';
import { fakeProvider } from '../engine/helpers.js';
import { ACCOUNTS_SQL, fixture, pgRun } from './helpers.js';
import type { Fixture } from './helpers.js';

const INV = '/acme/odata4/InMemoryStorage_Memory_invoices';

type Page = { value: { invoicenumber: number }[]; '@odata.nextLink'?: string };

async function page(f: Fixture, path: string): Promise<Page> {
  const res = await f.get(path);
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return JSON.parse(text) as Page;
}

const numbers = (p: Page) => p.value.map((r) => r.invoicenumber).sort((a, b) => a - b);

describe('configuration changes reach the next request', () => {
  let f: Fixture;
  let opened = 0;
  before(async () => {
    f = await fixture({
      cacheMaxAgeSeconds: 300,
      server: { pageSize: 2, maxSessionsPerDatabase: 1 },
      wrapFactory: (base) => async (containers, db) => {
        opened++;
        return base(containers, db);
      },
    });
  });
  after(async () => {
    await f.close();
  });

  it('drops cached responses made under the old startup SQL', async () => {
    const path = `${INV}?$select=invoicenumber&$top=10&$orderby=invoicenumber`;
    await f.tenancy.setStartupSql('acme', ACCOUNTS_SQL);
    const first = await f.get(path);
    assert.equal(first.status, 200);
    const firstBody = (await first.json()) as Page;
    assert.equal(firstBody.value.length, 2);
    // Served from the cache while nothing changes.
    const cached = await f.get(path);
    assert.ok(cached.headers.get('age') !== null, 'a cache hit carries Age');
    await cached.arrayBuffer();

    await f.tenancy.setStartupSql('acme', `${ACCOUNTS_SQL};\ndelete from invoices@inmemorystorage where invoicenumber <= 2`);
    // (No If-None-Match here: fetch then sends Cache-Control: no-cache, which bypasses the cache anyway.)
    const after = await f.get(path);
    assert.equal(after.status, 200);
    assert.equal(after.headers.get('age'), null, 'not served from the cache');
    assert.deepEqual(numbers((await after.json()) as Page), [3, 4]);
  });

  it('does not continue a stream parked under the old configuration', async () => {
    await f.tenancy.setStartupSql('acme', ACCOUNTS_SQL);
    const first = await page(f, `${INV}?$select=invoicenumber&$orderby=invoicenumber`);
    assert.deepEqual(numbers(first), [1, 2]);
    const next = first['@odata.nextLink'];
    assert.ok(next);
    await f.tenancy.setStartupSql('acme', `${ACCOUNTS_SQL};\ndelete from invoices@inmemorystorage where invoicenumber = 3`);
    // The parked stream would answer 3, 4; the query is run again under the new startup SQL instead.
    const second = await page(f, next.slice(f.server.url.length));
    assert.deepEqual(numbers(second), [4, 5]);
  });

  it('reopens a pooled session older than the maximum age', async () => {
    await f.tenancy.setStartupSql('acme', ACCOUNTS_SQL);
    const path = `${INV}/$count`;
    await (await f.get(path, { 'cache-control': 'no-cache' })).text();
    const before = opened;
    await (await f.get(path, { 'cache-control': 'no-cache' })).text();
    assert.equal(opened, before, 'reused while young');
    f.clock.advance(11 * 60_000);
    await (await f.get(path, { 'cache-control': 'no-cache' })).text();
    assert.equal(opened, before + 1, 'reopened when older than 10 minutes');
  });
});

describe('the startup SQL’s use runs for every request', () => {
  const table = `sluice_scope_test_${randomBytes(4).toString('hex')}`;
  let f: Fixture;
  let opened = 0;
  let settingsDir: string;
  before(async () => {
    await pgRun(`create table ${table} (code varchar(10))`, `insert into ${table} values ('101')`);
    const fake = fakeProvider();
    settingsDir = mkdtempSync(join(tmpdir(), 'sluice-sessions-'));
    const settingsPath = join(settingsDir, 'none.json');
    writeFileSync(settingsPath, '{"containers": []}\n');
    f = await fixture({
      server: { maxSessionsPerDatabase: 1 },
      wrapFactory: () => (containers) => {
        opened++;
        return openSession({ settingsPath, containers, providers: [fake.provider], dataDir: settingsDir });
      },
      prepare: async (tenancy) => {
        await tenancy.addDatabase('tenant', { startupSql: `use select code, 'fk' from ${table}@pg` });
        await tenancy.addContainer('tenant', 'fk', 'Fake', 'mode=test');
        await tenancy.addContainer('tenant', 'pg', 'PostgreSQL', 'host=127.0.0.1;port=5432;database=test;user=root');
        await tenancy.grant('alice', 'tenant');
      },
    });
  });
  after(async () => {
    await f.close();
    rmSync(settingsDir, { recursive: true, force: true });
    await pgRun(`drop table if exists ${table}`);
  });

  const divisions = async (): Promise<number[]> => {
    const res = await f.get('/tenant/odata4/Fake_Sales_Orders?$select=Division');
    const body = (await res.json()) as { value: { Division: number }[] };
    assert.equal(res.status, 200, JSON.stringify(body));
    return [...new Set(body.value.map((r) => r.Division))].sort();
  };

  it('follows a use select whose answer changed, on the same pooled session', async () => {
    assert.deepEqual(await divisions(), [101]);
    const sessions = opened;
    await pgRun(`update ${table} set code = '201'`);
    assert.deepEqual(await divisions(), [201]);
    assert.equal(opened, sessions, 'the same session, its selection made again');
    // /sql sees the same scope.
    const sql = await fetch(`${f.server.url}/tenant/sql`, { method: 'POST', body: 'use 101@fk', headers: { authorization: f.basic('alice', 'alice-pw') } });
    assert.equal(sql.status, 403, await sql.text());
  });
});

describe('two instances sharing the PostgreSQL state store', () => {
  const table = `sluice_state_${randomBytes(4).toString('hex')}`;
  const url = `postgres://root@127.0.0.1:5432/test?sluice_table=${table}`;
  const stores: PostgresStateStore[] = [];
  const servers: RunningServer[] = [];
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-two-instances-'));
    const secrets = SecretBox.fromPassphrase('shared master key');
    const admin = new Tenancy(PostgresStateStore.fromUrl(url), secrets);
    stores.push(admin.store as PostgresStateStore);
    await admin.addDatabase('shared', { startupSql: ACCOUNTS_SQL, cacheMaxAgeSeconds: 300 });
    await admin.addUser('alice', { password: 'alice-pw' });
    await admin.grant('alice', 'shared');
    for (let i = 0; i < 2; i++) {
      const store = PostgresStateStore.fromUrl(url);
      stores.push(store);
      servers.push(await startServer({ store, secrets, sessionFactory: engineSessionFactory(dir, secrets), log: () => undefined }));
    }
  });
  after(async () => {
    for (const s of servers) await s.close();
    for (const s of stores) await s.close();
    rmSync(dir, { recursive: true, force: true });
    await pgRun(`drop table if exists ${table}`);
  });

  const count = async (server: RunningServer): Promise<{ n: string; cached: boolean }> => {
    const res = await fetch(`${server.url}/shared/odata4/InMemoryStorage_Memory_invoices/$count`, { headers: { authorization: `Basic ${Buffer.from('alice:alice-pw').toString('base64')}` } });
    assert.equal(res.status, 200);
    return { n: await res.text(), cached: res.headers.get('age') !== null };
  };

  it('drops both instances’ cached answers when an admin changes the startup SQL', async () => {
    for (const server of servers) {
      assert.deepEqual(await count(server), { n: '7', cached: false });
      assert.deepEqual(await count(server), { n: '7', cached: true });
    }
    // The change is made through yet another connection to the store, as `sluice admin` would.
    await new Tenancy(stores[0], SecretBox.fromPassphrase('shared master key')).setStartupSql('shared', `${ACCOUNTS_SQL};\ndelete from invoices@inmemorystorage where paid`);
    for (const server of servers) assert.deepEqual(await count(server), { n: '3', cached: false });
  });
});

/**
 * A database's scope (the partitions its startup SQL selected) holds for
 * everything a user reaches: hostile `POST /sql` requests that widen the
 * selection, read system-wide tables or the partition list, or write without
 * a read-write grant are refused with a clear 403; the OData feed never shows
 * another partition's rows.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openSession } from '../../src/engine/index.js';
import type { Provider } from '../../src/provider/types.js';
import { FakeContainer, fakeProvider } from '../engine/helpers.js';
import { fixture } from './helpers.js';
import type { Fixture } from './helpers.js';

/** Database `tenant` (granted to alice read-only, to svc read-write): container `fk` on the fake platform, scoped to divisions 101 and 102 of 101, 102, 201, 999. */
async function tenantFixture(): Promise<{ f: Fixture; fakes: FakeContainer[] }> {
  const fake = fakeProvider();
  const settingsDir = mkdtempSync(join(tmpdir(), 'sluice-scope-'));
  const settingsPath = join(settingsDir, 'none.json');
  writeFileSync(settingsPath, '{"containers": []}\n');
  const f = await fixture({
    wrapFactory: () => (containers) => openSession({ settingsPath, containers, providers: [fake.provider], dataDir: settingsDir }),
    prepare: async (tenancy) => {
      await tenancy.addDatabase('tenant', { startupSql: 'use 101@fk, 102@fk' });
      await tenancy.addContainer('tenant', 'fk', 'Fake', 'mode=test');
      await tenancy.grant('alice', 'tenant');
      await tenancy.grant('svc', 'tenant', { write: true });
    },
  });
  return {
    f: {
      ...f,
      close: async () => {
        await f.close();
        rmSync(settingsDir, { recursive: true, force: true });
      },
    },
    fakes: fake.containers,
  };
}

interface SqlAnswer {
  status: number;
  body: string;
}

async function postSql(f: Fixture, sql: string, authorization = f.basic('alice', 'alice-pw')): Promise<SqlAnswer> {
  const res = await fetch(`${f.server.url}/tenant/sql`, { method: 'POST', body: sql, headers: { authorization, 'content-type': 'text/plain' } });
  return { status: res.status, body: await res.text() };
}

function errorOf(a: SqlAnswer): { code: string; message: string } {
  return (JSON.parse(a.body) as { error: { code: string; message: string } }).error;
}

function rowsOf(a: SqlAnswer, i = 0): Record<string, unknown>[] {
  assert.equal(a.status, 200, a.body);
  const body = JSON.parse(a.body) as { results: { rows?: Record<string, unknown>[] }[] };
  return body.results.filter((r) => r.rows)[i].rows ?? [];
}

describe('tenancy scope on POST /sql', () => {
  let f: Fixture;
  let fakes: FakeContainer[];
  let token: string;
  before(async () => {
    ({ f, fakes } = await tenantFixture());
    token = (await f.tenancy.createToken('svc')).token;
  });
  after(async () => {
    await f.close();
  });

  it('reads only the partitions of the startup SQL', async () => {
    const a = await postSql(f, 'select division, count(*) n from orders@fk group by division order by division');
    assert.deepEqual(rowsOf(a), [{ Division: 101, n: 10 }, { Division: 102, n: 10 }]);
    // A filter on another division finds nothing: the filter selects among the scope's partitions only.
    const b = await postSql(f, 'select count(*) n from orders@fk where division = 201');
    assert.deepEqual(rowsOf(b), [{ n: 0 }]);
  });

  it('lets use narrow the selection', async () => {
    const a = await postSql(f, 'use 102@fk; select distinct division from orders@fk');
    assert.deepEqual(rowsOf(a), [{ Division: 102 }]);
  });

  for (const hostile of ['use all', 'use all@fk', 'use 201@fk', 'use 101@fk, 999@fk', "use select '201', 'fk' from dual", 'use default, 201']) {
    it(`refuses "${hostile}" with 403 SRV420 and reads nothing outside`, async () => {
      const scansBefore = fakes.flatMap((c) => c.log.scans).length;
      const a = await postSql(f, `${hostile}; select division, orderid from orders@fk`);
      assert.equal(a.status, 403, a.body);
      const e = errorOf(a);
      assert.equal(e.code, 'SRV420');
      assert.match(e.message, /outside this database's partitions/);
      assert.ok(!/Zwolle|Broken|\b201\b|\b999\b/.test(e.message), e.message);
      const scans = fakes.flatMap((c) => c.log.scans).slice(scansBefore);
      assert.deepEqual(scans.filter((s) => s.partition === '201' || s.partition === '999'), []);
    });
  }

  it('refuses the partition list and system-wide tables of the platform (403 SRV422)', async () => {
    for (const sql of ['select * from systempartitions@datadictionary', 'select * from systempartitions', 'select * from (select label from datadictionary.sluice.systempartitions@datadictionary) x', 'select * from me@fk', 'select 1 from dual where exists (select 1 from fake.system.me@fk)']) {
      const a = await postSql(f, sql);
      assert.equal(a.status, 403, `${sql}: ${a.body}`);
      assert.equal(errorOf(a).code, 'SRV422', sql);
      assert.ok(!a.body.includes('Zwolle'));
    }
  });

  it('refuses writes to the platform on a read-only grant, before anything runs (403 SRV421)', async () => {
    const writesBefore = fakes.flatMap((c) => c.log.writes).length;
    for (const sql of [
      "insert into orders@fk (division, orderid, customer, amount, status) values (101, 1, 'x', 1, 'open')",
      "update orders@fk set status = 'closed' where orderid = 10100",
      'delete from orders@fk where orderid = 10100',
      "select 1 from dual; insert into orders (division, orderid, customer, amount, status) values (101, 1, 'x', 1, 'open')",
    ]) {
      const a = await postSql(f, sql);
      assert.equal(a.status, 403, `${sql}: ${a.body}`);
      assert.equal(errorOf(a).code, 'SRV421', sql);
    }
    assert.equal(fakes.flatMap((c) => c.log.writes).length, writesBefore);
  });

  it('allows scratch tables @inmemorystorage on a read-only grant', async () => {
    const a = await postSql(f, 'create table mine@inmemorystorage as select division, orderid from orders@fk where orderid < 10103; select count(*) n from mine@inmemorystorage');
    assert.deepEqual(rowsOf(a), [{ n: 3 }]);
  });

  it('allows synchronize from the platform into a scratch table on a read-only grant (only the target is written)', async () => {
    const a = await postSql(
      f,
      'create table copy@inmemorystorage (orderid number, status varchar(20)); synchronize orders@fk to copy@inmemorystorage with insert identified by orderid; select count(*) n from copy@inmemorystorage',
    );
    assert.equal(a.status, 200, a.body);
    assert.deepEqual(rowsOf(a, 0), [{ n: 20 }]);
  });

  it('checks a generated 5,000-term OR like any other query (no stack overflow in the scope check)', async () => {
    // Order ids 10100-15099: the ten orders of division 101 (101xx) and of 102 (102xx).
    const where = Array.from({ length: 5000 }, (_, i) => `orderid = ${10100 + i}`).join(' or ');
    const a = await postSql(f, `select count(*) n from orders@fk where ${where}`);
    assert.deepEqual(rowsOf(a), [{ n: 20 }]);
  });

  it('lets a read-write grant write to the platform, inside the scope only', async () => {
    const writesBefore = fakes.flatMap((c) => c.log.writes).length;
    const a = await postSql(f, "insert into orders@fk (division, orderid, customer, amount, status) values (101, 5, 'y', 2, 'open')", `Bearer ${token}`);
    assert.equal(a.status, 200, a.body);
    assert.equal(fakes.flatMap((c) => c.log.writes).length, writesBefore + 1);
    const b = await postSql(f, "use 102@fk; insert into orders@fk (orderid, customer, amount, status) values (6, 'y', 2, 'open')", `Bearer ${token}`);
    assert.equal(b.status, 200, b.body);
    assert.equal(fakes.flatMap((c) => c.log.writes).at(-1)?.partition, '102');
    for (const sql of [
      "insert into orders@fk (division, orderid, customer, amount, status) values (201, 7, 'y', 2, 'open')",
      "insert into orders (division, orderid, customer, amount, status) values (101, 7, 'y', 2, 'open'), (999, 8, 'z', 1, 'open')",
      "insert into orders@fk (division, orderid, customer, amount, status) select 201, 9, 'q', 1, 'open' from dual",
      'create table src@inmemorystorage as select * from orders@fk; synchronize src@inmemorystorage to orders@fk with insert identified by orderid',
    ]) {
      const c = await postSql(f, sql, `Bearer ${token}`);
      assert.equal(c.status, 403, `${sql}: ${c.body}`);
      assert.equal(errorOf(c).code, 'SRV423', sql);
    }
    assert.equal(fakes.flatMap((c) => c.log.writes).length, writesBefore + 2);
  });
});

describe('tenancy scope on the OData feed', () => {
  let f: Fixture;
  before(async () => {
    ({ f } = await tenantFixture());
  });
  after(async () => {
    await f.close();
  });

  it('publishes no system-wide table of a partitioned container', async () => {
    const doc = (await (await f.get('/tenant/odata4/')).json()) as { value: { name: string }[] };
    const names = doc.value.map((v) => v.name);
    assert.ok(names.includes('Fake_Sales_Orders'), names.join(', '));
    assert.ok(!names.some((n) => /^Fake_System_/.test(n)), names.join(', '));
    assert.equal((await f.get('/tenant/odata4/Fake_System_Me')).status, 404);
  });

  it('never returns rows of a division outside the scope', async () => {
    const all = (await (await f.get('/tenant/odata4/Fake_Sales_Orders?$select=Division')).json()) as { value: { Division: number }[] };
    assert.deepEqual([...new Set(all.value.map((r) => r.Division))].sort(), [101, 102]);
    const other = (await (await f.get(`/tenant/odata4/Fake_Sales_Orders?$filter=${encodeURIComponent('Division eq 201')}`)).json()) as { value: unknown[] };
    assert.deepEqual(other.value, []);
  });
});

describe('tenancy scope when a platform cannot list its partitions', () => {
  let f: Fixture;
  let dir: string;
  before(async () => {
    // A platform that is offline when the session opens: its partition list fails.
    const offline: Provider = {
      name: 'Fake',
      async connect(config, env) {
        const c = new FakeContainer(config.alias, env);
        c.partitionsError = new Error('platform unreachable');
        return c;
      },
    };
    dir = mkdtempSync(join(tmpdir(), 'sluice-scope-offline-'));
    const settingsPath = join(dir, 'none.json');
    writeFileSync(settingsPath, '{"containers": []}\n');
    f = await fixture({
      wrapFactory: () => (containers) => openSession({ settingsPath, containers, providers: [offline], dataDir: dir }),
      prepare: async (tenancy) => {
        await tenancy.addDatabase('tenant');
        await tenancy.addContainer('tenant', 'fk', 'Fake', 'mode=test');
        await tenancy.grant('alice', 'tenant');
      },
    });
  });
  after(async () => {
    await f.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps its system-wide tables hidden (fails closed)', async () => {
    const res = await f.get('/tenant/odata4/');
    const doc = (await res.json()) as { value: { name: string }[] };
    assert.equal(res.status, 200, JSON.stringify(doc));
    const names = doc.value.map((v) => v.name);
    assert.ok(names.includes('Fake_Sales_Orders'), names.join(', '));
    assert.ok(!names.some((n) => /^Fake_System_/.test(n)), names.join(', '));
    const sql = await postSql(f, 'select * from me@fk');
    assert.equal(sql.status, 403, sql.body);
    assert.equal(errorOf(sql).code, 'SRV422');
  });
});

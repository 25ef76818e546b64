/**
 * synchronize against real targets: the Visma.net simulator (partitioned
 * by company, rows refused by name, no delete API, update by PUT on the
 * customer number while pairing on accountreference) and PostgreSQL (bulk
 * batches, a CHECK constraint failing some rows, both directions with
 * in-memory storage).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { openSession } from '../../src/engine/index.js';
import type { Session } from '../../src/engine/api.js';
import { startVismaSimulator, type VismaSimulator } from '../../src/sim/vismanet/index.js';
import { SluiceError } from '../../src/util/errors.js';
import { SecretBox } from '../../src/util/secrets.js';
import { rows, runAll } from './helpers.js';

async function last(s: Session, script: string) {
  const all = await runAll(s, script);
  return all[all.length - 1];
}

async function rejects(p: Promise<unknown>, code: string, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof SluiceError, String(e));
    assert.equal(e.code, code, e.message);
    assert.match(e.message, pattern);
    return true;
  });
}

describe('synchronize into Visma.net (simulator)', () => {
  let sim: VismaSimulator;
  let dir: string;
  let s: Session;
  const COMPANY = '1896329';

  before(async () => {
    sim = await startVismaSimulator({ seed: 5, customersPerCompany: 30, rateLimit: false });
    dir = mkdtempSync(join(tmpdir(), 'sluice-sync-visma-'));
    const settingsPath = join(dir, 'settings.xml');
    sim.writeSettings(settingsPath, 'vismanet');
    s = await openSession({ settingsPath, dataDir: dir, secrets: SecretBox.fromPassphrase('t') });
    await runAll(s, `use ${COMPANY}@vismanet; set read_after_insert@vismanet false`);
    const values = Array.from({ length: 12 }, (_, i) => `('${500 + i}', 'Klant ${i}', 'SYNC-${500 + i}')`);
    await runAll(s, `create or replace table src@inmemorystorage (number varchar, name varchar, accountreference varchar);
insert into src@inmemorystorage values ${values.join(', ')}`);
  });
  after(async () => {
    await s.close();
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refused rows: continue on first N errors goes on, and a re-run after the fix completes', async () => {
    sim.setFaults({ rejectNames: /Klant (3|7)$/ });
    const SYNC = 'synchronize src@inmemorystorage to customer_getall@vismanet with insert or update identified by accountreference ignore nulls';
    const r = await last(s, `${SYNC} continue on first 2 errors`);
    assert.match(r.message ?? '', /inserted 10, updated 0, deleted 0, failed 2/);
    const failed = await rows(s, "select rowkey, partition from synchronizeresults@datadictionary where status = 'failed' order by rowkey");
    assert.deepEqual(failed, [
      ['accountreference=SYNC-503', COMPANY],
      ['accountreference=SYNC-507', COMPANY],
    ]);
    sim.setFaults({});
    const again = await last(s, SYNC);
    assert.match(again.message ?? '', /inserted 2, updated 0, deleted 0, failed 0/);
    const mine = sim.documents(COMPANY).filter((d) => String(d.accountReference ?? '').startsWith('SYNC-'));
    assert.equal(mine.length, 12);
    sim.resetStats();
    const third = await last(s, SYNC);
    assert.match(third.message ?? '', /inserted 0, updated 0/);
    assert.equal(sim.stats().inserts + sim.stats().updates, 0);
  });

  it('updates go to the customer number of the paired row (PUT by key), not the pairing column', async () => {
    await runAll(s, "update src@inmemorystorage set name = 'Klant vijf B.V.' where number = '505'");
    const r = await last(s, 'synchronize src@inmemorystorage to customer_getall@vismanet with insert or update identified by accountreference ignore nulls');
    assert.match(r.message ?? '', /inserted 0, updated 1/);
    const doc = sim.documents(COMPANY).find((d) => d.accountReference === 'SYNC-505');
    assert.equal(doc?.name, 'Klant vijf B.V.');
    assert.equal(doc?.number, '505');
  });

  it('delete is refused before any call, in Visma\'s terms', async () => {
    sim.resetStats();
    await rejects(
      last(s, "synchronize src@inmemorystorage to customer_getall@vismanet with insert or update or delete identified by accountreference ignore nulls"),
      'SYN020',
      /delete \d+ row\(s\) in customer_getall@vismanet, but visma\.net has no API to delete customers\. Nothing was written/,
    );
    assert.equal(sim.stats().inserts + sim.stats().updates, 0);
  });

  it('without ignore nulls the Visma customers lacking a reference are duplicate NULL keys', async () => {
    await rejects(
      last(s, 'synchronize src@inmemorystorage to customer_getall@vismanet with insert identified by accountreference'),
      'SYN010',
      /not unique in the target customer_getall@vismanet.*accountreference=NULL/,
    );
  });

  it('rows go to the partition their company_id names; with several companies selected and none named it is an error', async () => {
    await runAll(s, `use ${COMPANY}@vismanet, 1896330@vismanet`);
    await runAll(s, "create or replace table two@inmemorystorage (number varchar, name varchar, accountreference varchar); insert into two@inmemorystorage values ('900', 'Tweede', 'TWO-900')");
    await rejects(
      last(s, 'synchronize two@inmemorystorage to customer_getall@vismanet with insert identified by accountreference ignore nulls'),
      'SYN022',
      /do not say their partition and 2 partitions of vismanet are selected/,
    );
    await runAll(s, "create or replace table two@inmemorystorage (number varchar, name varchar, accountreference varchar, company_id varchar); insert into two@inmemorystorage values ('900', 'Tweede', 'TWO-900', '1896330')");
    const r = await last(s, 'synchronize two@inmemorystorage to customer_getall@vismanet with insert identified by accountreference ignore nulls');
    assert.match(r.message ?? '', /inserted 1/);
    assert.ok(sim.documents('1896330').some((d) => d.accountReference === 'TWO-900'));
    assert.ok(!sim.documents(COMPANY).some((d) => d.accountReference === 'TWO-900'));
    await runAll(s, `use ${COMPANY}@vismanet`);
  });

  it('a source row of a company that "use" did not select is refused (SYN023), never inserted again on every run', async () => {
    await runAll(
      s,
      `create or replace table three@inmemorystorage (number varchar, name varchar, accountreference varchar, company_id varchar);
insert into three@inmemorystorage values ('910', 'Eerste', 'THREE-910', '${COMPANY}'), ('911', 'Tweede', 'THREE-911', '1896330'), ('912', 'Derde', 'THREE-912', '1896330')`,
    );
    const SYNC3 = 'synchronize three@inmemorystorage to customer_getall@vismanet with insert identified by accountreference ignore nulls';
    const count = (company: string) => sim.documents(company).filter((d) => String(d.accountReference ?? '').startsWith('THREE-')).length;
    sim.resetStats();
    for (let i = 0; i < 2; i++) {
      await rejects(
        last(s, SYNC3),
        'SYN023',
        /2 source row\(s\) of three@inmemorystorage belong to partition 1896330 of vismanet, which is not selected with "use".*nothing was written\. E\.g\. accountreference=THREE-911 \(company_id 1896330\); accountreference=THREE-912 \(company_id 1896330\)/,
      );
    }
    assert.equal(sim.stats().inserts, 0);
    assert.equal(count('1896330'), 0);
    await runAll(s, "create or replace table nowhere@inmemorystorage (number varchar, name varchar, accountreference varchar, company_id varchar); insert into nowhere@inmemorystorage values ('913', 'Nergens', 'THREE-913', '999')");
    await assert.rejects(last(s, 'synchronize nowhere@inmemorystorage to customer_getall@vismanet with insert identified by accountreference ignore nulls'), (e: unknown) => {
      assert.ok(e instanceof SluiceError && e.code === 'SYN023', String(e));
      assert.match(e.details.hint ?? '', /^999 is not a partition of vismanet at all; correct company_id in the source/);
      return true;
    });
    const explained = await last(s, `explain ${SYNC3}`);
    assert.match((explained.lines ?? []).join('\n'), /would fail before writing: .*partition 1896330/);
    // With both companies selected both sides are read there: the first run inserts, the second inserts nothing.
    await runAll(s, `use ${COMPANY}@vismanet, 1896330@vismanet`);
    const first = await last(s, SYNC3);
    assert.match(first.message ?? '', /inserted 3, updated 0, deleted 0, failed 0/);
    const second = await last(s, SYNC3);
    assert.match(second.message ?? '', /inserted 0, updated 0, deleted 0, failed 0/);
    assert.equal(count(COMPANY), 1);
    assert.equal(count('1896330'), 2);
    await runAll(s, `use ${COMPANY}@vismanet`);
  });

  it('synchronize-concurrency bounds the write calls in flight at the simulator', async () => {
    sim.setFaults({ extraLatencyMs: 20 });
    try {
      for (const [concurrency, batch, prefix] of [
        [1, 8, 'CONC1'],
        [3, 12, 'CONC3'],
      ] as const) {
        const values = Array.from({ length: 12 }, (_, i) => `('${prefix}${i}', 'Gelijktijdig ${i}', '${prefix}-${i}')`);
        await runAll(
          s,
          `create or replace table conc@inmemorystorage (number varchar, name varchar, accountreference varchar); insert into conc@inmemorystorage values ${values.join(', ')};
set synchronize-concurrency ${concurrency}; set synchronize-batch-size ${batch}`,
        );
        sim.resetStats();
        const r = await last(s, 'synchronize conc@inmemorystorage to customer_getall@vismanet with insert identified by accountreference ignore nulls');
        assert.match(r.message ?? '', /inserted 12, updated 0, deleted 0, failed 0/);
        assert.equal(sim.stats().inserts, 12);
        // The read of the target is over before the first write; token calls are cached.
        assert.ok(sim.stats().maxInFlight <= concurrency, `at most ${concurrency} calls at once, saw ${sim.stats().maxInFlight}`);
        if (concurrency > 1) assert.ok(sim.stats().maxInFlight > 1, 'writes overlap when allowed to');
      }
    } finally {
      sim.setFaults({});
      await runAll(s, 'set synchronize-concurrency 8; set synchronize-batch-size 32');
    }
  });
});

describe('synchronize between in-memory storage and PostgreSQL', () => {
  const table = `sluice_sync_${process.pid}_${Math.random().toString(36).slice(2, 7)}`;
  const client = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'root', database: 'test' });
  let s: Session;

  before(async () => {
    await client.connect();
    await client.query(`CREATE TABLE ${table} (code integer PRIMARY KEY, name varchar(40) NOT NULL CHECK (name <> 'forbidden'), amount numeric(12,2), seen date)`);
    await client.query(`INSERT INTO ${table} VALUES (1, 'one', 1.50, '2024-01-01'), (2, 'two', 2.00, NULL), (99, 'gone', NULL, NULL)`);
    s = await openSession({ containers: [{ alias: 'pg', provider: 'PostgreSQL', options: { host: '127.0.0.1', port: '5432', user: 'root', database: 'test' } }] });
  });
  after(async () => {
    await s?.close();
    await client.query(`DROP TABLE IF EXISTS ${table}`);
    await client.end();
  });

  it('inserts, updates and deletes into PostgreSQL; values compare by number and date; a constraint failure is a reported row', async () => {
    const values = ["('1', 'one', 1.5, '2024-01-01')", "('2', 'TWO', 2, null)", ...Array.from({ length: 30 }, (_, i) => `('${10 + i}', '${i === 7 ? 'forbidden' : `n${i}`}', ${i}, '2024-02-01')`)];
    await runAll(s, `create or replace table src@inmemorystorage (code varchar, name varchar, amount double, seen varchar); insert into src@inmemorystorage values ${values.join(', ')}`);
    const SYNC = `synchronize src@inmemorystorage to ${table}@pg with insert or update or delete identified by code`;
    const r = await last(s, `${SYNC} continue on first 1 errors`);
    assert.match(r.message ?? '', /inserted 29, updated 1, deleted 1, failed 1/);
    const failed = await rows(s, "select action, rowkey from synchronizeresults@datadictionary where status = 'failed'");
    assert.deepEqual(failed, [['insert', 'code=17']]);
    const pgRows = await client.query(`SELECT code, name, amount::text AS amount FROM ${table} WHERE code IN (1, 2, 99) ORDER BY code`);
    assert.deepEqual(pgRows.rows, [
      { code: 1, name: 'one', amount: '1.50' },
      { code: 2, name: 'TWO', amount: '2.00' },
    ]);
    assert.equal(Number((await client.query(`SELECT count(*) FROM ${table}`)).rows[0].count), 31);
    await runAll(s, "update src@inmemorystorage set name = 'allowed' where code = '17'");
    const again = await last(s, SYNC);
    assert.match(again.message ?? '', /inserted 1, updated 0, deleted 0, failed 0/);
    const third = await last(s, SYNC);
    assert.match(third.message ?? '', /inserted 0, updated 0, deleted 0, failed 0/);
  });

  it('PostgreSQL as the source, in-memory storage as the target ("from")', async () => {
    await runAll(s, 'create or replace table copy@inmemorystorage (code int, name varchar, amount double)');
    const r = await last(s, `synchronize copy@inmemorystorage from ${table}@pg with insert or update or delete identified by code`);
    assert.match(r.message ?? '', /inserted 32, updated 0, deleted 0, failed 0/);
    assert.deepEqual(await rows(s, 'select code, name, amount from copy@inmemorystorage where code in (1, 2) order by code'), [
      [1, 'one', 1.5],
      [2, 'TWO', 2],
    ]);
    const again = await last(s, `synchronize copy@inmemorystorage from ${table}@pg with insert or update or delete identified by code`);
    assert.match(again.message ?? '', /inserted 0, updated 0, deleted 0/);
  });
});

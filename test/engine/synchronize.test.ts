/**
 * synchronize end to end over in-memory storage and a remote-like test
 * store (test/engine/sync-store.ts): every clause, both directions,
 * normalisation, duplicate and NULL keys, caps, errors, a crash half-way
 * with re-runs, type mismatches, unsupported operations, explain, journal.
 */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, beforeEach, describe, it } from 'node:test';
import { openSession } from '../../src/engine/index.js';
import type { Session } from '../../src/engine/api.js';
import { SluiceError } from '../../src/util/errors.js';
import { syncSetting } from '../../src/engine/synchronize.js';
import { rows, runAll } from './helpers.js';
import { SyncStore, syncStoreProvider } from './sync-store.js';
import { runCli } from '../../src/cli/program.js';
import { Capture } from '../cli/helpers.js';

async function rejects(p: Promise<unknown>, code: string, pattern?: RegExp): Promise<SluiceError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof SluiceError, `expected a SluiceError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (pattern) assert.match(e.message, pattern);
    return e;
  }
  assert.fail(`expected ${code}`);
}

async function last(s: Session, script: string) {
  const all = await runAll(s, script);
  return all[all.length - 1];
}

const SRC = `
create or replace table src@inmemorystorage (code varchar, name varchar, amount number(10,2), seen date);
insert into src@inmemorystorage values ('  1', 'Alpha', 1.50, date '2024-01-02'), ('2', 'Beta', 2, date '2024-01-03'), ('3', 'Gamma', 3.25, null);
create or replace table dst@inmemorystorage (code int, name varchar, amount varchar, seen timestamp, extra varchar);
insert into dst@inmemorystorage values (1, 'Alpha', '1.5', timestamp '2024-01-02 00:00:00', 'x'), (2, 'Old', '2', null, 'y'), (4, 'Delta', '4', null, 'z');
`;

describe('synchronize over in-memory storage', () => {
  let s: Session;
  const sessions: Session[] = [];
  beforeEach(async () => {
    s = await openSession({ containers: [] });
    sessions.push(s);
    await runAll(s, SRC);
  });
  after(async () => {
    for (const x of sessions) await x.close();
  });

  it('inserts, updates and deletes so the target matches, comparing normalised values; a second run changes nothing', async () => {
    const r = await last(s, 'synchronize src@inmemorystorage to dst@inmemorystorage with insert or update or delete identified by code');
    assert.equal(r.message, 'Synchronized src@inmemorystorage to dst@inmemorystorage: inserted 1, updated 1, deleted 1, failed 0.');
    assert.equal(r.result.kind === 'done' ? r.result.rowsAffected : -1, 3);
    assert.deepEqual(await rows(s, 'select code, name, amount, extra from dst@inmemorystorage order by code'), [
      [1, 'Alpha', '1.5', 'x'],
      [2, 'Beta', '2', 'y'],
      [3, 'Gamma', '3.25', null],
    ]);
    const again = await last(s, 'synchronize src@inmemorystorage to dst@inmemorystorage with insert or update or delete identified by code');
    assert.match(again.message ?? '', /inserted 0, updated 0, deleted 0, failed 0/);
  });

  it('"synchronize TARGET from SOURCE" does the same as "to"', async () => {
    const r = await last(s, 'synchronize dst@inmemorystorage from src@inmemorystorage with insert or update or delete identified by code');
    assert.match(r.message ?? '', /inserted 1, updated 1, deleted 1, failed 0/);
    assert.deepEqual(await rows(s, 'select code from dst@inmemorystorage order by code'), [[1], [2], [3]]);
  });

  it('makes only the changes the with clause allows', async () => {
    const r = await last(s, 'synchronize src@inmemorystorage to dst@inmemorystorage with insert identified by code');
    assert.match(r.message ?? '', /inserted 1, updated 0, deleted 0, failed 0\. Left alone \(not in the with clause\): 1 to delete, 1 to update/);
    assert.deepEqual(await rows(s, 'select code, name from dst@inmemorystorage order by code'), [
      [1, 'Alpha'],
      [2, 'Old'],
      [3, 'Gamma'],
      [4, 'Delta'],
    ]);
    const u = await last(s, 'synchronize src@inmemorystorage to dst@inmemorystorage with update identified by code');
    assert.match(u.message ?? '', /inserted 0, updated 1, deleted 0/);
    const d = await last(s, 'synchronize src@inmemorystorage to dst@inmemorystorage with delete identified by code');
    assert.match(d.message ?? '', /inserted 0, updated 0, deleted 1/);
    assert.deepEqual(await rows(s, 'select code from dst@inmemorystorage order by code'), [[1], [2], [3]]);
  });

  it('ignore changes to: a column left out of the comparison is not updated', async () => {
    const r = await last(s, 'synchronize src@inmemorystorage to dst@inmemorystorage with update identified by code ignore changes to name, seen');
    assert.match(r.message ?? '', /updated 0/);
    assert.deepEqual(await rows(s, "select name from dst@inmemorystorage where code = 2"), [['Old']]);
  });

  it('a key that is not unique on either side is an error naming examples, before any write', async () => {
    await runAll(s, "insert into src@inmemorystorage values ('3', 'Gamma again', 1, null)");
    await rejects(last(s, 'synchronize src@inmemorystorage to dst@inmemorystorage with insert or update identified by code'), 'SYN010', /not unique in the source src@inmemorystorage: 1 key value\(s\).*code=3 \(2 rows\)/);
    await runAll(s, "delete from src@inmemorystorage where name = 'Gamma again'; insert into dst@inmemorystorage values (4, 'Delta 2', '4', null, null)");
    await rejects(last(s, 'synchronize src@inmemorystorage to dst@inmemorystorage with insert or update identified by code'), 'SYN010', /target dst@inmemorystorage.*code=4 \(2 rows\)/);
    assert.deepEqual(await rows(s, 'select count(*) from dst@inmemorystorage'), [[4]]);
  });

  it('NULL keys pair with NULL keys; with ignore nulls rows with an empty key are skipped on both sides', async () => {
    await runAll(s, "insert into src@inmemorystorage values (null, 'Nobody', 9, null); insert into dst@inmemorystorage values (null, 'Someone', '8', null, null)");
    const paired = await last(s, 'synchronize src@inmemorystorage to dst@inmemorystorage with insert or update identified by code');
    assert.match(paired.message ?? '', /inserted 1, updated 2/);
    assert.deepEqual(await rows(s, 'select name, amount from dst@inmemorystorage where code is null'), [['Nobody', '9']]);

    await runAll(s, "update src@inmemorystorage set name = 'Changed' where code is null; insert into src@inmemorystorage values (null, 'Second nobody', 1, null)");
    // Two NULL keys in the source: without ignore nulls that is a duplicate key …
    const dup = await rejects(last(s, 'synchronize src@inmemorystorage to dst@inmemorystorage with insert or update identified by code'), 'SYN010', /code=NULL \(2 rows\)/);
    assert.match(dup.details.hint ?? '', /ignore nulls/);
    // … with it, both sides' NULL-key rows are left alone.
    const skipped = await last(s, 'synchronize src@inmemorystorage to dst@inmemorystorage with insert or update or delete identified by code ignore nulls');
    assert.match(skipped.message ?? '', /inserted 0, updated 0, deleted 1, failed 0/);
    assert.deepEqual(await rows(s, 'select name from dst@inmemorystorage where code is null'), [['Nobody']]);
  });

  it('caps: exit after N makes at most N changes of that kind and leaves the rest; error after N then fails the statement', async () => {
    const exit = await last(s, 'synchronize src@inmemorystorage to dst@inmemorystorage with insert exit after 0 rows or update or delete identified by code');
    assert.match(exit.message ?? '', /inserted 0, updated 1, deleted 1, failed 0, skipped 1\. "insert exit after 0 rows": 1 of 1 rows to insert left for a later run/);
    const journal = await rows(s, "select action, rowkey, status from synchronizeresults@datadictionary where status = 'skipped'");
    assert.deepEqual(journal, [['insert', 'code=3', 'skipped']]);

    await runAll(s, SRC);
    // Deletes come first; the cap stops the statement, so the update and the insert are not attempted.
    await rejects(
      last(s, 'synchronize src@inmemorystorage to dst@inmemorystorage with insert or update or delete error after 0 rows identified by code'),
      'SYN021',
      /stopped at "delete error after 0 rows": 1 rows needed to be deleted, at most 0 were \(inserted 0, updated 0, deleted 0, failed 0, skipped 3\)/,
    );
    assert.deepEqual(await rows(s, 'select code, name from dst@inmemorystorage order by code'), [
      [1, 'Alpha'],
      [2, 'Old'],
      [4, 'Delta'],
    ]);
    const within = await last(s, 'synchronize src@inmemorystorage to dst@inmemorystorage with insert exit after 1 rows or update error after 1 rows identified by code');
    assert.match(within.message ?? '', /inserted 1, updated 1, deleted 0, failed 0/);
  });

  it('caps on in-memory targets: exit after 2 inserts the first 2 (by key); each later run makes at most 2 more', async () => {
    await runAll(s, "insert into src@inmemorystorage values ('5', 'Epsilon', 5, null), ('6', 'Zeta', 6, null), ('7', 'Eta', 7, null)");
    const plan = await last(s, 'explain synchronize src@inmemorystorage to dst@inmemorystorage with insert exit after 2 rows or update error after 0 rows identified by code');
    const planText = (plan.lines ?? []).join('\n');
    assert.match(planText, /allowed: update \(error after 0 rows\), insert \(exit after 2 rows\)/);
    assert.match(planText, /update: 1 > 0: would update the first 0, then fail the statement \(later actions not done\)/);
    assert.match(planText, /insert: 4 > 2: would insert the first 2, then leave the rest for a later run/);
    const first = await last(s, 'synchronize src@inmemorystorage to dst@inmemorystorage with insert exit after 2 rows identified by code');
    assert.match(first.message ?? '', /inserted 2, updated 0, deleted 0, failed 0, skipped 2\. "insert exit after 2 rows": 2 of 4 rows to insert left for a later run/);
    assert.deepEqual(await rows(s, 'select code from dst@inmemorystorage where code >= 3 order by code'), [[3], [4], [5]]);
    assert.deepEqual(await rows(s, "select rowkey, status from synchronizeresults@datadictionary where action = 'insert' order by rowkey"), [
      ['code=3', 'ok'],
      ['code=5', 'ok'],
      ['code=6', 'skipped'],
      ['code=7', 'skipped'],
    ]);
    const second = await last(s, 'synchronize src@inmemorystorage to dst@inmemorystorage with insert exit after 2 rows identified by code');
    assert.match(second.message ?? '', /inserted 2, updated 0, deleted 0, failed 0\. Left alone/);
    const third = await last(s, 'synchronize src@inmemorystorage to dst@inmemorystorage with insert exit after 2 rows identified by code');
    assert.match(third.message ?? '', /inserted 0, updated 0, deleted 0, failed 0\. Left alone/);
  });

  it('numbers compare at the target column\'s scale: a decimal(10,2) target holding 12.35 for 12.345 is not updated again', async () => {
    await runAll(
      s,
      `create or replace table ns@inmemorystorage (code int, price double, qty double);
insert into ns@inmemorystorage values (1, 12.345, 1.25), (2, 0.004, 2), (3, -7.125, 3);
create or replace table nt@inmemorystorage (code int, price number(10,2), qty number(10,1))`,
    );
    const first = await last(s, 'synchronize ns@inmemorystorage to nt@inmemorystorage with insert or update identified by code');
    assert.match(first.message ?? '', /inserted 3, updated 0/);
    assert.deepEqual(await rows(s, 'select code, price, qty from nt@inmemorystorage order by code'), [
      [1, 12.35, 1.3],
      [2, 0, 2],
      [3, -7.13, 3],
    ]);
    const second = await last(s, 'synchronize ns@inmemorystorage to nt@inmemorystorage with insert or update identified by code');
    assert.match(second.message ?? '', /inserted 0, updated 0, deleted 0, failed 0/);
    // A real difference at the target's scale is still an update.
    await runAll(s, 'update ns@inmemorystorage set price = 12.36 where code = 1');
    const third = await last(s, 'synchronize ns@inmemorystorage to nt@inmemorystorage with insert or update identified by code');
    assert.match(third.message ?? '', /inserted 0, updated 1/);
  });

  it("'' is NULL for synchronize as for the rest of the engine: blank text pairs with NULL and is no type mismatch", async () => {
    await runAll(
      s,
      `create or replace table es@inmemorystorage (code varchar, name varchar, amount varchar);
insert into es@inmemorystorage values ('1', '   ', '  '), ('2', 'Two', null);
create or replace table et@inmemorystorage (code int, name varchar, amount number(10,2));
insert into et@inmemorystorage values (1, null, null), (2, 'Two', null)`,
    );
    const r = await last(s, 'synchronize es@inmemorystorage to et@inmemorystorage with insert or update identified by code');
    assert.match(r.message ?? '', /inserted 0, updated 0, deleted 0, failed 0/);
    assert.deepEqual(await rows(s, "select count(*) from synchronizeresults@datadictionary where status = 'failed'"), [[0]]);
  });

  it('a value the target column cannot take is a failed row with its key; continue on first N errors lets the rest through', async () => {
    await runAll(s, "create or replace table src2@inmemorystorage (code varchar, name varchar); insert into src2@inmemorystorage values ('1', 'One'), ('x7', 'Bad key'), ('5', 'Five')");
    await rejects(last(s, 'synchronize src2@inmemorystorage to dst@inmemorystorage with insert or update identified by code'), 'SYN030', /nothing was written.*code=NULL: Type mismatch: code: 'x7' is not an integer/);
    assert.deepEqual(await rows(s, 'select count(*) from dst@inmemorystorage where code = 5'), [[0]]);
    const r = await last(s, 'synchronize src2@inmemorystorage to dst@inmemorystorage with insert or update identified by code continue on first 1 errors');
    assert.match(r.message ?? '', /inserted 1, updated 1, deleted 0, failed 1/);
    assert.deepEqual(await rows(s, "select status, message from synchronizeresults@datadictionary where status = 'failed' order by run desc limit 1"), [
      ['failed', "Type mismatch: code: 'x7' is not an integer"],
    ]);
  });

  it('explain synchronize changes nothing and shows the plan, the counts and sample rows', async () => {
    const r = await last(s, 'explain synchronize src@inmemorystorage to dst@inmemorystorage with insert or update or delete identified by code ignore changes to seen');
    assert.equal(r.kind, 'explain');
    const text = (r.lines ?? []).join('\n');
    assert.match(text, /synchronize src@inmemorystorage to dst@inmemorystorage/);
    assert.match(text, /identified by: code/);
    assert.match(text, /compared: name, amount\n/);
    assert.match(text, /table InMemoryStorage\.Memory\.src@inmemorystorage/);
    assert.match(text, /changes: insert 1, update 1, delete 1/);
    assert.match(text, /sample insert:\n {4}code=3: code=3, name='Gamma', amount='3.25'/);
    assert.match(text, /sample update:\n {4}code=2: code=2, name='Beta', amount='2'/);
    assert.deepEqual(await rows(s, 'select code, name from dst@inmemorystorage order by code'), [
      [1, 'Alpha'],
      [2, 'Old'],
      [4, 'Delta'],
    ]);
  });

  it('a key of several columns pairs on all of them (in-memory targets are changed set-based)', async () => {
    await runAll(
      s,
      `create or replace table ls@inmemorystorage (division int, code varchar, name varchar);
insert into ls@inmemorystorage values (1, 'A', 'one A'), (1, 'B', 'one B new'), (2, 'A', 'two A');
create or replace table lt@inmemorystorage (division int, code varchar, name varchar);
insert into lt@inmemorystorage values (1, 'A', 'one A'), (1, 'B', 'one B'), (2, 'A', 'two A'), (2, 'C', 'two C')`,
    );
    const r = await last(s, 'synchronize lt@inmemorystorage from ls@inmemorystorage with insert or update or delete identified by division, code');
    assert.match(r.message ?? '', /inserted 0, updated 1, deleted 1, failed 0/);
    assert.deepEqual(await rows(s, 'select division, code, name from lt@inmemorystorage order by division, code'), [
      [1, 'A', 'one A'],
      [1, 'B', 'one B new'],
      [2, 'A', 'two A'],
    ]);
    assert.deepEqual(await rows(s, "select action, rowkey, status from synchronizeresults@datadictionary order by action"), [
      ['delete', 'division=2, code=C', 'ok'],
      ['update', 'division=1, code=B', 'ok'],
    ]);
  });

  it('unknown key columns are clear errors', async () => {
    await rejects(last(s, 'synchronize src@inmemorystorage to dst@inmemorystorage with insert identified by nope'), 'SYN003', /"nope" is not a column of the source src@inmemorystorage/);
  });
});

describe('synchronize into a remote-like target', () => {
  const sessions: Session[] = [];
  let store: SyncStore;
  let s: Session;
  const values = Array.from({ length: 40 }, (_, i) => `('${1001 + i}', 'Thing ${i + 1}', ${(i + 1) * 1.5}, '2024-03-0${1 + ((i + 1) % 9)}')`);
  const SOURCE = `create or replace table src@inmemorystorage (id varchar, name varchar, amount number(10,2), seen varchar);
insert into src@inmemorystorage values ${values.join(', ')}`;

  beforeEach(async () => {
    store = new SyncStore('store');
    s = await openSession({ containers: [{ alias: 'store', provider: 'SyncStore', options: {} }], providers: [syncStoreProvider(store)], settings: { 'synchronize-batch-size': '8' } });
    sessions.push(s);
    await runAll(s, SOURCE);
  });
  after(async () => {
    for (const x of sessions) await x.close();
  });

  const SYNC = 'synchronize src@inmemorystorage to things@store with insert or update identified by id';

  it('writes in batches, converts values to the target types, and a second run makes zero write calls', async () => {
    const r = await last(s, SYNC);
    assert.match(r.message ?? '', /inserted 40, updated 0, deleted 0, failed 0/);
    assert.equal(store.writeCalls, 5);
    // Text '1007' into an integer key, text into a date; the read-only Stamp is left to the target.
    assert.deepEqual(store.rows.get(1007), { ID: 1007, Name: 'Thing 7', Amount: 10.5, Seen: new Date('2024-03-08T00:00:00Z'), Stamp: new Date(0) });
    store.writeCalls = 0;
    const again = await last(s, SYNC);
    assert.match(again.message ?? '', /inserted 0, updated 0/);
    assert.equal(store.writeCalls, 0);
  });

  it('rows the target refuses: stop at the first error by default; continue on first N errors goes on', async () => {
    store.rejectNames = /Thing (3|13|23)$/;
    await rejects(last(s, SYNC), 'SYN030', /a row failed.*First failure: ID=1003: Name Thing 3 is not accepted/);
    const firstRun = await rows(s, 'select status, count(*) from synchronizeresults@datadictionary group by status order by status');
    // The batch holding the first failure finishes; every later row is reported as not attempted.
    assert.deepEqual(firstRun, [
      ['failed', 1],
      ['ok', 7],
      ['skipped', 32],
    ]);
    const r = await last(s, `${SYNC} continue on first 5 errors`);
    assert.match(r.message ?? '', /inserted 30, updated 0, deleted 0, failed 3/);
    assert.equal(store.rows.size, 37);
    const failed = await rows(s, "select rowkey, message from synchronizeresults@datadictionary where run = 2 and status = 'failed' order by rowkey");
    assert.deepEqual(failed, [
      ['ID=1003', 'Name Thing 3 is not accepted'],
      ['ID=1013', 'Name Thing 13 is not accepted'],
      ['ID=1023', 'Name Thing 23 is not accepted'],
    ]);
    await rejects(last(s, `${SYNC} continue on first 2 errors`), 'SYN030', /more than 2 rows failed/);
  });

  it('a crash half-way leaves every row done or reported; a re-run completes the rest; a third run changes nothing', async () => {
    store.crashAfter = 20;
    await rejects(last(s, SYNC), 'SYN031', /connection reset by peer.*inserted 20/);
    assert.equal(store.rows.size, 20);
    const j = await rows(s, 'select status, count(*) from synchronizeresults@datadictionary group by status order by status');
    assert.deepEqual(j, [
      ['failed', 4],
      ['ok', 20],
      ['skipped', 16],
    ]);
    store.crashAfter = undefined;
    const rerun = await last(s, SYNC);
    assert.match(rerun.message ?? '', /inserted 20, updated 0, deleted 0, failed 0/);
    assert.equal(store.rows.size, 40);
    store.writeCalls = 0;
    const third = await last(s, SYNC);
    assert.match(third.message ?? '', /inserted 0, updated 0, deleted 0, failed 0/);
    assert.equal(store.writeCalls, 0);
  });

  it('cancelling mid-way reports the unconfirmed rows; a re-run completes', async () => {
    const ac = new AbortController();
    store.crashAfter = undefined;
    const onProgress = (p: { rows: number }) => {
      if (p.rows >= 16) ac.abort();
    };
    const cancelled = async () => {
      for await (const r of s.execute(SYNC, { signal: ac.signal, onProgress })) void r;
    };
    await rejects(cancelled(), 'ENG400');
    assert.equal(store.rows.size, 16);
    const j = await rows(s, "select count(*) from synchronizeresults@datadictionary where status <> 'ok' and run = 1");
    assert.deepEqual(j, [[24]]);
    const rerun = await last(s, SYNC);
    assert.match(rerun.message ?? '', /inserted 24/);
  });

  it('caps on a remote target: exit after N writes the first N per run; error after N writes N, then fails and names what was not done', async () => {
    const exit = await last(s, 'synchronize src@inmemorystorage to things@store with insert exit after 15 rows identified by id');
    assert.match(exit.message ?? '', /inserted 15, updated 0, deleted 0, failed 0, skipped 25\. "insert exit after 15 rows": 25 of 40 rows to insert left for a later run/);
    assert.equal(store.rows.size, 15);
    assert.deepEqual([...store.rows.keys()].sort(), Array.from({ length: 15 }, (_, i) => 1001 + i));
    await last(s, 'synchronize src@inmemorystorage to things@store with insert exit after 15 rows identified by id');
    assert.equal(store.rows.size, 30);

    await runAll(s, "update src@inmemorystorage set name = name || ' (new)' where id in ('1001', '1002', '1003')");
    const e = await rejects(
      last(s, 'synchronize src@inmemorystorage to things@store with insert or update error after 2 rows identified by id'),
      'SYN021',
      /stopped at "update error after 2 rows": 3 rows needed to be updated, at most 2 were \(inserted 0, updated 2, deleted 0, failed 0, skipped 11\)\. Not done: 11 row\(s\) \(journal run 3\), e\.g\. update ID=1003 skipped: Not updated: 3 rows needed it; "update error after 2 rows" stopped the statement after 2; insert ID=1031 skipped: Not attempted: the statement stopped at "update error after 2 rows"/,
    );
    assert.match(e.details.hint ?? '', /raise the limit/);
    assert.equal(store.rows.size, 30);
    assert.equal(store.rows.get(1002)!.Name, 'Thing 2 (new)');
    assert.equal(store.rows.get(1003)!.Name, 'Thing 3');
  });

  it("timestamps compare at the target's precision (milliseconds for a platform), so microseconds do not update every run", async () => {
    await runAll(
      s,
      `create or replace table ts@inmemorystorage (id varchar, name varchar, changed timestamp);
insert into ts@inmemorystorage values ('1001', 'Thing 1', timestamp '2024-05-06 07:08:09.123456'), ('1002', 'Thing 2', null)`,
    );
    const SYNC_TS = 'synchronize ts@inmemorystorage to things@store with insert or update identified by id';
    const first = await last(s, SYNC_TS);
    assert.match(first.message ?? '', /inserted 2, updated 0/);
    assert.deepEqual(store.rows.get(1001)!.Changed, new Date('2024-05-06T07:08:09.123Z'));
    store.writeCalls = 0;
    const second = await last(s, SYNC_TS);
    assert.match(second.message ?? '', /inserted 0, updated 0/);
    assert.equal(store.writeCalls, 0);
    await runAll(s, "update ts@inmemorystorage set changed = timestamp '2024-05-06 07:08:09.124' where id = '1001'");
    const third = await last(s, SYNC_TS);
    assert.match(third.message ?? '', /inserted 0, updated 1/);
  });

  it("blank text and NULL are the same to synchronize, also against a target that stores '' as NULL", async () => {
    store.emptyAsNull = true;
    await runAll(s, "update src@inmemorystorage set name = '  ' where id = '1004'");
    await last(s, SYNC);
    assert.equal(store.rows.get(1004)!.Name, null);
    store.writeCalls = 0;
    const again = await last(s, SYNC);
    assert.match(again.message ?? '', /inserted 0, updated 0/);
    assert.equal(store.writeCalls, 0);
  });

  it('synchronize-concurrency and synchronize-batch-size must be whole numbers in range: set refuses anything else (ENG042), settings given otherwise fail with SYN040 before reading', async () => {
    for (const bad of ['abc', '0', '1.5', '-2', '65', '']) {
      await rejects(runAll(s, `set synchronize-concurrency '${bad}'`), 'ENG042', /synchronize-concurrency must be a whole number from 1 to 64/);
    }
    await rejects(runAll(s, "set synchronize-batch-size 'many'"), 'ENG042', /synchronize-batch-size must be a whole number from 1 to 100,000/);
    for (const bad of ['abc', '0', '65']) {
      const e = await rejects(Promise.resolve().then(() => syncSetting({ 'synchronize-concurrency': bad }, 'synchronize-concurrency')), 'SYN040', /The setting synchronize-concurrency is ".*", but it must be a whole number from 1 to 64; nothing was read or written/);
      assert.match(e.details.hint ?? '', /set synchronize-concurrency 8/);
    }
    // Initial settings (openSession's settings option) are not checked by set: synchronize refuses them before reading.
    const opened = await openSession({ containers: [{ alias: 'store', provider: 'SyncStore', options: {} }], providers: [syncStoreProvider(store)], settings: { 'synchronize-batch-size': 'many' } });
    try {
      await runAll(opened, SOURCE);
      await rejects(last(opened, `explain ${SYNC}`), 'SYN040', /synchronize-batch-size is "many"/);
    } finally {
      await opened.close();
    }
    assert.equal(store.writeCalls, 0);
    await runAll(s, 'set synchronize-concurrency 4; set synchronize-batch-size 10');
    const r = await last(s, SYNC);
    assert.match(r.message ?? '', /inserted 40/);
    assert.equal(store.writeCalls, 4);
  });

  it('after a failed "sluice run" the outcome of the rows not done is on stderr, with an accurate hint', async () => {
    store.rejectNames = /Thing (3|13|23)$/;
    const stderr = new Capture();
    const stdout = new Capture();
    const stdin = new PassThrough();
    stdin.end(`${SYNC};\nselect 1 from dual;\n`);
    // The CLI closes the session it ran; this one stays open so the test can read its journal after.
    const kept: Session = {
      execute: (script, options) => s.execute(script, options),
      executeStatement: (statement, options) => s.executeStatement(statement, options),
      containers: () => s.containers(),
      settings: () => s.settings(),
      close: async () => {},
    };
    const code = await runCli(['run', '-'], { stdin, stdout, stderr, env: {}, openSession: async () => kept });
    assert.equal(code, 1);
    assert.equal(stdout.text, '');
    assert.match(stderr.text, /^SYN030: Synchronize src@inmemorystorage to things@store stopped: a row failed \(inserted 7, updated 0, deleted 0, failed 1, skipped 32\)\. First failure: ID=1003: Name Thing 3 is not accepted\. Not done: 33 row\(s\) \(journal run 1\), e\.g\. insert ID=1003 failed: Name Thing 3 is not accepted; insert ID=1009 skipped: Not attempted: the statement stops at the first failed row; insert ID=1010 skipped/m);
    assert.match(stderr.text, /and 28 more\./);
    assert.match(stderr.text, /hint: Rows done stay done\. .*synchronizeresults@datadictionary \(run = 1\) while this session lasts.*"sluice run" ends the session.*continue on first N errors/);
    // The journal itself is still there for as long as the session lives.
    assert.deepEqual(await rows(s, "select count(*) from synchronizeresults@datadictionary where run = 1 and status <> 'ok'"), [[33]]);
  });

  it('updates through write() by the target key', async () => {
    await last(s, SYNC);
    await runAll(s, "update src@inmemorystorage set name = 'Renamed' where id = '1005'");
    const r = await last(s, SYNC);
    assert.match(r.message ?? '', /inserted 0, updated 1/);
    assert.equal(store.rows.get(1005)!.Name, 'Renamed');
  });

  it('an operation the target does not offer fails before any write, in the provider\'s words', async () => {
    await last(s, SYNC);
    await runAll(s, "delete from src@inmemorystorage where id = '1001'; insert into src@inmemorystorage values ('2000', 'New', 1, null)");
    store.writeCalls = 0;
    await rejects(last(s, 'synchronize src@inmemorystorage to things@store with insert or update or delete identified by id'), 'SYN020', /delete 1 row\(s\) in things@store, but the test store has no API to delete things\. Nothing was written/);
    assert.equal(store.writeCalls, 0);
    assert.equal(store.rows.has(2000), false);
    // Without "or delete" the same statement goes through.
    const r = await last(s, SYNC);
    assert.match(r.message ?? '', /inserted 1, updated 0, deleted 0, failed 0\. Left alone \(not in the with clause\): 1 to delete/);
  });
});

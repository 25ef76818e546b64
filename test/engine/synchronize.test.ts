/**
 * synchronize end to end over in-memory storage and a remote-like test
 * store (test/engine/sync-store.ts): every clause, both directions,
 * normalisation, duplicate and NULL keys, caps, errors, a crash half-way
 * with re-runs, type mismatches, unsupported operations, explain, journal.
 */
import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import { openSession } from '../../src/engine/index.js';
import type { Session } from '../../src/engine/api.js';
import { SluiceError } from '../../src/util/errors.js';
import { rows, runAll } from './helpers.js';
import { SyncStore, syncStoreProvider } from './sync-store.js';

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

  it('caps: exit after N skips that action and reports it; error after N fails before writing anything', async () => {
    const exit = await last(s, 'synchronize src@inmemorystorage to dst@inmemorystorage with insert exit after 0 rows or update or delete identified by code');
    assert.match(exit.message ?? '', /inserted 0, updated 1, deleted 1, failed 0, skipped 1\. insert skipped: 1 rows exceed the cap/);
    const journal = await rows(s, "select action, rowkey, status from synchronizeresults@datadictionary where status = 'skipped'");
    assert.deepEqual(journal, [['insert', 'code=3', 'skipped']]);

    await runAll(s, SRC);
    await rejects(
      last(s, 'synchronize src@inmemorystorage to dst@inmemorystorage with insert or update or delete error after 0 rows identified by code'),
      'SYN021',
      /delete 1 rows.*more than the 0 allowed.*nothing was written/,
    );
    assert.deepEqual(await rows(s, 'select code, name from dst@inmemorystorage order by code'), [
      [1, 'Alpha'],
      [2, 'Old'],
      [4, 'Delta'],
    ]);
    const within = await last(s, 'synchronize src@inmemorystorage to dst@inmemorystorage with insert exit after 1 rows or update error after 1 rows identified by code');
    assert.match(within.message ?? '', /inserted 1, updated 1, deleted 0, failed 0/);
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

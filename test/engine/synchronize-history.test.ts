/**
 * synchronize outcomes that outlive the process: a session asked to persist
 * its journal (the CLI does) appends every row outcome to
 * <dataDir>/synchronize/journal.ndjson, flushed per batch; a later session
 * with the same data directory reads them as synchronizehistory@datadictionary.
 * The file is trimmed to the newest runs; malformed lines are skipped with a
 * warning; sessions that do not persist write nothing.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, describe, it } from 'node:test';
import { openSession } from '../../src/engine/index.js';
import type { SessionOptions } from '../../src/engine/api.js';
import { SyncJournal } from '../../src/engine/synchronize.js';
import type { RowResult, TableInfo, Value, WriteRequest } from '../../src/provider/types.js';
import { runCli } from '../../src/cli/program.js';
import { SluiceError } from '../../src/util/errors.js';
import { Capture } from '../cli/helpers.js';
import { rows, runAll } from './helpers.js';
import { SyncStore, syncStoreProvider } from './sync-store.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'sluice-sync-history-'));
  dirs.push(d);
  return d;
}
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const values = Array.from({ length: 40 }, (_, i) => `('${1001 + i}', 'Thing ${i + 1}', ${(i + 1) * 1.5}, '2024-03-0${1 + ((i + 1) % 9)}')`);
const SOURCE = `create or replace table src@inmemorystorage (id varchar, name varchar, amount number(10,2), seen varchar);
insert into src@inmemorystorage values ${values.join(', ')};`;
const SYNC = 'synchronize src@inmemorystorage to things@store with insert or update identified by id';

function journalLines(dataDir: string): string[] {
  const file = join(dataDir, 'synchronize', 'journal.ndjson');
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((l) => l !== '') : [];
}

/** "sluice run -" on the real CLI, whose sessions are real ones over the given store and data directory. */
async function sluiceRun(store: SyncStore, dataDir: string, script: string): Promise<{ code: number; stdout: string; stderr: string; options: SessionOptions[] }> {
  const stdout = new Capture();
  const stderr = new Capture();
  const stdin = new PassThrough();
  stdin.end(script);
  const options: SessionOptions[] = [];
  const code = await runCli(['run', '-'], {
    stdin,
    stdout,
    stderr,
    env: {},
    openSession: async (o) => {
      options.push(o);
      return openSession({ ...o, dataDir, containers: [{ alias: 'store', provider: 'SyncStore', options: {} }], providers: [syncStoreProvider(store)], settings: { 'synchronize-batch-size': '8' } });
    },
  });
  return { code, stdout: stdout.text, stderr: stderr.text, options };
}

describe('synchronize history in the data directory', () => {
  it('after a failed "sluice run", a new session with the same data directory finds every row\'s outcome, including the rows not done', async () => {
    const dataDir = tempDir();
    const store = new SyncStore('store');
    store.rejectNames = /Thing (3|13|23)$/;
    const failed = await sluiceRun(store, dataDir, `${SOURCE}\n${SYNC};\n`);
    assert.equal(failed.code, 1);
    assert.deepEqual(
      failed.options.map((o) => o.persistSyncJournal),
      [true],
    );
    assert.match(failed.stderr, /^SYN030: .*Not done: 33 row\(s\) \(journal run 1\)/m);
    const hinted = /synchronizehistory@datadictionary \(run_id = '([^']+)'\), also after this session ends/.exec(failed.stderr);
    assert.ok(hinted, failed.stderr);
    const runId = hinted[1];

    const later = await openSession({ dataDir, persistSyncJournal: true });
    try {
      assert.deepEqual(await rows(later, `select status, count(*), count(distinct rowkey) from synchronizehistory@datadictionary where run_id = '${runId}' group by status order by status`), [
        ['failed', 1, 1],
        ['ok', 7, 7],
        ['skipped', 32, 32],
      ]);
      // Every source row has an outcome, and each not done says why.
      assert.deepEqual(await rows(later, 'select count(distinct rowkey) from synchronizehistory@datadictionary'), [[40]]);
      assert.deepEqual(await rows(later, "select rowkey, action, message from synchronizehistory@datadictionary where status = 'failed'"), [['ID=1003', 'insert', 'Name Thing 3 is not accepted']]);
      assert.deepEqual(await rows(later, "select distinct message from synchronizehistory@datadictionary where status = 'skipped'"), [['Not attempted: the statement stops at the first failed row.']]);
      const [first] = await rows(later, 'select run, started_at, source, target, partition from synchronizehistory@datadictionary limit 1');
      assert.equal(first[0], 1);
      assert.ok(first[1] instanceof Date);
      assert.deepEqual(first.slice(2), ['src@inmemorystorage', 'things@store', null]);
      // This session ran no synchronize itself.
      assert.deepEqual(await rows(later, 'select count(*) from synchronizeresults@datadictionary'), [[0]]);
    } finally {
      await later.close();
    }

    // A re-run in another process completes the rest; the history holds both runs, the newest first.
    store.rejectNames = undefined;
    const rerun = await sluiceRun(store, dataDir, `${SOURCE}\n${SYNC};\n`);
    assert.equal(rerun.code, 0, rerun.stderr);
    const again = await openSession({ dataDir, persistSyncJournal: true });
    try {
      const runs = await rows(again, 'select run_id, count(*), count(case when status = \'ok\' then 1 end) from synchronizehistory@datadictionary group by run_id');
      assert.equal(runs.length, 2);
      const history = await rows(again, 'select run_id from synchronizehistory@datadictionary');
      assert.notEqual(history[0][0], runId, 'the newest run comes first');
      assert.equal(history[history.length - 1][0], runId);
      assert.deepEqual(await rows(again, `select count(*) from synchronizehistory@datadictionary where run_id <> '${runId}' and status = 'ok'`), [[33]]);
    } finally {
      await again.close();
    }
    assert.equal(store.rows.size, 40);
  });

  it('writes the outcomes of each batch before the next batch is sent, so a crash leaves what was done', async () => {
    const dataDir = tempDir();
    const seen: number[] = [];
    class Watching extends SyncStore {
      override async *write(table: TableInfo, request: WriteRequest): AsyncIterable<RowResult> {
        seen.push(journalLines(dataDir).length);
        yield* super.write(table, request);
      }
    }
    const store = new Watching('store');
    store.crashAfter = 20;
    const s = await openSession({ dataDir, persistSyncJournal: true, containers: [{ alias: 'store', provider: 'SyncStore', options: {} }], providers: [syncStoreProvider(store)], settings: { 'synchronize-batch-size': '8' } });
    try {
      await runAll(s, SOURCE);
      await assert.rejects(runAll(s, SYNC), (e: unknown) => e instanceof SluiceError && /connection reset by peer/.test(e.message));
    } finally {
      await s.close();
    }
    assert.deepEqual(seen, [0, 8, 16]);
    const lines = journalLines(dataDir).map((l) => JSON.parse(l) as Record<string, Value>);
    assert.equal(lines.length, 40);
    assert.equal(lines.filter((l) => l.status === 'ok').length, 20);
    assert.ok(lines.every((l) => typeof l.run_id === 'string' && l.run === 1));
  });

  it('a cap that stops the statement (SYN021) names the run in the history, where the rows past the cap are', async () => {
    const dataDir = tempDir();
    const store = new SyncStore('store');
    const s = await openSession({ dataDir, persistSyncJournal: true, containers: [{ alias: 'store', provider: 'SyncStore', options: {} }], providers: [syncStoreProvider(store)] });
    try {
      await runAll(s, SOURCE);
      let hint = '';
      await assert.rejects(runAll(s, SYNC.replace('with insert or update', 'with insert error after 5 rows or update')), (e: unknown) => {
        hint = e instanceof SluiceError && e.code === 'SYN021' ? (e.details.hint ?? '') : '';
        return hint !== '';
      });
      const id = /synchronizehistory@datadictionary \(run_id = '([^']+)'\)/.exec(hint);
      assert.ok(id, hint);
      assert.deepEqual(await rows(s, `select status, count(*) from synchronizehistory@datadictionary where run_id = '${id[1]}' group by status order by status`), [
        ['ok', 5],
        ['skipped', 35],
      ]);
    } finally {
      await s.close();
    }
  });

  it('keeps the file bounded: the oldest runs are dropped, the newest and the current run kept', () => {
    const dataDir = tempDir();
    const path = join(dataDir, 'synchronize', 'journal.ndjson');
    const at = new Date('2026-01-02T03:04:05Z');
    const ids: string[] = [];
    const runOnce = (journal: SyncJournal, rowsPerRun: number) => {
      const run = journal.nextRun();
      ids.push(journal.runId(run));
      for (let i = 0; i < rowsPerRun; i++) journal.add({ run, at, source: 'a@x', target: 'b@y', action: 'insert', key: `K${i}`, partition: null, status: 'ok', message: null });
      journal.flush();
    };
    // Six sessions of one run each, then one long session of five runs.
    for (let i = 0; i < 6; i++) runOnce(new SyncJournal({ path, maxRuns: 4, maxLines: 1000 }), 2);
    const long = new SyncJournal({ path, maxRuns: 4, maxLines: 1000 });
    for (let i = 0; i < 5; i++) runOnce(long, 2);
    const kept = [...new Set(journalLines(dataDir).map((l) => (JSON.parse(l) as { run_id: string }).run_id))];
    assert.deepEqual(kept, ids.slice(-4));
    assert.equal(new Set(ids).size, 11, 'run ids are unique across sessions');
    // The line bound: runs are dropped whole, oldest first, and the current run is always written.
    const byLines = new SyncJournal({ path, maxRuns: 100, maxLines: 5 });
    runOnce(byLines, 2);
    runOnce(byLines, 3);
    runOnce(byLines, 7);
    const after = journalLines(dataDir).map((l) => (JSON.parse(l) as { run_id: string }).run_id);
    // Over 5 lines, the file is cut to the newest whole runs within 4 (80 %): before the third run it held
    // 2 + 2 + 3 lines, so only the 3 of the second run stay, then the 7 of the third are appended.
    assert.deepEqual(after, [...Array<string>(3).fill(ids[ids.length - 2]), ...Array<string>(7).fill(ids[ids.length - 1])]);
    // At the defaults a full file is rewritten once every 20 runs, not before each: 100 runs kept 80.
    const defaults = join(tempDir(), 'journal.ndjson');
    for (let i = 0; i < 100; i++) runOnce(new SyncJournal({ path: defaults }), 1);
    const runsIn = () => new Set(readFileSync(defaults, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { run_id: string }).run_id)).size;
    assert.equal(runsIn(), 100);
    runOnce(new SyncJournal({ path: defaults }), 1);
    assert.equal(runsIn(), 81, 'trimmed to 80 runs, then the new one');
    for (let i = 0; i < 19; i++) runOnce(new SyncJournal({ path: defaults }), 1);
    assert.equal(runsIn(), 100, 'no rewrite until the file holds 100 runs again');
  });

  it('skips a malformed line with a warning instead of failing the query', async () => {
    const dataDir = tempDir();
    mkdirSync(join(dataDir, 'synchronize'));
    const good = (key: string) => JSON.stringify({ run_id: 'r1', run: 1, started_at: '2026-01-02T03:04:05.000Z', source: 'a@x', target: 'b@y', action: 'update', key, partition: '7', status: 'failed', message: 'nope' });
    writeFileSync(join(dataDir, 'synchronize', 'journal.ndjson'), [good('K1'), '{"run_id": "r1", "run": "one"', '[1,2]', JSON.stringify({ run_id: 'r1', run: 1 }), good('K2'), 'not json at all'].join('\n') + '\n');
    const s = await openSession({ dataDir, persistSyncJournal: true });
    try {
      const [result] = await runAll(s, 'select run_id, run, started_at, action, rowkey, partition, status, message from synchronizehistory@datadictionary');
      assert.deepEqual(result.rows, [
        ['r1', 1, new Date('2026-01-02T03:04:05.000Z'), 'update', 'K1', '7', 'failed', 'nope'],
        ['r1', 1, new Date('2026-01-02T03:04:05.000Z'), 'update', 'K2', '7', 'failed', 'nope'],
      ]);
      assert.ok(result.result.kind === 'rows');
      assert.ok(result.result.summary().warnings.some((w) => /Skipped 4 malformed line\(s\) in the synchronize journal/.test(w)), String(result.result.summary().warnings));
    } finally {
      await s.close();
    }
  });

  it('a session that does not persist (tests, embedded, the server) writes no file and has no history table', async () => {
    const home = tempDir();
    const dataDir = tempDir();
    const saved = process.env.SLUICE_HOME;
    process.env.SLUICE_HOME = home;
    try {
      for (const options of [{}, { dataDir }]) {
        const store = new SyncStore('store');
        const s = await openSession({ ...options, containers: [{ alias: 'store', provider: 'SyncStore', options: {} }], providers: [syncStoreProvider(store)] });
        try {
          await runAll(s, `${SOURCE}\n${SYNC}`);
          assert.deepEqual(await rows(s, 'select count(*) from synchronizeresults@datadictionary'), [[40]]);
          await assert.rejects(runAll(s, 'select * from synchronizehistory@datadictionary'), SluiceError);
        } finally {
          await s.close();
        }
      }
    } finally {
      if (saved === undefined) delete process.env.SLUICE_HOME;
      else process.env.SLUICE_HOME = saved;
    }
    assert.equal(existsSync(join(home, 'synchronize')), false);
    assert.equal(existsSync(join(dataDir, 'synchronize')), false);
  });
});

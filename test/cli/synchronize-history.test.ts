/**
 * The synchronize history across real processes: `sluice run` (a child
 * process, as from cron) fails half-way; a later `sluice query` in another
 * process, with the same SLUICE_HOME, finds every row's outcome in
 * synchronizehistory@datadictionary.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sluiceProcess } from './helpers.js';

const home = mkdtempSync(join(tmpdir(), 'sluice-sync-history-home-'));
after(() => rmSync(home, { recursive: true, force: true }));

const sluice = (args: string[], stdin = '') => sluiceProcess(home, args, stdin);

const SCRIPT = `create or replace table src@inmemorystorage (code varchar, n varchar);
insert into src@inmemorystorage values ('1', '10'), ('2', 'ten'), ('3', '30'), ('4', 'forty');
create or replace table dst@inmemorystorage (code int, n int);
synchronize src@inmemorystorage to dst@inmemorystorage with insert identified by code;
`;

test('a failed "sluice run" leaves every row outcome for a later "sluice query" in another process', async () => {
  const run = await sluice(['run', '-'], SCRIPT);
  assert.equal(run.code, 1);
  assert.match(run.stderr, /^SYN030: /m);
  const id = /synchronizehistory@datadictionary \(run_id = '([^']+)'\)/.exec(run.stderr);
  assert.ok(id, run.stderr);
  assert.ok(existsSync(join(home, 'synchronize', 'journal.ndjson')));

  const q = await sluice(['query', '-f', 'csv', `select run_id, action, rowkey, status from synchronizehistory@datadictionary order by rowkey`]);
  assert.equal(q.code, 0, q.stderr);
  const lines = q.stdout.trim().split(/\r?\n/);
  assert.deepEqual(lines, ['run_id,action,rowkey,status', `${id[1]},insert,code=2,failed`, `${id[1]},insert,code=4,failed`]);

  // A second run that tolerates them is added, newest first.
  const ok = await sluice(['run', '-'], SCRIPT.replace('identified by code;', 'identified by code continue on first 2 errors;'));
  assert.equal(ok.code, 0, ok.stderr);
  const runs = await sluice(['query', '-f', 'csv', "select run_id, count(*) n, count(case when status = 'ok' then 1 end) ok from synchronizehistory@datadictionary group by run_id order by min(started_at) desc"]);
  assert.equal(runs.code, 0, runs.stderr);
  const [, newest, oldest] = runs.stdout.trim().split(/\r?\n/);
  assert.match(newest, /,4,2$/);
  assert.equal(oldest, `${id[1]},2,0`);
});

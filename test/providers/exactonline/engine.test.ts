/**
 * End to end: SQL through the real engine (openSession) with settings from
 * the simulator's writeSettings, against the ExactOnlineAll container.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Session, StatementResult } from '../../../src/engine/api.js';
import { openSession } from '../../../src/engine/index.js';
import type { Value } from '../../../src/provider/types.js';
import { startExactSimulator, type ExactSimulator } from '../../../src/sim/exactonline/index.js';
import { SluiceError } from '../../../src/util/errors.js';
import { SecretBox } from '../../../src/util/secrets.js';

async function all(session: Session, sql: string): Promise<{ rows: Value[][]; results: StatementResult[] }> {
  const rows: Value[][] = [];
  const results: StatementResult[] = [];
  for await (const r of session.execute(sql)) {
    results.push(r);
    if (r.kind === 'rows') for await (const b of r.batches) rows.push(...b.rows.map((x) => [...x]));
  }
  return { rows, results };
}

describe('Exact Online through the engine', () => {
  let sim: ExactSimulator;
  let dir: string;
  let session: Session;

  before(async () => {
    sim = await startExactSimulator({ port: 0, divisions: 4, accountsPerDivision: 120, transactionLinesPerDivision: 200 });
    dir = mkdtempSync(join(tmpdir(), 'sluice-eol-e2e-'));
    await sim.writeSettings(join(dir, 'settings.xml'));
    session = await openSession({ settingsPath: join(dir, 'settings.xml'), dataDir: dir, secrets: SecretBox.fromPassphrase('test-key') });
  });
  after(async () => {
    await session.close();
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('without use, the current division answers; use all reads every division in one statement', async () => {
    const one = await all(session, 'select count(*) from exactonlinerest..accounts@eol');
    assert.deepEqual(one.rows, [[120]]);
    await all(session, 'use all');
    const per = await all(session, 'select division, count(*) from exactonlinerest..accounts@eol group by division order by division');
    assert.deepEqual(
      per.rows.map((r) => r[0]),
      [...sim.divisions()].sort((a, b) => a - b),
    );
    assert.ok(per.rows.every((r) => r[1] === 120));
  });

  test("the short names resolve and code = '…' finds the padded code, trimmed", async () => {
    await all(session, 'use all');
    const { rows } = await all(session, "select code, name from crm.accounts where code = '1005'");
    assert.equal(rows.length, 4);
    assert.ok(rows.every((r) => r[0] === '1005'));
    const ex = await all(session, "explain select code from accounts@eol where code = '1005'");
    const lines = ex.results[0].kind === 'explain' ? ex.results[0].lines.join('\n') : '';
    assert.match(lines, /bulk\/CRM\/Accounts/);
    assert.match(lines, /trim\(Code\) eq '1005'/);
  });

  test('the data dictionary lists the Exact tables with their scope and writability', async () => {
    const { rows } = await all(
      session,
      "select name, scope, partition_column, insertable, updatable, deletable from systemtables@datadictionary where container = 'eol' and name in ('Accounts', 'Users', 'SystemDivisions', 'RateLimits', 'TransactionLines') order by name",
    );
    assert.deepEqual(rows, [
      ['Accounts', 'partitioned', 'Division', true, true, true],
      ['RateLimits', 'system', null, false, false, false],
      // GET only (the platform facts; the reference data also lists DELETE).
      ['SystemDivisions', 'system', null, false, false, false],
      ['TransactionLines', 'partitioned', 'Division', false, false, false],
      // Users has no division in its URL (system/Users): read once per connection, like a system table.
      ['Users', 'system', 'Division', true, true, false],
    ]);
  });

  test('Users (no division in the URL) is read once under use all: no duplicates, Division is the current division', async () => {
    await all(session, 'use all');
    const before = (await all(session, "select count(*) from sessionios@datadictionary where url like '%/system/Users%'")).rows[0][0];
    const { rows } = await all(session, 'select count(*), count(distinct userid), min(division), max(division) from users@eol');
    const after = (await all(session, "select count(*) from sessionios@datadictionary where url like '%/system/Users%'")).rows[0][0];
    const me = (await all(session, 'select currentdivision from me@eol')).rows[0][0];
    const [count, distinct, minDiv, maxDiv] = rows[0];
    assert.ok(Number(count) > 0);
    assert.equal(count, distinct, 'every user once');
    assert.equal(minDiv, me);
    assert.equal(maxDiv, me);
    assert.equal(Number(after) - Number(before), 1, 'one call to system/Users');
    const ex = await all(session, 'explain select * from users@eol');
    const lines = ex.results[0].kind === 'explain' ? ex.results[0].lines.join('\n') : '';
    assert.match(lines, /scanned once/);
  });

  test('mandatory filtering: select * from TransactionLines and a LIMIT on Accounts work; the call log shows the filters sent', async () => {
    await all(session, 'use default');
    const urls = async () => (await all(session, 'select url from sessionios@datadictionary')).rows.map((r) => decodeURIComponent(String(r[0])));
    const star = await all(session, 'select * from transactionlines@eol');
    assert.equal(star.rows.length, 200);
    const limited = await all(session, 'select code, name from accounts@eol limit 10');
    assert.equal(limited.rows.length, 10);
    const full = await all(session, 'select count(*) from accounts@eol');
    assert.deepEqual(full.rows, [[120]]);
    const calls = await urls();
    // ShopOrder is missing from the sync twin: the bulk endpoint with a filter that holds for every row.
    assert.ok(calls.some((u) => /bulk\/Financial\/TransactionLines\?.*\$filter=ID ne guid'00000000-0000-0000-0000-000000000000'/.test(u)), calls.join('\n'));
    // A LIMIT without filters: $top on the regular or bulk endpoint, with that filter too.
    assert.ok(calls.some((u) => /CRM\/Accounts\?.*\$filter=ID ne guid'0{8}-0{4}-0{4}-0{4}-0{12}'.*\$top=10/.test(u)), calls.join('\n'));
    // A full read needs no added filter: the sync twin.
    assert.ok(calls.some((u) => /sync\/CRM\/Accounts\?.*Timestamp gt 0L/.test(u)), calls.join('\n'));
    assert.ok(!calls.some((u) => /\/crm\/Accounts\?/i.test(u) && !/filter=/.test(u)), 'no unfiltered call to a mandatory-filter endpoint');
  });

  test('insert, update and delete through SQL', async () => {
    await all(session, 'use default');
    await all(session, "insert into exactonlinerest..accounts@eol (code, name) values ('888001', 'E2E B.V.')");
    assert.deepEqual((await all(session, "select code, name from exactonlinerest..accounts@eol where code = '888001'")).rows, [['888001', 'E2E B.V.']]);
    await all(session, "update exactonlinerest..accounts@eol set name = 'E2E Renamed' where code = '888001'");
    assert.deepEqual((await all(session, "select name from accounts@eol where code = '888001'")).rows, [['E2E Renamed']]);
    await all(session, "delete from exactonlinerest..accounts@eol where code = '888001'");
    assert.deepEqual((await all(session, "select count(*) from accounts@eol where code = '888001'")).rows, [[0]]);
  });

  test('a missing mandatory field is a clear error and nothing is written', async () => {
    await all(session, 'use default');
    await assert.rejects(all(session, "insert into exactonlinerest..accounts@eol (code) values ('888002')"), (e: SluiceError) => e.code === 'EOL062' && /missing mandatory Name/.test(e.message));
    assert.deepEqual((await all(session, "select count(*) from accounts@eol where code = '888002'")).rows, [[0]]);
  });

  test('with use all, an insert names its division in the Division column (as the engine asks) and lands there', async () => {
    await all(session, 'use all');
    const [first, second] = [...sim.divisions()].sort((a, b) => a - b);
    await all(session, `insert into exactonlinerest..accounts@eol (division, code, name) values (${second}, '888101', 'Tweede B.V.'), (${first}, '888102', 'Eerste B.V.')`);
    const { rows } = await all(session, "select division, code from exactonlinerest..accounts@eol where code in ('888101', '888102') order by code");
    assert.deepEqual(rows, [[second, '888101'], [first, '888102']]);
    await all(session, "delete from exactonlinerest..accounts@eol where code in ('888101', '888102')");
    assert.deepEqual((await all(session, "select count(*) from exactonlinerest..accounts@eol where code in ('888101', '888102')")).rows, [[0]]);
  });

  test('after use of one division, an insert naming another division is refused (ENG305) and Exact receives no call; under use all it lands', async () => {
    const [first, second] = [...sim.divisions()].sort((a, b) => a - b);
    await all(session, `use ${first}@eol`);
    const posts = async () => (await all(session, "select count(*) from sessionios@datadictionary where method = 'POST'")).rows[0][0];
    const postsBefore = await posts();
    sim.resetStats();
    await assert.rejects(all(session, `insert into exactonlinerest..accounts@eol (division, code, name) values (${first}, '888201', 'Hier B.V.'), (${second}, '888202', 'Elders B.V.')`), (e: SluiceError) => {
      assert.equal(e.code, 'ENG305');
      assert.match(e.message, new RegExp(`^Row 2: Division ${second} is not selected for eol \\(the session uses ${first}\\)`));
      assert.equal(e.details.hint, `Select it first: use ${second}@eol (or add it to the use list).`);
      return true;
    });
    assert.equal(sim.stats().calls, 0, 'no call at all reached the simulator, so no POST');
    assert.equal(await posts(), postsBefore);
    await all(session, 'use all');
    assert.deepEqual((await all(session, "select count(*) from exactonlinerest..accounts@eol where code in ('888201', '888202')")).rows, [[0]]);
    await all(session, `insert into exactonlinerest..accounts@eol (division, code, name) values (${first}, '888201', 'Hier B.V.'), (${second}, '888202', 'Elders B.V.')`);
    assert.equal(Number(await posts()) - Number(postsBefore), 2);
    assert.deepEqual((await all(session, "select division, code from exactonlinerest..accounts@eol where code in ('888201', '888202') order by code")).rows, [
      [first, '888201'],
      [second, '888202'],
    ]);
    await all(session, "delete from exactonlinerest..accounts@eol where code in ('888201', '888202')");
  });

  test('after use of one division, update and delete reach only that division', async () => {
    const [first, second] = [...sim.divisions()].sort((a, b) => a - b);
    await all(session, `use ${first}@eol`);
    const res = await all(session, `delete from exactonlinerest..accounts@eol where code = '1002' and division = ${second}`);
    const done = res.results[0];
    assert.ok(done.kind === 'done' && done.rowsAffected === 0);
    await all(session, 'use all');
    assert.deepEqual((await all(session, `select count(*) from exactonlinerest..accounts@eol where code = '1002' and division = ${second}`)).rows, [[1]]);
  });

  test('an update that sets Division is refused and moves nothing', async () => {
    await all(session, 'use all');
    const [first, second] = [...sim.divisions()].sort((a, b) => a - b);
    await assert.rejects(
      all(session, `update exactonlinerest..accounts@eol set division = ${second} where code = '1001' and division = ${first}`),
      (e: SluiceError) => /Division/.test(e.message) && !/stack|\n\s+at /.test(e.message),
    );
    assert.deepEqual((await all(session, `select count(*) from exactonlinerest..accounts@eol where code = '1001' and division = ${first}`)).rows, [[1]]);
  });

  test('RateLimits shows the budget of each division read', async () => {
    await all(session, 'use all');
    await all(session, 'select count(*) from exactonlinerest..accounts@eol');
    const { rows } = await all(session, 'select division, minutelylimit, dailylimit from exactonlinerest.system.ratelimits@eol where division > 0 order by division');
    assert.deepEqual(
      rows.map((r) => r[0]),
      [...sim.divisions()].sort((a, b) => a - b),
    );
    assert.ok(rows.every((r) => r[1] === 60 && r[2] === 5000));
  });

  test('Timestamp conditions on a sync table send only the one filter sync endpoints take (Timestamp gt nL)', async () => {
    await all(session, 'use default');
    const every = (await all(session, 'select timestamp from accountsincremental@eol order by timestamp')).rows.map((r) => BigInt(r[0] as number | bigint));
    assert.equal(every.length, 120);
    const pivot = every[60];
    const count = async (where: string): Promise<number> => Number((await all(session, `select count(*) from accountsincremental@eol where ${where}`)).rows[0][0]);
    assert.equal(await count(`timestamp >= ${pivot}`), every.filter((t) => t >= pivot).length);
    assert.equal(await count(`timestamp > ${pivot}`), every.filter((t) => t > pivot).length);
    assert.equal(await count(`timestamp = ${pivot}`), 1);
    assert.equal(await count(`timestamp < ${pivot}`), every.filter((t) => t < pivot).length);
    assert.equal(await count(`timestamp > ${every[10]} and timestamp >= ${pivot} and timestamp <= ${every[100]}`), 41);
    const ex = await all(session, `explain select code from accountsincremental@eol where timestamp >= ${pivot} and timestamp < ${every[100]}`);
    const lines = ex.results[0].kind === 'explain' ? ex.results[0].lines.join('\n') : '';
    assert.match(lines, new RegExp(`\\$filter=Timestamp gt ${pivot - 1n}L\\n`));
    assert.match(lines, /conjunct 1: exact/);
    assert.match(lines, /conjunct 2: unsupported/);
  });
});

/**
 * Many divisions through the real engine: 50 divisions in one statement, and
 * a division that fails in the middle of a statement (after its first page)
 * while the others deliver, under both partition-failure settings.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Session, StatementSummary } from '../../../src/engine/api.js';
import { openSession } from '../../../src/engine/index.js';
import type { Value } from '../../../src/provider/types.js';
import { startExactSimulator } from '../../../src/sim/exactonline/index.js';
import type { SluiceError } from '../../../src/util/errors.js';
import { SecretBox } from '../../../src/util/secrets.js';
import { startFaultProxy } from './helpers.js';

async function run(session: Session, sql: string): Promise<{ rows: Value[][]; summary?: StatementSummary }> {
  const rows: Value[][] = [];
  let summary: StatementSummary | undefined;
  for await (const r of session.execute(sql)) {
    if (r.kind === 'rows') for await (const b of r.batches) rows.push(...b.rows.map((x) => [...x]));
    summary = r.summary();
  }
  return { rows, summary };
}

test('50 divisions in one statement through the engine: every division once, one call each; Users read once', async () => {
  const sim = await startExactSimulator({ port: 0, divisions: 50, subscriptions: 5, accountsPerDivision: 20, transactionLinesPerDivision: 12 });
  const dir = mkdtempSync(join(tmpdir(), 'sluice-eol-50-'));
  await sim.writeSettings(join(dir, 'settings.xml'));
  const session = await openSession({ settingsPath: join(dir, 'settings.xml'), dataDir: dir, secrets: SecretBox.fromPassphrase('test-key') });
  try {
    await run(session, 'use all');
    const before = (await run(session, 'select count(*) from sessionios@datadictionary')).rows[0][0] as number;
    const { rows, summary } = await run(session, 'select division, count(*), count(distinct id) from exactonlinerest..accounts@eol group by division order by division');
    assert.equal(rows.length, 50);
    assert.deepEqual(
      rows.map((r) => r[0]),
      [...sim.divisions()].sort((a, b) => a - b),
    );
    assert.ok(rows.every((r) => r[1] === 20 && r[2] === 20));
    assert.deepEqual(summary?.failedPartitions, []);
    const calls = (await run(session, 'select url from sessionios@datadictionary')).rows.slice(before).map((r) => String(r[0]));
    assert.equal(calls.filter((u) => /\/sync\/CRM\/Accounts/.test(u)).length, 50, 'one 1,000-row page per division');
    const users = await run(session, 'select count(*), count(distinct userid) from users@eol');
    assert.equal(users.rows[0][0], users.rows[0][1], 'no user twice over 50 divisions in 5 subscriptions');
  } finally {
    await session.close();
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a division failing mid-statement: the others return their rows, the failure is reported (or fails the statement with partition-failure error)', async () => {
  const sim = await startExactSimulator({ port: 0, divisions: 4, accountsPerDivision: 2500, rateLimits: false });
  const [victim] = [...sim.divisions()].sort((a, b) => a - b);
  let failing = true;
  let victimPages = 0;
  // The victim's first page arrives; its next page (following __next) answers 403 DivisionBlocked.
  const proxy = await startFaultProxy(sim.baseUrl, ({ url }) => {
    if (!url.startsWith(`/api/v1/${victim}/sync/CRM/Accounts`)) return 'pass';
    victimPages++;
    return failing && url.includes('skiptoken') ? 'blocked' : 'pass';
  });
  const dir = mkdtempSync(join(tmpdir(), 'sluice-eol-fail-'));
  const cs = `api-url=${proxy.baseUrl};api-client-id=${sim.clientId};api-client-secret=${sim.clientSecret};api-redirect-url=${sim.redirectUri};api-refresh-token=${sim.issueRefreshToken()}`;
  writeFileSync(join(dir, 'settings.xml'), `<settings><group name="g"><connection name="c"><database alias="eol" provider="ExactOnlineAll" connectionString="${cs}" /></connection></group></settings>`);
  const session = await openSession({ settingsPath: join(dir, 'settings.xml'), dataDir: dir, secrets: SecretBox.fromPassphrase('test-key') });
  try {
    await run(session, 'use all');
    const { rows, summary } = await run(session, 'select division, count(*) from accounts@eol group by division order by division');
    assert.ok(victimPages >= 2, 'the victim failed after its first page');
    const others = [...sim.divisions()].filter((d) => d !== victim).sort((a, b) => a - b);
    assert.deepEqual(rows, others.map((d) => [d, 2500]), "the victim's first page is left out, the others are whole");
    assert.equal(summary?.failedPartitions.length, 1);
    assert.equal(summary?.failedPartitions[0].partition, String(victim));
    assert.match(summary!.failedPartitions[0].message, /403 \(DivisionBlocked\)/);

    await run(session, 'set partition-failure error');
    await assert.rejects(run(session, 'select count(*) from accounts@eol'), (e: SluiceError) => e.details.partition === String(victim) && /DivisionBlocked/.test(e.message));
    failing = false;
    assert.deepEqual((await run(session, 'select count(*) from accounts@eol')).rows, [[4 * 2500]]);
  } finally {
    await session.close();
    await proxy.close();
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

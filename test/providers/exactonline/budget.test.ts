/**
 * The daily-budget share in a fresh process: before the first response no
 * X-RateLimit headers are known, so the share is enforced from the budget
 * file an earlier process saved, or else as soon as the first answer tells
 * the budget (only that one call is made blind).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { budgetFile, loadBudgets, RateGovernor, saveBudgets } from '../../../src/providers/exactonline/governor.js';
import { startExactSimulator } from '../../../src/sim/exactonline/index.js';
import { ManualClock } from '../../../src/util/clock.js';
import type { SluiceError } from '../../../src/util/errors.js';
import { connectSim, readAll, table, testEnv } from './helpers.js';

const signal = new AbortController().signal;

test('a fresh process does not run past the daily share on its first statement: it stops after the one call that told the budget', async () => {
  const sim = await startExactSimulator({ port: 0, divisions: 2, accountsPerDivision: 600, rateLimits: { minutely: 1000, daily: 100 } });
  const env = testEnv(undefined, { 'exact-daily-budget-share': '0.05' });
  const c = await connectSim(sim, env);
  try {
    // Not the current division: listing the divisions spent nothing of its budget.
    const p = (await c.partitions(signal)).find((x) => !x.isDefault)!;
    assert.equal(c.governor.dailyRemaining(p.id), undefined, 'nothing known about the division yet');
    const request = { columns: ['ID'], conjuncts: [], limit: 600, orderBy: [{ column: 'Code', descending: false }] };
    assert.equal(c.plan(table(c, 'Accounts'), request).estimatedCallsPerPartition, 10);
    sim.resetStats();
    const r = await readAll(c, 'Accounts', request, [p]);
    assert.equal(r.failures.length, 1, 'refused');
    assert.equal((r.failures[0].error as SluiceError).code, 'EOL042');
    assert.match(r.failures[0].error.message, /5% of the (9\d|100) calls left today/);
    assert.equal(sim.stats().calls, 1, 'only the first call was made');
  } finally {
    await c.close();
    await sim.close();
    env.cleanup();
  }
});

test('a fresh process with unknown row counts stops at the share once the first answer tells the budget', async () => {
  const sim = await startExactSimulator({ port: 0, divisions: 2, accountsPerDivision: 8000, rateLimits: { minutely: 1000, daily: 100 } });
  const env = testEnv(undefined, { 'exact-daily-budget-share': '0.05' });
  const c = await connectSim(sim, env);
  try {
    const p = (await c.partitions(signal)).find((x) => !x.isDefault)!;
    assert.equal(c.governor.dailyRemaining(p.id), undefined);
    // 1,000-row pages, the row count unknown (estimate 1): 8 calls without the share.
    const request = { columns: ['ID'], conjuncts: [{ kind: 'compare' as const, column: 'Code', op: '<>' as const, value: '0' }] };
    const plan = c.plan(table(c, 'Accounts'), request);
    assert.equal(plan.estimatedCallsPerPartition, 1);
    sim.resetStats();
    const r = await readAll(c, 'Accounts', request, [p]);
    assert.equal(r.failures.length, 1);
    assert.equal((r.failures[0].error as SluiceError).code, 'EOL043');
    assert.ok(r.rows.length >= 1000, 'the first pages arrived');
    assert.ok(sim.stats().calls <= 5, `at most 5% of ~100 calls (made ${sim.stats().calls})`);
  } finally {
    await c.close();
    await sim.close();
    env.cleanup();
  }
});

test('the budgets seen are saved on close and a new process starts from them (an earlier day is ignored)', async () => {
  const sim = await startExactSimulator({ port: 0, divisions: 1, accountsPerDivision: 10, rateLimits: { minutely: 1000, daily: 100 } });
  const env = testEnv();
  const c = await connectSim(sim, env);
  let division = '';
  try {
    const [p] = await c.partitions(signal);
    division = p.id;
    await readAll(c, 'Accounts', { columns: ['ID'], limit: 1, orderBy: [{ column: 'Code', descending: false }] }, [p]);
  } finally {
    await c.close();
    await sim.close();
  }
  try {
    const file = budgetFile(env.dataDir, sim.baseUrl, sim.clientId);
    const saved = loadBudgets(file).find((b) => b.division === division);
    assert.ok(saved, 'saved on close');
    assert.ok(saved.dailyRemaining > 0 && saved.dailyRemaining < 100);
    const fresh = new RateGovernor(new ManualClock(Date.now()));
    assert.equal(fresh.dailyRemaining(division), undefined);
    fresh.restore(loadBudgets(file));
    assert.equal(fresh.dailyRemaining(division), saved.dailyRemaining);
    // After the daily reset the saved budget says nothing.
    const tomorrow = new RateGovernor(new ManualClock((saved.dailyReset as number) + 1));
    tomorrow.restore(loadBudgets(file));
    assert.equal(tomorrow.dailyRemaining(division), undefined);
  } finally {
    env.cleanup();
  }
});

test('saving merges with what other processes saved: per division the latest wins', async () => {
  const env = testEnv();
  try {
    const file = join(env.dataDir, 'exactonline', 'ratelimits-test.json');
    const clock = new ManualClock(Date.UTC(2026, 10, 25, 9, 0, 0));
    const reset = String(Date.UTC(2026, 10, 26));
    const a = new RateGovernor(clock);
    (await a.acquire('1', { endpoint: 'crm/Accounts' }))(200, { 'x-ratelimit-limit': '5000', 'x-ratelimit-remaining': '4000', 'x-ratelimit-reset': reset });
    (await a.acquire('2', { endpoint: 'crm/Accounts' }))(200, { 'x-ratelimit-limit': '5000', 'x-ratelimit-remaining': '3000', 'x-ratelimit-reset': reset });
    await saveBudgets(file, a);
    clock.advance(1000);
    const b = new RateGovernor(clock);
    (await b.acquire('2', { endpoint: 'crm/Accounts' }))(200, { 'x-ratelimit-limit': '5000', 'x-ratelimit-remaining': '2500', 'x-ratelimit-reset': reset });
    await saveBudgets(file, b);
    const merged = new Map(loadBudgets(file).map((x) => [x.division, x.dailyRemaining]));
    assert.deepEqual([...merged.entries()].sort(), [['1', 4000], ['2', 2500]]);
  } finally {
    env.cleanup();
  }
});

test('a process that saves later but saw a division earlier does not overwrite a fresher budget', async () => {
  const env = testEnv();
  try {
    const file = join(env.dataDir, 'exactonline', 'ratelimits-test.json');
    const clock = new ManualClock(Date.UTC(2026, 10, 25, 10, 0, 0));
    const reset = String(Date.UTC(2026, 10, 26));
    const headers = (remaining: number) => ({ 'x-ratelimit-limit': '5000', 'x-ratelimit-remaining': String(remaining), 'x-ratelimit-reset': reset });
    // A sees division 1 at 10:00 (5,000 left) …
    const a = new RateGovernor(clock);
    (await a.acquire('1', { endpoint: 'crm/Accounts' }))(200, headers(5000));
    // … B sees it at 10:20 (1,000 left) and saves …
    clock.advance(20 * 60_000);
    const b = new RateGovernor(clock);
    (await b.acquire('1', { endpoint: 'crm/Accounts' }))(200, headers(1000));
    await saveBudgets(file, b);
    // … A saves at 10:30 after reading another division: its 10:00 figure for division 1 is older.
    clock.advance(10 * 60_000);
    (await a.acquire('2', { endpoint: 'crm/Accounts' }))(200, headers(3000));
    await saveBudgets(file, a);
    const merged = new Map(loadBudgets(file).map((x) => [x.division, x.dailyRemaining]));
    assert.deepEqual([...merged.entries()].sort(), [['1', 1000], ['2', 3000]]);
  } finally {
    env.cleanup();
  }
});

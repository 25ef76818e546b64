/** The rate governor: budgets from headers, shared windows, waits for resets, error block guard. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RateGovernor } from '../../../src/providers/exactonline/governor.js';
import { ManualClock } from '../../../src/util/clock.js';

function headers(clock: ManualClock, minutelyRemaining: number, dailyRemaining = 4000) {
  const minuteReset = (Math.floor(clock.now() / 60_000) + 1) * 60_000;
  return {
    'x-ratelimit-minutely-limit': '60',
    'x-ratelimit-minutely-remaining': String(minutelyRemaining),
    'x-ratelimit-minutely-reset': String(minuteReset),
    'x-ratelimit-limit': '5000',
    'x-ratelimit-remaining': String(dailyRemaining),
    'x-ratelimit-reset': String((Math.floor(clock.now() / 86_400_000) + 1) * 86_400_000),
  };
}

test('limits are read from the headers and shown per division', async () => {
  const clock = new ManualClock();
  const g = new RateGovernor(clock);
  const release = await g.acquire('102673', { endpoint: 'crm/Accounts' });
  release(200, headers(clock, 59, 4999));
  const [s] = g.snapshot();
  assert.equal(s.division, '102673');
  assert.equal(s.minutelyLimit, 60);
  assert.equal(s.minutelyRemaining, 59);
  assert.equal(s.dailyRemaining, 4999);
  assert.equal(g.dailyRemaining('102673'), 4999);
});

test('an exhausted minute waits for the reset instead of calling into a 429', async () => {
  const clock = new ManualClock(Date.UTC(2026, 10, 25, 9, 0, 10));
  const g = new RateGovernor(clock);
  const release = await g.acquire('1', { endpoint: 'crm/Accounts' });
  release(200, headers(clock, 0));
  const before = clock.now();
  const r2 = await g.acquire('1', { endpoint: 'crm/Accounts' });
  assert.ok(clock.now() >= Date.UTC(2026, 10, 25, 9, 1, 0), `waited until the minute turned (waited ${clock.now() - before} ms)`);
  r2(200, headers(clock, 59));
});

test('concurrent callers share the window: reservations count before answers arrive', async () => {
  const clock = new ManualClock(Date.UTC(2026, 10, 25, 9, 0, 10));
  const g = new RateGovernor(clock);
  const first = await g.acquire('1', { endpoint: 'e' });
  first(200, headers(clock, 3));
  const start = clock.now();
  // Three slots left: three calls go at once, the fourth waits for the next minute.
  const held = [await g.acquire('1', { endpoint: 'e' }), await g.acquire('1', { endpoint: 'e' }), await g.acquire('1', { endpoint: 'e' })];
  assert.ok(clock.now() - start < 60_000);
  await g.acquire('1', { endpoint: 'e' });
  assert.ok(clock.now() >= Date.UTC(2026, 10, 25, 9, 1, 0));
  held.forEach((r) => r(200));
});

test('a 429 waits until the minutely reset; a spent day is an error', () => {
  const clock = new ManualClock(Date.UTC(2026, 10, 25, 9, 0, 30));
  const g = new RateGovernor(clock);
  const wait = g.after429('1', { 'x-ratelimit-minutely-remaining': '0', 'x-ratelimit-minutely-reset': String(Date.UTC(2026, 10, 25, 9, 1, 0)) });
  assert.ok(wait >= 30_000 && wait < 31_000);
  assert.throws(() => g.after429('1', { 'x-ratelimit-limit': '5000', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(Date.UTC(2026, 10, 26)) }), /daily Exact Online budget/);
});

test('calls stop before the hourly error block of an endpoint', async () => {
  const clock = new ManualClock();
  const g = new RateGovernor(clock);
  for (let i = 0; i < 9; i++) (await g.acquire('1', { endpoint: 'crm/Nope' }))(404);
  await assert.rejects(g.acquire('1', { endpoint: 'crm/Nope' }), /errors in the last hour/);
  // Other endpoints of the division are not affected; after an hour the endpoint is usable again.
  (await g.acquire('1', { endpoint: 'crm/Accounts' }))(200);
  clock.advance(3_600_001);
  (await g.acquire('1', { endpoint: 'crm/Nope' }))(200);
});

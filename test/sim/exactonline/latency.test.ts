/**
 * Latency injection: fixed, uniform, normal and lognormal (median and 95th
 * percentile) distributions, deterministic for a seed, changeable at run
 * time through /__sim/faults. Assertions are on the drawn delays (the
 * simulator's own record of them and a replay of its generator), never on
 * wall-clock time.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkLatency, drawLatency, parseLatency, type Latency } from '../../../src/sim/common/http.js';
import { Rng } from '../../../src/sim/common/prng.js';
import { latencyRng } from '../../../src/sim/exactonline/server.js';
import { call, setup } from './helpers.js';

function draws(latency: Latency, n: number, seed = 1): number[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => drawLatency(latency, rng));
}

function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

describe('latency distributions', () => {
  it('draws a lognormal with the asked median and 95th percentile, capped at max', () => {
    const xs = draws({ dist: 'lognormal', p50: 40, p95: 200 }, 20_000);
    assert.ok(Math.abs(quantile(xs, 0.5) - 40) < 2, `median ${quantile(xs, 0.5)}`);
    assert.ok(Math.abs(quantile(xs, 0.95) - 200) < 12, `p95 ${quantile(xs, 0.95)}`);
    assert.ok(xs.every((x) => x > 0));
    const capped = draws({ dist: 'lognormal', p50: 40, p95: 200, max: 100 }, 5_000);
    assert.equal(Math.max(...capped), 100);
  });

  it('draws a normal with the asked mean and spread, never below 0', () => {
    const xs = draws({ dist: 'normal', mean: 50, sd: 10 }, 20_000);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length);
    assert.ok(Math.abs(mean - 50) < 0.5, `mean ${mean}`);
    assert.ok(Math.abs(sd - 10) < 0.5, `sd ${sd}`);
    assert.ok(draws({ dist: 'normal', mean: 1, sd: 10 }, 2_000).every((x) => x >= 0));
  });

  it('is deterministic for a seed and differs for another', () => {
    const l: Latency = { dist: 'lognormal', p50: 10, p95: 50 };
    assert.deepEqual(draws(l, 50, 7), draws(l, 50, 7));
    assert.notDeepEqual(draws(l, 50, 7), draws(l, 50, 8));
    assert.deepEqual(draws(5, 3), [5, 5, 5]);
    assert.ok(draws({ min: 2, max: 4 }, 1000).every((x) => x >= 2 && x <= 4));
  });

  it('parses the CLI forms and refuses nonsense with a message', () => {
    assert.equal(parseLatency('50'), 50);
    assert.deepEqual(parseLatency('20-80'), { min: 20, max: 80 });
    assert.deepEqual(parseLatency('normal:50,10'), { dist: 'normal', mean: 50, sd: 10 });
    assert.deepEqual(parseLatency('lognormal:40,200,1000'), { dist: 'lognormal', p50: 40, p95: 200, max: 1000 });
    assert.throws(() => parseLatency('fast'), /latency must be/);
    assert.throws(() => parseLatency('80-20'), /min ≤ max/);
    assert.throws(() => parseLatency('lognormal:200,40'), /p50 ≤ p95/);
    assert.throws(() => checkLatency({ dist: 'pareto', alpha: 1 }), /latency must be/);
    assert.throws(() => checkLatency(-5), /latency must be/);
  });
});

describe('Exact simulator latency at run time', () => {
  it('takes a distribution from POST /__sim/faults and draws each call\'s delay from the seeded generator', async () => {
    const env = await setup({ seed: 11 });
    try {
      const faults = `${env.sim.baseUrl}/__sim/faults`;
      const lat = { dist: 'lognormal', p50: 2, p95: 6, max: 20 };
      const set = await call(faults, { method: 'POST', body: JSON.stringify({ latency: lat }) });
      assert.equal(set.status, 200, set.text);
      assert.deepEqual((set.json as { latency: unknown }).latency, lat);
      env.sim.resetStats();
      for (let i = 0; i < 12; i++) assert.equal((await env.get('/api/v1/102673/crm/Accounts?$top=1')).status, 200);
      const replay = latencyRng(11);
      const expected = Array.from({ length: 12 }, () => drawLatency(lat as Latency, replay));
      const got = env.sim.stats().latency;
      assert.equal(got.calls, 12);
      assert.ok(Math.abs(got.totalMs - expected.reduce((s, x) => s + x, 0)) < 1e-9, `${got.totalMs} vs ${String(expected)}`);
      assert.equal(got.maxMs, Math.max(...expected));

      const off = await call(faults, { method: 'POST', body: JSON.stringify({ latency: 0 }) });
      assert.equal((off.json as { latency: unknown }).latency, 0);
      env.sim.resetStats();
      await env.get('/api/v1/102673/crm/Accounts?$top=1');
      assert.deepEqual(env.sim.stats().latency, { calls: 0, totalMs: 0, maxMs: 0 });

      env.sim.setLatency('normal:3,1');
      await env.get('/api/v1/102673/crm/Accounts?$top=1');
      assert.equal(env.sim.stats().latency.calls, 1);

      const bad = await call(faults, { method: 'POST', body: JSON.stringify({ latency: { dist: 'lognormal', p50: 50, p95: 5 } }) });
      assert.equal(bad.status, 400);
      assert.match(bad.text, /p50 ≤ p95/);
      const badRate = await call(faults, { method: 'POST', body: JSON.stringify({ errorRate: 3 }) });
      assert.equal(badRate.status, 400);
      const unknown = await call(faults, { method: 'POST', body: JSON.stringify({ slowness: 1 }) });
      assert.equal(unknown.status, 400);
      assert.match(unknown.text, /errorRate/);
    } finally {
      await env.sim.close();
    }
  });
});

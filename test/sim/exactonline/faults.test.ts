/**
 * Fault injection and the admin endpoints: /__sim/stats counts calls per
 * division and endpoint, /__sim/faults switches 5xx answers, connection
 * resets, truncated bodies and 429 storms on and off, /__sim/revoke kills
 * every token.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { call, setup } from './helpers.js';

describe('Exact simulator faults and admin', () => {
  it('counts calls per division and endpoint', async () => {
    const env = await setup();
    try {
      env.sim.resetStats();
      await env.get('/api/v1/102673/crm/Accounts?$top=1');
      await env.get('/api/v1/102673/crm/Accounts?$top=1');
      await env.get('/api/v1/102673/crm/NoSuch');
      const stats = (await call(`${env.sim.baseUrl}/__sim/stats`)).json as { calls: number; byDivision: Record<string, number>; byEndpoint: Record<string, number>; errors: number };
      assert.equal(stats.calls, 3);
      assert.equal(stats.byDivision['102673'], 3);
      assert.equal(stats.byEndpoint['crm/Accounts'], 2);
      assert.equal(stats.errors, 1);
      assert.deepEqual(env.sim.stats(), stats);
    } finally {
      await env.sim.close();
    }
  });

  it('injects 5xx answers, resets, truncated bodies and 429 storms on demand', async () => {
    const env = await setup();
    try {
      const set = (f: Record<string, number>) => call(`${env.sim.baseUrl}/__sim/faults`, { method: 'POST', body: JSON.stringify(f) });
      await set({ errorRate: 1 });
      const e = await env.get('/api/v1/102673/crm/Accounts?$top=1');
      assert.ok(e.status === 500 || e.status === 503);
      await set({ errorRate: 0, status429Rate: 1 });
      const storm = await env.get('/api/v1/102673/crm/Accounts?$top=1');
      assert.equal(storm.status, 429);
      assert.ok(storm.headers.get('x-ratelimit-minutely-reset'));
      await set({ status429Rate: 0, resetRate: 1 });
      await assert.rejects(fetch(`${env.sim.baseUrl}/api/v1/102673/crm/Accounts?$top=1`, { headers: { Authorization: `Bearer ${env.token}`, Accept: 'application/json' } }));
      await set({ resetRate: 0, truncateRate: 1 });
      await assert.rejects(async () => {
        const r = await fetch(`${env.sim.baseUrl}/api/v1/102673/crm/Accounts?$top=5`, { headers: { Authorization: `Bearer ${env.token}`, Accept: 'application/json' } });
        JSON.parse(await r.text());
      });
      env.sim.setFaults({ truncateRate: 0 });
      assert.equal((await env.get('/api/v1/102673/crm/Accounts?$top=1')).status, 200);
      const revoke = await call(`${env.sim.baseUrl}/__sim/revoke`, { method: 'POST' });
      assert.equal(revoke.status, 204);
      assert.equal((await env.get('/api/v1/102673/crm/Accounts?$top=1')).status, 401);
    } finally {
      await env.sim.close();
    }
  });

  it('takes faults as a start option too; a 429 storm carries minutely headers with Remaining > 0 and no daily ones', async () => {
    const storm = await setup({ faults: { status429Rate: 1 } });
    try {
      for (let i = 0; i < 3; i++) {
        const r = await storm.get('/api/v1/102673/crm/Accounts?$top=1');
        assert.equal(r.status, 429);
        assert.ok(Number(r.headers.get('x-ratelimit-minutely-remaining')) > 0, 'seen in the wild: 429 with Remaining > 0');
        assert.match(r.headers.get('x-ratelimit-minutely-reset') ?? '', /^\d{13}$/, 'epoch ms');
        assert.equal(r.headers.get('x-ratelimit-remaining'), null);
      }
      assert.equal(storm.sim.stats().status429, 3);
    } finally {
      await storm.sim.close();
    }
    const resets = await setup({ faults: { resetRate: 1 } });
    try {
      await assert.rejects(fetch(`${resets.sim.baseUrl}/api/v1/102673/crm/Accounts?$top=1`, { headers: { Authorization: `Bearer ${resets.token}`, Accept: 'application/json' } }));
    } finally {
      await resets.sim.close();
    }
    const errors = await setup({ faults: { errorRate: 1 } });
    try {
      const r = await errors.get('/api/v1/102673/crm/Accounts?$top=1');
      assert.ok(r.status === 500 || r.status === 503, String(r.status));
      assert.equal(typeof (r.json as { error: { message: { value: string } } }).error.message.value, 'string', "in Exact's error body");
    } finally {
      await errors.sim.close();
    }
  });

  it('adds the configured latency without changing answers', async () => {
    const env = await setup({ latencyMs: { min: 1, max: 3 } });
    try {
      const r = await env.get('/api/v1/102673/crm/Accounts?$top=1');
      assert.equal(r.status, 200);
      assert.equal((r.json as { d: { results: unknown[] } }).d.results.length, 1);
      const { latency } = env.sim.stats();
      assert.equal(latency.calls, 1);
      assert.ok(latency.totalMs >= 1 && latency.totalMs <= 3, String(latency.totalMs));
    } finally {
      await env.sim.close();
    }
  });
});

describe('Exact simulator hostile input', () => {
  it('answers malformed URLs and admin bodies with 400, not a crash', async () => {
    const env = await setup();
    try {
      assert.equal((await env.get('/api/v1/102673/crm/Acc%E0%A4%A')).status, 400);
      assert.equal((await call(`${env.sim.baseUrl}/__sim/faults`, { method: 'POST', body: '{nope' })).status, 400);
      const bad = await env.send('POST', '/api/v1/102673/crm/Accounts', undefined, { 'Content-Type': 'application/json' });
      assert.equal(bad.status, 500, 'an empty body misses the mandatory Name');
      const notJson = await call(`${env.sim.baseUrl}/api/v1/102673/crm/Accounts`, { method: 'POST', headers: { Authorization: `Bearer ${env.token}`, Accept: 'application/json' }, body: '{"Name":' });
      assert.equal(notJson.status, 400);
      assert.equal((await env.get('/api/v1/102673/crm/Accounts?$top=1')).status, 200);
    } finally {
      await env.sim.close();
    }
  });
});

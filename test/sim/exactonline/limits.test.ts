/**
 * Rate limits per app and division (platform facts): X-RateLimit-* headers
 * with epoch-ms resets (minute aligned to the clock minute, day at 00:00
 * UTC), 429 carrying only the exceeded window's headers, and the hourly
 * error allowance after which the app is blocked for the endpoint.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../../src/util/clock.js';
import { setup } from './helpers.js';

describe('Exact simulator rate limits', () => {
  it('reports both windows in headers and answers 429 with only the minutely headers', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 25, 9, 0, 30));
    const env = await setup({ clock, rateLimits: { minutely: 5, daily: 8 } });
    try {
      const first = await env.get('/api/v1/102673/crm/Accounts?$top=1');
      assert.equal(first.status, 200);
      assert.equal(first.headers.get('x-ratelimit-minutely-limit'), '5');
      assert.equal(first.headers.get('x-ratelimit-minutely-remaining'), '4');
      assert.equal(first.headers.get('x-ratelimit-minutely-reset'), String(Date.UTC(2026, 10, 25, 9, 1, 0)));
      assert.equal(first.headers.get('x-ratelimit-limit'), '8');
      assert.equal(first.headers.get('x-ratelimit-remaining'), '7');
      assert.equal(first.headers.get('x-ratelimit-reset'), String(Date.UTC(2026, 10, 26)));
      for (let i = 0; i < 4; i++) assert.equal((await env.get('/api/v1/102673/crm/Accounts?$top=1')).status, 200);
      const limited = await env.get('/api/v1/102673/crm/Accounts?$top=1');
      assert.equal(limited.status, 429);
      assert.equal(limited.headers.get('x-ratelimit-minutely-remaining'), '0');
      assert.equal(limited.headers.get('x-ratelimit-limit'), null);
      assert.equal(limited.headers.get('x-ratelimit-remaining'), null);
      // Another division has its own allowance.
      const other = env.sim.divisions().find((d) => d !== 102673) as number;
      assert.equal((await env.get(`/api/v1/${other}/crm/Accounts?$top=1`)).status, 200);
      clock.advance(30_000);
      const next = await env.get('/api/v1/102673/crm/Accounts?$top=1');
      assert.equal(next.status, 200);
      assert.equal(next.headers.get('x-ratelimit-minutely-remaining'), '4');
      assert.equal(next.headers.get('x-ratelimit-remaining'), '2');
      for (let i = 0; i < 2; i++) assert.equal((await env.get('/api/v1/102673/crm/Accounts?$top=1')).status, 200);
      const daily = await env.get('/api/v1/102673/crm/Accounts?$top=1');
      assert.equal(daily.status, 429);
      assert.equal(daily.headers.get('x-ratelimit-remaining'), '0');
      assert.equal(daily.headers.get('x-ratelimit-minutely-limit'), null);
      clock.set(Date.UTC(2026, 10, 26, 0, 0, 1));
      await env.renew();
      assert.equal((await env.get('/api/v1/102673/crm/Accounts?$top=1')).status, 200);
      assert.ok(env.sim.stats().status429 >= 2);
    } finally {
      await env.sim.close();
    }
  });

  it('blocks an app for an hour on an endpoint after more than 10 errors in an hour', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 25, 9, 0, 0));
    const env = await setup({ clock, rateLimits: { minutely: 1000, daily: 100000, errorsPerHour: 10 } });
    try {
      for (let i = 0; i < 10; i++) assert.equal((await env.get("/api/v1/102673/crm/Accounts?$filter=Nope eq 1")).status, 400);
      assert.equal((await env.get("/api/v1/102673/crm/Accounts?$filter=Nope eq 1")).status, 400);
      const blocked = await env.get('/api/v1/102673/crm/Accounts?$top=1');
      assert.equal(blocked.status, 429);
      assert.match(blocked.text, /blocked/);
      // Other endpoints of the same division are not blocked.
      assert.equal((await env.get('/api/v1/102673/crm/Contacts?$top=1')).status, 200);
      clock.advance(3_600_001);
      await env.renew();
      assert.equal((await env.get('/api/v1/102673/crm/Accounts?$top=1')).status, 200);
    } finally {
      await env.sim.close();
    }
  });
});

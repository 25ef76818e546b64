/**
 * Rate limits per app and division (platform facts): X-RateLimit-* headers
 * with epoch-ms resets (minute aligned to the clock minute, day at 00:00
 * UTC), 429 carrying only the exceeded window's headers, and the hourly
 * error allowance per app, user, division and endpoint (401s and
 * TooEarlyToRefreshTokens count) after which the combination is blocked for
 * an hour, longer while errors go on; the thresholds are configurable.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../../src/util/clock.js';
import { call, setup, tokenRequest } from './helpers.js';

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
      assert.equal(env.sim.stats().status429, 2, 'the minutely and the daily 429');
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

  it('counts 401s of an expired token against its app and user, and keys the block by user', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 25, 9, 0, 0));
    const env = await setup({ clock, rateLimits: { minutely: 1000, daily: 100000, errorsPerHour: 3 } });
    try {
      const D = 102673;
      const old = env.token;
      clock.advance(601_000);
      const expired = () => call(`${env.sim.baseUrl}/api/v1/${D}/crm/Accounts?$top=1`, { headers: { Authorization: `Bearer ${old}`, Accept: 'application/json' } });
      for (let i = 0; i < 4; i++) assert.equal((await expired()).status, 401);
      await env.renew();
      const blocked = await env.get(`/api/v1/${D}/crm/Accounts?$top=1`);
      assert.equal(blocked.status, 429, 'four 401s are past an allowance of three');
      assert.match(blocked.text, /blocked/);
      assert.equal((await env.get(`/api/v1/${D}/crm/Contacts?$top=1`)).status, 200, 'another endpoint is not blocked');
      // Another user of the same app, with access to the same division, has an allowance of their own.
      const other = [...env.sim.world.users.values()].find((u) => u.id !== env.sim.world.defaultUser.id && u.access.has(D));
      assert.ok(other, 'the world has a second user with access to the division');
      const t = await tokenRequest(env.sim, { grant_type: 'refresh_token', refresh_token: env.sim.issueRefreshToken(other.id) });
      const theirs = await call(`${env.sim.baseUrl}/api/v1/${D}/crm/Accounts?$top=1`, { headers: { Authorization: `Bearer ${(t.json as { access_token: string }).access_token}`, Accept: 'application/json' } });
      assert.equal(theirs.status, 200);
      assert.ok(env.sim.stats().errors >= 5);
    } finally {
      await env.sim.close();
    }
  });

  it('extends the block while errors go on, and lifts it an hour after the last', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 25, 9, 0, 0));
    const env = await setup({ clock, rateLimits: { minutely: 1000, daily: 100000, errorsPerHour: 2 } });
    try {
      const url = '/api/v1/102673/crm/Accounts?$filter=Nope eq 1';
      for (let i = 0; i < 3; i++) assert.equal((await env.get(url)).status, 400);
      assert.equal((await env.get(url)).status, 429);
      clock.advance(50 * 60_000);
      await env.renew();
      const still = await env.get(url);
      assert.equal(still.status, 429);
      assert.equal(still.headers.get('retry-after'), '3600', 'the call while blocked restarted the hour');
      clock.advance(20 * 60_000);
      await env.renew();
      assert.equal((await env.get('/api/v1/102673/crm/Accounts?$top=1')).status, 429, 'past the first hour, still blocked');
      clock.advance(60 * 60_000 + 1);
      await env.renew();
      assert.equal((await env.get('/api/v1/102673/crm/Accounts?$top=1')).status, 200);
    } finally {
      await env.sim.close();
    }
  });

  it('counts TooEarlyToRefreshTokens as an error and blocks token requests past the allowance', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 25, 9, 0, 0));
    const env = await setup({ clock, rateLimits: { minutely: 1000, daily: 100000, errorsPerHour: 2 } });
    try {
      const first = await tokenRequest(env.sim, { grant_type: 'refresh_token', refresh_token: env.sim.issueRefreshToken() });
      assert.equal(first.status, 200);
      const rt = (first.json as { refresh_token: string }).refresh_token;
      env.sim.resetStats();
      for (let i = 0; i < 3; i++) {
        const early = await tokenRequest(env.sim, { grant_type: 'refresh_token', refresh_token: rt });
        assert.equal(early.status, 400);
        assert.equal(early.headers.get('reason'), 'TooEarlyToRefreshTokens');
      }
      assert.equal(env.sim.stats().errors, 3);
      clock.advance(575_000);
      const blocked = await tokenRequest(env.sim, { grant_type: 'refresh_token', refresh_token: rt });
      assert.equal(blocked.status, 429, 'a refresh that would be in time is refused while blocked');
      assert.ok(Number(blocked.headers.get('retry-after')) > 0);
      clock.advance(3_600_001);
      assert.equal((await tokenRequest(env.sim, { grant_type: 'refresh_token', refresh_token: rt })).status, 200);
    } finally {
      await env.sim.close();
    }
  });

  it('takes other thresholds: too-early seconds and token calls a day', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 25, 9, 0, 0));
    const env = await setup({ clock, oauth: { tooEarlySeconds: 10, tokenCallsPerDay: 4 } });
    try {
      const rt0 = env.sim.issueRefreshToken();
      const a = await tokenRequest(env.sim, { grant_type: 'refresh_token', refresh_token: rt0 });
      assert.equal(a.status, 200);
      clock.advance(5_000);
      const early = await tokenRequest(env.sim, { grant_type: 'refresh_token', refresh_token: (a.json as { refresh_token: string }).refresh_token });
      assert.equal(early.headers.get('reason'), 'TooEarlyToRefreshTokens');
      clock.advance(6_000);
      const b = await tokenRequest(env.sim, { grant_type: 'refresh_token', refresh_token: (a.json as { refresh_token: string }).refresh_token });
      assert.equal(b.status, 200, 'after 11 s a refresh is in time with tooEarlySeconds 10');
      clock.advance(11_000);
      const c = await tokenRequest(env.sim, { grant_type: 'refresh_token', refresh_token: (b.json as { refresh_token: string }).refresh_token });
      assert.equal(c.status, 400, 'the fifth token call of the day (setup, a, the early one, b, this) is one too many');
      assert.match((c.json as { error_description: string }).error_description, /too many token requests/);
    } finally {
      await env.sim.close();
    }
  });

  it('starts the minute window at the first call when not aligned to the clock minute (unsure fact, switchable)', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 25, 9, 0, 40));
    const env = await setup({ clock, rateLimits: { minutely: 2, daily: 100, alignMinute: false } });
    try {
      const first = await env.get('/api/v1/102673/crm/Accounts?$top=1');
      assert.equal(first.headers.get('x-ratelimit-minutely-reset'), String(Date.UTC(2026, 10, 25, 9, 1, 40)), 'first call + 60 s, not the next clock minute');
      assert.equal((await env.get('/api/v1/102673/crm/Accounts?$top=1')).status, 200);
      clock.advance(30_000);
      const limited = await env.get('/api/v1/102673/crm/Accounts?$top=1');
      assert.equal(limited.status, 429, 'past the clock minute, but still inside the window that started at 09:00:40');
      clock.advance(30_000);
      const next = await env.get('/api/v1/102673/crm/Accounts?$top=1');
      assert.equal(next.status, 200);
      assert.equal(next.headers.get('x-ratelimit-minutely-reset'), String(Date.UTC(2026, 10, 25, 9, 2, 40)));
    } finally {
      await env.sim.close();
    }
  });
});

/**
 * Login throttling per (address, user or token) under a ceiling per address:
 * someone else's failures from the same address (an office, a proxy) do not
 * lock out a valid token or credentials verified minutes ago; one address
 * trying many names is stopped by the ceiling; behind a trusted proxy the
 * client address comes from X-Forwarded-For, and only then.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { afterEach, describe, it } from 'node:test';
import { Authenticator, LoginThrottle } from '../../src/server/auth.js';
import { trustProxyFromEnvironment } from '../../src/server/server.js';
import { ManualClock } from '../../src/util/clock.js';
import { fixture } from './helpers.js';
import type { Fixture } from './helpers.js';

const COUNT = '/acme/odata4/InMemoryStorage_Memory_accounts/$count';

function get(f: Fixture, headers: Record<string, string>): Promise<number> {
  const url = new URL(f.server.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path: COUNT, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A fixture whose throttle allows `ipFree` failures per address (its clock is `clock`). */
let clock = new ManualClock();
async function withThrottle(ipFree: number, trustProxy?: number): Promise<Fixture> {
  clock = new ManualClock(Date.UTC(2026, 10, 25, 12, 0, 0));
  return fixture({ server: { clock, authenticator: new Authenticator(clock, new LoginThrottle(clock, 3, 1000, 15 * 60_000, ipFree)), ...(trustProxy ? { trustProxy } : {}) } });
}

describe('login throttling', () => {
  let f: Fixture | undefined;
  afterEach(async () => {
    await f?.close();
    f = undefined;
  });

  it('keeps accepting a valid bearer token while bad tokens from the same address are throttled', async () => {
    f = await withThrottle(50);
    const { token } = await f.tenancy.createToken('svc');
    for (let i = 0; i < 6; i++) await get(f, { authorization: `Bearer slu_guess${i}` });
    assert.equal(await get(f, { authorization: 'Bearer slu_guess-more' }), 429, 'the guesser is throttled');
    assert.equal(await get(f, { authorization: `Bearer ${token}` }), 200, 'the valid token is not');
    assert.equal(await get(f, { authorization: f.basic('svc', token) }), 200, 'nor the token as a Basic password');
  });

  it('keeps accepting credentials verified minutes ago while someone guesses that user’s password', async () => {
    f = await withThrottle(50);
    assert.equal(await get(f, { authorization: f.basic('alice', 'alice-pw') }), 200);
    for (let i = 0; i < 4; i++) await get(f, { authorization: f.basic('alice', `guess-${i}`) });
    assert.equal(await get(f, { authorization: f.basic('alice', 'guess-more') }), 429);
    assert.equal(await get(f, { authorization: f.basic('alice', 'alice-pw') }), 200, 'remembered, so not a guess');
    // Another user from the same address is not affected at all.
    assert.equal(await get(f, { authorization: f.basic('bob', 'bob-pw') }), 404, 'bob has no grant on acme: authenticated, then 404');
  });

  it('stops one address trying many names at the per-address ceiling, but lets valid tokens and remembered credentials through', async () => {
    f = await withThrottle(5);
    const { token } = await f.tenancy.createToken('svc');
    // alice logged in a moment ago from this address (behind the same proxy as the attacker).
    assert.equal(await get(f, { authorization: f.basic('alice', 'alice-pw') }), 200);
    for (let i = 0; i < 5; i++) assert.equal(await get(f, { authorization: f.basic(`user${i}`, 'x') }), 401);
    assert.equal(await get(f, { authorization: f.basic('user9', 'x') }), 429);
    assert.equal(await get(f, { authorization: 'Bearer slu_wrong' }), 429, 'a wrong token waits too');
    assert.equal(await get(f, { authorization: f.basic('bob', 'bob-pw') }), 429, 'a password still to be verified waits');
    assert.equal(await get(f, { authorization: `Bearer ${token}` }), 200, 'a valid token is not locked out by others');
    assert.equal(await get(f, { authorization: f.basic('alice', 'alice-pw') }), 200, 'nor are credentials verified minutes ago');
    clock.advance(1500);
    assert.equal(await get(f, { authorization: f.basic('bob', 'bob-pw') }), 404, 'after the wait bob is verified (no grant on acme: 404)');
  });

  it('takes the client address from X-Forwarded-For only behind a trusted proxy', async () => {
    f = await withThrottle(50, 1);
    for (let i = 0; i < 3; i++) await get(f, { authorization: f.basic('alice', `guess-${i}`), 'x-forwarded-for': '203.0.113.7' });
    assert.equal(await get(f, { authorization: f.basic('alice', 'guess-3'), 'x-forwarded-for': '203.0.113.7' }), 429);
    // Another client behind the same proxy, and a spoofed entry to the left of the proxy's own, do not share that count.
    assert.equal(await get(f, { authorization: f.basic('alice', 'alice-pw'), 'x-forwarded-for': '198.51.100.9' }), 200);
    assert.equal(await get(f, { authorization: f.basic('alice', 'guess-4'), 'x-forwarded-for': '203.0.113.7, 198.51.100.10' }), 401);
    await f.close();

    f = await withThrottle(50);
    for (let i = 0; i < 3; i++) await get(f, { authorization: f.basic('alice', `guess-${i}`), 'x-forwarded-for': `203.0.113.${i}` });
    assert.equal(await get(f, { authorization: f.basic('alice', 'guess-3'), 'x-forwarded-for': '198.51.100.9' }), 429, 'without trust the header is ignored');
  });

  it('reads SLUICE_TRUST_PROXY', () => {
    assert.equal(trustProxyFromEnvironment(undefined), 0);
    assert.equal(trustProxyFromEnvironment('true'), 1);
    assert.equal(trustProxyFromEnvironment('2'), 2);
    assert.equal(trustProxyFromEnvironment('nonsense'), 0);
    assert.equal(trustProxyFromEnvironment('-1'), 0);
  });
});

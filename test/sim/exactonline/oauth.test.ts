/**
 * OAuth2 as Exact Online does it (platform facts): authorize page and
 * redirect with code and state, single-use 3-minute codes, 600 s access
 * tokens with expires_in as a string, rotating refresh tokens, "Old refresh
 * token used", TooEarlyToRefreshTokens, 30-day idle expiry, 200 token
 * calls a day, 401 "Object moved" without a token, revocation.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../../src/util/clock.js';
import { startExactSimulator, type ExactSimulator } from '../../../src/sim/exactonline/index.js';
import { call, tokenRequest } from './helpers.js';

describe('Exact simulator OAuth2', () => {
  let sim: ExactSimulator;
  const clock = new ManualClock(Date.UTC(2026, 10, 25, 9, 0, 0));

  before(async () => {
    sim = await startExactSimulator({ clock, rateLimits: false });
  });
  after(async () => {
    await sim.close();
  });

  async function authorizeCode(state = 'xyz'): Promise<string> {
    const q = new URLSearchParams({ client_id: sim.clientId, redirect_uri: sim.redirectUri, response_type: 'code', state });
    const page = await call(`${sim.baseUrl}/api/oauth2/auth?${q}`);
    assert.equal(page.status, 200);
    assert.match(page.text, /<form method="post"/);
    const approve = await call(`${sim.baseUrl}/api/oauth2/auth`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: sim.clientId, redirect_uri: sim.redirectUri, response_type: 'code', state, approve: '1' }).toString(),
    });
    assert.equal(approve.status, 302);
    const loc = new URL(approve.headers.get('location') ?? '');
    assert.equal(`${loc.origin}${loc.pathname}`, sim.redirectUri);
    assert.equal(loc.searchParams.get('state'), state);
    const code = loc.searchParams.get('code') ?? '';
    // Codes arrive URL-encoded: the raw location carries escapes.
    assert.match(approve.headers.get('location') ?? '', /code=[^&]*%/);
    return code;
  }

  it('exchanges an authorization code once for a 600 s token with expires_in as a string', async () => {
    const code = await authorizeCode();
    const r = await tokenRequest(sim, { grant_type: 'authorization_code', code, redirect_uri: sim.redirectUri });
    assert.equal(r.status, 200);
    const body = r.json as Record<string, unknown>;
    assert.equal(body.token_type, 'bearer');
    assert.equal(body.expires_in, '600');
    assert.equal(typeof body.access_token, 'string');
    assert.equal(typeof body.refresh_token, 'string');
    const again = await tokenRequest(sim, { grant_type: 'authorization_code', code, redirect_uri: sim.redirectUri });
    assert.equal(again.status, 400);
    assert.equal((again.json as { error: string }).error, 'invalid_grant');
  });

  it('auto-approves with sim_auto_approve=1 and refuses codes older than 3 minutes', async () => {
    const q = new URLSearchParams({ client_id: sim.clientId, redirect_uri: sim.redirectUri, response_type: 'code', state: 's', sim_auto_approve: '1' });
    const r = await call(`${sim.baseUrl}/api/oauth2/auth?${q}`);
    assert.equal(r.status, 302);
    const code = new URL(r.headers.get('location') ?? '').searchParams.get('code') ?? '';
    clock.advance(181_000);
    const t = await tokenRequest(sim, { grant_type: 'authorization_code', code, redirect_uri: sim.redirectUri });
    assert.equal(t.status, 400);
    assert.match((t.json as { error_description: string }).error_description, /expired/);
  });

  it('refuses an unknown client or a wrong redirect_uri on the authorize page', async () => {
    const q = new URLSearchParams({ client_id: '00000000-0000-0000-0000-000000000000', redirect_uri: sim.redirectUri, response_type: 'code' });
    assert.equal((await call(`${sim.baseUrl}/api/oauth2/auth?${q}`)).status, 400);
    const bad = await tokenRequest(sim, { grant_type: 'refresh_token', refresh_token: sim.issueRefreshToken(), client_secret: 'wrong' });
    assert.equal(bad.status, 400);
    assert.equal((bad.json as { error: string }).error, 'invalid_client');
  });

  it('rotates refresh tokens, refuses too-early refreshes and old tokens', async () => {
    const code = await authorizeCode();
    const first = (await tokenRequest(sim, { grant_type: 'authorization_code', code, redirect_uri: sim.redirectUri })).json as Record<string, string>;
    clock.advance(100_000);
    const early = await tokenRequest(sim, { grant_type: 'refresh_token', refresh_token: first.refresh_token });
    assert.equal(early.status, 400);
    assert.equal(early.headers.get('reason'), 'TooEarlyToRefreshTokens');
    assert.deepEqual(early.json, { error: 'access_denied', error_description: 'Rate limit exceeded: access_token not expired' });
    clock.advance(470_000);
    const second = await tokenRequest(sim, { grant_type: 'refresh_token', refresh_token: first.refresh_token });
    assert.equal(second.status, 200);
    const next = second.json as Record<string, string>;
    assert.notEqual(next.refresh_token, first.refresh_token);
    assert.notEqual(next.access_token, first.access_token);
    clock.advance(600_000);
    const reuse = await tokenRequest(sim, { grant_type: 'refresh_token', refresh_token: first.refresh_token });
    assert.equal(reuse.status, 401);
    assert.match((reuse.json as { error_description: string }).error_description, /Old refresh token used/);
    const ok = await tokenRequest(sim, { grant_type: 'refresh_token', refresh_token: next.refresh_token });
    assert.equal(ok.status, 200);
  });

  it('expires access tokens after 600 s and refresh tokens after 30 idle days', async () => {
    const t = (await tokenRequest(sim, { grant_type: 'refresh_token', refresh_token: sim.issueRefreshToken() })).json as Record<string, string>;
    const me = () => call(`${sim.baseUrl}/api/v1/current/Me`, { headers: { Authorization: `Bearer ${t.access_token}`, Accept: 'application/json' } });
    assert.equal((await me()).status, 200);
    clock.advance(599_000);
    assert.equal((await me()).status, 200);
    clock.advance(2_000);
    assert.equal((await me()).status, 401);
    clock.advance(31 * 86_400_000);
    const r = await tokenRequest(sim, { grant_type: 'refresh_token', refresh_token: t.refresh_token });
    assert.equal(r.status, 400);
    assert.equal((r.json as { error: string }).error, 'invalid_request');
    assert.match((r.json as { error_description: string }).error_description, /The refresh token expired at/);
  });

  it('keeps a refresh token good for just under 30 idle days, and not past them', async () => {
    const first = (await tokenRequest(sim, { grant_type: 'refresh_token', refresh_token: sim.issueRefreshToken() })).json as Record<string, string>;
    clock.advance(30 * 86_400_000 - 60_000);
    const late = await tokenRequest(sim, { grant_type: 'refresh_token', refresh_token: first.refresh_token });
    assert.equal(late.status, 200, late.text);
    const second = late.json as Record<string, string>;
    clock.advance(30 * 86_400_000 + 60_000);
    const expired = await tokenRequest(sim, { grant_type: 'refresh_token', refresh_token: second.refresh_token });
    assert.equal(expired.status, 400);
    assert.deepEqual(Object.keys(expired.json as object).sort(), ['error', 'error_description']);
    assert.equal((expired.json as { error: string }).error, 'invalid_request');
  });

  it('answers 401 with an HTML "Object moved" body without a token, and 401 after revocation', async () => {
    const r = await call(`${sim.baseUrl}/api/v1/current/Me`, { headers: { Accept: 'application/json' } });
    assert.equal(r.status, 401);
    assert.match(r.text, /Object moved/);
    const t = (await tokenRequest(sim, { grant_type: 'refresh_token', refresh_token: sim.issueRefreshToken() })).json as Record<string, string>;
    const me = () => call(`${sim.baseUrl}/api/v1/current/Me`, { headers: { Authorization: `Bearer ${t.access_token}`, Accept: 'application/json' } });
    assert.equal((await me()).status, 200);
    sim.revokeTokens();
    assert.equal((await me()).status, 401);
    const r2 = await tokenRequest(sim, { grant_type: 'refresh_token', refresh_token: t.refresh_token });
    assert.equal(r2.status, 400);
  });

  it('allows at most 200 token calls per app and user per day', async () => {
    // Start of a fresh UTC day, so the count starts at zero.
    clock.set((Math.floor(clock.now() / 86_400_000) + 1) * 86_400_000);
    const statuses: number[] = [];
    for (let i = 0; i < 201; i++) {
      statuses.push((await tokenRequest(sim, { grant_type: 'refresh_token', refresh_token: sim.issueRefreshToken() })).status);
    }
    assert.deepEqual(statuses.slice(0, 200), new Array<number>(200).fill(200));
    assert.equal(statuses[200], 400);
    clock.advance(86_400_000);
    assert.equal((await tokenRequest(sim, { grant_type: 'refresh_token', refresh_token: sim.issueRefreshToken() })).status, 200);
  });
});

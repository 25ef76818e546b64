/** The token store and the refresh discipline: sealed at rest, 570 s rule, single flight, two processes. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { TokenManager } from '../../../src/providers/exactonline/oauth.js';
import { TokenStore } from '../../../src/providers/exactonline/token-store.js';
import { ManualClock, systemClock, type Clock } from '../../../src/util/clock.js';
import { SecretBox } from '../../../src/util/secrets.js';
import { startExactSimulator } from '../../../src/sim/exactonline/index.js';
import { connectSim, startTokenStub, testConfig, testEnv } from './helpers.js';

const secrets = SecretBox.fromPassphrase('test-key');

function setup(apiUrl: string, clock: Clock) {
  const dataDir = mkdtempSync(join(tmpdir(), 'sluice-eol-'));
  const cfg = testConfig(apiUrl);
  const store = new TokenStore({ dataDir, apiUrl, clientId: cfg.clientId, user: cfg.user, secrets, clock });
  return { dataDir, cfg, store, manager: new TokenManager(store, cfg, clock) };
}

test('the store is sealed at rest and shows ages without tokens', async () => {
  const clock = new ManualClock();
  const { dataDir, store } = setup('http://127.0.0.1:1', clock);
  try {
    await store.write({ accessToken: 'access-secret', refreshToken: 'refresh-secret', accessObtainedAt: clock.now(), expiresIn: 600, refreshObtainedAt: clock.now() }, 0);
    const raw = readFileSync(store.file, 'utf8');
    assert.ok(!raw.includes('access-secret') && !raw.includes('refresh-secret'));
    const status = await store.status();
    assert.equal(status.accessObtainedAt, clock.now());
    assert.equal((await store.read())?.refreshToken, 'refresh-secret');
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('the access token is used until 570 s of age, then refreshed once for concurrent callers', async () => {
  const stub = await startTokenStub('refresh-0', 50);
  const clock = new ManualClock();
  const { dataDir, store, manager } = setup(stub.url, clock);
  try {
    await store.write({ accessToken: 'access-0', refreshToken: 'refresh-0', accessObtainedAt: clock.now(), expiresIn: 600, refreshObtainedAt: clock.now() }, 0);
    clock.advance(569_000);
    assert.equal(await manager.accessToken(), 'access-0');
    assert.equal(stub.refreshCalls, 0);
    clock.advance(2_000);
    const tokens = await Promise.all([manager.accessToken(), manager.accessToken(), manager.accessToken()]);
    assert.deepEqual(tokens, ['access-1', 'access-1', 'access-1']);
    assert.equal(stub.refreshCalls, 1);
    // The new refresh token was stored.
    assert.equal((await store.read())?.refreshToken, 'refresh-1');
  } finally {
    await stub.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('after a 401 the store is re-read first: a token refreshed by another process is used without a refresh', async () => {
  const stub = await startTokenStub('refresh-0');
  const clock = new ManualClock();
  const a = setup(stub.url, clock);
  try {
    await a.store.write({ accessToken: 'access-0', refreshToken: 'refresh-0', accessObtainedAt: clock.now(), expiresIn: 600, refreshObtainedAt: clock.now() }, 0);
    assert.equal(await a.manager.accessToken(), 'access-0');
    // Another process refreshed and stored new tokens.
    const other = new TokenManager(a.store, a.cfg, clock);
    clock.advance(600_000);
    assert.equal(await other.accessToken(), 'access-1');
    assert.equal(await a.manager.onUnauthorized('access-0'), 'access-1');
    assert.equal(stub.refreshCalls, 1);
    assert.equal(stub.oldTokenUses, 0);
  } finally {
    await stub.close();
    rmSync(a.dataDir, { recursive: true, force: true });
  }
});

test('a refused young token is not refreshed early (TooEarlyToRefreshTokens avoided) but reported', async () => {
  const stub = await startTokenStub('refresh-0');
  const clock = new ManualClock();
  const { dataDir, store, manager } = setup(stub.url, clock);
  try {
    await store.write({ accessToken: 'access-0', refreshToken: 'refresh-0', accessObtainedAt: clock.now(), expiresIn: 600, refreshObtainedAt: clock.now() }, 0);
    await assert.rejects(manager.onUnauthorized('access-0'), (e: Error) => /revoked/.test(e.message));
    assert.equal(stub.refreshCalls, 0);
  } finally {
    await stub.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('keepalive refreshes only an idle refresh token', async () => {
  const stub = await startTokenStub('refresh-0');
  const clock = new ManualClock();
  const { dataDir, store, manager } = setup(stub.url, clock);
  try {
    await store.write({ accessToken: 'access-0', refreshToken: 'refresh-0', accessObtainedAt: clock.now(), expiresIn: 600, refreshObtainedAt: clock.now() }, 0);
    clock.advance(86_400_000);
    assert.deepEqual((await manager.keepAlive(20 * 86_400_000)).refreshed, false);
    clock.advance(20 * 86_400_000);
    assert.equal((await manager.keepAlive(20 * 86_400_000)).refreshed, true);
    assert.equal((await store.read())?.refreshToken, 'refresh-1');
  } finally {
    await stub.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

function runChild(apiUrl: string, dataDir: string, ...client: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'refresh-child.ts'), apiUrl, dataDir, ...client], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.on('close', (code) => resolve({ code, out }));
  });
}

test('two processes refreshing one store: one refresh, no old refresh token used, both get the newest token', async () => {
  const stub = await startTokenStub('refresh-0', 300);
  const { dataDir, store } = setup(stub.url, systemClock);
  try {
    const longAgo = Date.now() - 700_000;
    await store.write({ accessToken: 'access-0', refreshToken: 'refresh-0', accessObtainedAt: longAgo, expiresIn: 600, refreshObtainedAt: longAgo }, 0);
    const [a, b] = await Promise.all([runChild(stub.url, dataDir), runChild(stub.url, dataDir)]);
    assert.equal(a.code, 0, a.out);
    assert.equal(b.code, 0, b.out);
    assert.equal(stub.oldTokenUses, 0);
    assert.equal(stub.refreshCalls, 1);
    assert.deepEqual([JSON.parse(a.out).token, JSON.parse(b.out).token], ['access-1', 'access-1']);
    const stored = await store.read();
    assert.equal(stored?.refreshToken, stub.current);
  } finally {
    await stub.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('two processes against the simulator: both get a token, the store keeps the live refresh token', async () => {
  const sim = await startExactSimulator({ port: 0, divisions: 2, rateLimits: false });
  const env = testEnv();
  try {
    const cfg = testConfig(sim.baseUrl, { clientId: sim.clientId, clientSecret: sim.clientSecret });
    const store = new TokenStore({ dataDir: env.dataDir, apiUrl: sim.baseUrl, clientId: cfg.clientId, user: cfg.user, secrets, clock: systemClock });
    // A refresh token only (as seeded from a connection string): both children must refresh.
    await store.write({ refreshToken: sim.issueRefreshToken(), refreshObtainedAt: Date.now() }, 0);
    const [a, b] = await Promise.all([runChild(sim.baseUrl, env.dataDir, sim.clientId, sim.clientSecret), runChild(sim.baseUrl, env.dataDir, sim.clientId, sim.clientSecret)]);
    assert.equal(a.code, 0, a.out);
    assert.equal(b.code, 0, b.out);
    assert.equal(JSON.parse(a.out).token, JSON.parse(b.out).token, 'one refresh served both');
    assert.equal((await store.read())?.generation, 2, 'exactly one refresh was stored');
    // The stored tokens are the live ones: a container on the same store works without logging in again.
    const c = await connectSim(sim, env);
    assert.equal((await c.partitions(new AbortController().signal)).length, 2);
    await c.close();
  } finally {
    await sim.close();
    env.cleanup();
  }
});

test('the store lock: a second holder waits for the first; a lock left by a dead process is taken over', async () => {
  const { dataDir, store } = setup('http://127.0.0.1:1', systemClock);
  try {
    const order: string[] = [];
    let release: () => void = () => undefined;
    const first = store.withLock(async () => {
      order.push('first in');
      await new Promise<void>((r) => (release = r));
      order.push('first out');
    });
    await new Promise((r) => setTimeout(r, 50));
    const second = store.withLock(async () => {
      order.push('second in');
    });
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(order, ['first in']);
    release();
    await Promise.all([first, second]);
    assert.deepEqual(order, ['first in', 'first out', 'second in']);
    // A crashed process's lock (its pid no longer runs) does not block anyone.
    writeFileSync(store.lockFile, JSON.stringify({ pid: 2 ** 22 + 12345, at: Date.now(), nonce: 'dead' }));
    let ran = false;
    await store.withLock(async () => {
      ran = true;
    });
    assert.equal(ran, true);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('"Old refresh token used" after another client refreshed: the store is re-read and its newer token used; without one, a clear login error', async () => {
  const stub = await startTokenStub('refresh-0', 300);
  const clock = new ManualClock();
  const { dataDir, store, manager } = setup(stub.url, clock);
  try {
    await store.write({ accessToken: 'access-0', refreshToken: 'refresh-0', accessObtainedAt: clock.now(), expiresIn: 600, refreshObtainedAt: clock.now() }, 0);
    clock.advance(600_000);
    // While our refresh is on its way, another client (outside our lock) refreshed and wrote the store.
    stub.current = 'refresh-by-other';
    const pending = manager.accessToken();
    await new Promise((r) => setTimeout(r, 100));
    const seen = await store.read();
    await store.write({ accessToken: 'access-by-other', refreshToken: 'refresh-by-other', accessObtainedAt: clock.now(), expiresIn: 600, refreshObtainedAt: clock.now() }, seen!.generation);
    assert.equal(await pending, 'access-by-other');
    assert.equal(stub.oldTokenUses, 1);
    assert.equal((await store.read())?.refreshToken, 'refresh-by-other', 'the live refresh token is kept');

    // Nobody refreshed: the stored token is simply dead, and the user is told to log in.
    clock.advance(600_000);
    stub.current = 'refresh-elsewhere';
    await assert.rejects(manager.accessToken(), (e: Error & { code?: string }) => e.code === 'EOL020' && /Old refresh token used/.test(e.message) && /sluice login/.test(JSON.stringify(e)));
  } finally {
    await stub.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('the refresh call times out before the store lock could be taken over, and releases the lock', async () => {
  const stub = await startTokenStub('refresh-0', 5_000);
  const clock = new ManualClock();
  const dataDir = mkdtempSync(join(tmpdir(), 'sluice-eol-'));
  const cfg = testConfig(stub.url);
  // A 2 s takeover window: the token call must give up within half of it.
  const store = new TokenStore({ dataDir, apiUrl: stub.url, clientId: cfg.clientId, user: cfg.user, secrets, clock, staleLockMs: 2_000 });
  const manager = new TokenManager(store, cfg, clock);
  try {
    await store.write({ accessToken: 'access-0', refreshToken: 'refresh-0', accessObtainedAt: clock.now(), expiresIn: 600, refreshObtainedAt: clock.now() }, 0);
    clock.advance(600_000);
    await assert.rejects(manager.accessToken(), (e: Error & { code?: string }) => e.code === 'EOL030' && /did not answer within 1 s/.test(e.message));
    assert.equal(existsSync(store.lockFile), false, 'the lock is released');
    assert.equal((await store.read())?.refreshToken, 'refresh-0', 'the store is unchanged');
  } finally {
    await stub.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

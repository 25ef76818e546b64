/**
 * The simulator as a product feature: settings.xml with an authorised
 * `ExactOnlineAll` container (written fresh or joined to an existing file),
 * the `sluice sim exact` command, and the unsure bare-array answer switch.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startExactSimulator } from '../../../src/sim/exactonline/index.js';
import { call, setup, tokenRequest } from './helpers.js';
import { listening } from '../cli-helpers.js';

const MAIN = fileURLToPath(new URL('../../../src/cli/main.ts', import.meta.url));

function connectionString(xml: string, alias: string): Record<string, string> {
  const m = new RegExp(`<database alias="${alias}" provider="ExactOnlineAll" connectionString="([^"]*)"`).exec(xml);
  assert.ok(m, `no ${alias} container in ${xml}`);
  return Object.fromEntries(m[1].split(';').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
}

describe('Exact simulator settings and CLI', () => {
  it('writes a settings.xml whose refresh token works at once, and joins an existing file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-eol-'));
    const sim = await startExactSimulator({ rateLimits: false });
    try {
      const file = join(dir, 'settings.xml');
      await sim.writeSettings(file);
      const cs = connectionString(await readFile(file, 'utf8'), 'eol');
      assert.equal(cs['api-url'], sim.baseUrl);
      assert.equal(cs['api-client-id'], sim.clientId);
      assert.equal(cs['api-redirect-url'], sim.redirectUri);
      const t = await tokenRequest(sim, { grant_type: 'refresh_token', refresh_token: cs['api-refresh-token'] });
      assert.equal(t.status, 200);
      const other = join(dir, 'other.xml');
      await writeFile(other, '<?xml version="1.0"?>\n<settings>\n <group name="g">\n  <connection name="c">\n   <database alias="vismanet" provider="VismaNet" />\n  </connection>\n </group>\n</settings>\n');
      await sim.writeSettings(other);
      await sim.writeSettings(other);
      const text = await readFile(other, 'utf8');
      assert.match(text, /alias="vismanet"/);
      assert.equal((text.match(/alias="eol"/g) ?? []).length, 1, 'rewriting replaces the container');
      assert.ok(text.indexOf('alias="eol"') < text.indexOf('</connection>'));
    } finally {
      await sim.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('runs as `sluice sim exact --write-settings FILE` until interrupted', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-eol-cli-'));
    const file = join(dir, 'settings.xml');
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'sim', 'exact', '--divisions', '2', '--rate-limit', 'off', '--write-settings', file], {
      env: { ...process.env, SLUICE_HOME: dir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const out = await listening(child);
      assert.match(out, /Exact Online simulator listening on http:\/\/127\.0\.0\.1:\d+/);
      assert.match(out, /102673/);
      const cs = connectionString(await readFile(file, 'utf8'), 'eol');
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: cs['api-refresh-token'], client_id: cs['api-client-id'], client_secret: cs['api-client-secret'] });
      const t = await call(`${cs['api-url']}/api/oauth2/token`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: form.toString() });
      assert.equal(t.status, 200);
      const me = await call(`${cs['api-url']}/api/v1/current/Me`, { headers: { Authorization: `Bearer ${(t.json as { access_token: string }).access_token}`, Accept: 'application/json' } });
      assert.equal(me.status, 200);
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGINT');
      assert.equal(await exited, 0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('takes --seed, --port, --faults and --latency on the command line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-eol-cli-'));
    const file = join(dir, 'settings.xml');
    // A free port: take one from the OS, release it, hand it to the CLI.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'sim', 'exact', '--seed', '7', '--divisions', '3', '--port', String(port), '--faults', '429=1', '--latency', 'lognormal:5,10,15', '--write-settings', file], {
      env: { ...process.env, SLUICE_HOME: dir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const same = await startExactSimulator({ seed: 7, divisions: 3 });
    try {
      const out = await listening(child);
      assert.match(out, new RegExp(`listening on http://127\\.0\\.0\\.1:${port}\\b`));
      assert.match(out, new RegExp(`divisions: ${same.divisions().join(', ')};`), 'the same seed gives the same divisions');
      const cs = connectionString(await readFile(file, 'utf8'), 'eol');
      assert.equal(cs['api-url'], `http://127.0.0.1:${port}`);
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: cs['api-refresh-token'], client_id: cs['api-client-id'], client_secret: cs['api-client-secret'] });
      const t = await call(`${cs['api-url']}/api/oauth2/token`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: form.toString() });
      assert.equal(t.status, 200, 'faults hit the API, not the token endpoint');
      const r = await call(`${cs['api-url']}/api/v1/102673/crm/Accounts?$top=1`, { headers: { Authorization: `Bearer ${(t.json as { access_token: string }).access_token}`, Accept: 'application/json' } });
      assert.equal(r.status, 429, '--faults 429=1: a 429 storm');
      const faults = await call(`${cs['api-url']}/__sim/faults`);
      assert.deepEqual((faults.json as { latency: unknown }).latency, { dist: 'lognormal', p50: 5, p95: 10, max: 15 });
      const stats = (await call(`${cs['api-url']}/__sim/stats`)).json as { latency: { calls: number; maxMs: number } };
      assert.equal(stats.latency.calls, 1, 'the API call drew a latency');
      assert.ok(stats.latency.maxMs > 0 && stats.latency.maxMs <= 15, `drawn ${stats.latency.maxMs} ms, capped at 15`);
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGINT');
      assert.equal(await exited, 0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await same.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects bad CLI values with a clear message', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'sim', 'exact', '--divisions', '5000'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    assert.notEqual(code, 0);
    assert.match(err, /--divisions must be a whole number between 1 and 1000/);
  });

  it('answers a bare {"d":[…]} to single-page $top requests when asked to', async () => {
    const env = await setup({ bareArrayOnTop: true });
    try {
      const r = await env.get('/api/v1/102673/crm/Accounts?$select=ID&$top=3');
      assert.ok(Array.isArray((r.json as { d: unknown }).d));
      assert.equal((r.json as { d: unknown[] }).d.length, 3);
      const paged = await env.get('/api/v1/102673/crm/Accounts?$select=ID');
      assert.ok(Array.isArray((paged.json as { d: { results: unknown[] } }).d.results));
    } finally {
      await env.sim.close();
    }
  });
});

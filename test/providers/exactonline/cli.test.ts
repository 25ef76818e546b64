/** `sluice token status` and `sluice token keepalive` as a user runs them (child process, own SLUICE_HOME). */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startExactSimulator } from '../../../src/sim/exactonline/index.js';

const MAIN = join(import.meta.dirname, '..', '..', '..', 'src', 'cli', 'main.ts');

function sluice(args: string[], home: string): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { env: { ...process.env, SLUICE_HOME: home, SLUICE_MASTER_KEY: 'cli-test' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

test('token status shows ages but never tokens; keepalive leaves a fresh token alone', async () => {
  const sim = await startExactSimulator({ port: 0, divisions: 2, rateLimits: false });
  const home = mkdtempSync(join(tmpdir(), 'sluice-eol-cli-'));
  try {
    const settings = join(home, 'settings.xml');
    await sim.writeSettings(settings);
    const before = await sluice(['token', 'status', '--settings', settings], home);
    assert.equal(before.code, 0, before.err);
    assert.match(before.out, /eol: no tokens stored \(run `sluice login eol`\)/);
    const q = await sluice(['query', '--settings', settings, '--format', 'csv', 'select count(*) from systemdivisions@eol'], home);
    assert.equal(q.code, 0, q.err);
    const after = await sluice(['token', 'status', '--settings', settings], home);
    assert.equal(after.code, 0, after.err);
    assert.match(after.out, /eol \(http:\/\/127\.0\.0\.1:\d+, client [0-9a-f-]+\): access token age \d+ s \(lives 600 s\); refresh token idle \d+ s/);
    assert.doesNotMatch(after.out + after.err, /access_token|refresh_token|Bearer/);
    const keep = await sluice(['token', 'keepalive', '--settings', settings], home);
    assert.equal(keep.code, 0, keep.err);
    assert.match(keep.out, /eol: still fresh/);
    const missing = await sluice(['token', 'status', 'nope', '--settings', settings], home);
    assert.equal(missing.code, 1);
    assert.match(missing.err, /No ExactOnlineAll container "nope"/);
  } finally {
    await sim.close();
    rmSync(home, { recursive: true, force: true });
  }
});

function sluiceEnv(args: string[], env: NodeJS.ProcessEnv, onOut?: (text: string) => void): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      onOut?.(out);
    });
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

test('sluice login against the simulator; the store is sealed with the 0600 key file when SLUICE_MASTER_KEY is unset', async () => {
  const port = await freePort();
  const redirectUri = `http://127.0.0.1:${port}/callback`;
  const sim = await startExactSimulator({ port: 0, divisions: 2, redirectUri, rateLimits: false });
  const home = mkdtempSync(join(tmpdir(), 'sluice-eol-login-'));
  const env: NodeJS.ProcessEnv = { ...process.env, SLUICE_HOME: home };
  delete env.SLUICE_MASTER_KEY;
  try {
    const settings = join(home, 'settings.xml');
    // No api-refresh-token: only the login can give the container its tokens.
    const cs = `api-url=${sim.baseUrl};api-client-id=${sim.clientId};api-client-secret=${sim.clientSecret};api-redirect-url=${redirectUri}`;
    writeFileSync(settings, `<settings><group name="g"><connection name="c"><database alias="eol" provider="ExactOnlineAll" connectionString="${cs}" /></connection></group></settings>`);
    let approved = false;
    const login = await sluiceEnv(['login', 'eol', '--settings', settings, '--timeout', '60'], env, (out) => {
      const m = /(http:\/\/\S+\/api\/oauth2\/auth\?\S+)/.exec(out);
      if (!m || approved) return;
      approved = true;
      // The "browser": approve on the simulator's consent page, follow the redirect to the CLI's listener.
      void (async () => {
        const form = new URLSearchParams(new URL(m[1]).searchParams);
        form.set('approve', '1');
        const consent = await fetch(`${sim.baseUrl}/api/oauth2/auth`, { method: 'POST', body: form, redirect: 'manual' });
        await fetch(consent.headers.get('location') as string);
      })();
    });
    assert.equal(login.code, 0, login.err);
    assert.match(login.out, /Open this URL in a browser/);
    assert.match(login.out, /Signed in; tokens stored for container eol\./);
    assert.doesNotMatch(login.out + login.err, /access_token|refresh_token|Bearer/);
    const keyFile = join(home, 'master.key');
    assert.equal(statSync(keyFile).mode & 0o777, 0o600, 'the key file was created 0600');
    const storeFile = readdirSync(join(home, 'exactonline')).find((f) => /^tokens-.*\.json$/.test(f));
    assert.ok(storeFile, 'a token store was written');

    // The stored tokens work, opened with the key file.
    const q = await sluiceEnv(['query', '--settings', settings, '--format', 'csv', 'select count(*) from systemdivisions@eol'], env);
    assert.equal(q.code, 0, q.err);
    assert.match(q.out, /^2$/m);
    // A key file others can read is made private again before use.
    chmodSync(keyFile, 0o644);
    const again = await sluiceEnv(['query', '--settings', settings, '--format', 'csv', 'select count(*) from me@eol'], env);
    assert.equal(again.code, 0, again.err);
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    // A different master key cannot open the store: a clear error, no stack trace.
    const wrong = await sluiceEnv(['query', '--settings', settings, '--format', 'csv', 'select count(*) from me@eol'], { ...env, SLUICE_MASTER_KEY: 'not-the-key' });
    assert.equal(wrong.code, 1);
    assert.match(wrong.err, /SEC004/);
    assert.doesNotMatch(wrong.err, /\n\s+at /);
  } finally {
    await sim.close();
    rmSync(home, { recursive: true, force: true });
  }
});

/** `sluice token status` and `sluice token keepalive` as a user runs them (child process, own SLUICE_HOME). */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
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

/**
 * `sluice demo` at a terminal, in-process: runCli over the real engine with
 * a stdin that says it is a TTY, so the demo prints its banner and opens the
 * shell; leaving the shell (\quit, Ctrl-D, or Ctrl-C twice at the prompt) stops the
 * server and simulators and removes the demo's temporary files.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { openEngineSession } from '../../src/cli/engine.js';
import { runCli } from '../../src/cli/program.js';
import { Capture, waitFor } from './helpers.js';

const base = mkdtempSync(join(tmpdir(), 'sluice-demo-shell-test-'));
const home = join(base, 'sluice-home');
const tmp = join(base, 'tmp');
mkdirSync(home);
mkdirSync(tmp);
// This file runs in its own process: the demo's temporary directory and the shell's history go here.
process.env.TMPDIR = tmp;
process.env.SLUICE_HOME = home;
delete process.env.SLUICE_SETTINGS;
after(() => rmSync(base, { recursive: true, force: true }));

function terminal(): { stdin: PassThrough & { isTTY: boolean }; stdout: Capture & { isTTY: boolean; columns: number }; stderr: Capture } {
  return {
    stdin: Object.assign(new PassThrough(), { isTTY: true }),
    stdout: Object.assign(new Capture(), { isTTY: true, columns: 200 }),
    stderr: new Capture(),
  };
}

const demoFiles = (): string[] => readdirSync(tmp).filter((f) => f.startsWith('sluice-'));

test('at a terminal: banner with the feed and example queries, the shell queries the simulators, \\quit stops everything', async () => {
  const io = terminal();
  const done = runCli(['demo'], { ...io, env: {}, openSession: openEngineSession });
  await waitFor(() => io.stdout.text.includes('sluice> '), 'the shell prompt');
  const banner = io.stdout.text;
  assert.match(banner, /OData feed for Power BI/);
  assert.match(banner, /http:\/\/127\.0\.0\.1:\d+\/demo\/odata4\//);
  assert.match(banner, /user name "demo", password "demo"/);
  assert.match(banner, /use all;\n\s+select division, count\(\*\) accounts/);
  assert.match(banner, /synchronize exactaccounts@inmemorystorage\n\s+to\s+customer_getall@vismanet/);
  assert.equal(demoFiles().length, 2, 'the demo and its server keep their files in TMPDIR');

  const feed = /(http:\/\/127\.0\.0\.1:\d+\/demo\/odata4\/)/.exec(banner)?.[1] ?? '';
  const service = await fetch(feed, { headers: { authorization: `Basic ${Buffer.from('demo:demo').toString('base64')}` } });
  assert.equal(service.status, 200);
  await service.body?.cancel();

  io.stdin.write('use all;\n');
  await waitFor(() => /Using 6 partitions on eol/.test(io.stdout.text + io.stderr.text), 'use all');
  io.stdin.write('select count(distinct division) divisions, count(*) accounts from exactonlinerest..accounts@eol;\n');
  await waitFor(() => /\(1 row\)/.test(io.stdout.text), 'the query result');
  assert.match(io.stdout.text, / divisions \| accounts\n-+\+-+\n +6 \| +\d+\n/);

  io.stdin.write('\\quit\n');
  assert.equal(await done, 0);
  assert.deepEqual(demoFiles(), []);
  // The server is gone with the demo.
  await assert.rejects(fetch(feed));
});

test('at a terminal: Ctrl-C twice at the prompt leaves the demo and cleans up', async () => {
  const io = terminal();
  const done = runCli(['demo'], { ...io, env: {}, openSession: openEngineSession });
  await waitFor(() => io.stdout.text.includes('sluice> '), 'the shell prompt');
  io.stdin.write('\x03');
  await waitFor(() => io.stdout.text.includes('To leave, press Ctrl-C again'), 'the hint after one Ctrl-C');
  io.stdin.write('\x03');
  assert.equal(await done, 0);
  assert.deepEqual(demoFiles(), []);
});

test('at a terminal: Ctrl-D on an empty prompt leaves the demo and cleans up', async () => {
  const io = terminal();
  const done = runCli(['demo'], { ...io, env: {}, openSession: openEngineSession });
  await waitFor(() => io.stdout.text.includes('sluice> '), 'the shell prompt');
  assert.equal(demoFiles().length, 2);
  io.stdin.write('\x04');
  assert.equal(await done, 0);
  assert.deepEqual(demoFiles(), []);
});

// `sluice sim visma` as a product feature: --write-settings FILE adds an
// authorized `vismanet` container the engine can use at once, --host picks
// the address, and --faults injects failures the connector then reports.
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openSession } from '../../../src/engine/index.js';
import { parseVismaFaults } from '../../../src/sim/vismanet/index.js';
import { SluiceError } from '../../../src/util/errors.js';
import { SecretBox } from '../../../src/util/secrets.js';
import { listening } from '../cli-helpers.js';

const MAIN = fileURLToPath(new URL('../../../src/cli/main.ts', import.meta.url));

function start(args: string[], home: string): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, ['--import', 'tsx', MAIN, 'sim', 'visma', ...args], { env: { ...process.env, SLUICE_HOME: home }, stdio: ['pipe', 'pipe', 'pipe'] });
}


describe('sluice sim visma', () => {
  it('parses --faults specs and names a bad part', () => {
    const f = parseVismaFaults('error=0.25, status=503,fail-next=2,latency=40,match=^POST /customer,reject-names=^Bad');
    assert.equal(f.errorRate, 0.25);
    assert.equal(f.status, 503);
    assert.equal(f.failNext, 2);
    assert.equal(f.extraLatencyMs, 40);
    assert.ok(f.match?.test('POST /customer'));
    assert.ok(!f.match?.test('GET /customer'));
    assert.ok(f.rejectNames?.test('Bad name'));
    assert.deepEqual(parseVismaFaults(''), {});
    assert.throws(() => parseVismaFaults('error=2'), /fault "error=2": error must be a rate between 0 and 1/);
    assert.throws(() => parseVismaFaults('status=200'), /status must be a whole number from 400 to 599/);
    assert.throws(() => parseVismaFaults('match=('), /match must be a regular expression/);
    assert.throws(() => parseVismaFaults('reset=0.1'), /unknown fault "reset" \(use error, status, fail-next, latency, match, reject-names\)/);
  });

  it('--write-settings FILE adds an authorized vismanet container to an existing settings.xml; --faults injects failures the engine reports', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-visma-cli-'));
    const file = join(dir, 'settings.xml');
    // An existing file with another container: the simulator's container joins its connection.
    await writeFile(
      file,
      '<?xml version="1.0" encoding="utf-8"?>\n<settings>\n <group name="sample">\n  <connection name="exact online nl + visma.net">\n   <database alias="eolnl" provider="ExactOnlineAll" connectionString="api-url=https://start.exactonline.nl" />\n  </connection>\n </group>\n</settings>\n',
    );
    const child = start(
      ['--host', '127.0.0.1', '--customers', '7', '--suppliers', '1', '--rate-limit', 'off', '--faults', 'fail-next=1,status=400,match=^GET /customer', '--write-settings', file],
      dir,
    );
    try {
      const out = await listening(child);
      assert.match(out, /Visma\.net simulator listening on http:\/\/127\.0\.0\.1:\d+/);
      assert.match(out, /1896329/);
      assert.match(out, /faults: fail-next=1, status=400, match=\^GET \/customer/);
      assert.match(out, /container "vismanet" written to /);
      const xml = await readFile(file, 'utf8');
      assert.match(xml, /<database alias="eolnl" provider="ExactOnlineAll"/);
      const db = /<database alias="vismanet" provider="VismaNet" connectionString="([^"]*)"/.exec(xml);
      assert.ok(db, xml);
      assert.match(db[1], /client-secret=/);
      assert.ok(xml.indexOf('alias="vismanet"') < xml.indexOf('</connection>'), 'joined to the existing connection');

      const s = await openSession({ settingsPath: file, connection: 'exact online nl + visma.net', dataDir: dir, secrets: SecretBox.fromPassphrase('t') });
      try {
        const run = async (sql: string) => {
          const out: (readonly unknown[])[] = [];
          for await (const r of s.execute(sql)) if (r.kind === 'rows') for await (const b of r.batches) out.push(...b.rows);
          return out;
        };
        // The first customer call gets the injected 400, in Visma's words; the next one goes through.
        await assert.rejects(run("use 1896329@vismanet; select count(*) from customer_getall@vismanet"), (e: unknown) => {
          assert.ok(e instanceof SluiceError, String(e));
          assert.match(e.message, /injected fault/);
          return true;
        });
        assert.deepEqual(await run('select count(*) from customer_getall@vismanet'), [[7]]);
      } finally {
        await s.close();
      }
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGINT');
      assert.equal(await exited, 0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a bad --faults spec with a clear message and exit code 1', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-visma-cli-'));
    try {
      const child = start(['--faults', 'error=5'], dir);
      let err = '';
      child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
      const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
      assert.equal(code, 1);
      assert.match(err, /^SIM012: --faults: fault "error=5": error must be a rate between 0 and 1/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

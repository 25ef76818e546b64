/**
 * `sluice demo` (what `npm start` runs) as a child process, the way a user
 * or CI runs it: the Exact Online and Visma.net simulators, the OData feed
 * and the SQL from stdin, with a private HOME, SLUICE_HOME and TMPDIR so
 * the test can see that nothing lands in the user's ~/.sluice and that the
 * demo's temporary files are gone when it exits.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QUERY_ALL_DIVISIONS, QUERY_EXACT_JOIN_VISMA, SEED_001_SCRIPT } from '../../src/cli/demo.js';

const root = join(import.meta.dirname, '..', '..');
const base = mkdtempSync(join(tmpdir(), 'sluice-demo-test-'));
after(() => rmSync(base, { recursive: true, force: true }));

interface Demo {
  readonly child: ChildProcessWithoutNullStreams;
  readonly home: string;
  readonly sluiceHome: string;
  readonly tmp: string;
  stdout(): string;
  stderr(): string;
  /** Resolves with stderr once it matches, rejects if the demo exits first. */
  waitForStderr(re: RegExp): Promise<string>;
  exited: Promise<number | null>;
}

let runs = 0;

/**
 * Start the demo with a user's own settings in place (SLUICE_SETTINGS and
 * ~/.sluice/settings.xml, each with a container the demo must not show).
 */
function startDemo(args: string[] = []): Demo {
  const dir = join(base, `run-${++runs}`);
  const home = join(dir, 'home');
  const sluiceHome = join(home, '.sluice');
  const tmp = join(dir, 'tmp');
  mkdirSync(sluiceHome, { recursive: true });
  mkdirSync(tmp);
  writeFileSync(join(sluiceHome, 'settings.yaml'), 'containers:\n  - alias: mine\n    provider: InMemoryStorage\n');
  writeFileSync(join(dir, 'env-settings.yaml'), 'containers:\n  - alias: fromenv\n    provider: InMemoryStorage\n');
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, SLUICE_HOME: sluiceHome, TMPDIR: tmp, SLUICE_SETTINGS: join(dir, 'env-settings.yaml') };
  delete env.SLUICE_DEBUG;
  delete env.SLUICE_MASTER_KEY;
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), 'demo', ...args], { cwd: root, env });
  let stdout = '';
  let stderr = '';
  const waiters: (() => void)[] = [];
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    waiters.forEach((w) => w());
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code));
  });
  return {
    child,
    home,
    sluiceHome,
    tmp,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    waitForStderr: (re) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          if (re.test(stderr)) resolve(stderr);
        };
        waiters.push(check);
        check();
        void exited.then((code) => reject(new Error(`the demo exited (${code}) before printing ${re}:\n${stderr}`)));
      }),
  };
}

/** What the demo leaves behind: only the files the test put in ~/.sluice, and nothing of its own in TMPDIR. */
function assertNothingLeft(demo: Demo): void {
  assert.deepEqual(readdirSync(demo.home), ['.sluice']);
  assert.deepEqual(readdirSync(demo.sluiceHome), ['settings.yaml']);
  assert.deepEqual(
    readdirSync(demo.tmp).filter((f) => f.startsWith('sluice')),
    [],
  );
}

/** Parse CSV result sets (blank line between them) into rows of fields; the demo's values hold no quotes or commas. */
function csvResults(text: string): string[][][] {
  return text
    .split(/\r\n\r\n/)
    .filter((block) => block.trim() !== '')
    .map((block) => block.split(/\r\n/).filter((l) => l !== '').map((l) => l.split(',')));
}

test('piped demo: feed URL and credentials printed, the feed answers, queries across divisions and seed 001 run, and it exits cleanly', async () => {
  const demo = startDemo(['-f', 'csv']);
  const note = await demo.waitForStderr(/Authentication: Basic — user name "demo", password "demo"/);
  const feed = /(http:\/\/127\.0\.0\.1:\d+\/demo\/odata4\/)/.exec(note)?.[1];
  assert.ok(feed, note);
  assert.match(note, /Exact Online simulator +http:\/\/127\.0\.0\.1:\d+ +as @eol \(ExactOnlineAll\), divisions 102673, /);
  assert.match(note, /Visma\.net simulator +http:\/\/127\.0\.0\.1:\d+ +as @vismanet \(VismaNet\), companies 1896329, /);

  // The feed, with the printed credentials, while the demo waits for its SQL.
  const auth = { authorization: `Basic ${Buffer.from('demo:demo').toString('base64')}` };
  const service = await fetch(feed, { headers: auth });
  assert.equal(service.status, 200);
  const doc = (await service.json()) as { value: { name: string }[] };
  const sets = doc.value.map((v) => v.name);
  assert.ok(sets.includes('ExactOnlineREST_CRM_Accounts'), sets.join(', '));
  assert.ok(sets.some((s) => /customer_getall/i.test(s)), sets.join(', '));
  // The feed's database runs `use all`: Exact accounts of every division come through it.
  const accounts = await fetch(`${feed}ExactOnlineREST_CRM_Accounts?$select=Division,Code&$top=1000`, { headers: auth });
  assert.equal(accounts.status, 200);
  const rows = ((await accounts.json()) as { value: { Division: number }[] }).value;
  assert.equal(new Set(rows.map((r) => r.Division)).size, 6);
  const wrong = await fetch(feed, { headers: { authorization: `Basic ${Buffer.from('demo:nope').toString('base64')}` } });
  assert.equal(wrong.status, 401);
  await wrong.body?.cancel();

  demo.child.stdin.end(
    [
      'select alias from systemcontainers@datadictionary order by alias;',
      QUERY_ALL_DIVISIONS,
      SEED_001_SCRIPT,
      QUERY_EXACT_JOIN_VISMA,
      "select count(*) accounts, count(c.number) in_visma from exactonlinerest..accounts@eol a left join customer_getall@vismanet c on c.accountreference = 'EOL-' || a.code;",
      '',
    ].join('\n'),
  );
  const code = await demo.exited;
  assert.equal(code, 0, demo.stderr());

  const [containers, divisions, join_, counts] = csvResults(demo.stdout());
  // Exactly the demo's containers: neither $SLUICE_SETTINGS nor ~/.sluice/settings.* got in.
  assert.deepEqual(containers, [['alias'], ['datadictionary'], ['eol'], ['inmemorystorage'], ['vismanet']]);
  assert.deepEqual(divisions[0], ['Division', 'accounts']);
  const perDivision = divisions.slice(1);
  assert.equal(perDivision.length, 6);
  assert.equal(perDivision[0][0], '102673');
  for (const [division, n] of perDivision) {
    assert.match(division, /^\d+$/);
    assert.ok(Number(n) > 0, `division ${division} has accounts`);
  }

  // Seed 001: every account of division 102673 became a Visma.net customer EOL-<code>.
  const accountsIn102673 = perDivision[0][1];
  assert.match(demo.stderr(), new RegExp(`Synchronized exactaccounts@inmemorystorage to customer_getall@vismanet: inserted ${accountsIn102673}, updated 0, deleted 0, failed 0`));
  assert.deepEqual(join_[0], ['Code', 'Name', 'visma_customer']);
  assert.equal(join_.length, 6);
  for (const [code_, , customer] of join_.slice(1)) assert.equal(customer, code_.trim());
  assert.deepEqual(counts, [['accounts', 'in_visma'], [accountsIn102673, accountsIn102673]]);

  assertNothingLeft(demo);
});

test('the demo stops on SIGTERM, removing its temporary files', async () => {
  const demo = startDemo();
  await demo.waitForStderr(/password "demo"/);
  assert.ok(readdirSync(demo.tmp).some((f) => f.startsWith('sluice-demo-')));
  demo.child.kill('SIGTERM');
  assert.equal(await demo.exited, 143);
  assertNothingLeft(demo);
});

test('SIGINT while the piped demo waits for its SQL stops it (exit 130) and removes its temporary files', async () => {
  const demo = startDemo();
  await demo.waitForStderr(/password "demo"/);
  demo.child.kill('SIGINT');
  assert.equal(await demo.exited, 130);
  assertNothingLeft(demo);
});

test('a failing statement in piped SQL exits 1 and still cleans up; --settings is ignored, saying so', async () => {
  const demo = startDemo(['--settings', join(base, 'user-settings.xml')]);
  demo.child.stdin.end('select * from nosuchtable@eol;\n');
  assert.equal(await demo.exited, 1);
  assert.match(demo.stderr(), /the demo uses only its simulated containers; --settings is ignored/);
  assert.match(demo.stderr(), /nosuchtable/);
  assert.doesNotMatch(demo.stderr(), /at .*\.ts:\d+/);
  assertNothingLeft(demo);
});

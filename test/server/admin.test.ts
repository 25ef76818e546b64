/**
 * `sluice admin …` and `sluice serve --demo`: the accountant's set-up of one
 * database per end customer (seed 003) through the real commands, then the
 * demo server started as a process and read over HTTP.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { Command } from 'commander';
import { registerAdmin } from '../../src/cli/commands/admin.js';
import { FileStateStore } from '../../src/server/state/file.js';
import { Tenancy } from '../../src/server/tenancy.js';
import { SecretBox } from '../../src/util/secrets.js';

describe('sluice admin', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-admin-'));
  const box = SecretBox.fromPassphrase('admin test');
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function admin(args: string[], stdin = ''): Promise<string> {
    const stdout = new PassThrough();
    let text = '';
    stdout.on('data', (c: Buffer) => (text += c.toString()));
    const program = new Command().exitOverride();
    registerAdmin(program, {
      stdout,
      stdin: Readable.from([stdin]),
      env: {},
      setup: () => {
        const store = FileStateStore.inDirectory(dir);
        return { dataDir: dir, store, secrets: box, tenancy: new Tenancy(store, box) };
      },
    });
    await program.parseAsync(['admin', ...args], { from: 'user' });
    return text;
  }

  it('sets up a database per end customer with containers, startup SQL, users, grants and a token', async () => {
    await admin(['database', 'add', 'bakkerij-van-dam', '--cache-max-age', '60']);
    await admin(['container', 'add', 'bakkerij-van-dam', 'eol', 'ExactOnlineAll', '-'], 'clientid=abc;clientsecret=top-secret;redirecturl=https://localhost/cb');
    await admin(['database', 'set-startup-sql', 'bakkerij-van-dam', 'use 102673@eol, 102674@eol']);
    await admin(['user', 'add', 'jan', '--password-stdin'], 'jans wachtwoord\n');
    await admin(['user', 'add', 'powerbi-refresh', '--service']);
    await admin(['grant', 'jan', 'bakkerij-van-dam']);
    assert.match(await admin(['grant', 'powerbi-refresh', 'bakkerij-van-dam', '--write']), /may now read and write/);
    assert.equal(JSON.parse(readFileSync(join(dir, 'server-state.json'), 'utf8')).grants.find((g: { user: string }) => g.user === 'powerbi-refresh').write, true);
    assert.match(await admin(['grant', 'powerbi-refresh', 'bakkerij-van-dam']), /may now read bakkerij/);
    assert.equal(JSON.parse(readFileSync(join(dir, 'server-state.json'), 'utf8')).grants.find((g: { user: string }) => g.user === 'powerbi-refresh').write, undefined);
    const tokenOut = await admin(['token', 'create', 'powerbi-refresh', '--description', 'nightly refresh']);
    const token = tokenOut.split('\n')[0];
    assert.match(token, /^slu_[A-Za-z0-9_-]{43}$/);

    const list = await admin(['database', 'list']);
    assert.match(list, /bakkerij-van-dam/);
    assert.match(list, /container eol: ExactOnlineAll clientid=abc;clientsecret=\*\*\*;redirecturl=https:\/\/localhost\/cb/);
    assert.match(list, /startup sql: use 102673@eol, 102674@eol/);
    assert.match(list, /cache max age: 60 s/);
    assert.ok(!list.includes('top-secret'));
    const users = await admin(['user', 'list']);
    assert.match(users, /jan\tperson\tbakkerij-van-dam/);
    assert.match(users, /powerbi-refresh\tservice\tbakkerij-van-dam/);
    const tokens = await admin(['token', 'list']);
    assert.match(tokens, /powerbi-refresh.*nightly refresh/);
    assert.ok(!tokens.includes(token));

    const file = readFileSync(join(dir, 'server-state.json'), 'utf8');
    for (const secret of ['top-secret', 'jans wachtwoord', token]) assert.ok(!file.includes(secret));

    await admin(['revoke', 'jan', 'bakkerij-van-dam']);
    await admin(['token', 'revoke', tokens.split('\t')[0]]);
    await admin(['user', 'remove', 'jan']);
    assert.doesNotMatch(await admin(['user', 'list']), /jan/);
    await assert.rejects(admin(['grant', 'nobody', 'bakkerij-van-dam']), /There is no user "nobody"/);
  });
});

describe('sluice serve --demo', () => {
  it('starts a demo database readable with demo / demo and prints the feed URL', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--demo', '--port', '0', '--quiet'], { stdio: ['ignore', 'ignore', 'pipe'] });
    try {
      let err = '';
      const url = await new Promise<string>((resolve, reject) => {
        child.stderr.on('data', (c: Buffer) => {
          err += c.toString();
          const m = /(http:\/\/127\.0\.0\.1:\d+\/demo\/odata4\/)/.exec(err);
          if (m && /password "demo"/.test(err)) resolve(m[1]);
        });
        child.on('exit', (code) => reject(new Error(`exited ${code}: ${err}`)));
      });
      const auth = { authorization: `Basic ${Buffer.from('demo:demo').toString('base64')}` };
      const svc = (await (await fetch(url, { headers: auth })).json()) as { value: { name: string }[] };
      const names = svc.value.map((v) => v.name);
      assert.ok(names.includes('InMemoryStorage_Memory_accounts') && names.includes('InMemoryStorage_Memory_invoices') && names.includes('InMemoryStorage_Memory_divisions'));
      assert.ok(names.includes('ExactOnlineREST_CRM_Accounts'));
      const divisions = (await (await fetch(`${url}InMemoryStorage_Memory_divisions?$select=code,description&$orderby=code`, { headers: auth })).json()) as { value: { code: number }[] };
      assert.equal(divisions.value[0].code, 102673);
      assert.equal((await fetch(url)).status, 401);
      // The simulated Exact Online container: every division selected by the startup SQL, a Division filter narrows to one.
      const eol = `${url}ExactOnlineREST_CRM_Accounts?$select=Division,Code,Name`;
      const all = (await (await fetch(`${eol}&$top=1000`, { headers: auth })).json()) as { value: { Division: number }[] };
      const eolDivisions = [...new Set(all.value.map((r) => r.Division))];
      assert.ok(eolDivisions.length >= 2, `accounts of several divisions: ${eolDivisions.join()}`);
      const one = (await (await fetch(`${eol}&$filter=${encodeURIComponent(`Division eq ${eolDivisions[1]}`)}`, { headers: auth })).json()) as { value: { Division: number }[] };
      assert.ok(one.value.length > 0 && one.value.every((r) => r.Division === eolDivisions[1]));
      assert.equal(one.value.length, all.value.filter((r) => r.Division === eolDivisions[1]).length);
      // The simulated Visma.net container: customers of every company the startup SQL selected.
      const customers = names.find((n) => n.toLowerCase().endsWith('_customer_getall'));
      assert.ok(customers, `a Visma.net customer_getall entity set among ${names.length}`);
      const cust = (await (await fetch(`${url}${customers}?$select=company_id,number,name&$top=1000`, { headers: auth })).json()) as { value: { company_id: string; number: string }[] };
      assert.ok(cust.value.length > 0);
      assert.ok(new Set(cust.value.map((r) => String(r.company_id))).size >= 2, 'customers of several companies');
    } finally {
      child.kill('SIGTERM');
    }
  });
});

/**
 * Hostile requests: each gets a clear 4xx in the OData error shape, without a
 * stack trace and without revealing another tenant's data or existence.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { fixture } from './helpers.js';
import type { Fixture } from './helpers.js';

const ACC = '/acme/odata4/InMemoryStorage_Memory_accounts';

/** A request with the path sent byte for byte (fetch would normalise `..`). */
function raw(f: Fixture, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const url = new URL(f.server.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, headers: { authorization: f.basic('alice', 'alice-pw'), ...headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function assertCleanError(body: string, code?: RegExp): { code: string; message: string } {
  const parsed = JSON.parse(body) as { error: { code: string; message: string } };
  assert.ok(parsed.error.message.length > 0);
  if (code) assert.match(parsed.error.code, code);
  assert.ok(!/\bat .*\.(ts|js):\d+/.test(body), `no stack trace in ${body}`);
  assert.ok(!body.includes('globex only'));
  return parsed.error;
}

describe('server isolation and hostile input', () => {
  let f: Fixture;
  before(async () => {
    f = await fixture();
  });
  after(async () => {
    await f.close();
  });

  it("refuses another tenant's database with the same 404 as a missing one", async () => {
    const other = await raw(f, '/globex/odata4/InMemoryStorage_Memory_secrets');
    const missing = await raw(f, '/nosuchdb/odata4/InMemoryStorage_Memory_secrets');
    assert.equal(other.status, 404);
    assert.equal(missing.status, 404);
    const a = assertCleanError(other.body, /SRV409/);
    const b = assertCleanError(missing.body, /SRV409/);
    assert.equal(a.message.replace('globex', 'X'), b.message.replace('nosuchdb', 'X'));
    const meta = await raw(f, '/globex/odata4/$metadata');
    assert.equal(meta.status, 404);
    const sql = await fetch(`${f.server.url}/globex/sql`, { method: 'POST', body: 'select * from secrets@inmemorystorage', headers: { authorization: f.basic('alice', 'alice-pw') } });
    assert.equal(sql.status, 404);
    assertCleanError(await sql.text());
    // bob, who has the grant, does get it
    const bob = await raw(f, '/globex/odata4/InMemoryStorage_Memory_secrets', { authorization: f.basic('bob', 'bob-pw') });
    assert.equal(bob.status, 200);
    assert.match(bob.body, /globex only/);
  });

  it('rejects path traversal and encoded slashes before routing', async () => {
    for (const path of ['/acme/odata4/../../globex/odata4/InMemoryStorage_Memory_secrets', '/acme/odata4/%2e%2e/%2e%2e/globex/odata4/', '/acme%2F..%2Fglobex/odata4/', '/acme/odata4/InMemoryStorage_Memory_accounts%2F..%2F..%2Fglobex', '/..%5Cglobex/odata4/']) {
      const res = await raw(f, path);
      assert.ok(res.status === 400 || res.status === 404, `${path} → ${res.status}`);
      assertCleanError(res.body);
    }
  });

  it('treats filter injection as a string value', async () => {
    const res = await raw(f, `${ACC}?$filter=${encodeURIComponent("name eq 'x'' or 1 eq 1'")}`);
    assert.equal(res.status, 200);
    assert.deepEqual((JSON.parse(res.body) as { value: unknown[] }).value, []);
    const semi = await raw(f, `${ACC}?$filter=${encodeURIComponent("name eq 'a'; drop table accounts@inmemorystorage")}`);
    assert.equal(semi.status, 400);
    assertCleanError(semi.body, /ODATA010/);
    const still = await raw(f, `${ACC}/$count`);
    assert.equal(still.body, '23');
  });

  it('answers malformed and unsupported query options with 400 and a clear message', async () => {
    const cases: [string, RegExp][] = [
      [`$filter=${encodeURIComponent('name eq')}`, /ends too early/],
      [`$filter=${encodeURIComponent('nope eq 1')}`, /unknown property "nope"/],
      ['$top=-1', /\$top must be a whole number/],
      ['$top=abc', /\$top must be a whole number/],
      ['$skip=1.5', /\$skip must be a whole number/],
      ['$top=99999999999999999999', /\$top must be a whole number/],
      ['$select=nope', /unknown property "nope"/],
      ['$orderby=name%20sideways', /is not a property name/],
      ['$expand=Lines', /\$expand is not supported/],
      ['$skiptoken=garbage', /\$skiptoken is not valid/],
      ['$count=maybe', /\$count must be true or false/],
    ];
    for (const [query, message] of cases) {
      const res = await raw(f, `${ACC}?${query}`);
      assert.equal(res.status, 400, query);
      const err = assertCleanError(res.body, /^ODATA/);
      assert.match(err.message, message, query);
    }
  });

  it('serves a huge $top in pages without trouble', async () => {
    const res = await raw(f, `${ACC}?$top=9007199254740991`);
    assert.equal(res.status, 200);
    assert.equal((JSON.parse(res.body) as { value: unknown[] }).value.length, 23);
  });

  it('rejects a skiptoken forged for another query', async () => {
    const page = JSON.parse((await raw(f, ACC, { prefer: 'odata.maxpagesize=3' })).body) as { '@odata.nextLink': string };
    const token = new URL(page['@odata.nextLink']).searchParams.get('$skiptoken') as string;
    const res = await raw(f, `${ACC}?$filter=${encodeURIComponent('code gt 0')}&$skiptoken=${token}`);
    assert.equal(res.status, 400);
    assertCleanError(res.body, /ODATA030/);
  });

  it('asks for credentials with 401 and a Basic challenge, then throttles repeated wrong passwords with 429', async () => {
    const none = await fetch(`${f.server.url}${ACC}`);
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate') ?? '', /^Basic realm="Sluice"/);
    assertCleanError(await none.text(), /SRV408/);
    for (let i = 0; i < 3; i++) {
      const wrong = await raw(f, ACC, { authorization: f.basic('alice', `wrong-${i}`) });
      assert.equal(wrong.status, 401);
      assert.ok(!wrong.body.includes(`wrong-${i}`));
    }
    // A password still to be verified waits (credentials verified minutes ago do not: throttle.test.ts).
    const throttled = await raw(f, ACC, { authorization: f.basic('alice', 'another-guess') });
    assert.equal(throttled.status, 429);
    assertCleanError(throttled.body, /SRV407/);
    // The backoff doubles with each further failure, and a success after waiting resets it.
    f.clock.advance(1500);
    const ok = await raw(f, `${ACC}/$count`);
    assert.equal(ok.status, 200);
    // Unknown users are answered like wrong passwords.
    const ghost = await raw(f, ACC, { authorization: f.basic('ghost', 'x') });
    assert.equal(ghost.status, 401);
    assert.equal(assertCleanError(ghost.body).message, 'The user name, password or token is not valid.');
  });

  it('accepts a service account token as Bearer or as the Basic password, and not after revocation', async () => {
    const { id, token } = await f.tenancy.createToken('svc', 'Power BI refresh');
    const bearer = await raw(f, `${ACC}/$count`, { authorization: `Bearer ${token}` });
    assert.equal(bearer.status, 200);
    const basic = await raw(f, `${ACC}/$count`, { authorization: f.basic('svc', token) });
    assert.equal(basic.status, 200);
    const wrongAccount = await raw(f, `${ACC}/$count`, { authorization: f.basic('alice', token) });
    assert.equal(wrongAccount.status, 401);
    const notGranted = await raw(f, '/globex/odata4/', { authorization: `Bearer ${token}` });
    assert.equal(notGranted.status, 404);
    const listed = await f.tenancy.listTokens('svc');
    assert.equal(listed.length, 1);
    assert.ok(!JSON.stringify(listed).includes(token));
    assert.ok(!(await import('node:fs')).readFileSync(f.store.describe(), 'utf8').includes(token));
    await f.tenancy.revokeToken(id);
    const revoked = await raw(f, `${ACC}/$count`, { authorization: `Bearer ${token}` });
    assert.equal(revoked.status, 401);
    const service = await raw(f, `${ACC}/$count`, { authorization: f.basic('svc', '') });
    assert.equal(service.status, 401);
  });

  it('sees a revoked grant at once', async () => {
    await f.tenancy.addUser('carol', { password: 'carol-pw' });
    await f.tenancy.grant('carol', 'acme');
    assert.equal((await raw(f, `${ACC}/$count`, { authorization: f.basic('carol', 'carol-pw') })).status, 200);
    await f.tenancy.revoke('carol', 'acme');
    assert.equal((await raw(f, `${ACC}/$count`, { authorization: f.basic('carol', 'carol-pw') })).status, 404);
  });
});

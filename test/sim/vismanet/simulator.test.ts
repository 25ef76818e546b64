// The Visma.net simulator, exercised with plain HTTP requests written from
// the platform facts: Visma Connect client credentials, ipp-company-id,
// mandatory paging with metadata on every item, wrapped write DTOs, Location
// on create, ETag / If-Match, error bodies, rate limits and faults.
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startVismaSimulator, type VismaSimulator } from '../../../src/sim/vismanet/index.js';
import { ManualClock } from '../../../src/util/clock.js';

type Json = Record<string, unknown>;

async function tokenFor(sim: VismaSimulator, overrides: Record<string, string> = {}): Promise<Response> {
  const form = new URLSearchParams({
    grant_type: 'client_credentials',
    scope: 'vismanet_erp_service_api:read',
    client_id: sim.clientId,
    client_secret: sim.clientSecret,
    tenant_id: sim.tenantId,
    ...overrides,
  });
  return fetch(sim.tokenUrl, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: form.toString() });
}

async function bearer(sim: VismaSimulator): Promise<string> {
  const res = await tokenFor(sim);
  const body = (await res.json()) as { access_token: string };
  return body.access_token;
}

function api(sim: VismaSimulator, token: string, company = '1896329') {
  return (path: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}) =>
    fetch(`${sim.baseUrl}${path}`, {
      method: init.method ?? 'GET',
      headers: {
        Authorization: `Bearer ${token}`,
        'ipp-company-id': company,
        'ipp-application-type': 'Visma.net Financials',
        ...(init.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
        ...(init.headers ?? {}),
      },
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    });
}

describe('Visma.net simulator', () => {
  let sim: VismaSimulator;
  let call: ReturnType<typeof api>;

  before(async () => {
    sim = await startVismaSimulator({ seed: 7, customersPerCompany: 250, rateLimit: false });
    call = api(sim, await bearer(sim));
  });
  after(() => sim.close());

  it('issues 3600-second bearer tokens for form-encoded client credentials', async () => {
    const res = await tokenFor(sim);
    assert.equal(res.status, 200);
    const body = (await res.json()) as Json;
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.expires_in, 3600);
    assert.equal(typeof body.access_token, 'string');
  });

  it('refuses a wrong client secret, an unknown tenant and a JSON token request', async () => {
    assert.equal((await tokenFor(sim, { client_secret: 'wrong' })).status, 400);
    assert.equal((await tokenFor(sim, { tenant_id: 'other' })).status, 400);
    const json = await fetch(sim.tokenUrl, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ grant_type: 'client_credentials' }) });
    assert.equal(json.status, 400);
  });

  it('answers 401 without a token and with a bad one', async () => {
    const none = await fetch(`${sim.baseUrl}/v1/customer`, { headers: { 'ipp-company-id': '1896329' } });
    assert.equal(none.status, 401);
    const bad = await api(sim, 'not-a-token')('/v1/customer');
    assert.equal(bad.status, 401);
  });

  it('needs ipp-company-id and refuses companies the tenant cannot reach', async () => {
    const token = await bearer(sim);
    const missing = await fetch(`${sim.baseUrl}/v1/customer`, { headers: { Authorization: `Bearer ${token}` } });
    assert.equal(missing.status, 400);
    const other = await api(sim, token, '999')('/v1/customer');
    assert.equal(other.status, 403);
    assert.equal(((await other.json()) as Json).ExceptionType, 'IPPException');
  });

  it('includes company 1896329 in the default world', () => {
    assert.ok(sim.companies().some((c) => c.id === '1896329'));
  });

  it('pages customers with metadata.totalCount and maxPageSize on every item, each customer exactly once', async () => {
    const numbers: string[] = [];
    for (let page = 1; page <= 3; page++) {
      const res = await call(`/v1/customer?pageNumber=${page}&pageSize=100`);
      assert.equal(res.status, 200);
      const items = (await res.json()) as Json[];
      assert.equal(items.length, page < 3 ? 100 : 50);
      for (const item of items) {
        assert.deepEqual(item.metadata, { totalCount: 250, maxPageSize: 1000 });
        numbers.push(String(item.number));
      }
    }
    assert.equal(new Set(numbers).size, 250);
    const beyond = (await (await call('/v1/customer?pageNumber=4&pageSize=100')).json()) as Json[];
    assert.deepEqual(beyond, []);
  });

  it('caps pageSize at maxPageSize and reads the first page without paging parameters', async () => {
    const small = await startVismaSimulator({ customersPerCompany: 30, maxPageSize: 20, rateLimit: false });
    try {
      const c = api(small, await bearer(small));
      const items = (await (await c('/v1/customer?pageNumber=1&pageSize=500')).json()) as Json[];
      assert.equal(items.length, 20);
      const unpaged = (await (await c('/v1/customer')).json()) as Json[];
      assert.equal(unpaged.length, 20);
      assert.deepEqual(unpaged[0].metadata, { totalCount: 30, maxPageSize: 20 });
    } finally {
      await small.close();
    }
  });

  it('returns the nested read DTO (mainAddress.country) and no accountReference for some customers', async () => {
    const items = (await (await call('/v1/customer?pageNumber=1&pageSize=250')).json()) as Json[];
    const address = items[0].mainAddress as Json;
    assert.equal(typeof address.addressLine1, 'string');
    assert.deepEqual(address.country, { id: 'NL', name: 'Nederland' });
    const withoutRef = items.filter((i) => i.accountReference === null).length;
    assert.ok(withoutRef > 0 && withoutRef < items.length, `${withoutRef} of ${items.length} without accountReference`);
    assert.ok(items.every((i) => typeof i.name === 'string' && (i.name as string).length <= 60));
  });

  it('generates the same world for the same seed and another for another seed', async () => {
    const again = await startVismaSimulator({ seed: 7, customersPerCompany: 250, rateLimit: false });
    const other = await startVismaSimulator({ seed: 8, customersPerCompany: 250, rateLimit: false });
    try {
      const names = (s: VismaSimulator) => s.documents('1896329').map((d) => d.name);
      assert.deepEqual(names(again), names(sim).slice(0, 250));
      assert.notDeepEqual(names(other), names(again));
    } finally {
      await again.close();
      await other.close();
    }
  });

  it('filters on status and on lastModifiedDateTime with a condition', async () => {
    const onHold = (await (await call('/v1/customer?status=OnHold&pageNumber=1&pageSize=1000')).json()) as Json[];
    const expected = sim.documents('1896329').filter((d) => d.status === 'OnHold');
    assert.equal(onHold.length, expected.length);
    assert.ok(onHold.every((c) => c.status === 'OnHold'));

    const all = sim.documents('1896329');
    const cut = all.map((d) => String(d.lastModifiedDateTime)).sort()[Math.floor(all.length / 2)];
    const recent = (await (await call(`/v1/customer?lastModifiedDateTime=${encodeURIComponent(cut)}&lastModifiedDateTimeCondition=${encodeURIComponent('>=')}&pageNumber=1&pageSize=1000`)).json()) as Json[];
    const want = all.filter((d) => String(d.lastModifiedDateTime) >= cut).length;
    assert.equal(recent.length, want);
    assert.ok(recent.every((c) => String(c.lastModifiedDateTime) >= cut));
  });

  it('serves the spec path prefixes /controller/api/v1 and /API/controller/api/v1 as well', async () => {
    for (const prefix of ['/controller/api/v1', '/API/controller/api/v1']) {
      const items = (await (await call(`${prefix}/customer?pageNumber=1&pageSize=5`)).json()) as Json[];
      assert.equal(items.length, 5);
    }
  });

  it('answers other list endpoints with an empty list', async () => {
    for (const path of ['/v1/account', '/v1/customerinvoice', '/controller/api/v1/salesorder']) {
      const res = await call(path);
      assert.equal(res.status, 200, path);
      assert.deepEqual(await res.json(), []);
    }
  });

  it('creates a customer from a wrapped DTO: 201 with the new id in Location', async () => {
    const res = await call('/v1/customer', {
      method: 'POST',
      body: { name: { value: 'Bakkerij Test B.V.' }, accountReference: { value: 'EOL-1' }, mainAddress: { value: { city: { value: 'Gent' }, countryId: { value: 'BE' } } } },
    });
    assert.equal(res.status, 201);
    const location = res.headers.get('location') ?? '';
    assert.match(location, /\/v1\/customer\/\d+$/);
    const got = await call(new URL(location).pathname);
    assert.equal(got.status, 200);
    const body = (await got.json()) as Json;
    assert.equal(body.name, 'Bakkerij Test B.V.');
    assert.equal(body.accountReference, 'EOL-1');
    assert.deepEqual((body.mainAddress as Json).country, { id: 'BE', name: 'BE' });
    assert.equal((body.mainAddress as Json).city, 'Gent');
  });

  it('refuses a duplicate number, a name over 60 characters and an unwrapped field with Visma error bodies', async () => {
    const dup = await call('/v1/customer', { method: 'POST', body: { number: { value: '10001' }, name: { value: 'Dubbel' } } });
    assert.equal(dup.status, 400);
    const dupBody = (await dup.json()) as Json;
    assert.equal(dupBody.ExceptionType, 'IPPException');
    assert.match(String(dupBody.ExceptionMessage), /10001.*already exists/);
    assert.equal(typeof dupBody.ExceptionFaultCode, 'string');

    const long = await call('/v1/customer', { method: 'POST', body: { name: { value: 'x'.repeat(61) } } });
    assert.equal(long.status, 400);
    assert.match(String(((await long.json()) as Json).ExceptionMessage), /60/);

    const bare = await call('/v1/customer', { method: 'POST', body: { name: 'Niet verpakt' } });
    assert.equal(bare.status, 400);
    assert.match(String(((await bare.json()) as Json).ExceptionMessage), /value/);
  });

  it('gives an ETag on GET and honours If-Match on PUT (412 on mismatch, 204 on match)', async () => {
    const got = await call('/v1/customer/10002');
    const etag = got.headers.get('etag') ?? '';
    assert.ok(etag.length > 0);
    const stale = await call('/v1/customer/10002', { method: 'PUT', headers: { 'If-Match': '"0-0"' }, body: { name: { value: 'Nieuw' } } });
    assert.equal(stale.status, 412);
    const ok = await call('/v1/customer/10002', { method: 'PUT', headers: { 'If-Match': etag }, body: { name: { value: 'Nieuwe Naam B.V.' } } });
    assert.equal(ok.status, 204);
    const after = await call('/v1/customer/10002');
    assert.notEqual(after.headers.get('etag'), etag);
    assert.equal(((await after.json()) as Json).name, 'Nieuwe Naam B.V.');
    const again = await call('/v1/customer/10002', { method: 'PUT', headers: { 'If-Match': etag }, body: { name: { value: 'Te laat' } } });
    assert.equal(again.status, 412);
  });

  it('has no DELETE for customers (405) and answers 404 for an unknown customer', async () => {
    assert.equal((await call('/v1/customer/10003', { method: 'DELETE' })).status, 405);
    const missing = await call('/v1/customer/99999999');
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as Json).ExceptionType, 'IPPException');
  });

  it('serves suppliers the same way', async () => {
    const items = (await (await call('/v1/supplier?pageNumber=1&pageSize=1000')).json()) as Json[];
    assert.equal(items.length, 50);
    assert.equal((items[0].metadata as Json).totalCount, 50);
    const created = await call('/v1/supplier', { method: 'POST', body: { name: { value: 'Leverancier X' } } });
    assert.equal(created.status, 201);
    assert.match(created.headers.get('location') ?? '', /\/v1\/supplier\/\d+$/);
  });

  it('injects faults: the next call fails with the given status and a Visma body, names can be refused', async () => {
    sim.setFaults({ failNext: 1, status: 503 });
    const failed = await call('/v1/customer?pageNumber=1&pageSize=1');
    assert.equal(failed.status, 503);
    assert.equal(((await failed.json()) as Json).ExceptionType, 'IPPException');
    assert.equal((await call('/v1/customer?pageNumber=1&pageSize=1')).status, 200);

    sim.setFaults({ rejectNames: /WEIGER/ });
    const refused = await call('/v1/customer', { method: 'POST', body: { name: { value: 'WEIGER dit' } } });
    assert.equal(refused.status, 400);
    const accepted = await call('/v1/customer', { method: 'POST', body: { name: { value: 'Accepteer dit' } } });
    assert.equal(accepted.status, 201);
    sim.setFaults({});
  });

  it('counts calls and statuses in stats() until resetStats()', async () => {
    sim.resetStats();
    await call('/v1/customer?pageNumber=1&pageSize=1');
    await call('/v1/customer/99999999');
    const s = sim.stats();
    assert.equal(s.requests, 2);
    assert.equal(s.byStatus['200'], 1);
    assert.equal(s.byStatus['404'], 1);
    sim.resetStats();
    assert.equal(sim.stats().requests, 0);
  });
});

describe('Visma.net simulator rate limits', () => {
  it('sends X-RateLimit headers and answers 429 with Retry-After when a company exceeds its window', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 25, 9, 0, 0));
    const sim = await startVismaSimulator({ clock, customersPerCompany: 5, rateLimit: { perHour: 600, windowMs: 60_000 } });
    try {
      const call = api(sim, await bearer(sim));
      for (let i = 0; i < 10; i++) {
        const res = await call('/v1/customer?pageNumber=1&pageSize=1');
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('x-ratelimit-limit'), '10');
        assert.equal(res.headers.get('x-ratelimit-remaining'), String(9 - i));
        assert.equal(Number(res.headers.get('x-ratelimit-reset')), Date.UTC(2026, 10, 25, 9, 1, 0) / 1000);
      }
      const limited = await call('/v1/customer?pageNumber=1&pageSize=1');
      assert.equal(limited.status, 429);
      assert.equal(limited.headers.get('retry-after'), '60');
      assert.equal(limited.headers.get('x-ratelimit-remaining'), '0');
      // Another company has its own budget.
      assert.equal((await api(sim, await bearer(sim), '1896330')('/v1/customer?pageNumber=1&pageSize=1')).status, 200);
      clock.advance(60_000);
      assert.equal((await call('/v1/customer?pageNumber=1&pageSize=1')).status, 200);
      assert.equal(sim.stats().throttled, 1);
    } finally {
      await sim.close();
    }
  });

  it('expires tokens after 3600 seconds', async () => {
    const clock = new ManualClock();
    const sim = await startVismaSimulator({ clock, customersPerCompany: 1, rateLimit: false });
    try {
      const call = api(sim, await bearer(sim));
      assert.equal((await call('/v1/customer')).status, 200);
      clock.advance(3600_000);
      assert.equal((await call('/v1/customer')).status, 401);
    } finally {
      await sim.close();
    }
  });
});

describe('Visma.net simulator admin endpoints', () => {
  it('shows and resets stats, sets faults and the rate limit over HTTP for a simulator in another process', async () => {
    const sim = await startVismaSimulator({ customersPerCompany: 3, rateLimit: false });
    try {
      const call = api(sim, await bearer(sim));
      await call('/v1/customer');
      const stats = (await (await fetch(`${sim.baseUrl}/__sim/stats`)).json()) as Json;
      assert.equal(stats.requests, 1);
      await fetch(`${sim.baseUrl}/__sim/stats`, { method: 'DELETE' });
      assert.equal(sim.stats().requests, 0);

      const set = await fetch(`${sim.baseUrl}/__sim/faults`, { method: 'POST', body: JSON.stringify({ failNext: 1, status: 502, match: '^GET /customer' }) });
      assert.deepEqual(await set.json(), { failNext: 1, status: 502, match: new RegExp('^GET /customer').source });
      assert.equal((await call('/v1/supplier')).status, 200);
      assert.equal((await call('/v1/customer')).status, 502);
      assert.equal((await call('/v1/customer')).status, 200);

      await fetch(`${sim.baseUrl}/__sim/ratelimit`, { method: 'POST', body: JSON.stringify({ perHour: 60, windowMs: 60_000 }) });
      assert.equal((await call('/v1/customer')).status, 200);
      const limited = await call('/v1/customer');
      assert.equal(limited.status, 429);
      await fetch(`${sim.baseUrl}/__sim/ratelimit`, { method: 'POST', body: 'false' });
      assert.equal((await call('/v1/customer')).status, 200);
    } finally {
      await sim.close();
    }
  });
});

describe('Visma.net simulator settings', () => {
  it('writes a settings.xml with a VismaNet container and joins an existing connection', async () => {
    const sim = await startVismaSimulator({ customersPerCompany: 1, rateLimit: false });
    try {
      const dir = mkdtempSync(join(tmpdir(), 'sluice-vn-'));
      const fresh = join(dir, 'fresh.xml');
      sim.writeSettings(fresh);
      const text = readFileSync(fresh, 'utf8');
      assert.match(text, /<database alias="vismanet" provider="VismaNet" connectionString="api-url=http:\/\/127\.0\.0\.1:\d+;token-url=[^"]*client-id=[^"]*client-secret=[^"]*tenant-id=[^"]*company-id=1896329,1896330" \/>/);

      const existing = join(dir, 'existing.xml');
      writeFileSync(
        existing,
        '<?xml version="1.0" encoding="utf-8"?>\n<settings version="5">\n <group name="sample">\n  <connection name="exact online nl + visma.net">\n   <database alias="eolnl" provider="ExactOnlineAll" connectionString="api-url=http://x" />\n   <database alias="vismanet" provider="VismaNet" />\n  </connection>\n </group>\n</settings>\n',
      );
      sim.writeSettings(existing);
      const joined = readFileSync(existing, 'utf8');
      assert.equal(joined.match(/alias="vismanet"/g)?.length, 1);
      assert.match(joined, /alias="eolnl"[\s\S]*alias="vismanet" provider="VismaNet" connectionString="api-url=[\s\S]*<\/connection>/);
    } finally {
      await sim.close();
    }
  });
});

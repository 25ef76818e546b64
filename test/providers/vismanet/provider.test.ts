// The VismaNet provider against the Visma.net simulator, in-process: tables
// from the catalog, companies as partitions, parallel paging that yields
// every row once, pushdown, writes (POST with Location, PUT with If-Match,
// no delete for customers), 429 handling, token caching and error messages.
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { vismaNetProvider } from '../../../src/providers/vismanet/index.js';
import type { Container, Partition, Predicate, RowResult, ScanRequest, TableInfo, Value, WriteRequest } from '../../../src/provider/types.js';
import { startVismaSimulator, type VismaSimulator } from '../../../src/sim/vismanet/index.js';
import { ManualClock, type Clock } from '../../../src/util/clock.js';
import { SluiceError } from '../../../src/util/errors.js';
import { testEnv, type CollectingLog } from '../env.js';

const COMPANY: Partition = { id: '1896329' };

function options(sim: VismaSimulator, extra: Record<string, string> = {}): Record<string, string> {
  const parsed: Record<string, string> = {};
  for (const part of sim.connectionString().split(';')) {
    const i = part.indexOf('=');
    parsed[part.slice(0, i)] = part.slice(i + 1);
  }
  return { ...parsed, ...extra };
}

async function connect(sim: VismaSimulator, extra: Record<string, string> = {}, clock?: Clock): Promise<{ container: Container; log: CollectingLog }> {
  const env = testEnv();
  const container = await vismaNetProvider.connect({ alias: 'vismanet', provider: 'VismaNet', options: options(sim, extra) }, clock ? { ...env, clock } : env);
  return { container, log: env.log };
}

function table(container: Container, name: string): TableInfo {
  const t = container.tables().find((x) => x.name === name);
  assert.ok(t, `table ${name}`);
  return t;
}

async function scanAll(container: Container, name: string, request: Partial<ScanRequest> = {}, partition: Partition = COMPANY) {
  const plan = container.plan(table(container, name), { columns: [], conjuncts: [], ...request });
  const rows: Record<string, Value>[] = [];
  for await (const batch of container.scan(plan, partition, { signal: new AbortController().signal })) {
    for (const r of batch.rows) rows.push(Object.fromEntries(batch.columns.map((c, i) => [c, r[i]])));
  }
  return { plan, rows };
}

async function write(container: Container, name: string, op: WriteRequest['op'], columns: string[], rows: Value[][], concurrency = 1): Promise<RowResult[]> {
  const t = table(container, name);
  const write = container.write;
  assert.ok(write);
  const out: RowResult[] = [];
  for await (const r of write.call(container, t, { op, rows: { columns, rows }, partition: COMPANY, concurrency, signal: new AbortController().signal })) out.push(r);
  return out.sort((a, b) => a.index - b.index);
}

const cmp = (column: string, op: '=' | '<' | '<=' | '>' | '>=', value: Value): Predicate => ({ kind: 'compare', column, op, value });

describe('VismaNet provider', () => {
  let sim: VismaSimulator;
  let container: Container;
  let log: CollectingLog;

  before(async () => {
    sim = await startVismaSimulator({ seed: 3, customersPerCompany: 2345, latencyMs: 20, rateLimit: false });
    ({ container, log } = await connect(sim, { 'page-size': '100', 'page-concurrency': '4' }));
  });
  after(async () => {
    await container.close();
    await sim.close();
  });

  it('is registered under the name VismaNet', async () => {
    const { findProvider } = await import('../../../src/provider/registry.js');
    assert.equal(findProvider('vismanet'), vismaNetProvider);
  });

  it('offers every list operation as a table named by its lower-cased operation id, with flattened columns', () => {
    const customers = table(container, 'customer_getall');
    assert.equal(customers.schema, 'Customer');
    assert.deepEqual(customers.key, ['number']);
    assert.deepEqual(customers.writable, { insert: true, update: true, delete: false });
    assert.equal(customers.scope, 'partitioned');
    assert.equal(customers.partitionColumn, 'company_id');
    const names = customers.columns.map((c) => c.name);
    for (const c of ['number', 'name', 'accountreference', 'mainaddress_addressline1', 'mainaddress_country_id', 'lastmodifieddatetime', 'company_id']) assert.ok(names.includes(c), c);
    assert.equal(customers.columns.find((c) => c.name === 'lastmodifieddatetime')?.type, 'timestamp');
    assert.deepEqual(customers.columns.find((c) => c.name === 'lastmodifieddatetime')?.filterOperators, ['<', '<=', '>', '>=']);
    assert.equal(customers.columns.find((c) => c.name === 'internalid')?.readOnly, true);
    assert.equal(customers.columns.find((c) => c.name === 'name')?.maxLength, 60);
    assert.ok(table(container, 'supplier_getall'));
    assert.ok(container.tables().length >= 100);
  });

  it('lists the companies of the connection as partitions', async () => {
    const partitions = await container.partitions(new AbortController().signal);
    assert.deepEqual(
      partitions.map((p) => p.id),
      ['1896329', '1896330'],
    );
  });

  it('reads all pages in parallel after the first and yields every customer exactly once', async () => {
    log.calls.length = 0;
    sim.resetStats();
    const { rows } = await scanAll(container, 'customer_getall', { columns: ['number', 'name', 'mainaddress_city', 'mainaddress_country_id'] });
    const expected = sim.documents('1896329').map((d) => d.number);
    assert.equal(rows.length, expected.length);
    assert.deepEqual(rows.map((r) => r.number).sort(), [...expected].sort());
    assert.equal(new Set(rows.map((r) => r.number)).size, rows.length);
    assert.ok(rows.every((r) => r.company_id === '1896329'));
    const first = sim.documents('1896329')[0] as { number: string; mainAddress: { city: string; country: { id: string } } };
    const row = rows.find((r) => r.number === first.number);
    assert.equal(row?.mainaddress_city, first.mainAddress.city);
    assert.equal(row?.mainaddress_country_id, first.mainAddress.country.id);
    const pageCalls = log.calls.filter((c) => c.method === 'GET' && c.url.includes('/v1/customer?'));
    assert.equal(pageCalls.length, 24);
    assert.ok(sim.stats().maxInFlight >= 2, `max in flight ${sim.stats().maxInFlight}`);
  });

  it('sends the bearer token, ipp-company-id and ipp-application-type and logs calls without secrets', async () => {
    // The simulator refuses calls without token or company, so a successful scan shows both were sent.
    await scanAll(container, 'customer_getall', { columns: ['number'], conjuncts: [cmp('number', '=', '10001')] });
    const text = JSON.stringify(log.calls);
    assert.ok(!text.includes(sim.clientSecret));
    assert.ok(log.calls.some((c) => c.partition === '1896329' && c.status === 200));
  });

  it('pushes lastModifiedDateTime with its condition down and returns exactly the matching rows', async () => {
    const docs = sim.documents('1896329');
    const sorted = docs.map((d) => Date.parse(String(d.lastModifiedDateTime))).sort((a, b) => a - b);
    const cut = new Date(Math.ceil(sorted[Math.floor(sorted.length * 0.9)] / 1000) * 1000);
    log.calls.length = 0;
    const { plan, rows } = await scanAll(container, 'customer_getall', { columns: ['number', 'lastmodifieddatetime'], conjuncts: [cmp('lastmodifieddatetime', '>=', cut)] });
    assert.deepEqual(plan.conjuncts, ['inexact']);
    const apiCalls = log.calls.filter((c) => c.url.includes('/v1/'));
    const url = apiCalls[0].url;
    assert.match(url, /lastModifiedDateTime=\d{4}-\d\d-\d\dT\d\d%3A\d\d%3A\d\d/);
    assert.match(url, /lastModifiedDateTimeCondition=%3E%3D/);
    const want = docs.filter((d) => Date.parse(String(d.lastModifiedDateTime)) >= cut.getTime()).map((d) => d.number);
    assert.ok(want.length > 0 && want.length < docs.length, `${want.length} of ${docs.length}`);
    assert.deepEqual(rows.map((r) => r.number).sort(), [...want].sort());
    assert.equal(apiCalls.length, Math.ceil(want.length / 100));
  });

  it('answers the pushdown negotiation per conjunct: enums exact, text inexact, unknown unsupported, key by one GET', async () => {
    const t = table(container, 'customer_getall');
    const plan = container.plan(t, {
      columns: [],
      conjuncts: [cmp('status', '=', 'OnHold'), cmp('name', '=', 'X'), cmp('mainaddress_city', '=', 'Delft'), cmp('lastmodifieddatetime', '=', new Date())],
    });
    assert.deepEqual(plan.conjuncts, ['exact', 'inexact', 'unsupported', 'unsupported']);

    log.calls.length = 0;
    const byKey = await scanAll(container, 'customer_getall', { columns: ['name'], conjuncts: [cmp('number', '=', '10007')] });
    assert.deepEqual(byKey.plan.conjuncts, ['exact']);
    assert.equal(byKey.rows.length, 1);
    assert.equal(byKey.rows[0].name, sim.documents('1896329').find((d) => d.number === '10007')?.name);
    assert.equal(log.calls.length, 1);
    assert.match(log.calls[0].url, /\/v1\/customer\/10007$/);

    const none = await scanAll(container, 'customer_getall', { columns: ['name'], conjuncts: [cmp('number', '=', 'bestaat-niet')] });
    assert.equal(none.rows.length, 0);
  });

  it('filters on status remotely with exact results', async () => {
    const { rows } = await scanAll(container, 'customer_getall', { columns: ['number', 'status'], conjuncts: [cmp('status', '=', 'Inactive')] });
    const want = sim.documents('1896329').filter((d) => d.status === 'Inactive');
    assert.equal(rows.length, want.length);
    assert.ok(rows.every((r) => r.status === 'Inactive'));
  });

  it('stops reading after the limit when every conjunct is exact', async () => {
    log.calls.length = 0;
    const { plan, rows } = await scanAll(container, 'customer_getall', { columns: ['number'], limit: 5 });
    assert.equal(plan.limitApplied, true);
    assert.equal(rows.length, 5);
    assert.equal(log.calls.length, 1);
    assert.match(log.calls[0].url, /pageSize=5/);
  });

  it('reads an empty list endpoint as no rows', async () => {
    const { rows } = await scanAll(container, 'account_getall', { columns: ['accountid'] });
    assert.deepEqual(rows, []);
  });

  it('inserts with a POST of the wrapped DTO, takes the new number from Location and returns the stored row', async () => {
    const results = await write(container, 'customer_getall', 'insert', ['name', 'accountreference', 'mainaddress_city', 'mainaddress_country_id', 'company_id'], [
      ['Kaashandel Gouda B.V.', 'EOL-501', 'Gouda', 'NL', '1896329'],
    ]);
    assert.equal(results.length, 1);
    const r = results[0];
    assert.equal(r.ok, true, r.message);
    assert.match(r.key ?? '', /^number=\d+$/);
    const number = (r.key ?? '').slice('number='.length);
    assert.equal(r.returned?.number, number);
    assert.equal(r.returned?.name, 'Kaashandel Gouda B.V.');
    assert.equal(r.returned?.mainaddress_city, 'Gouda');
    assert.ok(typeof r.returned?.internalid === 'number');
    const stored = sim.documents('1896329').find((d) => d.number === number) as { accountReference: string; mainAddress: { country: { id: string } } } | undefined;
    assert.equal(stored?.accountReference, 'EOL-501');
    assert.equal(stored?.mainAddress.country.id, 'NL');
  });

  it('skips the read after an insert when read-after-insert is set off, returning the written values and the new key', async () => {
    assert.equal(container.setOption?.('read_after_insert', 'false'), true);
    try {
      sim.resetStats();
      const [r] = await write(container, 'customer_getall', 'insert', ['name', 'accountreference'], [['Zonder Nalezen B.V.', 'EOL-77']]);
      assert.equal(r.ok, true, r.message);
      assert.equal(sim.stats().requests, 1);
      assert.equal(r.returned?.name, 'Zonder Nalezen B.V.');
      assert.equal(r.returned?.number, (r.key ?? '').slice('number='.length));
      assert.equal(container.setOption?.('no-such-option', '1'), false);
    } finally {
      container.setOption?.('read-after-insert', 'true');
    }
  });

  it('inserts concurrently up to the requested concurrency', async () => {
    sim.resetStats();
    const rows = Array.from({ length: 12 }, (_, i) => [`Parallel ${i} B.V.`, `EOL-P${i}`]);
    const results = await write(container, 'customer_getall', 'insert', ['name', 'accountreference'], rows, 4);
    assert.equal(results.filter((r) => r.ok).length, 12);
    assert.equal(new Set(results.map((r) => r.key)).size, 12);
    assert.equal(sim.stats().inserts, 12);
    assert.ok(sim.stats().maxInFlight >= 2);
  });

  it('reports Visma validation errors per row with the row key and company, and carries on with the other rows', async () => {
    const results = await write(container, 'customer_getall', 'insert', ['number', 'name'], [
      ['10001', 'Dubbel nummer'],
      ['990001', 'y'.repeat(61)],
      ['990002', 'Goed B.V.'],
    ]);
    assert.equal(results[0].ok, false);
    assert.equal(results[0].key, 'number=10001');
    assert.match(results[0].message ?? '', /already exists/);
    assert.match(results[0].message ?? '', /1896329/);
    assert.equal(results[0].code, 'VNT400');
    assert.equal(results[1].ok, false);
    assert.equal(results[1].key, 'number=990001');
    assert.match(results[1].message ?? '', /60 characters/);
    assert.equal(results[2].ok, true);
    assert.equal(results[2].key, 'number=990002');
  });

  it('updates with a PUT by key, sending If-Match once the ETag is known; a change behind its back gives a clear 412', async () => {
    const plain = await write(container, 'customer_getall', 'update', ['number', 'name'], [['10010', 'Zonder ETag B.V.']]);
    assert.equal(plain[0].ok, true, plain[0].message);
    assert.equal(sim.documents('1896329').find((d) => d.number === '10010')?.name, 'Zonder ETag B.V.');

    await scanAll(container, 'customer_getall', { columns: ['name'], conjuncts: [cmp('number', '=', '10011')] });
    sim.touch('1896329', '10011', { name: 'Door iemand anders gewijzigd' });
    const stale = await write(container, 'customer_getall', 'update', ['number', 'mainaddress_city'], [['10011', 'Zwolle']]);
    assert.equal(stale[0].ok, false);
    assert.equal(stale[0].code, 'VNT412');
    assert.equal(stale[0].key, 'number=10011');
    assert.match(stale[0].message ?? '', /changed in Visma\.net.*after it was read/);

    await scanAll(container, 'customer_getall', { columns: ['name'], conjuncts: [cmp('number', '=', '10011')] });
    const fresh = await write(container, 'customer_getall', 'update', ['number', 'mainaddress_city'], [['10011', 'Zwolle']]);
    assert.equal(fresh[0].ok, true, fresh[0].message);
    const doc = sim.documents('1896329').find((d) => d.number === '10011') as { name: string; mainAddress: { city: string } };
    assert.equal(doc.mainAddress.city, 'Zwolle');
    assert.equal(doc.name, 'Door iemand anders gewijzigd');
  });

  it('refuses to delete customers before any call, with a clear error', async () => {
    sim.resetStats();
    await assert.rejects(
      write(container, 'customer_getall', 'delete', ['number'], [['10001']]),
      (e: unknown) => e instanceof SluiceError && e.code === 'VNT020' && e.message === 'Visma.net has no API to delete customers.' && e.details.table === 'customer_getall',
    );
    assert.equal(sim.stats().requests, 0);
    assert.ok(sim.documents('1896329').some((d) => d.number === '10001'));
  });

  it('refuses to write a read-only column before any call', async () => {
    sim.resetStats();
    await assert.rejects(write(container, 'customer_getall', 'insert', ['name', 'internalid'], [['X', 5]]), (e: unknown) => e instanceof SluiceError && e.code === 'VNT022');
    assert.equal(sim.stats().requests, 0);
  });

  it('turns a Visma error body on a read into a SluiceError naming the company', async () => {
    sim.setFaults({ failNext: 1, status: 400 });
    try {
      await assert.rejects(scanAll(container, 'customer_getall', { columns: ['number'], limit: 1 }), (e: unknown) => {
        assert.ok(e instanceof SluiceError);
        assert.equal(e.code, 'VNT400');
        assert.equal(e.details.partition, '1896329');
        assert.match(e.message, /injected fault/);
        assert.match(e.message, /fault code 99999/);
        return true;
      });
    } finally {
      sim.setFaults({});
    }
  });

  it('retries a read that failed with 503', async () => {
    sim.setFaults({ failNext: 1, status: 503 });
    const { rows } = await scanAll(container, 'customer_getall', { columns: ['number'], limit: 3 });
    assert.equal(rows.length, 3);
    sim.setFaults({});
  });
});

describe('VismaNet provider auth and rate limits', () => {
  it('fetches one token per company and reuses it, even for many parallel first calls', async () => {
    const sim = await startVismaSimulator({ customersPerCompany: 450, rateLimit: false });
    try {
      const { container } = await connect(sim, { 'page-size': '50', 'page-concurrency': '8' });
      await Promise.all([scanAll(container, 'customer_getall', { columns: ['number'] }), scanAll(container, 'supplier_getall', { columns: ['number'] })]);
      await scanAll(container, 'customer_getall', { columns: ['number'] }, { id: '1896330' });
      assert.equal(sim.stats().tokenRequests, 2);
    } finally {
      await sim.close();
    }
  });

  it('fetches a new token when the cached one is about to expire', async () => {
    const clock = new ManualClock();
    const sim = await startVismaSimulator({ clock, customersPerCompany: 3, rateLimit: false });
    try {
      const { container } = await connect(sim, {}, clock);
      await scanAll(container, 'customer_getall', { columns: ['number'] });
      clock.advance(3_500_000);
      await scanAll(container, 'customer_getall', { columns: ['number'] });
      assert.equal(sim.stats().tokenRequests, 2);
    } finally {
      await sim.close();
    }
  });

  it('reports refused client credentials clearly, without the secret', async () => {
    const sim = await startVismaSimulator({ customersPerCompany: 1, rateLimit: false });
    try {
      const { container } = await connect(sim, { 'client-secret': 'verkeerd-geheim' });
      await assert.rejects(scanAll(container, 'customer_getall', { columns: ['number'] }), (e: unknown) => {
        assert.ok(e instanceof SluiceError);
        assert.equal(e.code, 'VNT001');
        assert.match(e.message, /refused the client credentials/);
        assert.ok(!e.format().includes('verkeerd-geheim'));
        return true;
      });
    } finally {
      await sim.close();
    }
  });

  it('waits out a 429 for its Retry-After and then succeeds', async () => {
    const clock = new ManualClock();
    const sim = await startVismaSimulator({ clock, customersPerCompany: 20, rateLimit: { perHour: 300, windowMs: 60_000 } });
    try {
      // Use up the company's window behind the provider's back.
      const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: sim.clientId, client_secret: sim.clientSecret, tenant_id: sim.tenantId, scope: 's' });
      const token = ((await (await fetch(sim.tokenUrl, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: form })).json()) as { access_token: string }).access_token;
      for (let i = 0; i < 5; i++) await fetch(`${sim.baseUrl}/v1/customer`, { headers: { Authorization: `Bearer ${token}`, 'ipp-company-id': '1896329' } });
      const { container, log } = await connect(sim, {}, clock);
      const started = clock.now();
      const { rows } = await scanAll(container, 'customer_getall', { columns: ['number'] });
      assert.equal(rows.length, 20);
      assert.equal(sim.stats().throttled, 1);
      assert.ok(log.calls.some((c) => c.status === 429));
      assert.ok(clock.now() - started >= 1000, 'waited for Retry-After on the injected clock');
    } finally {
      await sim.close();
    }
  });

  it('paces by the X-RateLimit headers so a long run meets no 429', async () => {
    const clock = new ManualClock();
    const sim = await startVismaSimulator({ clock, customersPerCompany: 200, rateLimit: { perHour: 600, windowMs: 60_000 } });
    try {
      const { container } = await connect(sim, { 'page-size': '5', 'page-concurrency': '3' }, clock);
      const { rows } = await scanAll(container, 'customer_getall', { columns: ['number'] });
      assert.equal(rows.length, 200);
      assert.equal(new Set(rows.map((r) => r.number)).size, 200);
      assert.equal(sim.stats().throttled, 0);
      const inserts = await write(container, 'customer_getall', 'insert', ['name'], Array.from({ length: 15 }, (_, i) => [`Gepaced ${i}`]), 3);
      assert.equal(inserts.filter((r) => r.ok).length, 15);
      assert.equal(sim.stats().throttled, 0);
    } finally {
      await sim.close();
    }
  });

  it('paces to a configured calls-per-hour budget', async () => {
    const clock = new ManualClock();
    const sim = await startVismaSimulator({ clock, customersPerCompany: 50, rateLimit: false });
    try {
      const { container } = await connect(sim, { 'page-size': '5', 'calls-per-hour': '3600' }, clock);
      const started = clock.now();
      await scanAll(container, 'customer_getall', { columns: ['number'] });
      // 10 page calls at one per second: the last starts at least 9 s after the first.
      assert.equal(sim.stats().byRoute['GET /customer'], 10);
      assert.ok(clock.now() - started >= 9_000, `${clock.now() - started} ms on the injected clock`);
    } finally {
      await sim.close();
    }
  });

  it('reads on past the counted pages when customers are added during the scan, each exactly once', async () => {
    const sim = await startVismaSimulator({ customersPerCompany: 250, rateLimit: false });
    try {
      const { container } = await connect(sim, { 'page-size': '100', 'page-concurrency': '1' });
      const t = table(container, 'customer_getall');
      const plan = container.plan(t, { columns: ['number'], conjuncts: [] });
      const numbers: Value[] = [];
      let first = true;
      for await (const batch of container.scan(plan, COMPANY, { signal: new AbortController().signal })) {
        numbers.push(...batch.rows.map((r) => r[batch.columns.indexOf('number')]));
        if (first) {
          first = false;
          sim.seed('1896329', Array.from({ length: 150 }, (_, i) => ({ number: `N${i}`, name: `Nieuw ${i}` })));
        }
      }
      assert.equal(numbers.length, 400);
      assert.equal(new Set(numbers).size, 400);
    } finally {
      await sim.close();
    }
  });

  it('stops a scan when its signal is aborted', async () => {
    const sim = await startVismaSimulator({ customersPerCompany: 300, rateLimit: false, latencyMs: 50 });
    try {
      const { container } = await connect(sim, { 'page-size': '10' });
      const t = table(container, 'customer_getall');
      const controller = new AbortController();
      let batches = 0;
      await assert.rejects(async () => {
        for await (const _batch of container.scan(container.plan(t, { columns: ['number'], conjuncts: [] }), COMPANY, { signal: controller.signal })) {
          batches++;
          if (batches === 2) controller.abort(new Error('stopped by the user'));
        }
      }, /stopped by the user/);
      assert.ok(batches < 30);
    } finally {
      await sim.close();
    }
  });

  it('needs a company when the connection names none', async () => {
    const sim = await startVismaSimulator({ customersPerCompany: 1, rateLimit: false });
    try {
      const { container } = await connect(sim, { 'company-id': '' });
      await assert.rejects(container.partitions(new AbortController().signal), (e: unknown) => e instanceof SluiceError && e.code === 'VNT011');
    } finally {
      await sim.close();
    }
  });
});

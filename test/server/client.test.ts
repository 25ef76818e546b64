/**
 * Interoperability: a third-party OData v4 client from npm (@odata/client)
 * reads every entity set of the demo database's in-memory tables, and the
 * simulated platforms' sets of `sluice serve --demo` (Exact Online accounts
 * and bulk transaction lines over four divisions, Visma.net customers over every
 * company), following server-driven paging, and runs filters built with its
 * own filter builder — so the query text is written by someone else's code.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { OData } from '@odata/client';
import { engineSessionFactory } from '../../src/server/engine-sessions.js';
import { startServer } from '../../src/server/server.js';
import type { RunningServer } from '../../src/server/server.js';
import { demoSetup } from '../../src/server/setup.js';
import type { ServerSetup } from '../../src/server/setup.js';

type Page = { value: Record<string, unknown>[]; '@odata.nextLink'?: string; '@odata.count'?: number };

describe('a third-party OData v4 client (@odata/client)', () => {
  let setup: ServerSetup;
  let server: RunningServer;
  let client: ReturnType<typeof OData.New4>;

  before(async () => {
    setup = await demoSetup();
    server = await startServer({ store: setup.store, secrets: setup.secrets, sessionFactory: engineSessionFactory(setup.dataDir, setup.secrets), pageSize: 40, log: () => undefined });
    client = OData.New4({ serviceEndpoint: `${server.url}/demo/odata4/`, credential: { username: 'demo', password: 'demo' } });
  });
  after(async () => {
    await server.close();
    await setup.store.close();
    rmSync(setup.dataDir, { recursive: true, force: true });
  });

  /** The client's query for the first page, then each nextLink's options handed back to the client as they are. */
  async function readAll(set: string, options = client.newOptions()): Promise<{ rows: Record<string, unknown>[]; pages: number }> {
    const rows: Record<string, unknown>[] = [];
    let page = (await client.newRequest({ collection: set, method: 'GET', params: options })) as unknown as Page;
    let pages = 1;
    rows.push(...page.value);
    while (page['@odata.nextLink']) {
      const next = new URL(page['@odata.nextLink']);
      assert.equal(next.pathname, `/demo/odata4/${set}`);
      const params = client.newOptions();
      for (const [k, v] of next.searchParams) params.custom(k, v);
      page = (await client.newRequest({ collection: set, method: 'GET', params })) as unknown as Page;
      rows.push(...page.value);
      pages++;
    }
    return { rows, pages };
  }

  it('reads every entity set with paging, each row exactly once', async () => {
    const svc = (await client.newRequest({ collection: '', method: 'GET' })) as unknown as { value: { name: string }[] };
    const names = svc.value.map((s) => s.name);
    assert.deepEqual(names.sort(), ['InMemoryStorage_Memory_accounts', 'InMemoryStorage_Memory_divisions', 'InMemoryStorage_Memory_invoices']);
    let paged = 0;
    for (const name of names) {
      const expected = await client.getEntitySet(name).count();
      const { rows, pages } = await readAll(name);
      assert.equal(rows.length, expected, name);
      assert.equal(new Set(rows.map((r) => r.SluiceRowId)).size, expected, `${name}: no row twice`);
      if (pages > 1) paged++;
    }
    assert.ok(paged >= 2, 'the larger sets came in several pages');
  });

  it('applies filters, select and order built by the client', async () => {
    const accounts = client.getEntitySet('InMemoryStorage_Memory_accounts');
    const all = await readAll('InMemoryStorage_Memory_accounts');
    const filter = client.newFilter().field('division').eq(102673).field('status').eqString('C');
    const options = client.newOptions().filter(filter).select(['division', 'code', 'name', 'status']).orderby('code', 'asc');
    const { rows } = await readAll('InMemoryStorage_Memory_accounts', options);
    const expected = all.rows.filter((r) => r.division === 102673 && r.status === 'C').map((r) => r.code as number).sort((a, b) => a - b);
    assert.ok(expected.length > 0);
    assert.deepEqual(rows.map((r) => r.code), expected);
    assert.deepEqual(Object.keys(rows[0]).sort(), ['code', 'division', 'name', 'status']);
    assert.equal(await accounts.count(client.newFilter().field('division').eq(102673).field('status').eqString('C')), expected.length);

    const divisions = await client.getEntitySet('InMemoryStorage_Memory_divisions').query(client.newOptions().filter("startswith(description,'Van Dam')").orderby('code', 'asc'));
    assert.deepEqual(divisions.map((d: { code: number }) => d.code), [102673]);
  });
});

describe('a third-party OData v4 client on the simulated platforms of serve --demo', () => {
  let setup: ServerSetup;
  let server: RunningServer;
  let client: ReturnType<typeof OData.New4>;

  before(async () => {
    setup = await demoSetup({ simulatedPlatforms: true });
    server = await startServer({ store: setup.store, secrets: setup.secrets, sessionFactory: engineSessionFactory(setup.dataDir, setup.secrets), pageSize: 40, log: () => undefined });
    client = OData.New4({ serviceEndpoint: `${server.url}/demo/odata4/`, credential: { username: 'demo', password: 'demo' } });
  });
  after(async () => {
    await server.close();
    await setup.stop?.();
    await setup.store.close();
    rmSync(setup.dataDir, { recursive: true, force: true });
  });

  async function readAll(set: string, options = client.newOptions()): Promise<{ rows: Record<string, unknown>[]; pages: number }> {
    const rows: Record<string, unknown>[] = [];
    let page = (await client.newRequest({ collection: set, method: 'GET', params: options })) as unknown as Page;
    let pages = 1;
    rows.push(...page.value);
    while (page['@odata.nextLink']) {
      const params = client.newOptions();
      for (const [k, v] of new URL(page['@odata.nextLink']).searchParams) params.custom(k, v);
      page = (await client.newRequest({ collection: set, method: 'GET', params })) as unknown as Page;
      rows.push(...page.value);
      pages++;
    }
    return { rows, pages };
  }

  /** Exact Online asks for a filter on transaction lines (mandatory filtering): the client's filter is pushed down as the API's. */
  const SETS: readonly { readonly name: string; readonly key: string; readonly partition: string; readonly filter?: () => ReturnType<typeof client.newFilter> }[] = [
    { name: 'ExactOnlineREST_CRM_Accounts', key: 'ID', partition: 'Division' },
    { name: 'ExactOnlineREST_Financial_TransactionLinesBulk', key: 'ID', partition: 'Division', filter: () => client.newFilter().field('FinancialYear').gt(1900) },
    { name: 'VismaNet_Customer_customer_getall', key: 'number', partition: 'company_id' },
  ];

  it('reads the platforms’ sets with paging, each row exactly once, every partition of the scope', async () => {
    const svc = (await client.newRequest({ collection: '', method: 'GET' })) as unknown as { value: { name: string }[] };
    const names = svc.value.map((s) => s.name);
    for (const set of SETS) assert.ok(names.includes(set.name), set.name);
    for (const set of SETS) {
      const expected = await client.getEntitySet(set.name).count(set.filter?.());
      const filter = set.filter?.();
      const { rows, pages } = await readAll(set.name, filter ? client.newOptions().filter(filter) : client.newOptions());
      assert.ok(expected > 40, `${set.name}: more than a page`);
      assert.equal(rows.length, expected, set.name);
      const keys = Object.keys(rows[0]);
      const partition = keys.find((k) => k.toLowerCase() === set.partition.toLowerCase()) as string;
      const key = keys.find((k) => k.toLowerCase() === set.key.toLowerCase()) as string;
      assert.ok(partition && key, `${set.name}: ${keys.slice(0, 8).join(', ')}`);
      assert.equal(new Set(rows.map((r) => `${String(r[partition])}/${String(r[key])}`)).size, expected, `${set.name}: no row twice`);
      assert.ok(pages > 1, `${set.name}: paged`);
      assert.ok(new Set(rows.map((r) => r[partition])).size > 1, `${set.name}: more than one partition`);
    }
  });

  it('applies a partition filter and select built by the client', async () => {
    const division = setup.simulators?.exact.divisions()[1] as number;
    const options = client.newOptions().filter(client.newFilter().field('Division').eq(division)).select(['Division', 'Code', 'Name']);
    const { rows } = await readAll('ExactOnlineREST_CRM_Accounts', options);
    const all = await readAll('ExactOnlineREST_CRM_Accounts', client.newOptions().select(['Division', 'Code']));
    assert.ok(rows.length > 0);
    assert.equal(rows.length, all.rows.filter((r) => r.Division === division).length);
    assert.ok(rows.every((r) => r.Division === division));
    assert.deepEqual(Object.keys(rows[0]).sort(), ['Code', 'Division', 'Name']);
  });
});

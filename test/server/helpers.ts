/**
 * Test fixtures for the server: a temporary data directory with a file state
 * store, a tenancy with users, databases and grants, a real engine session
 * factory (in-memory storage tables created by each database's startup SQL),
 * and a running server on an ephemeral loopback port.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Authenticator, LoginThrottle } from '../../src/server/auth.js';
import { engineSessionFactory } from '../../src/server/engine-sessions.js';
import { startServer } from '../../src/server/server.js';
import type { SessionFactory } from '../../src/server/sessions.js';
import type { RunningServer, ServerOptions } from '../../src/server/server.js';
import { FileStateStore } from '../../src/server/state/file.js';
import { Tenancy } from '../../src/server/tenancy.js';
import { ManualClock } from '../../src/util/clock.js';
import { SecretBox } from '../../src/util/secrets.js';

/** 23 accounts over two divisions, 7 invoices: enough to page with small page sizes. */
export const ACCOUNTS_SQL = `create table accounts@inmemorystorage (division integer, code integer, name varchar, city varchar, balance double, created date);
insert into accounts@inmemorystorage (division, code, name, city, balance, created) values
${Array.from({ length: 23 }, (_, i) => {
  const division = i % 2 === 0 ? 102673 : 102674;
  const name = i === 5 ? "O'Brien & Zn." : i === 6 ? '100% Bio_Bakker' : `Relatie ${String(i).padStart(2, '0')}`;
  const city = ['Amsterdam', 'Utrecht', 'Assen'][i % 3];
  const created = `2024-${String((i % 12) + 1).padStart(2, '0')}-${String((i % 27) + 1).padStart(2, '0')}`;
  return `(${division}, ${1000 + i}, '${name.replace(/'/g, "''")}', ${i === 7 ? 'null' : `'${city}'`}, ${(i * 12.5).toFixed(2)}, date '${created}')`;
}).join(',\n')};
create table invoices@inmemorystorage (division integer, invoicenumber integer, accountcode integer, amount double, paid boolean);
insert into invoices@inmemorystorage (division, invoicenumber, accountcode, amount, paid) values
(102673, 1, 1000, 100.5, true), (102673, 2, 1002, 20, false), (102674, 3, 1001, 30, true), (102674, 4, 1003, 45.25, false),
(102673, 5, 1004, 12, true), (102674, 6, 1005, 0, false), (102673, 7, 1006, 999.99, true)`;

export interface Fixture {
  readonly dir: string;
  readonly tenancy: Tenancy;
  readonly store: FileStateStore;
  readonly secrets: SecretBox;
  readonly server: RunningServer;
  readonly clock: ManualClock;
  readonly logs: string[];
  basic(user: string, password: string): string;
  get(path: string, headers?: Record<string, string>): Promise<Response>;
  close(): Promise<void>;
}

export interface FixtureOptions {
  readonly server?: Partial<ServerOptions>;
  /** Wrap the real engine session factory (to observe sessions). */
  readonly wrapFactory?: (base: SessionFactory) => SessionFactory;
  /** Extra set-up before the server starts. */
  readonly prepare?: (tenancy: Tenancy) => Promise<void>;
  readonly cacheMaxAgeSeconds?: number;
}

/** Users: alice (acme), bob (globex), svc (service account on acme). */
export async function fixture(options: FixtureOptions = {}): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-server-'));
  const store = FileStateStore.inDirectory(dir);
  const secrets = SecretBox.fromPassphrase('test master key');
  const tenancy = new Tenancy(store, secrets);
  await tenancy.addDatabase('acme', { startupSql: ACCOUNTS_SQL, ...(options.cacheMaxAgeSeconds ? { cacheMaxAgeSeconds: options.cacheMaxAgeSeconds } : {}) });
  await tenancy.addDatabase('globex', { startupSql: `create table secrets@inmemorystorage (code integer, note varchar);\ninsert into secrets@inmemorystorage (code, note) values (1, 'globex only')` });
  await tenancy.addUser('alice', { password: 'alice-pw' });
  await tenancy.addUser('bob', { password: 'bob-pw' });
  await tenancy.addUser('svc', { service: true });
  await tenancy.grant('alice', 'acme');
  await tenancy.grant('bob', 'globex');
  await tenancy.grant('svc', 'acme');
  if (options.prepare) await options.prepare(tenancy);
  const clock = new ManualClock(Date.UTC(2026, 10, 25, 12, 0, 0));
  const logs: string[] = [];
  const server = await startServer({
    store,
    secrets,
    sessionFactory: (options.wrapFactory ?? ((b) => b))(engineSessionFactory(dir, secrets)),
    clock,
    authenticator: new Authenticator(clock, new LoginThrottle(clock, 3, 1000)),
    log: (line) => logs.push(line),
    ...options.server,
  });
  const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  return {
    dir,
    tenancy,
    store,
    secrets,
    server,
    clock,
    logs,
    basic,
    get: (path, headers = {}) => fetch(`${server.url}${path}`, { headers: { authorization: basic('alice', 'alice-pw'), ...headers } }),
    close: async () => {
      await server.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Follow @odata.nextLink to the end; returns every row and the number of pages. */
export async function readAll(f: Fixture, first: string, headers: Record<string, string> = {}): Promise<{ rows: Record<string, unknown>[]; pages: number }> {
  const rows: Record<string, unknown>[] = [];
  let url: string | undefined = `${f.server.url}${first}`;
  let pages = 0;
  while (url) {
    const res = await fetch(url, { headers: { authorization: f.basic('alice', 'alice-pw'), ...headers } });
    if (res.status !== 200) throw new Error(`${url}: ${res.status} ${await res.text()}`);
    const body = (await res.json()) as { value: Record<string, unknown>[]; '@odata.nextLink'?: string };
    rows.push(...body.value);
    pages++;
    url = body['@odata.nextLink'];
    if (pages > 1000) throw new Error('too many pages');
  }
  return { rows, pages };
}

const PG_URL = 'postgres://root@127.0.0.1:5432/test';

/** Run statements on the test PostgreSQL database with a short-lived client. */
export async function pgRun(...statements: readonly string[]): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    for (const sql of statements) await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * A fixture whose database `pgdb` (granted to alice) has one PostgreSQL
 * container `pg`, after running `setup` on the real server; `close` also drops
 * `table`.
 */
export async function pgFeedFixture(table: string, setup: readonly string[], server: FixtureOptions['server'] = { pageSize: 10 }): Promise<Fixture> {
  await pgRun(...setup);
  const f = await fixture({
    server,
    prepare: async (tenancy) => {
      await tenancy.addDatabase('pgdb');
      await tenancy.addContainer('pgdb', 'pg', 'PostgreSQL', 'host=127.0.0.1;port=5432;database=test;user=root');
      await tenancy.grant('alice', 'pgdb');
    },
  });
  return {
    ...f,
    close: async () => {
      await f.close();
      await pgRun(`drop table if exists ${table}`);
    },
  };
}

/**
 * `npm run bench:odata`: the OData feed under load, server and client on
 * loopback in separate processes (so the server's RSS is its own).
 *
 * 1. A 1,000,000-row in-memory storage table read through the feed: once the
 *    way Power BI does it (pages of 5,000 following @odata.nextLink), once as
 *    a single stream (Prefer: odata.maxpagesize=1000000). Rows/s and the
 *    server's peak RSS. Goal ≥ 100,000 rows/s and < 300 MB.
 * 2. The same from PostgreSQL (a keyed table, so keyset paging), when the
 *    local PostgreSQL answers.
 * 3. 50 concurrent clients paging through a 100,000-row table: p50 / p99
 *    latency per page request, and errors (goal: none).
 *
 * The server process is this file started with `--server`; it reports its
 * peak RSS over IPC.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { engineSessionFactory } from '../src/server/engine-sessions.js';
import { startServer } from '../src/server/server.js';
import { FileStateStore } from '../src/server/state/file.js';
import { Tenancy } from '../src/server/tenancy.js';
import { SecretBox } from '../src/util/secrets.js';

const PG_URL = 'postgres://root@127.0.0.1:5432/test';
const AUTH = `Basic ${Buffer.from('bench:bench-password').toString('base64')}`;

/** Startup SQL building `rows` rows by doubling (the dialect has no row generator). */
function tableSql(name: string, rows: number): string {
  const seed = 1000;
  const parts = [
    `create table ${name}@inmemorystorage (id integer, division integer, code varchar, description varchar, amount double, created date)`,
    `insert into ${name}@inmemorystorage (id, division, code, description, amount, created) values ` +
      Array.from({ length: seed }, (_, i) => `(${i}, ${102673 + (i % 4)}, 'C${String(i).padStart(6, '0')}', 'Omschrijving regel ${i}', ${(i * 1.25).toFixed(2)}, date '2024-${String((i % 12) + 1).padStart(2, '0')}-15')`).join(', '),
  ];
  let have = seed;
  while (have * 2 <= rows) {
    parts.push(`insert into ${name}@inmemorystorage (id, division, code, description, amount, created) select id + ${have}, division, code, description, amount, created from ${name}@inmemorystorage`);
    have *= 2;
  }
  if (have < rows) {
    parts.push(`insert into ${name}@inmemorystorage (id, division, code, description, amount, created) select id + ${have}, division, code, description, amount, created from ${name}@inmemorystorage where id < ${rows - have}`);
  }
  return parts.join(';\n');
}

// ---------------------------------------------------------------------------
// Server process

async function serverMain(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-odata-'));
  const store = FileStateStore.inDirectory(dir);
  const secrets = SecretBox.fromPassphrase('bench');
  const tenancy = new Tenancy(store, secrets);
  await tenancy.addUser('bench', { password: 'bench-password' });
  const dbs = (process.env.BENCH_DBS ?? '').split(',');
  if (dbs.includes('big')) {
    await tenancy.addDatabase('big', { startupSql: tableSql('big', 1_000_000) });
    await tenancy.grant('bench', 'big');
  }
  if (dbs.includes('medium')) {
    await tenancy.addDatabase('medium', { startupSql: tableSql('medium', 100_000) });
    await tenancy.grant('bench', 'medium');
  }
  const pgTable = process.env.BENCH_PG_TABLE;
  if (pgTable && dbs.includes('pg')) {
    await tenancy.addDatabase('pg');
    await tenancy.addContainer('pg', 'pg', 'PostgreSQL', 'host=127.0.0.1;port=5432;database=test;user=root');
    await tenancy.grant('bench', 'pg');
  }
  const server = await startServer({ store, secrets, sessionFactory: engineSessionFactory(dir, secrets), maxPageSize: 1_000_000, log: () => undefined });
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  process.on('message', (m: unknown) => {
    const cmd = (m as { cmd?: string }).cmd;
    if (cmd === 'rss') process.send?.({ peak, now: process.memoryUsage().rss });
    if (cmd === 'reset') {
      peak = process.memoryUsage().rss;
      process.send?.({ ok: true });
    }
    if (cmd === 'stop') {
      clearInterval(timer);
      void server.close().then(() => {
        rmSync(dir, { recursive: true, force: true });
        process.exit(0);
      });
    }
  });
  process.send?.({ url: server.url });
}

// ---------------------------------------------------------------------------
// Client side

function ask<T>(child: ChildProcess, cmd: string): Promise<T> {
  return new Promise((resolve) => {
    child.once('message', (m) => resolve(m as T));
    child.send({ cmd });
  });
}

type Page = { value: unknown[]; '@odata.nextLink'?: string };

async function readPaged(url: string, latencies?: number[]): Promise<number> {
  let next: string | undefined = url;
  let rows = 0;
  while (next) {
    const t0 = performance.now();
    const res = await fetch(next, { headers: { authorization: AUTH } });
    if (res.status !== 200) throw new Error(`${res.status} ${(await res.text()).slice(0, 200)}`);
    const page = (await res.json()) as Page;
    latencies?.push(performance.now() - t0);
    rows += page.value.length;
    next = page['@odata.nextLink'];
  }
  return rows;
}

async function readStream(url: string): Promise<number> {
  const res = await fetch(url, { headers: { authorization: AUTH, prefer: 'odata.maxpagesize=1000000' } });
  if (res.status !== 200 || !res.body) throw new Error(`${res.status}`);
  // Count rows from the stream without holding it: every row object closes with "}," or "}]".
  let rows = 0;
  let tail = '';
  const decoder = new TextDecoder();
  for await (const chunk of res.body) {
    const text = tail + decoder.decode(chunk as Uint8Array, { stream: true });
    for (let i = text.indexOf('},{'); i >= 0; i = text.indexOf('},{', i + 3)) rows++;
    tail = text.slice(-2);
  }
  return rows + 1;
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

async function measure(child: ChildProcess, label: string, expected: number, run: () => Promise<number>): Promise<void> {
  await ask(child, 'reset');
  const t0 = performance.now();
  const rows = await run();
  const s = (performance.now() - t0) / 1000;
  const { peak } = await ask<{ peak: number }>(child, 'rss');
  const rate = rows / s;
  const mb = peak / 1024 / 1024;
  const ok = rows === expected ? '' : `  (EXPECTED ${expected} ROWS)`;
  console.log(
    `${label.padEnd(44)} ${rows.toLocaleString('en')} rows in ${s.toFixed(1)} s = ${Math.round(rate).toLocaleString('en')} rows/s ` +
      `(goal 100,000: ratio ${(rate / 100_000).toFixed(2)}); server peak RSS ${mb.toFixed(0)} MB (goal < 300: ratio ${(mb / 300).toFixed(2)})${ok}`,
  );
}

async function preparePostgres(rows: number): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: PG_URL });
  try {
    await client.connect();
  } catch {
    return undefined;
  }
  const table = `sluice_bench_odata_${process.pid}`;
  await client.query(`create table ${table} (id integer primary key, division integer not null, code varchar(20), description varchar(100), amount double precision, created date)`);
  await client.query(
    `insert into ${table} select g, 102673 + g % 4, 'C' || lpad(g::text, 6, '0'), 'Omschrijving regel ' || g, g * 1.25, date '2024-01-15' + (g % 365) from generate_series(0, $1 - 1) g`,
    [rows],
  );
  await client.end();
  return table;
}

async function dropPostgres(table: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  await client.query(`drop table if exists ${table}`);
  await client.end();
}

/** A fresh server process per scenario, so each peak RSS is that scenario's own. */
async function withServer(dbs: string[], pgTable: string | undefined, body: (url: string, child: ChildProcess) => Promise<void>): Promise<void> {
  const child = fork(new URL(import.meta.url).pathname, ['--server'], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, BENCH_DBS: dbs.join(','), ...(pgTable ? { BENCH_PG_TABLE: pgTable } : {}) },
  });
  try {
    const { url } = await new Promise<{ url: string }>((resolve, reject) => {
      child.once('message', (m) => resolve(m as { url: string }));
      child.once('exit', (code) => reject(new Error(`server exited ${code}`)));
    });
    await body(url, child);
  } finally {
    child.send({ cmd: 'stop' });
    await new Promise((r) => child.once('exit', r));
  }
}

/** Open the session (startup SQL builds the table) and report how long it took and the RSS after. */
async function warm(child: ChildProcess, url: string, what: string): Promise<void> {
  const t0 = performance.now();
  const res = await fetch(url, { headers: { authorization: AUTH } });
  await res.text();
  const { now } = await ask<{ now: number }>(child, 'rss');
  console.log(`  (${what}: session start ${((performance.now() - t0) / 1000).toFixed(1)} s, server RSS then ${(now / 1024 / 1024).toFixed(0)} MB)`);
}

async function main(): Promise<void> {
  const pgTable = await preparePostgres(1_000_000);
  console.log('OData feed benchmark: server and client on loopback, separate processes, a fresh server per line (2-core shared machine)');
  try {
    const big = '/big/odata4/InMemoryStorage_Memory_big';
    await withServer(['big'], undefined, async (url, child) => {
      await warm(child, `${url}${big}/$count`, 'in-memory 1,000,000-row table built by startup SQL');
      await measure(child, 'in-memory 1M, one stream', 1_000_000, () => readStream(`${url}${big}`));
    });
    await withServer(['big'], undefined, async (url, child) => {
      await warm(child, `${url}${big}/$count`, 'same, new server');
      await measure(child, 'in-memory 1M, pages of 5,000 via nextLink', 1_000_000, () => readPaged(`${url}${big}`));
    });

    if (pgTable) {
      const name = `test_public_${pgTable}`;
      await withServer(['pg'], pgTable, async (url, child) => {
        await warm(child, `${url}/pg/odata4/${name}/$count`, 'PostgreSQL container');
        await measure(child, 'PostgreSQL 1M, one stream', 1_000_000, () => readStream(`${url}/pg/odata4/${name}`));
      });
      await withServer(['pg'], pgTable, async (url, child) => {
        await warm(child, `${url}/pg/odata4/${name}/$count`, 'PostgreSQL container, new server');
        await measure(child, 'PostgreSQL 1M, pages of 5,000 via nextLink', 1_000_000, () => readPaged(`${url}/pg/odata4/${name}`));
      });
    } else {
      console.log('PostgreSQL: not reachable on 127.0.0.1:5432, skipped');
    }

    // 50 concurrent clients paging through the 100,000-row table.
    await withServer(['medium'], undefined, async (url, child) => {
      await warm(child, `${url}/medium/odata4/InMemoryStorage_Memory_medium/$count`, '100,000-row table');
      const latencies: number[] = [];
      let errors = 0;
      let rows = 0;
      await ask(child, 'reset');
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: 50 }, async (_, i) => {
          try {
            // Each client reads one division's slice (25,000 rows) in pages of 5,000, as refreshes of several reports would.
            const filter = encodeURIComponent(`division eq ${102673 + (i % 4)}`);
            const n = await readPaged(`${url}/medium/odata4/InMemoryStorage_Memory_medium?$filter=${filter}&$select=id,code,amount`, latencies);
            rows += n;
          } catch {
            errors++;
          }
        }),
      );
      const s = (performance.now() - t0) / 1000;
      const { peak } = await ask<{ peak: number }>(child, 'rss');
      console.log(
        `50 concurrent clients, 100k table: ${latencies.length} page requests, ${rows.toLocaleString('en')} rows in ${s.toFixed(1)} s; ` +
          `p50 ${pct(latencies, 50).toFixed(0)} ms, p99 ${pct(latencies, 99).toFixed(0)} ms; errors ${errors} (goal 0); server peak RSS ${(peak / 1024 / 1024).toFixed(0)} MB`,
      );
    });
  } finally {
    if (pgTable) await dropPostgres(pgTable);
  }
}

if (process.argv.includes('--server')) await serverMain();
else await main();

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
 * The server process is bench/odata-server.mjs, run by plain node on the
 * built output (dist/) when there is one — `npm run build` first, as a user
 * runs `sluice serve` — else under tsx from src/ (said in the first line). It
 * reports its peak RSS over IPC: the larger of 20 ms samples and the kernel's
 * VmHWM (reset before each measurement).
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import pg from 'pg';

/**
 * The server runs from the built output (dist/, what `sluice serve` runs) as
 * plain node when it has been built (`npm run build`); tsx's transpiler would
 * add RSS a user never pays. BENCH_SERVER=src runs it from src/ under tsx.
 */
const FROM_DIST = process.env.BENCH_SERVER !== 'src' && existsSync(new URL('../dist/server/server.js', import.meta.url));
/** BENCH_ONLY=memory,pg,clients (any of them) runs only those parts. */
const ONLY = new Set((process.env.BENCH_ONLY ?? 'memory,pg,clients').split(','));

const PG_URL = 'postgres://root@127.0.0.1:5432/test';
const AUTH = `Basic ${Buffer.from('bench:bench-password').toString('base64')}`;

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
  const { peak: sampled, hwm, peakHeap } = await ask<{ peak: number; hwm: number; peakHeap: number }>(child, 'rss');
  const peak = Math.max(sampled, hwm);
  const rate = rows / s;
  const mb = peak / 1024 / 1024;
  const ok = rows === expected ? '' : `  (EXPECTED ${expected} ROWS)`;
  console.log(
    `${label.padEnd(44)} ${rows.toLocaleString('en')} rows in ${s.toFixed(1)} s = ${Math.round(rate).toLocaleString('en')} rows/s ` +
      `(goal 100,000: ratio ${(rate / 100_000).toFixed(2)}); server peak RSS ${mb.toFixed(0)} MB (goal < 300: ratio ${(mb / 300).toFixed(2)}; of it JS heap + external at most ${(peakHeap / 1024 / 1024).toFixed(0)} MB)${ok}`,
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
  const source = FROM_DIST ? {} : { SLUICE_BENCH_ROOT: new URL('../src/', import.meta.url).href, SLUICE_BENCH_EXT: '.ts' };
  const child = fork(new URL('./odata-server.mjs', import.meta.url).pathname, [], {
    execArgv: FROM_DIST ? [] : ['--import', 'tsx'],
    env: { ...process.env, BENCH_DBS: dbs.join(','), ...(pgTable ? { BENCH_PG_TABLE: pgTable } : {}), ...source },
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
  const pgTable = ONLY.has('pg') ? await preparePostgres(1_000_000) : undefined;
  console.log(
    `OData feed benchmark: server and client on loopback, separate processes, a fresh server per line (2-core shared machine); ` +
      (FROM_DIST ? 'server: node on the built dist/ (as `sluice serve` runs)' : 'server: src/ under tsx (no dist/ built; `npm run build` to measure what users run)'),
  );
  console.log(`  (machine load average at start: ${loadavg().map((l) => l.toFixed(2)).join(', ')})`);
  try {
    const big = '/big/odata4/InMemoryStorage_Memory_big';
    if (ONLY.has('memory')) await withServer(['big'], undefined, async (url, child) => {
      await warm(child, `${url}${big}/$count`, 'in-memory 1,000,000-row table built by startup SQL');
      await measure(child, 'in-memory 1M, one stream', 1_000_000, () => readStream(`${url}${big}`));
    });
    if (ONLY.has('memory')) await withServer(['big'], undefined, async (url, child) => {
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
    } else if (ONLY.has('pg')) {
      console.log('PostgreSQL: not reachable on 127.0.0.1:5432, skipped');
    }

    // 50 concurrent clients paging through the 100,000-row table.
    if (ONLY.has('clients')) await withServer(['medium'], undefined, async (url, child) => {
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
      const { peak: sampled, hwm } = await ask<{ peak: number; hwm: number }>(child, 'rss');
      const peak = Math.max(sampled, hwm);
      console.log(
        `50 concurrent clients, 100k table: ${latencies.length} page requests, ${rows.toLocaleString('en')} rows in ${s.toFixed(1)} s; ` +
          `p50 ${pct(latencies, 50).toFixed(0)} ms, p99 ${pct(latencies, 99).toFixed(0)} ms; errors ${errors} (goal 0); server peak RSS ${(peak / 1024 / 1024).toFixed(0)} MB`,
      );
    });
  } finally {
    if (pgTable) await dropPostgres(pgTable);
  }
}

await main();

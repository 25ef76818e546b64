/**
 * The server process of `npm run bench:odata` (bench/odata.bench.ts forks it).
 * Plain JavaScript so it runs under plain node against the built output
 * (dist/), the way `sluice serve` runs; with SLUICE_BENCH_ROOT pointing at
 * src/ it is forked under tsx instead. It builds the benchmark databases,
 * starts the server and answers the client's questions over IPC: its peak
 * RSS (the larger of 20 ms samples and the kernel's VmHWM), reset, stop.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { URL } from 'node:url';
import { clearInterval, setInterval } from 'node:timers';

const root = process.env.SLUICE_BENCH_ROOT ?? new URL('../dist/', import.meta.url).href;
const ext = process.env.SLUICE_BENCH_EXT ?? '.js';
const load = (path) => import(`${root}${path}${ext}`);

const { engineSessionFactory } = await load('server/engine-sessions');
const { startServer } = await load('server/server');
const { FileStateStore } = await load('server/state/file');
const { Tenancy } = await load('server/tenancy');
const { SecretBox } = await load('util/secrets');

/** Startup SQL building `rows` rows by doubling (the dialect has no row generator). */
function tableSql(name, rows) {
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

/** The kernel's high-water mark of this process's RSS (catches peaks between samples). */
function hwm() {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

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
if (process.env.BENCH_PG_TABLE && dbs.includes('pg')) {
  await tenancy.addDatabase('pg');
  await tenancy.addContainer('pg', 'pg', 'PostgreSQL', 'host=127.0.0.1;port=5432;database=test;user=root');
  await tenancy.grant('bench', 'pg');
}
const server = await startServer({ store, secrets, sessionFactory: engineSessionFactory(dir, secrets), maxPageSize: 1_000_000, log: () => undefined });
let peak = process.memoryUsage().rss;
let peakHeap = 0;
const timer = setInterval(() => {
  const u = process.memoryUsage();
  peak = Math.max(peak, u.rss);
  peakHeap = Math.max(peakHeap, u.heapTotal + u.external);
}, 20);
process.on('message', (m) => {
  const cmd = m && typeof m === 'object' ? m.cmd : undefined;
  if (cmd === 'rss') process.send?.({ peak: Math.max(peak, process.memoryUsage().rss), now: process.memoryUsage().rss, hwm: hwm(), peakHeap });
  if (cmd === 'reset') {
    try {
      // "5" resets the kernel's peak RSS (VmHWM) to the current RSS.
      writeFileSync('/proc/self/clear_refs', '5');
    } catch {
      // Not Linux: the 20 ms samples alone.
    }
    peak = process.memoryUsage().rss;
    peakHeap = 0;
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
process.send?.({ url: server.url, fromDist: !process.env.SLUICE_BENCH_ROOT });

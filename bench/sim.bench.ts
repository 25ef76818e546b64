/**
 * `npm run bench:sim`: how many 60-row JSON pages per second the Exact
 * Online simulator serves on one core with latency injection off. The
 * simulator runs in this process (one thread); a separate process is the
 * loopback client (undici pool, keep-alive). Reports wall-clock pages/s and
 * pages per CPU-second of the simulator process — the single-core capacity,
 * which stays meaningful on a busy machine. Goal: ≥ 2,000 pages/s. The
 * main cases read the same pages repeatedly (as connector benchmarks do), so
 * the row and rendered-JSON caches are warm; the cold case switches the row
 * cache off to show the cost of generating and rendering every row.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { startExactSimulator } from '../src/sim/exactonline/index.js';

const GOAL = 2000;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);

const CLIENT = `
const workerData = JSON.parse(process.env.SIM_BENCH);
const { Pool } = require(workerData.undici);
const pool = new Pool(workerData.origin, { connections: 8, pipelining: 1, keepAliveTimeout: 30000 });
let pages = 0, bytes = 0, bad = 0, stop = false;
const headers = { authorization: 'Bearer ' + workerData.token, accept: 'application/json' };
async function loop(i) {
  let n = i;
  while (!stop) {
    const path = workerData.paths[n++ % workerData.paths.length];
    const r = await pool.request({ method: 'GET', path, headers });
    const text = await r.body.text();
    if (r.statusCode !== 200) bad++; else pages++;
    bytes += text.length;
  }
}
const started = Date.now();
const loops = [];
for (let i = 0; i < 16; i++) loops.push(loop(i));
setTimeout(() => { stop = true; }, workerData.seconds * 1000);
Promise.all(loops).then(async () => {
  process.stdout.write(JSON.stringify({ pages, bytes, bad, ms: Date.now() - started }));
  await pool.close();
});
`;

async function run(label: string, paths: string[], sim: Awaited<ReturnType<typeof startExactSimulator>>, token: string, seconds = SECONDS): Promise<{ wall: number; perCpu: number }> {
  const undici = createRequire(import.meta.url).resolve('undici');
  const cpu0 = process.cpuUsage();
  const child = spawn(process.execPath, ['-e', CLIENT], {
    env: { ...process.env, SIM_BENCH: JSON.stringify({ origin: sim.baseUrl, token, paths, seconds, undici }) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`client exited with ${code}`))));
  });
  const cpu = process.cpuUsage(cpu0);
  const result = JSON.parse(out) as { pages: number; bytes: number; bad: number; ms: number };
  const wall = (result.pages / result.ms) * 1000;
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const perCpu = result.pages / Math.max(0.001, cpuSeconds);
  console.log(
    `${label}: ${wall.toFixed(0)} pages/s wall clock, ${perCpu.toFixed(0)} pages per CPU-second of the simulator ` +
      `(${(result.bytes / Math.max(1, result.pages) / 1024).toFixed(1)} KiB/page, ${result.bad} non-200)`,
  );
  return { wall, perCpu };
}

const sim = await startExactSimulator({ rateLimits: false, accountsPerDivision: 6000, transactionLinesPerDivision: 60_000 });
const tokenRes = await fetch(`${sim.baseUrl}/api/oauth2/token`, {
  method: 'POST',
  headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: sim.issueRefreshToken(), client_id: sim.clientId, client_secret: sim.clientSecret }).toString(),
});
const token = ((await tokenRes.json()) as { access_token: string }).access_token;
const divisions = sim.divisions();
// Pages across divisions and positions, so the server cannot serve one cached answer.
const pagePaths = (select: string) =>
  divisions.flatMap((d) => Array.from({ length: 20 }, (_, i) => `/api/v1/${d}/crm/Accounts?${select}$skip=${i * 60}`));

console.log(`Exact Online simulator benchmark, ${SECONDS} s per case, ${divisions.length} divisions, latency off`);
// Warm-up (JIT, first generation of the rows): not reported.
{
  const saved = SECONDS;
  await run('warm-up', pagePaths('$select=ID,Code,Name,City,Postcode,Status,IsSupplier,Email,Phone,Modified&'), sim, token, Math.min(2, saved));
}
const selected = await run('crm/Accounts, 60 rows, $select of 10 columns', pagePaths('$select=ID,Code,Name,City,Postcode,Status,IsSupplier,Email,Phone,Modified&'), sim, token);
const full = await run('crm/Accounts, 60 rows, all 130 columns', pagePaths(''), sim, token);
await run('sync/Financial/TransactionLines, 1,000 rows, 5 columns', divisions.map((d) => `/api/v1/${d}/sync/Financial/TransactionLines?$select=ID,AmountDC,GLAccountCode,Date,Timestamp&$filter=Timestamp%20gt%201L`), sim, token);
await sim.close();

// Cold: no row cache, so every page generates its rows and renders them afresh.
const cold = await startExactSimulator({ rateLimits: false, accountsPerDivision: 6000, rowCacheSize: 0 });
const coldToken = (
  (await (
    await fetch(`${cold.baseUrl}/api/oauth2/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: cold.issueRefreshToken(), client_id: cold.clientId, client_secret: cold.clientSecret }).toString(),
    })
  ).json()) as { access_token: string }
).access_token;
const coldSelected = await run(
  'cold (no row cache): crm/Accounts, 60 rows, $select of 10 columns',
  cold.divisions().flatMap((d) => Array.from({ length: 20 }, (_, i) => `/api/v1/${d}/crm/Accounts?$select=ID,Code,Name,City,Postcode,Status,IsSupplier,Email,Phone,Modified&$skip=${i * 60}`)),
  cold,
  coldToken,
);
await cold.close();
console.log(
  `goal ${GOAL} pages/s on one core: $select pages ${(selected.perCpu / GOAL).toFixed(2)}x (wall ${(selected.wall / GOAL).toFixed(2)}x), ` +
    `full-width pages ${(full.perCpu / GOAL).toFixed(2)}x (wall ${(full.wall / GOAL).toFixed(2)}x), ` +
    `cold $select pages ${(coldSelected.perCpu / GOAL).toFixed(2)}x (wall ${(coldSelected.wall / GOAL).toFixed(2)}x)`,
);

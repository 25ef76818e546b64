/**
 * Visma.net connector on the simulator, with the figures of seed 001:
 * 5,000 customers, 300 ms per read call and 500 ms per insert call, and a
 * rate limit of 15,000 calls per company per hour. Prints the time to read
 * all customers (parallel paging) and the customers loaded per second, with
 * the rate limit (share of the limit used, 429s seen) and without it.
 * Run: node --import tsx bench/vismanet.bench.ts [inserts]
 * The rate-limited run counts in 10-second windows (the same hourly rate as
 * one-minute windows) so it finishes in well under a minute.
 */
import { vismaNetProvider } from '../src/providers/vismanet/index.js';
import type { ProviderEnv, RemoteCall } from '../src/provider/types.js';
import { startVismaSimulator, type VismaRateLimit } from '../src/sim/vismanet/index.js';
import { systemClock } from '../src/util/clock.js';
import { SecretBox } from '../src/util/secrets.js';

const PER_HOUR = 15_000;
const inserts = Number(process.argv[2] ?? 120);

function env(): ProviderEnv {
  const calls: RemoteCall[] = [];
  return {
    clock: systemClock,
    log: { record: (c) => calls.push(c) },
    secrets: SecretBox.fromPassphrase('bench'),
    dataDir: '/tmp',
    local: { run: async () => undefined, quote: (n) => `"${n}"` },
    session: { containers: () => [], selectedPartitions: () => undefined, callLog: () => calls, journals: () => [], settings: () => ({}) },
    settings: {},
  };
}

async function run(rateLimit: VismaRateLimit | false, count: number) {
  const sim = await startVismaSimulator({ customersPerCompany: 5000, latencyMs: 300, writeLatencyMs: 500, rateLimit });
  try {
    const options: Record<string, string> = { 'read-after-insert': 'false' };
    for (const part of sim.connectionString().split(';')) {
      const i = part.indexOf('=');
      options[part.slice(0, i)] = part.slice(i + 1);
    }
    const container = await vismaNetProvider.connect({ alias: 'vismanet', provider: 'VismaNet', options }, env());
    const table = container.tables().find((t) => t.name === 'customer_getall');
    if (!table || !container.write) throw new Error('customer_getall missing');
    const company = { id: '1896329' };
    const runStarted = Date.now();
    let started = runStarted;
    let rows = 0;
    for await (const b of container.scan(container.plan(table, { columns: ['number', 'name', 'accountreference'], conjuncts: [] }), company, { signal: new AbortController().signal })) {
      rows += b.rows.length;
    }
    const readMs = Date.now() - started;
    const readRequests = sim.stats().requests;
    started = Date.now();
    let ok = 0;
    const batch = Array.from({ length: count }, (_, i) => [`Bench Klant ${i} B.V.`, `EOL-B${i}`]);
    for await (const r of container.write(table, { op: 'insert', rows: { columns: ['name', 'accountreference'], rows: batch }, partition: company, concurrency: 8, signal: new AbortController().signal })) {
      if (r.ok) ok++;
    }
    const seconds = (Date.now() - started) / 1000;
    const stats = sim.stats();
    await container.close();
    // Fixed windows: the run may use every window it touches in full, the first and last included.
    const windowMs = rateLimit ? (rateLimit.windowMs ?? 60_000) : 0;
    const perWindow = rateLimit ? Math.round((rateLimit.perHour * windowMs) / 3_600_000) : 0;
    const windows = windowMs ? Math.floor(Date.now() / windowMs) - Math.floor(runStarted / windowMs) + 1 : 0;
    return { rows, readMs, ok, seconds, perSecond: ok / seconds, requests: stats.requests - readRequests, allRequests: stats.requests, allowed: windows * perWindow, throttled: stats.throttled };
  } finally {
    await sim.close();
  }
}

const limited = await run({ perHour: PER_HOUR, windowMs: 10_000 }, inserts);
const allowedPerSecond = PER_HOUR / 3600;
console.log(`read 5,000 customers (300 ms per call, parallel pages): ${limited.readMs} ms`);
console.log(
  `rate limit ${PER_HOUR}/h: ${limited.ok} customers in ${limited.seconds.toFixed(1)} s = ${limited.perSecond.toFixed(2)}/s (limit: ${allowedPerSecond.toFixed(2)} calls/s); ` +
    `${limited.allRequests} calls of ${limited.allowed} allowed in the windows touched = ${((100 * limited.allRequests) / limited.allowed).toFixed(0)} % of the limit used; 429s: ${limited.throttled}`,
);
const free = await run(false, inserts);
console.log(`no rate limit: ${free.ok} customers in ${free.seconds.toFixed(1)} s = ${free.perSecond.toFixed(2)}/s (8 at a time, 500 ms per insert); 429s: ${free.throttled}`);
console.log(`ratio (seed: 2 customers/s one at a time): ${(limited.perSecond / 2).toFixed(2)}x with the limit, ${(free.perSecond / 2).toFixed(2)}x without`);

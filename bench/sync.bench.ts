/**
 * Seed 001's measurement on the simulators (npm run bench:sync): ~6,000
 * Exact Online accounts, ~5,000 Visma.net customers mirroring 5,000 of them
 * (so 1,000 are new), 300 ms per read call, 500 ms per insert call, and a
 * Visma rate limit of 15,000 calls per company per hour.
 *
 * Prints:
 * - reconciliation: `explain synchronize` of the seed's statement (reads
 *   both sides in parallel, compares, writes nothing), goal ≤ 2 s; also the
 *   time to read the Exact accounts into the in-memory table (the seed's
 *   `create table … as select`);
 * - loading under the rate limit: customers/s and the share of the limit
 *   used (calls made / calls the limit allows in the elapsed time), and 429s
 *   seen; goal ≥ 90 % of the limit (≈ 4 customers/s) with no 429;
 * - loading with the rate limit off: customers/s, goal ≥ 10/s.
 *
 * Loading is measured as the seed describes it: the 1,000 new accounts, in
 * one synchronize of all 6,000 against the 5,000 customers (≈ 4 minutes at
 * the rate limit, ≈ 1–2 minutes with it off). The rate-limit-off run loads
 * the same 1,000 into company 1896330, which mirrors the same 5,000. A
 * quick mode takes a LOAD argument (e.g. 250): the source then leaves out
 * all but LOAD of the new accounts. The simulator counts its limit in
 * 20-second windows of the same hourly rate (15,000/h → 83 calls per 20 s) and answers
 * 429 past it; the container is told the published figure
 * (`set calls_per_hour@vismanet 15000`), so it spreads calls evenly instead
 * of bursting at each window start, and the share of the limit used over
 * the batch is not inflated by a burst into a window that ends after the
 * batch. `read-after-insert` is off (one call per customer).
 * Usage: node --import tsx bench/sync.bench.ts [LOAD]   (LOAD 1 … 1,000, default 1,000)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSession } from '../src/engine/index.js';
import type { Session, StatementResult } from '../src/engine/api.js';
import { startExactSimulator } from '../src/sim/exactonline/index.js';
import { startVismaSimulator } from '../src/sim/vismanet/index.js';
import { SecretBox } from '../src/util/secrets.js';

const PER_HOUR = 15_000;
const WINDOW_MS = 20_000;
const ACCOUNTS = 6_000;
const MIRRORED = 5_000;
const NEW = ACCOUNTS - MIRRORED;
const LOAD = Number(process.argv[2] ?? NEW);
const COMPANY = '1896329';
const OTHER = '1896330';
if (!Number.isInteger(LOAD) || LOAD < 1 || LOAD > NEW) {
  console.error(`usage: node --import tsx bench/sync.bench.ts [LOAD]: LOAD is how many of the ${NEW} new customers to load (default ${NEW}), not "${process.argv[2]}"`);
  process.exit(2);
}

async function run(session: Session, script: string): Promise<{ last: StatementResult; ms: number; rows: (readonly unknown[])[] }> {
  const started = performance.now();
  let last: StatementResult | undefined;
  const rows: (readonly unknown[])[] = [];
  for await (const r of session.execute(script)) {
    if (r.kind === 'rows') for await (const b of r.batches) rows.push(...b.rows);
    last = r;
  }
  return { last: last!, ms: performance.now() - started, rows };
}

function messageOf(r: StatementResult): string {
  return r.kind === 'done' ? r.message : r.kind === 'explain' ? r.lines.filter((l) => l.startsWith('changes:')).join(' ') : '';
}

const SYNC = (source: string) => `synchronize ${source}@inmemorystorage
to     customer_getall@vismanet
with    insert
identified
by     accountreference ignore nulls`;

async function main(): Promise<void> {
  const exact = await startExactSimulator({ seed: 1, accountsPerDivision: ACCOUNTS, latencyMs: 300, rateLimits: false });
  const visma = await startVismaSimulator({ customersPerCompany: 0, suppliersPerCompany: 0, latencyMs: 300, writeLatencyMs: 500, rateLimit: { perHour: PER_HOUR, windowMs: WINDOW_MS } });
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-sync-'));
  const settingsPath = join(dir, 'settings.xml');
  await exact.writeSettings(settingsPath, 'eolnl');
  visma.writeSettings(settingsPath, 'vismanet');
  const session = await openSession({ settingsPath, dataDir: dir, secrets: SecretBox.fromPassphrase('bench') });
  try {
    await run(session, 'use 102673@eolnl,1896329@vismanet; set read_after_insert@vismanet false');
    const exactRead = await run(
      session,
      `create or replace table exactaccounts@inmemorystorage as select to_char(code) number, name, 'EOL-' || to_char(code) accountreference from exactonlinerest..accounts@eolnl`,
    );
    const accounts = (await run(session, 'select trim(number) n, name from exactaccounts@inmemorystorage')).rows
      .map((r) => ({ number: String(r[0]), name: String(r[1]) }))
      .sort((a, b) => Number(a.number) - Number(b.number));
    // The last 5,000 accounts are already in Visma.net (in both companies); the first 1,000 are new.
    const fresh = accounts.slice(0, accounts.length - MIRRORED);
    for (const company of [COMPANY, OTHER]) {
      visma.seed(company, accounts.slice(fresh.length).map((a) => ({ number: a.number, name: a.name, accountReference: `EOL-${a.number}` })));
    }

    const reconcile = await run(session, `explain ${SYNC('exactaccounts')}`);
    console.log(`accounts in Exact division 102673: ${accounts.length}; Visma.net customers: ${visma.documents(COMPANY).length}`);
    console.log(`read Exact accounts into exactaccounts@inmemorystorage: ${(exactRead.ms / 1000).toFixed(2)} s`);
    console.log(`reconciliation (explain synchronize: read ${MIRRORED} Visma customers, compare): ${(reconcile.ms / 1000).toFixed(2)} s — ${messageOf(reconcile.last)}; goal ≤ 2 s → ${(2000 / reconcile.ms).toFixed(2)}× the goal`);
    console.log(`seed 001 reported ≈ 17 s for reconciliation: ${(17_000 / reconcile.ms).toFixed(1)}× faster here`);

    // Loading under the rate limit: the seed's statement over all accounts (quick mode: all but LOAD of the new ones left out).
    const source = LOAD === fresh.length ? 'exactaccounts' : 'loadbatch';
    if (source === 'loadbatch') {
      await run(
        session,
        `create or replace table loadbatch@inmemorystorage as select * from exactaccounts@inmemorystorage where to_number(trim(number)) >= ${fresh[fresh.length - LOAD].number}`,
      );
    }
    const limitedReconcile = await run(session, `explain ${SYNC(source)}`);
    await run(session, `set calls_per_hour@vismanet ${PER_HOUR}`);
    visma.resetStats();
    const limited = await run(session, SYNC(source));
    const ls = visma.stats();
    const loadMs = limited.ms - limitedReconcile.ms;
    const calls = ls.requests - ls.tokenRequests;
    const allowed = (limited.ms / 3_600_000) * PER_HOUR;
    const perSecond = ls.inserts / (loadMs / 1000);
    const limitRate = PER_HOUR / 3600;
    console.log(`rate limit ${PER_HOUR}/h/company (counted in ${WINDOW_MS / 1000} s windows), company ${COMPANY}: ${messageOf(limited.last)}`);
    console.log(`  ${ls.inserts} customers in ${(limited.ms / 1000).toFixed(1)} s (of which ~${(limitedReconcile.ms / 1000).toFixed(2)} s reconciling): ${perSecond.toFixed(2)} customers/s; the limit allows ${limitRate.toFixed(2)}/s → ${((perSecond / limitRate) * 100).toFixed(0)} %`);
    console.log(`  calls ${calls} of ${allowed.toFixed(0)} allowed in that time → ${((calls / allowed) * 100).toFixed(0)} % of the rate limit used; 429 responses: ${ls.throttled}; goal ≥ 90 % and no 429`);
    console.log(`  seed 001: 1,000 customers ≈ 10 minutes one at a time; here ${((loadMs / 1000 / 60) * (1000 / Math.max(1, ls.inserts))).toFixed(1)} minutes per 1,000`);

    // Loading without a rate limit: the same new customers into the other company, which mirrors the same 5,000.
    visma.setRateLimit(false);
    await run(session, `set calls_per_hour@vismanet 0; use 102673@eolnl,${OTHER}@vismanet`);
    const freeReconcile = await run(session, `explain ${SYNC(source)}`);
    visma.resetStats();
    const free = await run(session, SYNC(source));
    const fs = visma.stats();
    const freeRate = fs.inserts / ((free.ms - freeReconcile.ms) / 1000);
    console.log(`rate limit off, company ${OTHER}: ${messageOf(free.last)}`);
    console.log(`  ${fs.inserts} customers in ${(free.ms / 1000).toFixed(1)} s: ${freeRate.toFixed(1)} customers/s (max ${fs.maxInFlight} in flight); goal ≥ 10/s → ${(freeRate / 10).toFixed(2)}× the goal; seed 001: 2/s (500 ms each, one at a time) → ${(freeRate / 2).toFixed(1)}×`);

    visma.resetStats();
    const again = await run(session, SYNC(source));
    console.log(`second run right after: ${messageOf(again.last)} in ${(again.ms / 1000).toFixed(2)} s, ${visma.stats().inserts} insert calls`);
  } finally {
    await session.close();
    await exact.close();
    await visma.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();

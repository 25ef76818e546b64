/**
 * `node --import tsx bench/sim-large.bench.ts` (add --expose-gc for cleaner
 * memory figures): the Exact Online simulator on one division of
 * 1,000,000 transaction lines (issue 3's largest scale). Times, in one
 * process, the reads that used to walk the whole division: a key lookup by
 * URL, a key lookup by `$filter=ID eq guid'…'`, and an `$orderby` query's
 * first and next pages, with the peak RSS each adds. Wall times on a shared
 * machine are indicative only; nothing here is asserted.
 */
import { performance } from 'node:perf_hooks';
import { startExactSimulator } from '../src/sim/exactonline/index.js';
import { ENTITY } from '../src/sim/exactonline/world.js';

const LINES = Number(process.env.BENCH_LINES ?? 1_000_000);

async function main(): Promise<void> {
  const sim = await startExactSimulator({ divisions: 1, transactionLinesPerDivision: LINES, rateLimits: false });
  const D = sim.divisions()[0];
  const tr = await fetch(`${sim.baseUrl}/api/oauth2/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: sim.issueRefreshToken(), client_id: sim.clientId, client_secret: sim.clientSecret }).toString(),
  });
  const token = ((await tr.json()) as { access_token: string }).access_token;
  let peak = 0;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 5);
  const get = async (label: string, path: string): Promise<{ next?: string; rows: number }> => {
    global.gc?.();
    const base = process.memoryUsage().rss;
    peak = base;
    const t0 = performance.now();
    const r = await fetch(path.startsWith('http') ? path : `${sim.baseUrl}/api/v1/${D}/${path}`, { headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' } });
    const body = (await r.json()) as { d: { results: unknown[]; __next?: string } };
    const ms = performance.now() - t0;
    peak = Math.max(peak, process.memoryUsage().rss);
    if (r.status !== 200) throw new Error(`${label}: HTTP ${r.status} ${JSON.stringify(body).slice(0, 200)}`);
    process.stdout.write(`${label.padEnd(44)} ${ms.toFixed(0).padStart(7)} ms   +${((peak - base) / 1048576).toFixed(0).padStart(4)} MB peak RSS   ${body.d.results.length} rows\n`);
    return { rows: body.d.results.length, ...(body.d.__next ? { next: body.d.__next } : {}) };
  };
  const id = sim.world.guid(ENTITY.TransactionLines, D, Math.floor(LINES * 0.7));
  process.stdout.write(`one division (${D}) with ${LINES.toLocaleString('en')} transaction lines\n`);
  await get('key lookup by URL', `financialtransaction/TransactionLines(guid'${id}')?$select=ID,AmountDC`);
  await get("key lookup by $filter=ID eq guid'…'", `financialtransaction/TransactionLines?$select=ID,AmountDC&$filter=ID eq guid'${id}'`);
  await get('bulk key lookup by $filter', `bulk/Financial/TransactionLines?$select=ID,AmountDC&$filter=ID eq guid'${id}'`);
  const first = await get('$orderby=AmountDC desc, first page', `financialtransaction/TransactionLines?$select=ID,AmountDC&$filter=FinancialYear ge 2000&$orderby=AmountDC desc`);
  if (first.next) await get('$orderby=AmountDC desc, next page', first.next);
  await get('$orderby=Date,ID, page at $skip=500000', `financialtransaction/TransactionLines?$select=ID,Date&$filter=FinancialYear ge 2000&$orderby=Date,ID&$skip=500000`);
  clearInterval(sampler);
  await sim.close();
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});

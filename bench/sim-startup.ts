/**
 * Startup probe for `npm run bench:sim` (run in a fresh process by
 * sim.bench.ts): how long the default Exact Online world takes to start —
 * importing the simulator's modules, `startExactSimulator()` with defaults,
 * and the first answers (a token, then a page of crm/Accounts in division
 * 102673), so work a lazy start only postpones is counted too. Prints one
 * JSON line with the times in ms.
 */
const t0 = performance.now();
const { startExactSimulator } = await import('../src/sim/exactonline/index.js');
const t1 = performance.now();
const sim = await startExactSimulator();
const t2 = performance.now();
const token = await fetch(`${sim.baseUrl}/api/oauth2/token`, {
  method: 'POST',
  headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: sim.issueRefreshToken(), client_id: sim.clientId, client_secret: sim.clientSecret }).toString(),
});
const { access_token: access } = (await token.json()) as { access_token: string };
const page = await fetch(`${sim.baseUrl}/api/v1/102673/crm/Accounts?$select=ID,Code,Name&$filter=ID%20ne%20null`, {
  headers: { Authorization: `Bearer ${access}`, Accept: 'application/json' },
});
const rows = ((await page.json()) as { d: { results: unknown[] } }).d.results.length;
const t3 = performance.now();
await sim.close();
if (page.status !== 200 || rows !== 60) throw new Error(`first page: HTTP ${page.status}, ${rows} rows`);
process.stdout.write(`${JSON.stringify({ importMs: t1 - t0, startMs: t2 - t1, firstPageMs: t3 - t2, sinceProcessStartMs: t3 + 0 })}\n`);

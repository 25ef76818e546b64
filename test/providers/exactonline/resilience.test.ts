/**
 * Failure handling against the simulator and a stub: GETs retried through
 * 5xx, resets and truncated bodies; POSTs never duplicated (an unclear
 * outcome is looked up before re-sending); the OAuth login flow end to end.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { connectExact, login, parseExactConfig } from '../../../src/providers/exactonline/index.js';
import { startExactSimulator } from '../../../src/sim/exactonline/index.js';
import { systemClock } from '../../../src/util/clock.js';
import { connectSim, readAll, table, testEnv } from './helpers.js';

const signal = new AbortController().signal;

test('GETs ride out 5xx answers, connection resets and truncated bodies', async () => {
  const sim = await startExactSimulator({ port: 0, divisions: 2, accountsPerDivision: 300, rateLimits: false });
  const env = testEnv();
  const c = await connectSim(sim, env);
  try {
    const parts = await c.partitions(signal);
    sim.setFaults({ errorRate: 0.1, resetRate: 0.05, truncateRate: 0.05 });
    const r = await readAll(c, 'Accounts', { columns: ['ID'], limit: 300, orderBy: [{ column: 'Code', descending: false }] }, parts);
    assert.deepEqual(r.failures, []);
    assert.equal(r.rows.length, 600);
    assert.equal(new Set(r.rows.map((x) => x[0])).size, 600);
    assert.ok(env.calls.some((x) => x.status >= 500 || x.error), 'faults happened and were retried');
  } finally {
    await c.close();
    await sim.close();
    env.cleanup();
  }
});

test('inserts under faults never create duplicates, and every reported outcome is true', async () => {
  const sim = await startExactSimulator({ port: 0, divisions: 1, accountsPerDivision: 10, rateLimits: false });
  const env = testEnv();
  const c = await connectSim(sim, env);
  try {
    const [p] = await c.partitions(signal);
    sim.setFaults({ resetRate: 0.15, truncateRate: 0.15 });
    const codes = Array.from({ length: 20 }, (_, i) => String(660000 + i));
    const results = [];
    for await (const r of c.write(table(c, 'Accounts'), { op: 'insert', rows: { columns: ['Code', 'Name'], rows: codes.map((code) => [code, `Fault Test ${code}`]) }, partition: p, signal })) results.push(r);
    sim.setFaults({ resetRate: 0, truncateRate: 0 });
    assert.equal(results.length, 20);
    const stored = await readAll(c, 'Accounts', { columns: ['Code'], conjuncts: [{ kind: 'in', column: 'Code', values: codes, not: false }] }, [p]);
    const count = new Map<string, number>();
    for (const [code] of stored.rows) count.set(String(code), (count.get(String(code)) ?? 0) + 1);
    for (const r of results) {
      const code = codes[r.index];
      assert.ok((count.get(code) ?? 0) <= 1, `no duplicate of ${code}`);
      if (r.ok) assert.equal(count.get(code), 1, `${code} reported written and is there`);
    }
    assert.ok(results.filter((r) => r.ok).length >= 15, 'most rows get through');
    assert.ok(env.calls.some((x) => x.method === 'POST' && x.error), 'some POSTs had an unclear outcome');
  } finally {
    await c.close();
    await sim.close();
    env.cleanup();
  }
});

test('a POST whose answer is lost after the row was created is looked up, not re-sent', async () => {
  let posts = 0;
  let created: Record<string, unknown> | undefined;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const url = req.url ?? '';
      if (url === '/api/oauth2/token') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: 'a', refresh_token: 'r2', expires_in: '600' }));
      } else if (req.method === 'POST') {
        posts++;
        created = { ...(JSON.parse(body) as Record<string, unknown>), ID: '11111111-2222-3333-4444-555555555555' };
        req.socket.destroy();
      } else if (url.startsWith('/api/v1/7/crm/Accounts?')) {
        const filter = decodeURIComponent(new URL(url, 'http://x').searchParams.get('$filter') ?? '');
        const hit = created && filter.includes(`trim(Code) eq '${String(created.Code)}'`) ? [created] : [];
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ d: { results: hit } }));
      } else {
        res.writeHead(404).end();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const env = testEnv();
  const c = await connectExact({ alias: 'stub', provider: 'ExactOnlineAll', options: { 'api-url': base, 'api-client-id': 'c', 'api-client-secret': 's', 'api-redirect-url': 'http://127.0.0.1/cb', 'api-refresh-token': 'r1' } }, env);
  try {
    const results = [];
    for await (const r of c.write(table(c, 'Accounts'), { op: 'insert', rows: { columns: ['Code', 'Name'], rows: [['4242', 'Lost Answer B.V.']] }, partition: { id: '7' }, signal })) results.push(r);
    assert.equal(posts, 1, 'the POST was not repeated');
    assert.equal(results[0].ok, true);
    assert.equal(results[0].returned?.ID, '11111111-2222-3333-4444-555555555555');
  } finally {
    await c.close();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    env.cleanup();
  }
});

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

test('login: authorize URL, redirect with code and state, code exchanged, tokens stored and usable', async () => {
  const port = await freePort();
  const redirectUri = `http://127.0.0.1:${port}/callback`;
  const sim = await startExactSimulator({ port: 0, divisions: 2, redirectUri, rateLimits: false });
  const env = testEnv();
  try {
    const options = { 'api-url': sim.baseUrl, 'api-client-id': sim.clientId, 'api-client-secret': sim.clientSecret, 'api-redirect-url': redirectUri };
    const c = await connectExact({ alias: 'eol', provider: 'ExactOnlineAll', options }, env);
    const cfg = parseExactConfig('eol', options, env.secrets);
    let shown = '';
    await login(cfg, c.tokens, systemClock, {
      onUrl: (url) => (shown = url),
      // The "browser": approve on the simulator's consent page, follow the redirect to our listener.
      onListening: (url) => {
        void (async () => {
          const u = new URL(url);
          const form = new URLSearchParams(u.searchParams);
          form.set('approve', '1');
          const consent = await fetch(`${sim.baseUrl}/api/oauth2/auth`, { method: 'POST', body: form, redirect: 'manual' });
          const location = consent.headers.get('location') as string;
          await fetch(location);
        })();
      },
    });
    const u = new URL(shown);
    assert.equal(u.pathname, '/api/oauth2/auth');
    assert.equal(u.searchParams.get('client_id'), sim.clientId);
    assert.equal(u.searchParams.get('redirect_uri'), redirectUri);
    assert.equal(u.searchParams.get('response_type'), 'code');
    assert.match(u.searchParams.get('state') ?? '', /^[0-9a-f]{32}$/);
    const status = await c.tokens.store.status();
    assert.equal(status.exists, true);
    const parts = await c.partitions(signal);
    assert.equal(parts.length, 2);
    await c.close();
  } finally {
    await sim.close();
    env.cleanup();
  }
});

test('a scan is cancelled through its AbortSignal', async () => {
  const sim = await startExactSimulator({ port: 0, divisions: 1, accountsPerDivision: 600, latencyMs: 200, rateLimits: false });
  const env = testEnv();
  const c = await connectSim(sim, env);
  try {
    const [p] = await c.partitions(signal);
    const controller = new AbortController();
    const plan = c.plan(table(c, 'Accounts'), { columns: ['ID'], conjuncts: [], limit: 600, orderBy: [{ column: 'Code', descending: false }] });
    let batches = 0;
    await assert.rejects(
      (async () => {
        for await (const _ of c.scan(plan, p, { signal: controller.signal })) {
          batches++;
          controller.abort(new Error('stopped by the user'));
        }
      })(),
      /stopped by the user/,
    );
    assert.equal(batches, 1);
    assert.ok(env.calls.filter((x) => x.url.includes('crm/Accounts')).length <= 2, 'no further pages were fetched');
  } finally {
    await c.close();
    await sim.close();
    env.cleanup();
  }
});

test('a bare {"d":[…]} answer (seen with $top) is read like a results page', async () => {
  const sim = await startExactSimulator({ port: 0, divisions: 1, accountsPerDivision: 50, bareArrayOnTop: true, rateLimits: false });
  const env = testEnv();
  const c = await connectSim(sim, env);
  try {
    const [p] = await c.partitions(signal);
    const r = await readAll(c, 'Accounts', { columns: ['ID', 'Code', 'Created'], limit: 7, orderBy: [{ column: 'Code', descending: true }] }, [p]);
    assert.equal(r.rows.length, 7);
    assert.ok(r.rows.every((row) => row[2] instanceof Date), '/Date(ms)/ becomes a Date');
  } finally {
    await c.close();
    await sim.close();
    env.cleanup();
  }
});

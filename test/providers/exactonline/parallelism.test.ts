/** The connection string's `parallelism`: at most that many requests of the container in flight, over all divisions. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connectExact } from '../../../src/providers/exactonline/index.js';
import { startExactSimulator } from '../../../src/sim/exactonline/index.js';
import type { SluiceError } from '../../../src/util/errors.js';
import { readAll, testEnv } from './helpers.js';

const signal = new AbortController().signal;

test('parallelism=2 bounds the requests in flight even when the engine reads 6 divisions at once', async () => {
  const sim = await startExactSimulator({ port: 0, divisions: 6, accountsPerDivision: 200, latencyMs: 30, rateLimits: false });
  const env = testEnv();
  const c = await connectExact(
    {
      alias: 'eol',
      provider: 'ExactOnlineAll',
      options: { 'api-url': sim.baseUrl, 'api-client-id': sim.clientId, 'api-client-secret': sim.clientSecret, 'api-redirect-url': sim.redirectUri, 'api-refresh-token': sim.issueRefreshToken(), parallelism: '2' },
    },
    env,
  );
  try {
    assert.equal(c.config.parallelism, 2);
    const parts = await c.partitions(signal);
    assert.equal(parts.length, 6);
    // Ordered LIMIT: 60-row pages on the regular endpoint, 4 calls per division, 6 divisions side by side.
    const r = await readAll(c, 'Accounts', { columns: ['ID'], limit: 200, orderBy: [{ column: 'Code', descending: false }] }, parts, 6);
    assert.deepEqual(r.failures, []);
    assert.equal(r.rows.length, 1200);
    assert.ok(c.http.concurrency.maxInFlight <= 2, `at most 2 in flight (saw ${c.http.concurrency.maxInFlight})`);
    assert.equal(c.http.concurrency.inFlight, 0, 'every slot given back');
  } finally {
    await c.close();
    await sim.close();
    env.cleanup();
  }
});

test('an invalid parallelism or daily share is a clear error naming the container', async () => {
  const sim = await startExactSimulator({ port: 0, divisions: 1, rateLimits: false });
  const env = testEnv();
  const base = { 'api-url': sim.baseUrl, 'api-client-id': sim.clientId, 'api-client-secret': sim.clientSecret, 'api-redirect-url': sim.redirectUri };
  try {
    for (const value of ['0', '-3', '2.5', 'many']) {
      await assert.rejects(
        connectExact({ alias: 'eol', provider: 'ExactOnlineAll', options: { ...base, parallelism: value } }, env),
        (e: SluiceError) => e.code === 'EOL003' && e.message.includes(`"${value}"`) && e.message.includes('container eol'),
      );
    }
    await assert.rejects(connectExact({ alias: 'eol', provider: 'ExactOnlineAll', options: { ...base, 'exact-daily-budget-share': '1.5' } }, env), (e: SluiceError) => e.code === 'EOL004');
    const c = await connectExact({ alias: 'eol', provider: 'ExactOnlineAll', options: base }, env);
    assert.equal(c.config.parallelism, 8, 'default');
    await c.close();
  } finally {
    await sim.close();
    env.cleanup();
  }
});

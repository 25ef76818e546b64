/**
 * Streaming and load: a feed is written batch by batch as the client reads
 * (a client that stops reading stops the engine's stream), a client that
 * disconnects aborts the statement (logged as 499), query options reach the engine as AST
 * predicates (the partition column included), and a bounded burst of
 * concurrent clients on loopback all get complete, correct pages.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ExecuteOptions, Session, StatementResult } from '../../src/engine/api.js';
import type { RowBatch } from '../../src/provider/types.js';
import type { Statement } from '../../src/sql/ast.js';
import type { SessionFactory } from '../../src/server/sessions.js';
import { fixture, readAll } from './helpers.js';
import type { Fixture } from './helpers.js';

interface Probe {
  statements: Statement[];
  batchesPulled: number;
  rowsPulled: number;
  signals: AbortSignal[];
  streamsClosed: number;
}

/** Real engine sessions, observed: statements run, batches pulled, signals given, streams closed. */
function probedFactory(base: SessionFactory, probe: Probe): SessionFactory {
  return async (containers, db) => {
    const real = await base(containers, db);
    const session: Session = {
      execute: (script, options) => real.execute(script, options),
      containers: () => real.containers(),
      settings: () => real.settings(),
      close: () => real.close(),
      executeStatement: async (statement: Statement, options?: ExecuteOptions): Promise<StatementResult> => {
        probe.statements.push(statement);
        if (options?.signal) probe.signals.push(options.signal);
        const result = await real.executeStatement(statement, options);
        if (result.kind !== 'rows') return result;
        const batches = (async function* (): AsyncGenerator<RowBatch> {
          try {
            for await (const b of result.batches) {
              probe.batchesPulled++;
              probe.rowsPulled += b.rows.length;
              yield b;
            }
          } finally {
            probe.streamsClosed++;
          }
        })();
        return { ...result, batches };
      },
    };
    return session;
  };
}

const BIG_SQL = `create table big@inmemorystorage (id integer, payload varchar);
insert into big@inmemorystorage (id, payload) values ${Array.from({ length: 1000 }, (_, i) => `(${i}, '${'x'.repeat(100)}')`).join(', ')};
${[1000, 2000, 4000, 8000, 16000, 32000, 64000].map((n) => `insert into big@inmemorystorage (id, payload) select id + ${n}, payload from big@inmemorystorage`).join(';\n')}`;

describe('streaming feeds', () => {
  let f: Fixture;
  const probe: Probe = { statements: [], batchesPulled: 0, rowsPulled: 0, signals: [], streamsClosed: 0 };
  before(async () => {
    f = await fixture({
      server: { maxPageSize: 1_000_000, pageSize: 5 },
      wrapFactory: (base) => probedFactory(base, probe),
      prepare: async (tenancy) => {
        await tenancy.addDatabase('bulk', { startupSql: BIG_SQL });
        await tenancy.grant('alice', 'bulk');
      },
    });
  });
  after(async () => {
    await f.close();
  });

  it('sends a $filter on the partition column to the engine as an ordinary predicate, with $select as the column list', async () => {
    probe.statements.length = 0;
    const res = await f.get(`/acme/odata4/InMemoryStorage_Memory_accounts?$select=code&$filter=${encodeURIComponent('division eq 102674')}&$top=2`);
    assert.equal(res.status, 200);
    await res.text();
    const st = probe.statements.at(-1);
    assert.equal(st?.kind, 'QueryStatement');
    const q = st.kind === 'QueryStatement' ? st.query : undefined;
    assert.equal(q?.body.kind, 'Select');
    if (q?.body.kind !== 'Select') return;
    assert.deepEqual(q.body.where, { kind: 'Binary', op: '=', left: { kind: 'ColumnRef', qualifier: [], name: 'division' }, right: { kind: 'Literal', type: 'number', value: '102674' } });
    assert.deepEqual(q.body.items, [{ expr: { kind: 'ColumnRef', qualifier: [], name: 'code' }, alias: 'code' }]);
    assert.deepEqual(q.body.from, [{ kind: 'TableRef', name: { kind: 'TableName', catalog: 'InMemoryStorage', schema: 'Memory', name: 'accounts', container: 'inmemorystorage' } }]);
    assert.deepEqual(q.limit, { kind: 'Literal', type: 'number', value: '3' });
  });

  it('stops pulling batches while the client does not read, and aborts the statement when it disconnects', async () => {
    const total = 128_000;
    const count = await f.get('/bulk/odata4/InMemoryStorage_Memory_big/$count');
    assert.equal(await count.text(), String(total));
    probe.batchesPulled = 0;
    probe.rowsPulled = 0;
    probe.streamsClosed = 0;
    const signalsBefore = probe.signals.length;
    const url = new URL(`${f.server.url}/bulk/odata4/InMemoryStorage_Memory_big`);
    let req: ClientRequest | undefined;
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      req = request({ host: url.hostname, port: url.port, path: url.pathname, headers: { authorization: f.basic('alice', 'alice-pw'), prefer: 'odata.maxpagesize=1000000' } }, resolve);
      req.on('error', reject);
      req.end();
    });
    assert.equal(res.statusCode, 200);
    res.pause();
    // Wait until the server stops making progress: its writes are blocked on the unread socket.
    let last = -1;
    for (let i = 0; i < 100 && probe.batchesPulled !== last; i++) {
      last = probe.batchesPulled;
      await sleep(100);
    }
    const pulled = probe.batchesPulled;
    assert.ok(pulled > 0);
    const signal = probe.signals[signalsBefore];
    assert.equal(signal.aborted, false);
    // Rows pulled so far are a small part of the table: the rest waits for the client.
    assert.ok(probe.rowsPulled < total / 2, `pulled ${probe.rowsPulled} of ${total} rows`);
    res.destroy();
    req?.destroy();
    for (let i = 0; i < 100 && !(signal.aborted && probe.streamsClosed > 0); i++) await sleep(20);
    assert.equal(signal.aborted, true);
    assert.equal(probe.streamsClosed, 1);
    // Logged as 499 (client closed request), not as a server failure.
    const logged = () => f.logs.map((l) => JSON.parse(l) as { path: string; status: number; error?: string }).find((l) => l.path === url.pathname && l.status !== 200);
    for (let i = 0; i < 100 && !logged(); i++) await sleep(20);
    assert.equal(logged()?.status, 499);
    assert.equal(logged()?.error, 'SRV400');
    // The server keeps serving.
    const after = await f.get('/bulk/odata4/InMemoryStorage_Memory_big/$count');
    assert.equal(await after.text(), String(total));
  });

  it('continues the open stream for the next page, and re-runs the query from the token when none is open', async () => {
    probe.statements.length = 0;
    const all = await readAll(f, '/acme/odata4/InMemoryStorage_Memory_accounts?$select=code');
    assert.equal(all.pages, 5);
    assert.equal(all.rows.length, 23);
    assert.equal(probe.statements.length, 1, 'one statement served every page');

    const first = (await (await f.get('/acme/odata4/InMemoryStorage_Memory_accounts?$orderby=name')).json()) as { '@odata.nextLink': string };
    const next = first['@odata.nextLink'];
    const viaCursor = await (await fetch(next, { headers: { authorization: f.basic('alice', 'alice-pw') } })).json();
    probe.statements.length = 0;
    const rerun = await (await fetch(next, { headers: { authorization: f.basic('alice', 'alice-pw') } })).json();
    assert.equal(probe.statements.length, 1, 'the second use of the link ran the query again');
    assert.deepEqual(rerun, viaCursor);
  });

  it('serves a bounded burst of concurrent clients on loopback, every page complete and correct', async () => {
    const clients = 20;
    const results = await Promise.all(
      Array.from({ length: clients }, async (_, i) => {
        const filter = encodeURIComponent(`division eq ${i % 2 === 0 ? 102673 : 102674}`);
        return readAll(f, `/acme/odata4/InMemoryStorage_Memory_accounts?$select=code,division&$filter=${filter}`);
      }),
    );
    results.forEach((r, i) => {
      const division = i % 2 === 0 ? 102673 : 102674;
      assert.equal(r.rows.length, division === 102673 ? 12 : 11);
      assert.ok(r.rows.every((row) => row.division === division));
      assert.equal(new Set(r.rows.map((row) => row.code)).size, r.rows.length);
    });
  });
});

describe('response cache', () => {
  let f: Fixture;
  const probe: Probe = { statements: [], batchesPulled: 0, rowsPulled: 0, signals: [], streamsClosed: 0 };
  before(async () => {
    f = await fixture({ cacheMaxAgeSeconds: 60, wrapFactory: (base) => probedFactory(base, probe) });
  });
  after(async () => {
    await f.close();
  });

  it('serves repeated requests from the cache within the max age, fresh with no-cache or after expiry', async () => {
    const path = `/acme/odata4/InMemoryStorage_Memory_invoices?$filter=${encodeURIComponent('paid eq true')}`;
    const first = await f.get(path);
    const body = await first.text();
    const etag = first.headers.get('etag');
    assert.equal(probe.statements.length, 1);

    f.clock.advance(30_000);
    const cached = await f.get(path);
    assert.equal(await cached.text(), body);
    assert.equal(cached.headers.get('age'), '30');
    assert.equal(cached.headers.get('etag'), etag);
    assert.equal(probe.statements.length, 1, 'answered without running the query');
    // fetch adds Cache-Control: no-cache to conditional requests: the server re-runs the query and, the data being unchanged, answers 304.
    const notModified = await f.get(path, { 'if-none-match': etag ?? '' });
    assert.equal(notModified.status, 304);
    assert.equal(probe.statements.length, 2);

    const fresh = await f.get(path, { 'cache-control': 'no-cache' });
    assert.equal(await fresh.text(), body);
    assert.equal(fresh.headers.get('age'), null);
    assert.equal(probe.statements.length, 3, 'no-cache ran the query');

    f.clock.advance(61_000);
    await (await f.get(path)).text();
    assert.equal(probe.statements.length, 4, 'expired entries are not served');
    // Other users of the database share the cache; users without a grant never reach it.
    const other = await fetch(`${f.server.url}${path}`, { headers: { authorization: f.basic('bob', 'bob-pw') } });
    assert.equal(other.status, 404);
  });
});

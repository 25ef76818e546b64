/**
 * The feed's pass-through (src/server/passthrough.ts): which feed statements
 * go straight to the provider (a fake container records the scan request it
 * got), which fall back to the engine, and — against a real PostgreSQL
 * table — that both paths give the same rows for the same feed.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { Session } from '../../src/engine/api.js';
import type { Container, RowBatch, ScanPlan, ScanRequest, TableInfo } from '../../src/provider/types.js';
import type { Query } from '../../src/sql/ast.js';
import type { EntitySet } from '../../src/server/odata/model.js';
import { pageStatement, parseFeedOptions } from '../../src/server/odata/query.js';
import { directRows } from '../../src/server/passthrough.js';
import { fixture, readAll } from './helpers.js';
import type { Fixture } from './helpers.js';

const table: TableInfo = {
  catalog: 'db',
  schema: 'public',
  name: 'orders',
  columns: [
    { name: 'id', type: 'integer', nullable: false },
    { name: 'code', type: 'varchar', nullable: true },
    { name: 'amount', type: 'double', nullable: true },
  ],
  key: ['id'],
  scope: 'system',
  writable: { insert: false, update: false, delete: false },
};

const set: EntitySet = {
  name: 'db_public_orders',
  containerAlias: 'src',
  table,
  properties: table.columns.map((c) => ({ name: c.name, column: c.name, type: c.type, nullable: c.nullable })),
  key: ['id'],
  syntheticKey: false,
};

/** A container that answers the pushdown as told and serves rows with its columns in its own order. */
function fakeSession(answer: { exact: boolean; order: boolean; limit: boolean; local?: boolean }, requests: ScanRequest[]): Session {
  const container: Container = {
    alias: 'src',
    providerName: 'fake',
    close: async () => undefined,
    tables: () => [table],
    partitions: async () => [],
    plan: (t, request): ScanPlan => {
      requests.push(request);
      return {
        table: t,
        request,
        conjuncts: request.conjuncts.map(() => (answer.exact ? 'exact' : 'inexact')),
        limitApplied: answer.limit,
        orderApplied: answer.order,
        estimatedCallsPerPartition: 1,
        explain: [],
      };
    },
    async *scan(): AsyncIterable<RowBatch> {
      yield { columns: ['amount', 'id', 'code'], rows: [[1.5, 1, 'A'], [2.5, 2, null]] };
      yield { columns: ['amount', 'id', 'code'], rows: [[3.5, 3, 'C']] };
    },
    ...(answer.local ? { localRelation: () => 'orders' } : {}),
  };
  const session: Partial<Session> = { containers: () => [container] };
  return session as Session;
}

function feedQuery(params: string, pageSize = 1000): Query {
  const options = parseFeedOptions(set, new URLSearchParams(params));
  const plan = pageStatement(set, options, pageSize, true);
  assert.equal(plan.statement.kind, 'QueryStatement');
  return (plan.statement as { query: Query }).query;
}

async function collect(batches: AsyncIterable<RowBatch>): Promise<RowBatch[]> {
  const out: RowBatch[] = [];
  for await (const b of batches) out.push(b);
  return out;
}

describe('feed pass-through: when it applies', () => {
  const exact = { exact: true, order: true, limit: true };

  it('sends columns, filter, key order and $top to the provider and returns rows in select-list order', async () => {
    const requests: ScanRequest[] = [];
    const rows = directRows(fakeSession(exact, requests), set, feedQuery(`$select=code,amount&$filter=${encodeURIComponent("amount gt 1 and code ne 'B'")}&$top=2`), new AbortController().signal);
    assert.ok(rows, 'applies');
    const [request] = requests;
    assert.deepEqual(request.columns, ['code', 'amount', 'id']);
    assert.deepEqual(request.orderBy, [{ column: 'id', descending: false }]);
    assert.deepEqual(request.conjuncts, [
      { kind: 'compare', column: 'amount', op: '>', value: 1 },
      { kind: 'compare', column: 'code', op: '<>', value: 'B' },
    ]);
    assert.equal(request.limit, 3, '$top plus one, to know whether more follow');
    const batches = await collect(rows);
    assert.deepEqual(batches.map((b) => b.rows), [[['A', 1.5, 1], [null, 2.5, 2]], [['C', 3.5, 3]]]);
    assert.deepEqual(batches[0].columns, ['code', 'amount', 'id']);
  });

  it('falls back to the engine when the provider is not exact, does not order, or does not limit', () => {
    const q = feedQuery(`$filter=${encodeURIComponent('amount gt 1')}&$top=5`);
    const signal = new AbortController().signal;
    assert.equal(directRows(fakeSession({ exact: false, order: true, limit: true }, []), set, q, signal), undefined);
    assert.equal(directRows(fakeSession({ exact: true, order: false, limit: true }, []), set, q, signal), undefined);
    assert.equal(directRows(fakeSession({ exact: true, order: true, limit: false }, []), set, q, signal), undefined);
    assert.ok(directRows(fakeSession({ exact: true, order: true, limit: false }, []), set, feedQuery(`$filter=${encodeURIComponent('amount gt 1')}`), signal), 'no limit asked: fine');
  });

  it('falls back for local tables, $skip, functions and date literals in $filter, and $orderby on non-columns', () => {
    const signal = new AbortController().signal;
    assert.equal(directRows(fakeSession({ ...exact, local: true }, []), set, feedQuery(''), signal), undefined);
    assert.equal(directRows(fakeSession(exact, []), set, feedQuery('$skip=10'), signal), undefined);
    assert.equal(directRows(fakeSession(exact, []), set, feedQuery(`$filter=${encodeURIComponent('length(code) gt 1')}`), signal), undefined);
    assert.equal(directRows(fakeSession(exact, []), set, feedQuery(`$filter=${encodeURIComponent('amount add 1 gt 2')}`), signal), undefined);
    assert.ok(directRows(fakeSession(exact, []), set, feedQuery(`$orderby=amount desc`), signal));
  });
});

const PG = 'postgres://root@127.0.0.1:5432/test';

describe('feed pass-through: same rows as through the engine (PostgreSQL)', () => {
  const name = `sluice_pass_test_${randomBytes(4).toString('hex')}`;
  const entity = `test_public_${name}`;
  let f: Fixture;
  before(async () => {
    const client = new pg.Client({ connectionString: PG });
    await client.connect();
    await client.query(
      `create table ${name} (id integer primary key, division integer not null, code varchar(10), amount numeric(12,2), created date, stamp timestamp, big bigint, flag boolean)`,
    );
    await client.query(
      `insert into ${name} select g, 102673 + g % 3, case when g % 7 = 0 then null else 'C' || lpad(g::text, 4, '0') end, g * 1.25, date '2024-01-01' + g, timestamp '2024-01-01 10:00:00' + g * interval '1 hour', 9007199254740993 + g, g % 2 = 0 from generate_series(1, 53) g`,
    );
    await client.end();
    f = await fixture({
      server: { pageSize: 10 },
      prepare: async (tenancy) => {
        await tenancy.addDatabase('pgdb');
        await tenancy.addContainer('pgdb', 'pg', 'PostgreSQL', 'host=127.0.0.1;port=5432;database=test;user=root');
        await tenancy.grant('alice', 'pgdb');
      },
    });
  });
  after(async () => {
    await f.close();
    const client = new pg.Client({ connectionString: PG });
    await client.connect();
    await client.query(`drop table if exists ${name}`);
    await client.end();
  });

  it('gives every value the same as the engine path, page by page', async () => {
    // The same filter twice: once simple (straight from PostgreSQL), once with a no-op function the provider cannot take (through DuckDB).
    const direct = await readAll(f, `/pgdb/odata4/${entity}?$filter=${encodeURIComponent('division ne 102674 and id le 50')}`);
    const engine = await readAll(f, `/pgdb/odata4/${entity}?$filter=${encodeURIComponent('division ne 102674 and id le 50 and length(concat(\'x\', tolower(\'Y\'))) eq 2')}`);
    assert.equal(direct.rows.length, 33);
    assert.deepEqual(direct.rows, engine.rows);
    assert.equal(direct.pages, engine.pages);
    const row = direct.rows.find((r) => r.id === 2);
    const { big, ...rest } = row ?? {};
    assert.deepEqual(rest, { id: 2, division: 102675, code: 'C0002', amount: 2.5, created: '2024-01-03', stamp: '2024-01-01T12:00:00.000Z', flag: true });
    assert.equal(typeof big, 'number', 'a bigint beyond 2^53 is still a JSON number');
    assert.equal(direct.rows.find((r) => r.id === 14)?.code, null);
  });

  it('honours $top and $orderby the same way', async () => {
    const q = `$orderby=amount desc&$top=12&$select=id,code`;
    const direct = await readAll(f, `/pgdb/odata4/${entity}?${q}`);
    const engine = await readAll(f, `/pgdb/odata4/${entity}?${q}&$filter=${encodeURIComponent("length('ab') eq 2")}`);
    assert.equal(direct.rows.length, 12);
    assert.deepEqual(direct.rows, engine.rows);
    assert.deepEqual(direct.rows.slice(0, 2), [{ id: 53, code: 'C0053' }, { id: 52, code: 'C0052' }]);
  });
});

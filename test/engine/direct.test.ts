/**
 * Direct streaming (src/engine/direct.ts): which queries stream straight from
 * the provider and which go through DuckDB, that both paths give identical
 * results (columns, types, values, order), cancellation, and the explain line.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { openSession } from '../../src/engine/index.js';
import type { Session } from '../../src/engine/api.js';
import { parseScript } from '../../src/sql/index.js';
import { SluiceError } from '../../src/util/errors.js';
import type { Partition, RowBatch, ScanContext, ScanPlan, TableInfo, Value } from '../../src/provider/types.js';
import { FakeContainer, fakeProvider, runAll, type Collected } from './helpers.js';

/** A system table with every column type, its values in the loose shapes platforms send. */
const TYPED: TableInfo = {
  catalog: 'Fake',
  schema: 'System',
  name: 'Typed',
  columns: [
    { name: 'Id', type: 'integer', nullable: false },
    { name: 'Amount', type: 'decimal', nullable: true },
    { name: 'Price', type: 'decimal', precision: 10, scale: 2, nullable: true },
    { name: 'Big', type: 'bigint', nullable: true },
    { name: 'Rate', type: 'double', nullable: true },
    { name: 'Day', type: 'date', nullable: true },
    { name: 'At', type: 'timestamp', nullable: true },
    { name: 'Flag', type: 'boolean', nullable: true },
    { name: 'Ref', type: 'guid', nullable: true },
    { name: 'Label', type: 'varchar', nullable: true },
  ],
  key: ['Id'],
  scope: 'system',
  writable: { insert: false, update: false, delete: false },
};

const TYPED_ROWS: Value[][] = [
  [1, 211915.15, '12.345', 9007199254740993n, 1.5, new Date('2024-03-05T13:14:15Z'), new Date('2024-03-05T13:14:15.678Z'), true, 'a1b2c3d4-0000-0000-0000-000000000001', 'x'],
  [2, '12345678901234567890.1234567891', 7, '42', '2.25', '2024-12-31', '2024-12-31 23:59:59', 'yes', 'a1b2c3d4-0000-0000-0000-000000000002', 17],
  [3, -0.1, -0.005, -5, null, null, null, false, null, null],
  [4, 1e-7, 99999999.994, 0, 0, new Date('1999-01-01T00:00:00Z'), '2000-01-01T00:00:00.000Z', 0, 'g', new Date('2024-01-02T03:04:05Z')],
];

class TypedContainer extends FakeContainer {
  override tables(): readonly TableInfo[] {
    return [...super.tables(), TYPED];
  }

  override async *scan(plan: ScanPlan, partition: Partition | undefined, context: ScanContext): AsyncIterable<RowBatch> {
    if (plan.table.name !== 'Typed') {
      yield* super.scan(plan, partition, context);
      return;
    }
    yield { columns: TYPED.columns.map((c) => c.name), rows: TYPED_ROWS };
  }
}

let session: Session | undefined;
afterEach(async () => {
  await session?.close();
  session = undefined;
});

async function open(sortable = true): Promise<{ s: Session; fake: FakeContainer }> {
  const fp = fakeProvider();
  session = await openSession({ providers: [fp.provider], containers: [{ alias: 'eol', provider: 'Fake', options: {} }] });
  fp.containers[0].sortable = sortable;
  return { s: session, fake: fp.containers[0] };
}

async function isDirect(s: Session, sql: string): Promise<boolean> {
  const lines = (await runAll(s, `explain ${sql}`)).at(-1)!.lines ?? [];
  return lines.includes('streams directly from the provider (no local processing)');
}

async function last(s: Session, sql: string): Promise<Collected> {
  return (await runAll(s, sql)).at(-1)!;
}

/** The query's result both ways: direct (default) and forced through DuckDB. */
async function bothWays(s: Session, sql: string): Promise<{ direct: Collected; normal: Collected }> {
  const direct = await last(s, sql);
  await runAll(s, 'set direct-scan off');
  const normal = await last(s, sql);
  await runAll(s, 'set direct-scan on');
  return { direct, normal };
}

const DIRECT = [
  'select * from orders',
  'select OrderId, Amount from orders where amount > 30',
  'select o.OrderId, o.amount a from orders o where amount >= 20 and amount < 90 order by amount desc',
  'select orderid, customer from orders order by OrderId desc limit 3',
  'select top 2 OrderId from orders where Amount > 50 order by Amount',
  'select UserName, CurrentDivision from me',
];

const NOT_DIRECT = [
  // One inexact conjunct (status) among exact ones: DuckDB must re-apply it.
  "select OrderId from orders where amount > 30 and status = 'open'",
  // Unsupported predicate.
  "select OrderId from orders where customer = 'C1'",
  'select OrderId + 1 from orders',
  'select count(*) from orders',
  'select distinct customer from orders',
  'select customer, sum(amount) from orders group by customer',
  'select OrderId from orders order by OrderId limit 3 offset 2',
  'select o.OrderId from orders o join orders p on p.OrderId = o.OrderId',
  'select OrderId from orders union all select OrderId from orders',
  'select OrderId from orders where amount > (select 10 from dual)',
  'select OrderId from orders order by OrderId nulls first',
];

describe('direct streaming', () => {
  it('streams the queries the provider answers completely', async () => {
    const { s } = await open();
    for (const sql of DIRECT) assert.equal(await isDirect(s, sql), true, sql);
  });

  it('runs everything else through DuckDB', async () => {
    const { s } = await open();
    for (const sql of NOT_DIRECT) assert.equal(await isDirect(s, sql), false, sql);
  });

  it('is not direct when the provider cannot order, or when switched off', async () => {
    const { s } = await open(false);
    assert.equal(await isDirect(s, 'select OrderId from orders order by OrderId'), false);
    assert.equal(await isDirect(s, 'select OrderId from orders'), true);
    await runAll(s, 'set direct-scan off');
    assert.equal(await isDirect(s, 'select OrderId from orders'), false);
  });

  it('is not direct over more than one partition', async () => {
    const { s } = await open();
    await runAll(s, 'use all');
    assert.equal(await isDirect(s, 'select OrderId from orders'), false);
    assert.equal(await isDirect(s, 'select UserName from me'), true, 'a system table is scanned once wherever');
  });

  it('gives identical results both ways', async () => {
    const { s, fake } = await open();
    for (const sql of [...DIRECT, ...NOT_DIRECT]) {
      const { direct, normal } = await bothWays(s, sql);
      assert.deepEqual(direct.columns, normal.columns, sql);
      // Without ORDER BY the order is not part of the result (DuckDB's distinct and joins reorder freely).
      const ordered = /order by/i.test(sql);
      const canon = (rows: Collected['rows']) => (ordered ? rows : [...rows].sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y))));
      assert.deepEqual(canon(direct.rows), canon(normal.rows), sql);
      assert.ok(direct.result.kind === 'rows' && normal.result.kind === 'rows');
      assert.deepEqual(direct.result.columns, normal.result.columns, sql);
      assert.ok(direct.rows.length > 0, sql);
    }
    // The ordered direct query really asked the provider for the order.
    fake.log.scans.length = 0;
    await last(s, 'select OrderId from orders order by OrderId desc');
    assert.deepEqual(fake.log.scans[0].request.orderBy, [{ column: 'OrderId', descending: true }]);
  });

  it('gives the normal path results for a query with an inexact conjunct', async () => {
    const { s } = await open();
    const r = await last(s, "select OrderId, Status from orders where amount > 30 and status = 'open' order by OrderId");
    assert.deepEqual(r.rows, [
      [10104, 'open'],
      [10106, 'open'],
      [10108, 'open'],
    ]);
  });

  it('reports progress and the remote calls in the summary', async () => {
    const { s } = await open();
    const seen: number[] = [];
    const [r] = await runAll(s, 'select OrderId from orders where amount > 50', { onProgress: (p) => seen.push(p.rows) });
    assert.equal(r.rows.length, 5);
    assert.ok(r.result.kind === 'rows');
    const summary = r.result.summary();
    assert.equal(summary.rows, 5);
    assert.equal(summary.remoteCalls, 1);
    assert.ok(seen.length > 0 && seen.at(-1)! >= 5);
  });

  it('stops the provider scan on cancellation', async () => {
    const { s, fake } = await open();
    assert.equal(await isDirect(s, 'select N from endless'), true);
    const controller = new AbortController();
    await assert.rejects(
      runAll(s, 'select N from endless', {
        signal: controller.signal,
        onProgress: (p) => {
          if (p.rows >= 5) controller.abort();
        },
      }),
      (e: SluiceError) => e.code === 'ENG400',
    );
    assert.equal(fake.log.endlessStopped, true);
  });

  it('stops the provider scan when the consumer stops reading', async () => {
    const { s, fake } = await open();
    const result = await s.executeStatement(parseScript('select N from endless').statements[0]);
    assert.ok(result.kind === 'rows');
    let n = 0;
    for await (const b of result.batches) {
      n += b.rows.length;
      if (n >= 3) break;
    }
    assert.equal(fake.log.endlessStopped, true);
  });

  it('converts every column type as the DuckDB round trip does', async () => {
    session = await openSession({
      providers: [{ name: 'Fake', connect: async (config) => new TypedContainer(config.alias) }],
      containers: [{ alias: 'eol', provider: 'Fake', options: {} }],
    });
    for (const sql of ['select * from typed', 'select Label l, Ref, Price, Amount from typed']) {
      assert.equal(await isDirect(session, sql), true, sql);
      const { direct, normal } = await bothWays(session, sql);
      assert.ok(direct.result.kind === 'rows' && normal.result.kind === 'rows');
      assert.deepEqual(direct.result.columns, normal.result.columns, sql);
      assert.deepEqual(direct.rows, normal.rows, sql);
    }
  });

  it('refuses bad direct-scan values', async () => {
    const { s } = await open();
    await assert.rejects(runAll(s, 'set direct-scan maybe'), (e: SluiceError) => e.code === 'ENG042');
  });
});

/**
 * The engine against a fake remote platform: pushdown negotiation, partition
 * pruning, scopes, parallel scans, partition failures, cancellation, name
 * resolution across containers, writes to a remote table.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { openSession } from '../../src/engine/index.js';
import type { Session } from '../../src/engine/api.js';
import type { Progress } from '../../src/engine/api.js';
import type { Container, ScanPlan, ScanRequest, TableInfo } from '../../src/provider/types.js';
import { SluiceError } from '../../src/util/errors.js';
import { fakeProvider, ordersOf, rows, runAll, type FakeContainer } from './helpers.js';

let session: Session | undefined;
afterEach(async () => {
  await session?.close();
  session = undefined;
});

async function open(aliases = ['eol'], settings: Record<string, string> = {}): Promise<{ s: Session; fakes: FakeContainer[] }> {
  const fp = fakeProvider();
  session = await openSession({
    providers: [fp.provider],
    containers: aliases.map((alias) => ({ alias, provider: 'Fake', options: {} })),
    settings,
  });
  return { s: session, fakes: fp.containers };
}

describe('remote scans', () => {
  it('scans the default partition when no use was given', async () => {
    const { s, fakes } = await open();
    const r = await rows(s, 'select count(*), min(Division), max(Division) from orders');
    assert.deepEqual(r, [[10, 101, 101]]);
    assert.deepEqual(fakes[0].log.scans.map((x) => x.partition), ['101']);
  });

  it('asks only for the columns the statement needs', async () => {
    const { s, fakes } = await open();
    await rows(s, 'select customer from orders where amount > 50');
    assert.deepEqual([...fakes[0].log.scans[0].request.columns].sort(), ['Amount', 'Customer']);
  });

  it('re-applies inexact and unsupported conjuncts: results equal those without pushdown', async () => {
    const sql = "use all; select OrderId, Amount, Status from orders where amount >= 30 and status = 'open' and customer like 'C1%' order by OrderId";
    const a = await open();
    const pushed = (await runAll(a.s, sql)).at(-1)!.rows;
    const requests = a.fakes[0].log.scans.map((x) => x.request);
    assert.ok(requests.every((r) => r.conjuncts.length === 3));
    await a.s.close();
    const b = await open();
    await runAll(b.s, 'set pushdown@eol false');
    const plain = (await runAll(b.s, sql)).at(-1)!.rows;
    const expected = ['101', '102', '201']
      .flatMap(ordersOf)
      .filter((r) => (r[3] as number) >= 30 && r[4] === 'open' && String(r[2]).startsWith('C1'))
      .map((r) => [r[1], r[3], r[4]]);
    assert.deepEqual(pushed, expected);
    assert.deepEqual(plain, expected);
    assert.ok(expected.length > 0);
  });

  it('pushes inner-join ON conditions like WHERE, but nothing into the nullable side of an outer join', async () => {
    const { s, fakes } = await open();
    await runAll(s, "create table k@inmemorystorage (code varchar); insert into k@inmemorystorage values ('C1')");
    const inner = await rows(s, 'select count(*) from orders o join k on k.code = o.customer and o.amount >= 50');
    assert.deepEqual(fakes[0].log.scans[0].request.conjuncts, [{ kind: 'compare', column: 'Amount', op: '>=', value: 50 }]);
    assert.deepEqual(inner, [[2]]);
    const outer = await rows(s, 'select count(o.OrderId) from k left join orders o on k.code = o.customer and o.amount >= 50');
    assert.deepEqual(fakes[0].log.scans[1].request.conjuncts, []);
    assert.deepEqual(outer, [[2]]);
  });

  it('translates between, in, is null and or into predicates', async () => {
    const { s, fakes } = await open();
    await rows(s, "select OrderId from orders where amount between 20 and 40 and status in ('open', 'x') and customer is not null and (amount = 1 or amount = 2)");
    const kinds = fakes[0].log.scans[0].request.conjuncts.map((p) => p.kind);
    assert.deepEqual(kinds, ['compare', 'compare', 'in', 'isnull', 'or']);
  });

  it('offers constants in the column\'s type, and keeps type-changing comparisons local', async () => {
    const { s, fakes } = await open();
    await rows(s, "select OrderId from orders where amount = '20' and customer = 5 and status like 'o%'");
    assert.deepEqual(fakes[0].log.scans[0].request.conjuncts, [
      { kind: 'compare', column: 'Amount', op: '=', value: 20 },
      { kind: 'like', column: 'Status', pattern: 'o%', not: false },
    ]);
  });

  it('pushes a limit only when every conjunct is exact in a single-table select', async () => {
    const { s, fakes } = await open();
    assert.equal((await rows(s, 'select OrderId from orders where amount > 10 limit 3')).length, 3);
    assert.equal(fakes[0].log.scans[0].request.limit, 3);
    assert.equal((await rows(s, "select OrderId from orders where status = 'open' limit 3")).length, 3);
    assert.equal(fakes[0].log.scans[1].request.limit, undefined);
  });

  it('sends order by with the limit, and keeps both local when the provider cannot sort', async () => {
    const { s, fakes } = await open();
    assert.deepEqual(await rows(s, 'select OrderId from orders where amount > 10 order by amount desc limit 2'), [[10109], [10108]]);
    assert.equal(fakes[0].log.scans[0].request.limit, undefined);
    fakes[0].sortable = true;
    assert.deepEqual(await rows(s, 'select OrderId from orders where amount > 10 order by amount desc limit 2'), [[10109], [10108]]);
    assert.equal(fakes[0].log.scans[1].request.limit, 2);
    assert.deepEqual(fakes[0].log.scans[1].request.orderBy, [{ column: 'Amount', descending: true }]);
    await rows(s, 'select -amount amount from orders order by amount limit 2');
    assert.equal(fakes[0].log.scans[2].request.limit, undefined);
  });

  it('prunes partitions with partition column = and in', async () => {
    const { s, fakes } = await open();
    await runAll(s, 'use all');
    const r = await rows(s, 'select distinct Division from orders where Division in (102, 201) order by 1');
    assert.deepEqual(r, [[102], [201]]);
    assert.deepEqual(fakes[0].log.scans.map((x) => x.partition).sort(), ['102', '201']);
  });

  it('fetches subscription tables once per subscription and system tables once', async () => {
    const { s, fakes } = await open();
    await runAll(s, 'use 101, 102, 201');
    const r = await rows(s, 'select Code from customers order by Code');
    assert.deepEqual(r, [['K-subA'], ['K-subB']]);
    assert.deepEqual(fakes[0].log.scans.map((x) => x.partition).sort(), ['101', '201']);
    await rows(s, 'select * from me');
    assert.equal(fakes[0].log.scans.at(-1)!.partition, undefined);
  });

  it('bounds parallel scans by the parallelism setting', async () => {
    const { s, fakes } = await open(['eol'], { parallelism: '2' });
    await runAll(s, 'use 101, 102, 201');
    await rows(s, 'select count(*) from orders');
    assert.equal(fakes[0].log.maxInFlight, 2);
    fakes[0].log.maxInFlight = 0;
    await runAll(s, 'set parallelism 1');
    await rows(s, 'select count(*) from orders');
    assert.equal(fakes[0].log.maxInFlight, 1);
  });

  it('reports a failing partition, leaves out the rows it sent before failing, and returns the others', async () => {
    const { s } = await open();
    const res = await runAll(s, 'use all; select count(*) from orders');
    assert.deepEqual(res[1].rows, [[30]]);
    const summary = res[1].result.summary();
    assert.equal(summary.failedPartitions.length, 1);
    assert.equal(summary.failedPartitions[0].partition, '999');
    assert.match(summary.failedPartitions[0].message, /HTTP 500/);
  });

  it('fails the statement on a failing partition with partition-failure = error', async () => {
    const { s } = await open();
    await assert.rejects(runAll(s, 'use all; set partition-failure error; select count(*) from orders'), (e: SluiceError) => {
      assert.equal(e.code, 'ENG210');
      assert.equal(e.details.container, 'eol');
      assert.equal(e.details.partition, '999');
      return true;
    });
  });

  it('reports progress and counts remote calls', async () => {
    const { s } = await open();
    const seen: Progress[] = [];
    const res = await runAll(s, 'use 101, 102; select count(*) from orders', { onProgress: (p) => seen.push(p) });
    assert.ok(seen.some((p) => p.partitionsDone === 2 && p.partitionsTotal === 2 && p.rows === 20));
    assert.equal(res[1].result.summary().remoteCalls, 2);
  });

  it('cancellation stops scans in flight', async () => {
    const { s, fakes } = await open();
    const controller = new AbortController();
    await assert.rejects(
      runAll(s, 'select count(*) from endless', {
        signal: controller.signal,
        onProgress: (p) => {
          if (p.rows >= 5) controller.abort();
        },
      }),
      (e: SluiceError) => e.code === 'ENG400',
    );
    assert.equal(fakes[0].log.endlessStopped, true);
  });

  it('use with a query: first column the code, second the container', async () => {
    const { s, fakes } = await open(['eol', 'other']);
    await runAll(s, "create table pick@inmemorystorage (code varchar, c varchar); insert into pick@inmemorystorage values ('102', 'eol'), ('201', 'other')");
    await runAll(s, 'use select code, c from pick');
    await rows(s, 'select count(*) from orders@eol');
    await rows(s, 'select count(*) from orders@other');
    assert.deepEqual(fakes[0].log.scans.map((x) => x.partition), ['102']);
    assert.deepEqual(fakes[1].log.scans.map((x) => x.partition), ['201']);
  });

  it('use replaces the selection only for the containers it names', async () => {
    const { s, fakes } = await open(['eol', 'other']);
    await runAll(s, 'use all@other; use 102@eol');
    await rows(s, 'select count(*) from orders@eol');
    await rows(s, 'select count(*) from orders@other');
    assert.deepEqual(fakes[0].log.scans.map((x) => x.partition), ['102']);
    assert.equal(fakes[1].log.scans.length, 4);
    await assert.rejects(runAll(s, 'use 555'), (e: SluiceError) => e.code === 'ENG031');
  });

  it('use all skips, with a warning, a container that cannot list its partitions', async () => {
    const { s, fakes } = await open(['eol', 'down']);
    fakes[1].partitionsError = new Error('platform offline');
    const res = await runAll(s, 'use all; select count(*) from orders@eol');
    assert.match(res[0].result.summary().warnings.join('\n'), /down was skipped: platform offline/);
    assert.deepEqual(res[1].rows, [[30]]);
    await assert.rejects(runAll(s, 'use all@down'), /platform offline/);
  });

  it('explains pushdown, scope, partitions and estimated calls', async () => {
    const { s } = await open();
    const r = await runAll(s, "use 101, 102; explain select OrderId from orders where amount > 10 and status = 'open'");
    const text = r[1].lines!.join('\n');
    assert.match(text, /Fake\.Sales\.Orders@eol/);
    assert.match(text, /partitioned: once per selected partition \(2 of 2/);
    assert.match(text, /Amount > 10 — exact/);
    assert.match(text, /Status = 'open' — inexact \(re-applied locally\)/);
    assert.match(text, /estimated remote calls: 4 \(2 × 2 scans\)/);
    assert.equal(r[0].message, 'Using 2 partitions on eol.');
    assert.match(text, /GET \/fake\/Orders/);
  });

  it('joins a remote table with an in-memory table', async () => {
    const { s } = await open();
    await runAll(s, "create table names@inmemorystorage (code varchar, label varchar); insert into names@inmemorystorage values ('C0', 'zero'), ('C1', 'one')");
    const r = await rows(s, 'select n.label, count(*) from orders o join names n on n.code = o.customer group by n.label order by 1');
    assert.deepEqual(r, [['one', 3], ['zero', 4]]);
  });
});

describe('name resolution across containers', () => {
  it('says a name is ambiguous and lists candidates', async () => {
    const { s } = await open(['eol', 'other']);
    await assert.rejects(runAll(s, 'select *\n  from orders'), (e: SluiceError) => {
      assert.equal(e.code, 'ENG021');
      assert.match(e.message, /Fake\.Sales\.Orders@eol/);
      assert.match(e.message, /Fake\.Sales\.Orders@other/);
      assert.equal(e.details.location?.line, 2);
      return true;
    });
  });

  it('resolves schema.name, catalog.schema.name, catalog..name and aliases', async () => {
    const { s } = await open();
    for (const name of ['sales.orders', 'fake.sales.orders', 'fake..orders', 'salesorders', 'ORDERS@EOL']) {
      assert.deepEqual(await rows(s, `select count(*) from ${name}`), [[10]], name);
    }
  });

  it('suggests a table for a misspelt name and a container for a misspelt alias', async () => {
    const { s } = await open();
    await assert.rejects(runAll(s, 'select * from ordres'), (e: SluiceError) => e.code === 'ENG020' && /Orders/.test(e.details.hint ?? ''));
    await assert.rejects(runAll(s, 'select * from orders@eool'), (e: SluiceError) => e.code === 'ENG022' && /@eol/.test(e.details.hint ?? ''));
  });
});

describe('writes to a remote table', () => {
  it('inserts rows grouped by partition', async () => {
    const { s, fakes } = await open();
    const res = await runAll(s, "use 101, 102; insert into orders@eol (Division, OrderId, Customer, Amount) values (101, 1, 'a', 5), (102, 2, 'b', 6), (101, 3, 'c', 7)");
    assert.equal(res[1].message, '3 rows inserted into Orders@eol.');
    const byPartition = Object.fromEntries(fakes[0].log.writes.map((w) => [w.partition, w.rows.length]));
    assert.deepEqual(byPartition, { '101': 2, '102': 1 });
  });

  it('fails clearly when rows fail, saying how many were written', async () => {
    const { s } = await open();
    await assert.rejects(runAll(s, "insert into orders@eol (Division, OrderId, Customer) values (101, 1, 'ok'), (101, 2, 'bad')"), (e: SluiceError) => {
      assert.equal(e.code, 'ENG310');
      assert.match(e.message, /1 of 2 rows written/);
      assert.equal(e.details.rowKey, 'OrderId=2');
      assert.equal(e.details.partition, '101');
      return true;
    });
  });

  it('updates by key, computing new values locally', async () => {
    const { s, fakes } = await open();
    const res = await runAll(s, 'update orders@eol set amount = amount * 2 where OrderId in (10101, 10102)');
    assert.equal(res[0].result.kind === 'done' && res[0].result.rowsAffected, 2);
    const w = fakes[0].log.writes[0];
    assert.equal(w.op, 'update');
    assert.equal(w.partition, '101');
    assert.deepEqual(w.columns, ['OrderId', 'Amount']);
    assert.deepEqual(w.rows, [[10101, 40], [10102, 60]]);
  });

  it('deletes by key', async () => {
    const { s, fakes } = await open();
    await runAll(s, 'delete from orders@eol where amount > 90');
    const w = fakes[0].log.writes[0];
    assert.equal(w.op, 'delete');
    assert.deepEqual(w.columns, ['OrderId']);
    assert.deepEqual(w.rows, [[10109]]);
  });

  it('copies remote rows into in-memory storage with create table as select', async () => {
    const { s } = await open();
    const res = await runAll(s, 'use all; create table snap@inmemorystorage as select * from orders; select count(*), count(distinct Division) from snap');
    assert.deepEqual(res[2].rows, [[30, 3]]);
  });
});

describe('data dictionary', () => {
  it('lists tables, partitions, settings and remote calls', async () => {
    const { s } = await open();
    await runAll(s, 'use 101, 201; select count(*) from orders');
    assert.deepEqual(await rows(s, "select scope, partition_column from systemtables where container = 'eol' and name = 'Orders'"), [['partitioned', 'Division']]);
    assert.deepEqual(await rows(s, "select partition_id, selected from systempartitions where container = 'eol' order by 1"), [['101', true], ['102', false], ['201', true], ['999', false]]);
    const calls = await rows(s, 'select container, partition_id, url from sessionios order by partition_id');
    assert.deepEqual(calls.map((c) => c[1]), ['101', '201']);
    assert.deepEqual(await rows(s, "select value from systemsettings where name = 'parallelism'"), [['8']]);
    assert.deepEqual(await rows(s, "select count(*) from systemcolumns where container = 'eol' and table_name = 'Orders'"), [[5]]);
  });
});

describe('table functions', () => {
  it('describes the call for its arguments, then scans with them', async () => {
    const fn: TableInfo = {
      catalog: 'Fn', schema: 'Functions', name: 'series', columns: [], key: [], scope: 'system',
      writable: { insert: false, update: false, delete: false },
      parameters: [{ name: 'n', type: 'integer', required: true }],
    };
    const seen: unknown[] = [];
    const container = {
      alias: 'fn', providerName: 'Fn',
      tables: () => [fn],
      partitions: async () => [],
      describe: async (t: TableInfo, args: readonly unknown[]) => ({ ...t, columns: [{ name: `x${String(args[0])}`, type: 'integer' as const, nullable: false }] }),
      plan: (table: TableInfo, request: ScanRequest): ScanPlan => {
        seen.push(request.arguments);
        return { table, request, conjuncts: request.conjuncts.map(() => 'unsupported' as const), limitApplied: false, orderApplied: false, estimatedCallsPerPartition: 0, explain: [] };
      },
      async *scan(plan: ScanPlan) {
        const n = Number(plan.request.arguments![0]);
        yield { columns: [plan.table.columns[0].name], rows: Array.from({ length: n }, (_, i) => [i + 1]) };
      },
      close: async () => {},
    } as Container;
    session = await openSession({ providers: [{ name: 'Fn', connect: async () => container }], containers: [{ alias: 'fn', provider: 'Fn', options: {} }] });
    assert.deepEqual(await rows(session, 'select sum(x4) from series(4)@fn'), [[10]]);
    assert.deepEqual(seen, [[4]]);
    await assert.rejects(runAll(session, 'select y from series(4)@fn'), (e: SluiceError) => e.code === 'ENG023' && /x4/.test(e.details.hint ?? ''));
  });
});

describe('seed 001 shapes', () => {
  it('copies remote rows into in-memory storage with keyword aliases and ||', async () => {
    const { s } = await open();
    const res = await runAll(
      s,
      `use 102@eol

create or replace table exactaccounts@inmemorystorage
as
select to_char(OrderId) number
,   Customer name
,   'EOL-' || to_char(OrderId) accountreference
from  fake..orders@eol

select number, name, accountreference from exactaccounts@inmemorystorage where number = '10200'`,
    );
    assert.equal(res[1].message, 'Table exactaccounts@inmemorystorage created with 10 rows.');
    assert.deepEqual(res[2].rows, [['10200', 'C0', 'EOL-10200']]);
  });
});

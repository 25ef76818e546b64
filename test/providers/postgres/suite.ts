/**
 * The behaviour PostgreSQL and MariaDB containers share, as one suite run
 * against each real server: types round trip, pushdown of every predicate
 * kind (checked in the generated SQL and in the rows the server returned),
 * order and limit, 100,000 rows streamed in bounded batches, per-row write
 * failures, update/delete by key, DDL, aborting a running query, and
 * passwords kept out of messages. Each run uses its own table names and
 * drops them afterwards.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Container, Predicate, Provider, RowResult, TableInfo, Value } from '../../../src/provider/types.js';
import { SluiceError } from '../../../src/util/errors.js';
import { collect, testEnv, uniqueName } from '../env.js';

export interface RawDb {
  exec(sql: string): Promise<void>;
  /** Rows of a query as arrays. */
  rows(sql: string): Promise<unknown[][]>;
  close(): Promise<void>;
}

export interface SuiteOptions {
  readonly provider: Provider;
  readonly options: Record<string, string>;
  readonly raw: () => Promise<RawDb>;
  readonly quote: (name: string) => string;
  /** Text comparisons are case-insensitive (MariaDB): pushed inexact or not at all. */
  readonly caseInsensitiveText: boolean;
  /** SQL for a view whose rows take `seconds` to compute. */
  readonly slowView: (name: string, seconds: number) => string;
  /** SQL that fills table(n) with 1..count. */
  readonly fillSeries: (table: string, count: number) => string;
  /** SQL listing running statements that mention `marker` (other than the asking one). */
  readonly runningLike: (marker: string) => string;
  /** Options that point at a closed port, with a password in them. */
  readonly unreachable: Record<string, string>;
  /** numeric_precision and numeric_scale the database gives a decimal created without them. */
  readonly plainDecimal: readonly [number | null, number | null];
}

export function sqlProviderSuite(s: SuiteOptions): void {
  const env = testEnv();
  let c: Container;
  let raw: RawDb;
  const created: string[] = [];
  const name = (prefix: string) => {
    const n = uniqueName(`sluice_${prefix}`);
    created.push(n);
    return n;
  };
  const signal = () => new AbortController().signal;
  const refresh = async () => (c as unknown as { refresh(): Promise<void> }).refresh();
  const find = (n: string): TableInfo => {
    const t = c.tables().find((x) => x.name.toLowerCase() === n.toLowerCase());
    assert.ok(t, `table ${n} in the catalog`);
    return t;
  };
  const scan = async (t: TableInfo, columns: string[], conjuncts: Predicate[] = [], extra: { limit?: number; orderBy?: { column: string; descending: boolean }[] } = {}) => {
    const plan = c.plan(t, { columns, conjuncts, ...extra });
    const before = env.log.calls.length;
    const rows = await collect(c.scan(plan, undefined, { signal: signal() }));
    const call = env.log.calls.slice(before).at(-1);
    return { plan, rows, call };
  };
  const writeAll = async (t: TableInfo, op: 'insert' | 'update' | 'delete', columns: string[], rows: Value[][]): Promise<RowResult[]> => {
    const out: RowResult[] = [];
    for await (const r of c.write!(t, { op, rows: { columns, rows }, signal: signal() })) out.push(r);
    return out.sort((a, b) => a.index - b.index);
  };

  // A keyed table with every type, shared by the read tests.
  const people = uniqueName('sluice_people');
  created.push(people);

  before(async () => {
    raw = await s.raw();
    c = await s.provider.connect({ alias: 'db', provider: s.provider.name, options: s.options }, env);
    await c.createTable!(
      people,
      [
        { name: 'id', type: 'integer', nullable: false },
        { name: 'big', type: 'bigint', nullable: true },
        { name: 'amount', type: 'decimal', nullable: true },
        { name: 'name', type: 'varchar', nullable: true, maxLength: 100 },
        { name: 'born', type: 'date', nullable: true },
        { name: 'seen', type: 'timestamp', nullable: true },
        { name: 'active', type: 'boolean', nullable: true },
      ],
      { orReplace: false, ifNotExists: false },
    );
    await raw.exec(`ALTER TABLE ${s.quote(people)} ADD PRIMARY KEY (${s.quote('id')})`);
    await refresh();
    const results = await writeAll(find(people), 'insert', ['id', 'big', 'amount', 'name', 'born', 'seen', 'active'], [
      [1, 9007199254740993n, 1234.56, 'Zoë Ærøskøbing ✓', new Date(Date.UTC(1980, 1, 29)), new Date(Date.UTC(2024, 10, 25, 9, 30, 15, 250)), true],
      [2, -5, -0.5, 'abc', new Date(Date.UTC(2000, 0, 1)), new Date(Date.UTC(2000, 0, 1, 23, 59, 59)), false],
      [3, null, null, null, null, null, null],
      [4, 7, 10, 'ABC', new Date(Date.UTC(2024, 0, 1)), null, true],
      [5, 8, 20, 'abd', null, null, false],
    ]);
    assert.ok(results.every((r) => r.ok), JSON.stringify(results));
  });

  after(async () => {
    for (const n of created) await raw.exec(`DROP TABLE IF EXISTS ${s.quote(n)}`).catch(() => undefined);
    await raw.exec(`DROP VIEW IF EXISTS ${s.quote('sluice_slow_view_' + process.pid)}`).catch(() => undefined);
    await c?.close();
    await raw?.close();
  });

  test('the catalog lists tables with mapped types and the primary key, scope system', () => {
    const t = find(people);
    assert.equal(t.scope, 'system');
    assert.equal(t.catalog, 'test');
    assert.deepEqual(t.key, ['id']);
    assert.deepEqual(
      t.columns.map((x) => [x.name, x.type]),
      [
        ['id', 'integer'],
        ['big', 'bigint'],
        ['amount', 'decimal'],
        ['name', 'varchar'],
        ['born', 'date'],
        ['seen', 'timestamp'],
        ['active', 'boolean'],
      ],
    );
    assert.deepEqual(t.writable, { insert: true, update: true, delete: true });
  });

  test('values round trip with their types: bigint beyond 2^53, decimals, unicode, dates, timestamps, booleans, null', async () => {
    const { rows } = await scan(find(people), ['id', 'big', 'amount', 'name', 'born', 'seen', 'active'], [], { orderBy: [{ column: 'id', descending: false }] });
    assert.deepEqual(rows.slice(0, 3), [
      [1, 9007199254740993n, 1234.56, 'Zoë Ærøskøbing ✓', new Date(Date.UTC(1980, 1, 29)), new Date(Date.UTC(2024, 10, 25, 9, 30, 15, 250)), true],
      [2, -5, -0.5, 'abc', new Date(Date.UTC(2000, 0, 1)), new Date(Date.UTC(2000, 0, 1, 23, 59, 59)), false],
      [3, null, null, null, null, null, null],
    ]);
  });

  const ids = (rows: (readonly Value[])[]) => rows.map((r) => r[0]).sort((a, b) => Number(a) - Number(b));

  test('comparisons, in, is null and and/or run on the server with bind parameters', async () => {
    const t = find(people);
    const cases: [Predicate, number[]][] = [
      [{ kind: 'compare', column: 'id', op: '=', value: 2 }, [2]],
      [{ kind: 'compare', column: 'id', op: '<>', value: 2 }, [1, 3, 4, 5]],
      [{ kind: 'compare', column: 'amount', op: '<', value: 10 }, [2]],
      [{ kind: 'compare', column: 'amount', op: '<=', value: 10 }, [2, 4]],
      [{ kind: 'compare', column: 'big', op: '>', value: 9007199254740992n }, [1]],
      [{ kind: 'compare', column: 'born', op: '>=', value: new Date(Date.UTC(2000, 0, 1)) }, [2, 4]],
      [{ kind: 'compare', column: 'seen', op: '>', value: new Date(Date.UTC(2024, 10, 25, 9, 30, 15, 0)) }, [1]],
      [{ kind: 'compare', column: 'active', op: '=', value: true }, [1, 4]],
      [{ kind: 'in', column: 'id', values: [1, 3, 99], not: false }, [1, 3]],
      [{ kind: 'in', column: 'id', values: [1, 3], not: true }, [2, 4, 5]],
      [{ kind: 'isnull', column: 'big', not: false }, [3]],
      [{ kind: 'isnull', column: 'big', not: true }, [1, 2, 4, 5]],
      [{ kind: 'or', predicates: [{ kind: 'compare', column: 'id', op: '=', value: 1 }, { kind: 'isnull', column: 'amount', not: false }] }, [1, 3]],
      [
        {
          kind: 'and',
          predicates: [
            { kind: 'compare', column: 'id', op: '>', value: 1 },
            { kind: 'compare', column: 'active', op: '=', value: false },
          ],
        },
        [2, 5],
      ],
    ];
    for (const [p, expected] of cases) {
      const { plan, rows, call } = await scan(t, ['id'], [p]);
      const what = JSON.stringify(p, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
      assert.deepEqual(plan.conjuncts, ['exact'], what);
      assert.deepEqual(ids(rows), expected, what);
      const sql = plan.explain.find((l) => l.startsWith('SQL:')) ?? '';
      assert.match(sql, / WHERE /, 'the predicate is in the SQL');
      assert.doesNotMatch(sql, /9007199254740992|'|2000-01-01/, 'values travel as bind parameters, not in the text');
      assert.equal(call?.rows, expected.length, 'the server returned only the matching rows');
      assert.equal(call?.method, 'SQL');
    }
  });

  test('LIKE is pushed; on case-insensitive text it is inexact and returns a superset', async () => {
    const t = find(people);
    const { plan, rows } = await scan(t, ['id', 'name'], [{ kind: 'like', column: 'name', pattern: 'ab%', not: false }]);
    if (s.caseInsensitiveText) {
      assert.deepEqual(plan.conjuncts, ['inexact']);
      assert.deepEqual(ids(rows), [2, 4, 5]);
    } else {
      assert.deepEqual(plan.conjuncts, ['exact']);
      assert.deepEqual(ids(rows), [2, 5]);
      const notLike = await scan(t, ['id'], [{ kind: 'like', column: 'name', pattern: '%b_', not: true }]);
      assert.deepEqual(ids(notLike.rows), [1, 4]);
    }
    // A backslash is an ordinary character in the engine's LIKE.
    await writeAll(t, 'insert', ['id', 'name'], [[30, 'x\\y_z']]);
    const backslash = await scan(t, ['id'], [{ kind: 'like', column: 'name', pattern: 'x\\y%', not: false }]);
    assert.deepEqual(backslash.plan.conjuncts, [s.caseInsensitiveText ? 'unsupported' : 'exact']);
    if (!s.caseInsensitiveText) assert.deepEqual(ids(backslash.rows), [30]);
    await writeAll(t, 'delete', ['id'], [[30]]);
    const eq = await scan(t, ['id'], [{ kind: 'compare', column: 'name', op: '=', value: 'abc' }]);
    assert.deepEqual(eq.plan.conjuncts, [s.caseInsensitiveText ? 'inexact' : 'exact']);
    assert.deepEqual(ids(eq.rows), s.caseInsensitiveText ? [2, 4] : [2]);
    const range = await scan(t, ['id'], [{ kind: 'compare', column: 'name', op: '>', value: 'abc' }]);
    if (s.caseInsensitiveText) assert.deepEqual(range.plan.conjuncts, ['unsupported']);
    else assert.deepEqual(ids(range.rows), [5], 'binary order, as the engine compares: Z < a, ABC < abc < abd');
  });

  test('order (NULLs last ascending, first descending) and limit are pushed when every filter is exact', async () => {
    const t = find(people);
    const desc = await scan(t, ['id', 'big'], [], { orderBy: [{ column: 'big', descending: true }], limit: 3 });
    assert.equal(desc.plan.orderApplied, true);
    assert.equal(desc.plan.limitApplied, true);
    assert.deepEqual(desc.rows, [
      [3, null],
      [1, 9007199254740993n],
      [5, 8],
    ]);
    assert.equal(desc.call?.rows, 3);
    const asc = await scan(t, ['id'], [{ kind: 'compare', column: 'id', op: '>', value: 1 }], { orderBy: [{ column: 'amount', descending: false }], limit: 10 });
    assert.deepEqual(asc.rows, [[2], [4], [5], [3]]);
    if (s.caseInsensitiveText) {
      const inexact = c.plan(t, { columns: ['id'], conjuncts: [{ kind: 'like', column: 'name', pattern: 'a%', not: false }], limit: 1 });
      assert.equal(inexact.limitApplied, false, 'no limit under a filter the engine must re-apply');
      const byText = c.plan(t, { columns: ['id'], conjuncts: [], orderBy: [{ column: 'name', descending: false }], limit: 1 });
      assert.equal(byText.orderApplied, false);
      assert.equal(byText.limitApplied, false);
    }
  });

  test('a scan with no columns (count(*)) returns empty rows', async () => {
    const { rows } = await scan(find(people), [], []);
    assert.equal(rows.length, 5);
    assert.deepEqual(rows[0], []);
  });

  test('100,000 rows stream in batches no larger than the batch size', async () => {
    const big = name('big');
    await c.createTable!(big, [{ name: 'n', type: 'integer', nullable: false }], { orReplace: false, ifNotExists: false });
    await raw.exec(s.fillSeries(big, 100000));
    const t = find(big);
    assert.equal(c.setOption!('batchsize', '4000'), true);
    assert.equal(c.setOption!('batchsize', 'many'), false);
    const plan = c.plan(t, { columns: ['n'], conjuncts: [] });
    let count = 0;
    let sum = 0;
    let batches = 0;
    let largest = 0;
    for await (const b of c.scan(plan, undefined, { signal: signal() })) {
      batches++;
      largest = Math.max(largest, b.rows.length);
      count += b.rows.length;
      for (const r of b.rows) sum += r[0] as number;
    }
    assert.equal(count, 100000);
    assert.equal(sum, (100000 * 100001) / 2);
    assert.equal(largest, 4000, 'batches are as large as set, no larger');
    assert.equal(batches, 25);
    c.setOption!('batchsize', '5000');
  });

  test('stopping a scan early releases its connection', async () => {
    const big = find(c.tables().find((x) => x.name.startsWith('sluice_big'))?.name ?? people);
    for (let i = 0; i < 6; i++) {
      for await (const _b of c.scan(c.plan(big, { columns: ['n'], conjuncts: [] }), undefined, { signal: signal() })) break;
    }
    // More early stops than pooled connections: the pool still answers.
    const { rows } = await scan(find(people), ['id'], [{ kind: 'compare', column: 'id', op: '=', value: 1 }]);
    assert.deepEqual(rows, [[1]]);
  });

  test('a failing row is named with its key and reason; the other rows are written', async () => {
    const t = find(people);
    const results = await writeAll(t, 'insert', ['id', 'name', 'amount'], [
      [10, 'ok one', 1],
      [10, 'duplicate key', 2],
      [11, 'ok two', 3],
      [12, 'x'.repeat(101), 4],
    ]);
    assert.deepEqual(
      results.map((r) => [r.index, r.ok]),
      [
        [0, true],
        [1, false],
        [2, true],
        [3, false],
      ],
    );
    assert.equal(results[1].key, 'id=10');
    assert.match(results[1].message ?? '', /duplicate|unique/i);
    assert.equal(results[3].key, 'id=12');
    const { rows } = await scan(t, ['id', 'name'], [{ kind: 'in', column: 'id', values: [10, 11, 12], not: false }]);
    assert.deepEqual(rows.sort((a, b) => Number(a[0]) - Number(b[0])), [
      [10, 'ok one'],
      [11, 'ok two'],
    ]);
  });

  test('a NOT NULL violation names the row', async () => {
    const t = find(people);
    const results = await writeAll(t, 'insert', ['id', 'name'], [
      [20, 'fine'],
      [null, 'no id'],
    ]);
    assert.equal(results[0].ok, true);
    assert.equal(results[1].ok, false);
    assert.equal(results[1].index, 1);
    assert.match(results[1].message ?? '', /null/i);
    assert.match(results[1].key ?? '', /id=null/);
  });

  test('update and delete by key, with a clear answer for a missing key', async () => {
    const t = find(people);
    const upd = await writeAll(t, 'update', ['id', 'name', 'active'], [
      [20, 'renamed', true],
      [999, 'ghost', false],
    ]);
    assert.deepEqual(upd.map((r) => r.ok), [true, false]);
    assert.equal(upd[1].key, 'id=999');
    assert.equal(upd[1].code, 'NOT_FOUND');
    const after1 = await scan(t, ['name', 'active'], [{ kind: 'compare', column: 'id', op: '=', value: 20 }]);
    assert.deepEqual(after1.rows, [['renamed', true]]);
    const del = await writeAll(t, 'delete', ['id'], [[20], [10], [11]]);
    assert.ok(del.every((r) => r.ok));
    const after2 = await scan(t, ['id'], [{ kind: 'in', column: 'id', values: [10, 11, 20], not: false }]);
    assert.deepEqual(after2.rows, []);
  });

  test('create table: if not exists keeps, or replace recreates, plain create refuses an existing table; drop', async () => {
    const n = name('ddl');
    const t1 = await c.createTable!(n, [{ name: 'a', type: 'integer', nullable: true }], { orReplace: false, ifNotExists: false });
    await writeAll(t1, 'insert', ['a'], [[1]]);
    const kept = await c.createTable!(n, [{ name: 'b', type: 'varchar', nullable: true }], { orReplace: false, ifNotExists: true });
    assert.deepEqual(kept.columns.map((x) => x.name), ['a']);
    await assert.rejects(
      c.createTable!(n, [{ name: 'b', type: 'varchar', nullable: true }], { orReplace: false, ifNotExists: false }),
      (e: unknown) => e instanceof SluiceError && e.code === 'SQL030',
    );
    const replaced = await c.createTable!(
      n,
      [
        { name: 'b', type: 'varchar', nullable: true },
        { name: 'g', type: 'guid', nullable: true },
        { name: 'd', type: 'double', nullable: true },
      ],
      { orReplace: true, ifNotExists: false },
    );
    assert.deepEqual(replaced.columns.map((x) => [x.name, x.type]), [
      ['b', 'varchar'],
      ['g', 'guid'],
      ['d', 'double'],
    ]);
    assert.deepEqual((await scan(replaced, ['b'])).rows, []);
    await writeAll(replaced, 'insert', ['b', 'g', 'd'], [['x', '3f2504e0-4f89-11d3-9a0c-0305e82c3301', 0.1]]);
    assert.deepEqual((await scan(replaced, ['b', 'g', 'd'])).rows, [['x', '3f2504e0-4f89-11d3-9a0c-0305e82c3301', 0.1]]);
    await c.dropTable!(n, { ifExists: false });
    assert.equal(c.tables().some((x) => x.name.toLowerCase() === n.toLowerCase()), false);
    await c.dropTable!(n, { ifExists: true });
    await assert.rejects(c.dropTable!(n, { ifExists: false }), (e: unknown) => e instanceof SluiceError && e.code === 'SQL033');
  });

  // What QA found: keys, declared sizes, refusals, drops and exact decimals.
  const columnFacts = async (table: string) =>
    (
      await raw.rows(
        `SELECT column_name, character_maximum_length, numeric_precision, numeric_scale FROM information_schema.columns WHERE table_name = '${table}' ORDER BY ordinal_position`,
      )
    ).map((r) => [String(r[0]), r[1] === null ? null : Number(r[1]), r[2] === null ? null : Number(r[2]), r[3] === null ? null : Number(r[3])]);

  test('create table honours the key, varchar(n) and decimal(p,s), so update by key works', async () => {
    const n = name('keyed');
    const t = await c.createTable!(
      n,
      [
        { name: 'code', type: 'varchar', nullable: false, maxLength: 20 },
        { name: 'saldo', type: 'decimal', nullable: true, precision: 12, scale: 2 },
        { name: 'plain', type: 'decimal', nullable: true },
        { name: 'note', type: 'varchar', nullable: true },
      ],
      { orReplace: false, ifNotExists: false, key: ['code'] },
    );
    assert.deepEqual(t.key, ['code']);
    assert.deepEqual(t.writable, { insert: true, update: true, delete: true });
    const facts = await columnFacts(t.name);
    assert.deepEqual(facts[0].slice(0, 2), ['code', 20]);
    assert.deepEqual(facts[1], ['saldo', null, 12, 2]);
    assert.deepEqual(facts[2].slice(2), s.plainDecimal);
    const saldo = t.columns.find((x) => x.name === 'saldo');
    assert.equal(saldo?.precision, 12);
    assert.equal(saldo?.scale, 2);
    assert.equal(t.columns.find((x) => x.name === 'code')?.maxLength, 20);
    const ins = await writeAll(t, 'insert', ['code', 'saldo', 'note'], [
      ['A1', 10.5, 'x'.repeat(300)],
      ['B2', 3, null],
    ]);
    assert.ok(ins.every((r) => r.ok), JSON.stringify(ins));
    const upd = await writeAll(t, 'update', ['code', 'saldo'], [['A1', 99.99]]);
    assert.deepEqual(upd.map((r) => r.ok), [true]);
    const del = await writeAll(t, 'delete', ['code'], [['B2']]);
    assert.deepEqual(del.map((r) => r.ok), [true]);
    assert.deepEqual((await scan(t, ['code', 'saldo'])).rows, [['A1', 99.99]]);
    const tooLong = await writeAll(t, 'insert', ['code'], [['x'.repeat(21)]]);
    assert.equal(tooLong[0].ok, false);
  });

  test('the catalog reports declared precision, scale and length of existing tables', async () => {
    const n = name('declared');
    await raw.exec(
      `CREATE TABLE ${s.quote(n)} (${s.quote('code')} varchar(20) primary key, ${s.quote('saldo')} numeric(12,2), ${s.quote('qty')} integer, ${s.quote('txt')} text)`,
    );
    await refresh();
    const t = find(n);
    const col = (x: string) => t.columns.find((y) => y.name === x);
    assert.deepEqual([col('code')?.maxLength, col('code')?.precision], [20, undefined]);
    assert.deepEqual([col('saldo')?.type, col('saldo')?.precision, col('saldo')?.scale, col('saldo')?.maxLength], ['decimal', 12, 2, undefined]);
    assert.deepEqual([col('qty')?.precision, col('qty')?.scale], [undefined, undefined]);
    assert.equal(col('txt')?.maxLength, undefined);
  });

  test('a table without a primary key refuses update and delete and says why', async () => {
    const n = name('nokey');
    const t = await c.createTable!(n, [{ name: 'a', type: 'integer', nullable: true }], { orReplace: false, ifNotExists: false });
    assert.deepEqual(t.writable, { insert: true, update: false, delete: false });
    assert.match(t.writeRefusals?.update ?? '', new RegExp(`Table ${t.name} has no primary key; updates and deletes need one`));
    assert.match(t.writeRefusals?.delete ?? '', /has no primary key; updates and deletes need one/);
    assert.equal(t.writeRefusals?.insert, undefined);
    await assert.rejects(writeAll(t, 'update', ['a'], [[1]]), (e: unknown) => e instanceof SluiceError && /updates and deletes need one/.test(e.message));
  });

  test('dropping a missing table says it does not exist in the container, also when the catalog is stale', async () => {
    await assert.rejects(
      c.dropTable!('sluice_never_there', { ifExists: false }),
      (e: unknown) => e instanceof SluiceError && e.code === 'SQL033' && /sluice_never_there does not exist in container db/.test(e.message),
    );
    const n = name('stale');
    await raw.exec(`CREATE TABLE ${s.quote(n)} (${s.quote('a')} integer)`);
    await refresh();
    await raw.exec(`DROP TABLE ${s.quote(n)}`);
    await assert.rejects(
      c.dropTable!(n, { ifExists: false }),
      (e: unknown) => e instanceof SluiceError && e.code === 'SQL033' && /does not exist in container db/.test(e.message),
    );
    await raw.exec(`CREATE TABLE ${s.quote(n)} (${s.quote('a')} integer)`);
    await refresh();
    await raw.exec(`DROP TABLE ${s.quote(n)}`);
    await c.dropTable!(n, { ifExists: true });
    assert.equal(c.tables().some((x) => x.name === n), false);
  });

  test('decimals beyond 15 significant digits come back as exact strings; others as numbers', async () => {
    const n = name('exact');
    await raw.exec(`CREATE TABLE ${s.quote(n)} (${s.quote('id')} integer primary key, ${s.quote('v')} numeric(30,2))`);
    await raw.exec(`INSERT INTO ${s.quote(n)} VALUES (1, 12345678901234567.89), (2, 9007199254740993), (3, 1234.50), (4, -0.01), (5, 0)`);
    await refresh();
    const t = find(n);
    const { rows } = await scan(t, ['v'], [], { orderBy: [{ column: 'id', descending: false }] });
    assert.deepEqual(rows, [['12345678901234567.89'], ['9007199254740993.00'], [1234.5], [-0.01], [0]]);
    const ins = await writeAll(t, 'insert', ['id', 'v'], [[6, '98765432109876543.21']]);
    assert.ok(ins[0].ok, JSON.stringify(ins));
    assert.deepEqual((await scan(t, ['v'], [{ kind: 'compare', column: 'id', op: '=', value: 6 }])).rows, [['98765432109876543.21']]);
  });

  test('aborting a running scan cancels the query on the server', async () => {
    const view = 'sluice_slow_view_' + process.pid;
    await raw.exec(s.slowView(view, 30));
    await refresh();
    const t = find(view);
    const controller = new AbortController();
    const plan = c.plan(t, { columns: t.columns.map((x) => x.name), conjuncts: [] });
    const running = collect(c.scan(plan, undefined, { signal: controller.signal }));
    // Abort once the server reports the query running.
    for (let i = 0; i < 200; i++) {
      if ((await raw.rows(s.runningLike('SLEEP'))).length > 0) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    controller.abort(new Error('stopped by the user'));
    await assert.rejects(running, /stopped by the user/);
    let still = 1;
    for (let i = 0; i < 200 && still > 0; i++) {
      still = (await raw.rows(s.runningLike('SLEEP'))).length;
      if (still > 0) await new Promise((r) => setTimeout(r, 25));
    }
    assert.equal(still, 0, 'the server is no longer running the query');
    await raw.exec(`DROP VIEW ${s.quote(view)}`);
    await refresh();
  });

  test('every statement is logged as a SQL call without the password', () => {
    assert.ok(env.log.calls.length > 10);
    for (const call of env.log.calls) {
      assert.equal(call.method, 'SQL');
      assert.equal(call.container, 'db');
      assert.match(call.url, /^(postgresql|mariadb):\/\/127\.0\.0\.1:\d+\/test$/);
    }
  });

  test('a connection failure names the container and never shows the password', async () => {
    await assert.rejects(
      s.provider.connect({ alias: 'broken', provider: s.provider.name, options: s.unreachable }, testEnv()),
      (e: unknown) => {
        assert.ok(e instanceof SluiceError);
        assert.equal(e.code, 'SQL004');
        assert.equal(e.details.container, 'broken');
        assert.doesNotMatch(e.message + (e.details.hint ?? ''), /Sekr1t/);
        return true;
      },
    );
  });
}

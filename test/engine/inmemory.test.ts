/**
 * The engine end to end over in-memory storage: DDL, DML, joins, grouping,
 * set operations, window functions, subqueries, use/set, explain, errors.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openSession } from '../../src/engine/index.js';
import type { Session } from '../../src/engine/api.js';
import { SluiceError } from '../../src/util/errors.js';
import { rows, runAll } from './helpers.js';

describe('engine over inmemorystorage', () => {
  let s: Session;
  before(async () => {
    s = await openSession({ settingsPath: undefined, containers: [] });
    await runAll(
      s,
      `create table accounts@inmemorystorage (code varchar(10), name varchar(50), city varchar(30), balance number(12,2));
       insert into accounts@inmemorystorage (code, name, city, balance) values
         ('A1', 'Bakker BV', 'Zwolle', 100.25), ('A2', 'Jansen', 'Zwolle', -20), ('A3', 'de Vries', 'Assen', 0), ('A4', 'Smit', null, null);
       create table invoices@inmemorystorage (nr integer, account varchar(10), amount number(12,2), invoicedate date);
       insert into invoices@inmemorystorage values (1, 'A1', 50, date '2024-01-05'), (2, 'A1', 25.5, date '2024-02-10'), (3, 'A2', 10, date '2024-02-11'), (4, 'A9', 99, date '2024-03-01')`,
    );
  });
  after(async () => {
    await s.close();
  });

  it('selects with where, order by and limit', async () => {
    assert.deepEqual(await rows(s, "select code, name from accounts where city = 'Zwolle' order by code desc limit 1"), [['A2', 'Jansen']]);
  });

  it('joins, groups and orders', async () => {
    const r = await rows(
      s,
      `select a.name, count(*) n, sum(i.amount) total
       from accounts a join invoices i on i.account = a.code
       group by a.name order by total desc`,
    );
    assert.deepEqual(r, [['Bakker BV', 2, 75.5], ['Jansen', 1, 10]]);
  });

  it('left joins keep unmatched rows', async () => {
    const r = await rows(s, 'select a.code, i.nr from accounts a left join invoices i on i.account = a.code order by a.code, i.nr');
    assert.deepEqual(r, [['A1', 1], ['A1', 2], ['A2', 3], ['A3', null], ['A4', null]]);
  });

  it('runs union, minus and intersect', async () => {
    assert.deepEqual(await rows(s, "select code from accounts where city = 'Zwolle' union select account from invoices order by 1"), [['A1'], ['A2'], ['A9']]);
    assert.deepEqual(await rows(s, 'select account from invoices minus select code from accounts'), [['A9']]);
    assert.deepEqual(await rows(s, 'select account from invoices intersect select code from accounts order by 1'), [['A1'], ['A2']]);
  });

  it('runs window functions', async () => {
    const r = await rows(s, 'select nr, sum(amount) over (partition by account order by nr) running, row_number() over (order by amount desc) rn from invoices order by nr');
    assert.deepEqual(r, [[1, 50, 2], [2, 75.5, 3], [3, 10, 4], [4, 99, 1]]);
  });

  it('runs subqueries: in, exists, scalar, derived, with', async () => {
    assert.deepEqual(await rows(s, 'select code from accounts where code in (select account from invoices) order by code'), [['A1'], ['A2']]);
    assert.deepEqual(await rows(s, 'select code from accounts a where not exists (select 1 from invoices i where i.account = a.code) order by code'), [['A3'], ['A4']]);
    assert.deepEqual(await rows(s, "select (select max(amount) from invoices) m from accounts where code = 'A1'"), [[99]]);
    assert.deepEqual(await rows(s, 'select x.account, x.total from (select account, sum(amount) total from invoices group by account) x where x.total > 50 order by 1'), [['A1', 75.5], ['A9', 99]]);
    assert.deepEqual(await rows(s, 'with big as (select * from invoices where amount >= 50) select count(*) from big'), [[2]]);
  });

  it('sorts NULLs like Oracle: last ascending, first descending', async () => {
    assert.deepEqual(await rows(s, 'select balance from accounts order by balance'), [[-20], [0], [100.25], [null]]);
    assert.deepEqual(await rows(s, 'select balance from accounts order by balance desc'), [[null], [100.25], [0], [-20]]);
  });

  it('knows Oracle\'s dual', async () => {
    assert.deepEqual(await rows(s, "select 1 + 1 two, dummy from dual"), [[2, 'X']]);
  });

  it('supports select top n', async () => {
    assert.deepEqual(await rows(s, 'select top 2 nr from invoices order by nr desc'), [[4], [3]]);
  });

  it('create table as select, update, delete, drop', async () => {
    const res = await runAll(
      s,
      `create or replace table copy@inmemorystorage as select code, balance from accounts;
       update copy@inmemorystorage set balance = nvl(balance, 0) + 1 where code in ('A3', 'A4');
       delete from copy@inmemorystorage where balance < 0;
       select code, balance from copy order by code;
       drop table copy@inmemorystorage`,
    );
    assert.equal(res[0].message, 'Table copy@inmemorystorage created with 4 rows.');
    assert.equal(res[1].result.kind === 'done' && res[1].result.rowsAffected, 2);
    assert.equal(res[2].result.kind === 'done' && res[2].result.rowsAffected, 1);
    assert.deepEqual(res[3].rows, [['A1', 100.25], ['A3', 1], ['A4', 1]]);
    await assert.rejects(runAll(s, 'select * from copy'), (e: SluiceError) => e.code === 'ENG020');
  });

  it('insert from a select', async () => {
    await runAll(s, 'create table zw@inmemorystorage (code varchar, name varchar); insert into zw@inmemorystorage (code, name) select code, name from accounts where city = \'Zwolle\'');
    assert.deepEqual(await rows(s, 'select code from zw order by code'), [['A1'], ['A2']]);
  });

  it('names unnamed columns by their SQL text and keeps aliases', async () => {
    const r = await runAll(s, 'select upper(name), code k from accounts where code = \'A1\'');
    assert.deepEqual(r[0].columns, ['upper(name)', 'k']);
  });

  it('explains a query', async () => {
    const r = await runAll(s, 'explain select code from accounts where balance > 0');
    const text = r[0].lines!.join('\n');
    assert.match(text, /accounts@inmemorystorage as accounts: local, read in place/);
    assert.match(text, /DuckDB runs:/);
  });

  it('changes session settings with set', async () => {
    await runAll(s, 'set parallelism 3');
    assert.equal(s.settings().parallelism, '3');
    await assert.rejects(runAll(s, 'set parallelism zero'), (e: SluiceError) => e.code === 'ENG042');
  });

  it('reports an unknown column with line, column and did-you-mean', async () => {
    await assert.rejects(
      runAll(s, 'select code,\n       nmae from accounts'),
      (e: SluiceError) => {
        assert.equal(e.code, 'ENG023');
        assert.equal(e.details.location?.line, 2);
        assert.equal(e.details.location?.column, 8);
        assert.match(e.details.hint ?? '', /name/);
        return true;
      },
    );
  });

  it('reports an unknown table with did-you-mean', async () => {
    await assert.rejects(runAll(s, 'select * from acounts'), (e: SluiceError) => {
      assert.equal(e.code, 'ENG020');
      assert.match(e.details.hint ?? '', /accounts/);
      assert.equal(e.details.location?.column, 15);
      return true;
    });
  });

  it('cancels a long local query while its rows stream, and the session stays usable', async () => {
    await runAll(s, 'create table big@inmemorystorage (x integer); insert into big@inmemorystorage select 1 from dual');
    for (let i = 0; i < 14; i++) await runAll(s, 'insert into big@inmemorystorage select x from big');
    const controller = new AbortController();
    let seen = 0;
    await assert.rejects(
      (async () => {
        for await (const r of s.execute('select a.x, b.x from big a, big b', { signal: controller.signal })) {
          if (r.kind !== 'rows') continue;
          for await (const b of r.batches) {
            seen += b.rows.length;
            if (seen > 5000) controller.abort();
          }
        }
      })(),
      (e: SluiceError) => e.code === 'ENG400',
    );
    assert.ok(seen < 16384 * 16384);
    assert.deepEqual(await rows(s, 'select count(*) from big'), [[16384]]);
  });

  it('runs nothing when the script has a syntax error', async () => {
    await assert.rejects(runAll(s, "insert into zw@inmemorystorage (code, name) values ('Z', 'z'); select from"));
    assert.deepEqual(await rows(s, "select count(*) from zw where code = 'Z'"), [[0]]);
  });

  it('returns big integers as bigint and timestamps as Date', async () => {
    const r = await rows(s, "select 9007199254740993 * 1 big, 42 small, timestamp '2024-05-06 07:08:09' ts");
    assert.equal(r[0][0], 9007199254740993n);
    assert.equal(r[0][1], 42);
    assert.ok(r[0][2] instanceof Date);
    assert.equal((r[0][2] as Date).toISOString(), '2024-05-06T07:08:09.000Z');
  });
});

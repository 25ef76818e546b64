/**
 * The Oracle-flavoured function library, each function with real values,
 * evaluated by the engine through DuckDB.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openSession } from '../../src/engine/index.js';
import type { Session } from '../../src/engine/api.js';
import { oracleDateMask } from '../../src/engine/functions.js';
import { ManualClock } from '../../src/util/clock.js';
import { one, rows, runAll } from './helpers.js';

const d = (iso: string) => new Date(iso);

const CASES: [string, unknown][] = [
  ["to_char(1234.5, 'FM999990.00')", '1234.50'],
  ["to_char(1234.5, '999990.00')", '   1234.50'],
  ["to_char(1234567.891, 'FM9,999,990.00')", '1,234,567.89'],
  ['to_char(7)', '7'],
  ["to_char(date '2024-03-05', 'YYYY-MM-DD')", '2024-03-05'],
  ["to_char(date '2024-03-05', 'FMDD-MM-YYYY')", '5-3-2024'],
  ["to_char(timestamp '2024-03-05 14:07:09', 'DD-MM-YYYY HH24:MI:SS')", '05-03-2024 14:07:09'],
  ["to_date('05-03-2024', 'DD-MM-YYYY')", d('2024-03-05T00:00:00Z')],
  ["to_number('12.50')", 12.5],
  ['nvl(null, 3)', 3],
  ['nvl2(null, 1, 2)', 2],
  ["nvl2('x', 1, 2)", 1],
  ["decode(2, 1, 'one', 2, 'two', 'other')", 'two'],
  ["decode(null, null, 'null!', 'x')", 'null!'],
  ["decode(5, 1, 'one', 'other')", 'other'],
  ["coalesce(null, null, 'c')", 'c'],
  ["substr('Hello', 2, 3)", 'ell'],
  ["substr('Hello', -3)", 'llo'],
  ["substr('Hello', 0, 2)", 'He'],
  ["substr('Hello', -3, 2)", 'll'],
  ["substr('Hello', 10)", null],
  ["instr('banana', 'an')", 2],
  ["instr('banana', 'an', 3)", 4],
  ["instr('banana', 'x')", 0],
  ["length('abc')", 3],
  ["length('')", null],
  ["upper('abc')", 'ABC'],
  ["lower('ABC')", 'abc'],
  ["initcap('hello wORLD')", 'Hello World'],
  ["lpad('7', 3, '0')", '007'],
  ["lpad('abc', 5)", '  abc'],
  ["rpad('ab', 4, '*')", 'ab**'],
  ["ltrim('xxabc', 'x')", 'abc'],
  ["rtrim('abc  ')", 'abc'],
  ["trim('  a  ')", 'a'],
  ["replace('a-b-c', '-', '')", 'abc'],
  ["replace('a-b-c', '-')", 'abc'],
  ["regexp_replace('a1b22c', '[0-9]+', '#')", 'a#b#c'],
  ["regexp_substr('abc123def', '[0-9]+')", '123'],
  ['round(2.567, 2)', 2.57],
  ['round(2.5)', 3],
  ['trunc(2.567, 1)', 2.5],
  ['trunc(-2.5)', -2],
  ["trunc(date '2024-03-15', 'MM')", d('2024-03-01T00:00:00Z')],
  ["trunc(date '2024-03-15', 'YYYY')", d('2024-01-01T00:00:00Z')],
  ["trunc(timestamp '2024-03-15 13:45:00')", d('2024-03-15T00:00:00Z')],
  ["add_months(date '2024-01-31', 1)", d('2024-02-29T00:00:00Z')],
  ["months_between(date '2024-03-15', date '2024-01-15')", 2],
  ["last_day(date '2024-02-10')", d('2024-02-29T00:00:00Z')],
  ["extract(year from date '2024-02-10')", 2024],
  ["extract(month from date '2024-02-10')", 2],
  ["'a' || null", 'a'],
  ['null || null', null],
  ["'a' || 'b' || 3", 'ab3'],
  ['mod(7, 3)', 1],
  ["date '2024-03-01' - 1", d('2024-02-29T00:00:00Z')],
  ["date '2024-03-01' + 0.5", d('2024-03-01T12:00:00Z')],
  ["timestamp '2024-03-02 12:00:00' - date '2024-03-01'", 1.5],
  ["trunc(timestamp '2024-03-02 12:00:00' - date '2024-03-01')", 1],
  ["'' is null", true],
];

describe('function library', () => {
  let s: Session;
  const clock = new ManualClock(Date.UTC(2026, 0, 2, 3, 4, 5));
  before(async () => {
    s = await openSession({ clock });
  });
  after(async () => {
    await s.close();
  });

  for (const [expr, expected] of CASES) {
    it(`${expr} = ${expected instanceof Date ? expected.toISOString() : JSON.stringify(expected)}`, async () => {
      assert.deepEqual(await one(s, expr), expected);
    });
  }

  it('sysdateutc is the session clock in UTC; sysdate its local time', async () => {
    assert.deepEqual(await one(s, 'sysdateutc'), d('2026-01-02T03:04:05Z'));
    const local = new Date(clock.now());
    const expected = new Date(Date.UTC(local.getFullYear(), local.getMonth(), local.getDate(), local.getHours(), local.getMinutes(), local.getSeconds()));
    assert.deepEqual(await one(s, 'sysdate'), expected);
  });

  it('uses column types to choose date or number behaviour', async () => {
    await runAll(s, "create table f@inmemorystorage (d date, n number(10,2)); insert into f@inmemorystorage values (date '2024-07-19', 12.345)");
    // n is number(10,2), so it holds 12.35 (half away from zero) and one decimal rounds that to 12.4, as in Oracle.
    assert.deepEqual(await rows(s, "select trunc(d), trunc(n), to_char(d), to_char(n, 'FM990.0') from f"), [[d('2024-07-19T00:00:00Z'), 12, '2024-07-19 00:00:00', '12.4']]);
    assert.deepEqual(await rows(s, "select d + 1, d - date '2024-07-01' from f"), [[d('2024-07-20T00:00:00Z'), 18]]);
  });

  it('passes standard aggregates and window functions through', async () => {
    assert.deepEqual(await rows(s, 'select listagg(x, \',\') from (select 1 x union all select 2) t'), [['1,2']]);
    assert.deepEqual(await rows(s, 'select x, lag(x) over (order by x) from (select 1 x union all select 2) t order by x'), [[1, null], [2, 1]]);
  });

  it('translates Oracle date masks to strftime', () => {
    assert.equal(oracleDateMask('YYYY-MM-DD HH24:MI:SS'), '%Y-%m-%d %H:%M:%S');
    assert.equal(oracleDateMask('DD "of" MONTH'), '%d of %B');
    assert.equal(oracleDateMask('FMDD-MM-YYYY'), '%-d-%-m-%Y');
  });
});

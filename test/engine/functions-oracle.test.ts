/**
 * Oracle behaviour of the function library, case by case, from QA's findings:
 * number and date format models, initcap, instr, division by zero, regexp_*,
 * listagg … within group, to_date errors and the date arithmetic rules.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openSession } from '../../src/engine/index.js';
import type { Session } from '../../src/engine/api.js';
import { isNumberMask, parseNumberMask, runtimeErrorCode } from '../../src/engine/functions/formats.js';
import { SluiceError } from '../../src/util/errors.js';
import { one, rows, runAll, sluiceFailure } from './helpers.js';

const d = (iso: string) => new Date(iso);

const CASES: [string, unknown][] = [
  // Number format models: one leading position for the sign, G/D separators, 0 forces digits.
  ["to_char(1999.34, '999G990D00')", '   1,999.34'],
  ["to_char(12, '0000')", ' 0012'],
  ["to_char(-5, '999')", '  -5'],
  ["to_char(0.5, '99.99')", '   .50'],
  ["to_char(0.5, '90.99')", '  0.50'],
  ["to_char(0, '999')", '   0'],
  ["to_char(12345, '999')", '####'],
  ["to_char(2.345, '9.99')", ' 2.35'],
  ["to_char(-2.345, '9.99')", '-2.35'],
  ["to_char(1.5, 'FM999.99')", '1.5'],
  ["to_char(1, 'FM9.99')", '1.'],
  ["to_char(-12.3, 'FM990.00MI')", '12.30-'],
  ["to_char(12.3, '990.00MI')", ' 12.30 '],
  ["to_char(-12.3, '99.9PR')", '<12.3>'],
  ["to_char(12.3, '99.9PR')", ' 12.3 '],
  ["to_char(5, 'S99')", ' +5'],
  ["to_char(-5, '99S')", ' 5-'],
  ["to_char(1234, '$9,999')", ' $1,234'],
  ["to_char(-1234, 'FM$9,999')", '-$1,234'],
  ["to_char(12, '9,999')", '    12'],
  ["to_char(1234567.891, 'FM9G999G990D00')", '1,234,567.89'],
  ['to_char(null)', null],
  ["to_char(cast(null as number), '999')", null],
  // Without a mask: the shortest text.
  ['to_char(12.50)', '12.5'],
  ['to_char(0.5)', '.5'],
  ['to_char(-0.5)', '-.5'],
  ['to_char(100)', '100'],
  ['to_char(cast(2.5 as double))', '2.5'],
  // to_number: D is '.', G is ','; a comma the mask does not allow is an error, never 125.
  ["to_number('12.5', '99D9')", 12.5],
  ["to_number('1,234.5', '9G999D9')", 1234.5],
  ["to_number('12-', '99MI')", -12],
  ["to_number('<7>', '9PR')", -7],
  ["to_number('$1,234', '$9,999')", 1234],
  // Date masks: case follows the mask, names padded to the longest unless FM.
  ["to_char(date '2026-11-25', 'DAY DD MON')", 'WEDNESDAY 25 NOV'],
  ["to_char(date '2026-11-24', 'DAY DD MON')", 'TUESDAY   24 NOV'],
  ["to_char(date '2026-11-24', 'Day')", 'Tuesday  '],
  ["to_char(date '2026-11-24', 'day')", 'tuesday  '],
  ["to_char(date '2026-11-24', 'FMDay')", 'Tuesday'],
  ["to_char(date '2026-05-04', 'Month|MONTH|month|FMMonth')", 'May      |MAY      |may      |May'],
  ["to_char(date '2026-05-04', 'Mon MON mon Dy DY')", 'May MAY may Mon MON'],
  ["to_char(timestamp '2026-11-25 14:05:06.123456', 'D DDD IW WW Q YYYY YY RR')", '4 329 48 47 4 2026 26 26'],
  ["to_char(timestamp '2026-11-25 14:05:06.123456', 'HH HH12 HH24 MI SS AM pm FF3 FF')", '02 02 14 05 06 PM pm 123 123456'],
  ["to_char(timestamp '2026-01-02 09:05:06', 'FMDD-MM-YYYY HH24:MI')", '2-1-2026 9:5'],
  ["to_char(date '2026-11-25', '\"Week\" IW \"of\" YYYY')", 'Week 48 of 2026'],
  ["to_char(cast(null as date), 'YYYY')", null],
  // initcap: a capital after any character that is not a letter or digit.
  ["initcap('kadezorg n.v.')", 'Kadezorg N.V.'],
  ["initcap('o''brien-SMITH 2nd')", "O'Brien-Smith 2nd"],
  ['initcap(null)', null],
  // instr with start and occurrence; a negative start searches backwards.
  ["instr('a.b.c', '.', 1, 2)", 4],
  ["instr('a.b.c', '.', -1)", 4],
  ["instr('a.b.c', '.', -1, 2)", 2],
  ["instr('a.b.c', '.', -3)", 2],
  ["instr('a.b.c', '.', 1, 3)", 0],
  ["instr('aaa', 'aa', 1, 2)", 2],
  ["instr('banana', 'an', 3)", 4],
  ["instr('banana', 'an', 0)", 0],
  ["instr(null, 'a', 1, 1)", null],
  // Division: decimals from integers, errors on zero (below).
  ['1/4', 0.25],
  ['7/2', 3.5],
  ['null/0', null],
  ['cast(7 as number(10,2)) / 2', 3.5],
  // regexp
  ["regexp_like('abc', 'B', 'i')", true],
  ["regexp_like('abc', 'B')", false],
  ["regexp_like('abc', '^a.c$')", true],
  ["regexp_count('a1b22c3', '[0-9]+')", 3],
  ["regexp_count('abc', '[0-9]')", 0],
  ["regexp_instr('bab', 'b$')", 3],
  ["regexp_instr('abc', 'x')", 0],
  // Dates
  ["to_date('05-03-2024', 'DD-MM-YYYY')", d('2024-03-05T00:00:00Z')],
  ["to_date('2024-02-03 10:11:12', 'YYYY-MM-DD HH24:MI:SS')", d('2024-02-03T10:11:12Z')],
  ["to_date(null, 'DD-MM-YYYY')", null],
  ["to_date('05-MAR-2024', 'DD-MON-YYYY')", d('2024-03-05T00:00:00Z')],
  ["to_date('05 march 2024', 'DD MONTH YYYY')", d('2024-03-05T00:00:00Z')],
  ["to_date('5-3-2024', 'DD-MM-YYYY')", d('2024-03-05T00:00:00Z')],
  ["to_date('05-mar-24', 'DD-MON-RR')", d('2024-03-05T00:00:00Z')],
  ["to_date('05-03-55', 'DD-MM-RR')", d('1955-03-05T00:00:00Z')],
  ["to_date('05-03-49', 'DD-MM-RR')", d('2049-03-05T00:00:00Z')],
  ["to_date('05-03-99', 'DD-MM-YY')", d('2099-03-05T00:00:00Z')],
  ["to_date('05-03-2024 14:01', 'DD-MM-RRRR HH24:MI')", d('2024-03-05T14:01:00Z')],
  ["regexp_substr('a1b22c333', '[0-9]+', 1, 2)", '22'],
  ["regexp_substr('a1b22c333', '[0-9]+', 4)", '22'],
  ["regexp_substr('a1b22c333', '[0-9]+', 1, 4)", null],
  ["regexp_substr('aXbx', 'x', 1, 1, 'i')", 'X'],
  ["trunc(date '2024-03-15', 'Q')", d('2024-01-01T00:00:00Z')],
  ["trunc(date '2024-03-15', 'IW')", d('2024-03-11T00:00:00Z')],
  ["trunc(timestamp '2024-03-15 13:45:00', 'HH24')", d('2024-03-15T13:00:00Z')],
  ["round(timestamp '2024-03-15 12:00:00')", d('2024-03-16T00:00:00Z')],
  ["round(timestamp '2024-03-15 11:59:59')", d('2024-03-15T00:00:00Z')],
  ["add_months(date '2024-01-31', 1)", d('2024-02-29T00:00:00Z')],
  ["add_months(date '2024-02-29', 1)", d('2024-03-31T00:00:00Z')],
  ["add_months(date '2024-03-31', -1)", d('2024-02-29T00:00:00Z')],
  ["add_months(timestamp '2024-01-15 10:30:00', 2)", d('2024-03-15T10:30:00Z')],
  ["add_months(timestamp '2024-04-30 10:30:00', 1)", d('2024-05-31T10:30:00Z')],
  ["months_between(date '2024-03-31', date '2024-02-29')", 1],
  ["months_between(date '2024-03-15', date '2024-01-15')", 2],
  ["months_between(date '2024-01-15', date '2024-03-15')", -2],
  ["months_between(date '2024-03-16', date '2024-02-15')", 1 + 1 / 31],
  ["last_day(timestamp '2023-02-10 08:00:00')", d('2023-02-28T00:00:00Z')],
  ["trunc(date '2024-03-15', 'D')", d('2024-03-10T00:00:00Z')],
  ["trunc(date '2024-03-15', 'WW')", d('2024-03-11T00:00:00Z')],
  ["trunc(date '2024-03-15', 'W')", d('2024-03-15T00:00:00Z')],
  ["round(date '2024-03-16', 'MM')", d('2024-04-01T00:00:00Z')],
  ["round(date '2024-03-15', 'MM')", d('2024-03-01T00:00:00Z')],
  ["round(date '2024-07-01', 'YYYY')", d('2025-01-01T00:00:00Z')],
  ["round(date '2024-06-30', 'YYYY')", d('2024-01-01T00:00:00Z')],
  ["round(date '2024-02-16', 'Q')", d('2024-04-01T00:00:00Z')],
  ["round(date '2024-02-15', 'Q')", d('2024-01-01T00:00:00Z')],
  ["round(timestamp '2024-02-15 10:30:00', 'HH24')", d('2024-02-15T11:00:00Z')],
  ["trim(leading 'x' from 'xxaxx')", 'axx'],
  ["trim(trailing 'x' from 'xxaxx')", 'xxa'],
  ["trim(both 'x' from 'xxaxx')", 'a'],
  ["trim('x' from 'xxaxx')", 'a'],
  ["trim(both from '  a ')", 'a'],
  ["trim('x' from 'xxx')", null],
  ["nvl2(0, 'a', 'b')", 'a'],
  ["decode(null, 1, 'one', null, 'null', 'other')", 'null'],
  ["decode(1, null, 'null', 'other')", 'other'],
  ["lpad('abcdef', 3)", 'abc'],
  ["rpad('abcdef', 2, '*')", 'ab'],
  ["lpad('abc', 0)", null],
  ["substr('Hello', -5, 1)", 'H'],
  ["substr('Hello', -6)", null],
  ["replace('banana', 'an')", 'ba'],
];

describe('function library: Oracle behaviour', () => {
  let s: Session;
  before(async () => {
    s = await openSession({});
  });
  after(async () => {
    await s.close();
  });

  for (const [expr, expected] of CASES) {
    it(`${expr} = ${expected instanceof Date ? expected.toISOString() : JSON.stringify(expected)}`, async () => {
      const got = await one(s, expr);
      if (typeof expected === 'number' && typeof got === 'number' && !Number.isInteger(expected)) assert.ok(Math.abs(got - expected) < 1e-9, `${got} ≠ ${expected}`);
      else assert.deepEqual(got, expected);
    });
  }

  const failure = (sql: string): Promise<SluiceError> => sluiceFailure(s, sql);

  it('division by zero is an error (ORA-01476), not NULL or Infinity', async () => {
    const e = await failure('select 1/0 from dual');
    assert.match(e.message, /divisor is equal to zero/);
    // The session turns the code raised inside DuckDB into the error's own code (engine/duck-errors.ts).
    assert.equal(e.code, 'ENG150');
    assert.equal((await failure('select 1.5/0.0 from dual')).code, 'ENG150');
    assert.equal((await failure('select 1/(x - 2) from (select 2 x) t')).code, 'ENG150');
    assert.deepEqual(await rows(s, 'select 1/x from (select 2 x union all select 4) t order by 1'), [[0.25], [0.5]]);
    // Aggregates, window functions and subqueries as either side.
    assert.deepEqual(await rows(s, 'select x, sum(x)/count(*), x/sum(x) over () from (select 1 x union all select 3) t group by x order by 1'), [[1, 1, 0.25], [3, 3, 0.75]]);
    assert.deepEqual(await rows(s, 'select 1/(select 2) from dual'), [[0.5]]);
    assert.deepEqual(await rows(s, 'select sum(x)/count(*) from (select 1 x where 1 = 0) t'), [[null]]);
  });

  it('to_number refuses a comma the mask does not allow instead of reading 125', async () => {
    const e = await failure("select to_number('12,5', '99D9') from dual");
    assert.match(e.message, /12,5/);
    const f = await failure("select to_number('1,234') from dual");
    assert.match(f.message, /1,234/);
  });

  it('to_date names the value and the mask of an invalid date', async () => {
    const e = await failure("select to_date('31-02-2024', 'DD-MM-YYYY') from dual");
    assert.equal(e.code, 'ENG124');
    assert.match(e.message, /'31-02-2024'/);
    assert.match(e.message, /'DD-MM-YYYY'/);
    const f = await failure("select to_date('2024/01/01', 'DD-MM-YYYY') from dual");
    assert.match(f.message, /'2024\/01\/01'.*'DD-MM-YYYY'/);
  });

  it('refuses unsupported mask elements and computed masks with their own codes', async () => {
    assert.equal((await failure("select to_char(5, 'L999') from dual")).code, 'ENG123');
    assert.equal((await failure("select to_char(date '2024-01-01', 'YYYY-QQQ-XX') from dual")).code, 'ENG123');
    assert.equal((await failure("select to_char(5, 'FM' || '99') from dual")).code, 'ENG122');
    assert.equal((await failure("select regexp_like('a', 'a', 'z') from dual")).code, 'ENG123');
  });

  it('instr refuses an occurrence below 1', async () => {
    const e = await failure("select instr('abc', 'b', 1, 0) from dual");
    assert.equal(e.code, 'ENG151');
    assert.match(e.message, /occurrence/);
  });

  it('regexp_like works as a predicate in where', async () => {
    await runAll(s, "create table rx@inmemorystorage (code varchar2(10)); insert into rx@inmemorystorage values ('A100'); insert into rx@inmemorystorage values ('b200'); insert into rx@inmemorystorage values ('C3')");
    assert.deepEqual(await rows(s, "select code from rx where regexp_like(code, '^[a-c][0-9]{3}$', 'i') order by code"), [['A100'], ['b200']]);
    assert.deepEqual(await rows(s, "select code from rx where not regexp_like(code, '[0-9]{3}') order by code"), [['C3']]);
  });

  it('listagg … within group (order by …) orders the list', async () => {
    await runAll(s, "create table la@inmemorystorage (grp varchar2(1), code varchar2(5)); insert into la@inmemorystorage values ('x', 'c'); insert into la@inmemorystorage values ('x', 'a'); insert into la@inmemorystorage values ('y', 'z'); insert into la@inmemorystorage values ('x', 'b')");
    assert.deepEqual(await rows(s, "select grp, listagg(code, ',') within group (order by code) from la group by grp order by grp"), [['x', 'a,b,c'], ['y', 'z']]);
    assert.deepEqual(await rows(s, "select listagg(code, '-') within group (order by code desc) from la"), [['z-c-b-a']]);
  });

  it('classifies masks as number or date models', () => {
    assert.ok(isNumberMask('999G990D00'));
    assert.ok(isNumberMask('FM990.00MI'));
    assert.ok(!isNumberMask('DD-MM-YYYY'));
    assert.ok(!isNumberMask('HH24:MI'));
    assert.deepEqual(parseNumberMask('FM0099D90').zeroInt, 4);
    assert.throws(() => parseNumberMask('99.9.9'), (e: unknown) => e instanceof SluiceError && e.code === 'ENG123');
    assert.deepEqual(runtimeErrorCode('Invalid Input Error: ENG150: divisor is equal to zero'), { code: 'ENG150', message: 'divisor is equal to zero' });
    assert.equal(runtimeErrorCode('Invalid Input Error: something else'), undefined);
  });
});

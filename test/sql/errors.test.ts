/**
 * Syntax errors: each kind has a stable SQL1xx code, a message saying what
 * was expected where, the line and column, and a caret display; nothing
 * hangs or overflows the stack.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseExpression, parseScript, parseStatement, printExpr } from '../../src/sql/index.js';
import { sqlError } from './helpers.js';

test('unterminated string: SQL101 at the opening quote', () => {
  const e = sqlError(() => parseScript("select a\nfrom t\nwhere b = 'abc"));
  assert.equal(e.code, 'SQL101');
  assert.deepEqual(e.details.location, { line: 3, column: 11, sourceLine: "where b = 'abc" });
  assert.match(e.message, /unterminated string/);
});

test('unterminated quoted name and comment: SQL102, SQL103', () => {
  assert.equal(sqlError(() => parseScript('select "abc from t')).code, 'SQL102');
  assert.equal(sqlError(() => parseScript('select [abc from t')).code, 'SQL102');
  const c = sqlError(() => parseScript('select a /* from t'));
  assert.equal(c.code, 'SQL103');
  assert.equal(c.details.location?.column, 10);
});

test('malformed numbers: SQL104', () => {
  assert.equal(sqlError(() => parseScript('select 1e from t')).code, 'SQL104');
  const e = sqlError(() => parseScript('select 12abc from t'));
  assert.equal(e.code, 'SQL104');
  assert.match(e.message, /12abc/);
});

test('a stray character: SQL105', () => {
  const e = sqlError(() => parseScript('select a ? b from t'));
  assert.equal(e.code, 'SQL105');
  assert.equal(e.details.location?.column, 10);
});

test('unexpected token says what was expected after what', () => {
  const e = sqlError(() => parseStatement('select code 1 from t'));
  assert.equal(e.code, 'SQL110');
  assert.equal(e.message, 'expected FROM or a column alias after "code", found "1"');
  assert.deepEqual(e.details.location, { line: 1, column: 13, sourceLine: 'select code 1 from t' });

  assert.match(sqlError(() => parseStatement('select a from t order a')).message, /expected BY after "order", found "a"/);
  assert.match(sqlError(() => parseStatement('update t set a 1')).message, /expected "=" after "a"/);
  assert.match(sqlError(() => parseStatement('select a from t join u x where 1 = 1')).message, /expected ON or USING after "x"/);
  assert.match(sqlError(() => parseStatement('select cast(a varchar) from t')).message, /expected AS after "a"/);
});

test('unexpected end: SQL111', () => {
  const e = sqlError(() => parseStatement('select a from t where'));
  assert.equal(e.code, 'SQL111');
  assert.match(e.message, /expected an expression after "where", found the end of the text/);
});

test('keyword typos get a suggestion', () => {
  const cases: [string, string, number][] = [
    ['select a form t', 'unexpected "form"; did you mean FROM?', 10],
    ['selct a from t', 'unexpected "selct"; did you mean SELECT?', 1],
    ['select a from t wher a = 1', 'unexpected "wher"; did you mean WHERE?', 17],
    ['select * from t were a = 1', 'unexpected "were"; did you mean WHERE?', 17],
    ['insert into t valuse (1)', 'unexpected "valuse"; did you mean VALUES?', 15],
    ['synchronize a too b', 'unexpected "too"; did you mean TO?', 15],
    ['synchronize a to b with insrt', 'unexpected "insrt"; did you mean INSERT?', 25],
    ['select 1 from t;\nupdat t set a = 1', 'unexpected "updat"; did you mean UPDATE?', 1],
    ['select a from t\nslect b from u', 'unexpected "slect"; did you mean SELECT?', 1],
    ['select a from t oder by a', 'unexpected "oder"; did you mean ORDER?', 17],
    ['select a from t x grup by a', 'unexpected "grup"; did you mean GROUP?', 19],
  ];
  for (const [sql, message, column] of cases) {
    const e = sqlError(() => parseScript(sql));
    assert.equal(e.message, message, sql);
    assert.equal(e.details.location?.column, column, sql);
  }
});

test('format() shows the code, the place, the offending line and a caret', () => {
  const e = sqlError(() => parseScript('use all;\nselect a\n  form accounts'));
  assert.equal(
    e.format(),
    ['SQL110: unexpected "form"; did you mean FROM?', '  at line 3, column 3', '    form accounts', '    ^'].join('\n'),
  );
  assert.doesNotMatch(e.format(), /at .*\.ts:/);
});

test('bad literals: SQL113', () => {
  assert.equal(sqlError(() => parseExpression("date '2024-02-30'")).code, 'SQL113');
  assert.equal(sqlError(() => parseExpression("date '2023-02-29'")).code, 'SQL113');
  assert.equal(sqlError(() => parseExpression("date '1900-02-29'")).code, 'SQL113');
  assert.equal(sqlError(() => parseExpression("date '2024-04-31'")).code, 'SQL113');
  assert.equal(parseExpression("date '2024-02-29'").kind, 'Literal');
  assert.equal(parseExpression("date '2000-02-29'").kind, 'Literal');
  assert.equal(sqlError(() => parseExpression("timestamp 'yesterday'")).code, 'SQL113');
  assert.equal(sqlError(() => parseExpression("interval 'x' day")).code, 'SQL113');
  assert.match(sqlError(() => parseExpression("interval '3' weeks")).message, /interval unit/);
});

test('bad values: SQL114 for a non-integer cap or type length', () => {
  assert.equal(sqlError(() => parseStatement('synchronize a to b with insert exit after 1.5 rows')).code, 'SQL114');
  assert.equal(sqlError(() => parseStatement('create table t (a varchar(2.5))')).code, 'SQL114');
});

test('synchronize clauses may not repeat', () => {
  const e = sqlError(() => parseStatement('synchronize a to b with insert with update'));
  assert.match(e.message, /WITH clause of synchronize appears twice/);
});

test('parseStatement wants exactly one statement: SQL115', () => {
  const two = sqlError(() => parseStatement('select 1 from t; select 2 from t'));
  assert.equal(two.code, 'SQL115');
  assert.equal(two.details.location?.column, 18);
  assert.equal(sqlError(() => parseStatement(' -- only a comment')).code, 'SQL115');
  assert.equal(parseStatement('select 1 from t;').kind, 'QueryStatement');
});

test('parseExpression rejects trailing text', () => {
  assert.match(sqlError(() => parseExpression('a + 1 b')).message, /expected the end of the expression/);
});

test('1,000 nested parentheses give a clean SQL112, not a RangeError', () => {
  const e = sqlError(() => parseExpression('('.repeat(1000) + '1' + ')'.repeat(1000)));
  assert.equal(e.code, 'SQL112');
  assert.equal(sqlError(() => parseStatement(`select ${'(select '.repeat(1000)}1${')'.repeat(1000)} from t`)).code, 'SQL112');
  assert.equal(sqlError(() => parseStatement(`select * from ${'('.repeat(1000)}t${')'.repeat(1000)}`)).code, 'SQL112');
  assert.equal(sqlError(() => parseExpression('not '.repeat(5000) + 'a')).code, 'SQL112');
  assert.equal(sqlError(() => parseExpression('- '.repeat(5000) + '1')).code, 'SQL112');
  assert.equal(sqlError(() => parseStatement('explain '.repeat(5000) + 'select 1')).code, 'SQL112');
  assert.equal(sqlError(() => parseExpression('case when '.repeat(1000) + '1')).code, 'SQL112');
});

test('100,000 nested parentheses, subqueries or calls give SQL112 with a location, quickly and without a RangeError', () => {
  const e = sqlError(() => parseExpression('('.repeat(100000) + '1' + ')'.repeat(100000)));
  assert.equal(e.code, 'SQL112');
  assert.equal(e.details.location?.line, 1);
  assert.match(e.format(), /nested too deeply/);
  assert.equal(sqlError(() => parseStatement(`select * from ${'(select * from '.repeat(100000)}t`)).code, 'SQL112');
  assert.equal(sqlError(() => parseStatement(`select ${'abs('.repeat(100000)}1${')'.repeat(100000)} from t`)).code, 'SQL112');
  assert.equal(sqlError(() => parseExpression('('.repeat(100000))).code, 'SQL112');
});

test('moderately nested SQL is fine', () => {
  assert.equal(parseExpression('('.repeat(100) + '1' + ')'.repeat(100)).kind, 'Literal');
  const chain = Array.from({ length: 5000 }, (_, i) => `a${i}`).join(' + ');
  assert.equal(parseExpression(chain).kind, 'Binary');
});

test('a long generated OR chain parses and prints back', () => {
  const text = Array.from({ length: 20000 }, (_, i) => `a${i} = ${i}`).join(' or ');
  const e = parseExpression(text);
  assert.equal(printExpr(e), text);
});

test('reserved words cannot be bare names, and the error says so', () => {
  const e = sqlError(() => parseStatement('select order from t'));
  assert.match(e.message, /expected an expression after "select", found "order"/);
  assert.equal(parseStatement('select "order", [order] from t').kind, 'QueryStatement');
});

test('set without a value does not swallow the next statement keyword', () => {
  const e = sqlError(() => parseScript('set x\nselect 1 from t'));
  assert.equal(e.message, 'expected a value after "x", found "select"');
  assert.equal(e.details.location?.line, 2);
});

test('CRLF line endings: columns and source lines are right', () => {
  const e = sqlError(() => parseScript('select a\r\nfrom t\r\nwhere ('));
  assert.deepEqual(e.details.location, { line: 3, column: 8, sourceLine: 'where (' });
});

test('statement-specific messages name the missing keyword', () => {
  const cases: [string, string][] = [
    ['drop t', 'expected TABLE after "drop", found "t"'],
    ['insert t values (1)', 'expected INTO after "insert", found "t"'],
    ['synchronize a to b with insert identified code', 'expected BY after "identified", found "code"'],
    ['create table t (a)', 'expected a type name after "a", found ")"'],
    ['select * from t where a in 1', 'expected "(" after "in", found "1"'],
    ['with x as select 1 select 2', 'expected "(" after "as", found "select"'],
    ['use 123 456', 'expected "," or ";" after "123", found "456"'],
  ];
  for (const [sql, message] of cases) assert.equal(sqlError(() => parseScript(sql)).message, message, sql);
});

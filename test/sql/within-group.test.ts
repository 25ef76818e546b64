/**
 * `listagg(x, sep) within group (order by …)`: the optional withinGroup field
 * of FunctionCall, parsed, printed and round-tripped; and the standard
 * `trim([leading|trailing|both] [x] from y)`, parsed as ltrim/rtrim/trim calls.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseStatement, printStatement } from '../../src/sql/index.js';
import { col, expr, sqlError, str, strip } from './helpers.js';

test('listagg … within group (order by …) parses into withinGroup', () => {
  assert.deepEqual(expr("listagg(code, ',') within group (order by code desc nulls first)"), {
    kind: 'FunctionCall',
    name: 'listagg',
    args: [col('code'), str(',')],
    distinct: false,
    star: false,
    withinGroup: [{ expr: col('code'), descending: true, nulls: 'first' }],
  });
});

test('a call without within group has no withinGroup field', () => {
  const e = expr("listagg(code, ',')") as Record<string, unknown>;
  assert.equal('withinGroup' in e, false);
});

test('within group round-trips through the printer', () => {
  const sql = "select grp, listagg(code, ',') within group (order by code, id desc) from t group by grp";
  const first = parseStatement(sql);
  const printed = printStatement(first);
  assert.match(printed, /listagg\(code, ','\) within group \(order by code, id desc\)/);
  assert.deepEqual(strip(parseStatement(printed)), strip(first));
});

test('within group needs order by', () => {
  const e = sqlError(() => parseStatement("select listagg(code, ',') within group (code) from t"));
  assert.ok(e.code.length > 0);
});

test('trim(leading|trailing|both x from y) parses as ltrim/rtrim/trim(y, x)', () => {
  const call = (name: string, ...args: unknown[]) => ({ kind: 'FunctionCall', name, args, distinct: false, star: false });
  assert.deepEqual(expr("trim(leading 'x' from code)"), call('ltrim', col('code'), str('x')));
  assert.deepEqual(expr("trim(trailing 'x' from code)"), call('rtrim', col('code'), str('x')));
  assert.deepEqual(expr("trim(both 'x' from code)"), call('trim', col('code'), str('x')));
  assert.deepEqual(expr("trim('x' from code)"), call('trim', col('code'), str('x')));
  assert.deepEqual(expr('trim(both from code)'), call('trim', col('code')));
  assert.deepEqual(expr('trim(code)'), call('trim', col('code')));
  assert.deepEqual(expr("trim(substr(code, 1, 2), 'x')"), call('trim', call('substr', col('code'), { kind: 'Literal', type: 'number', value: '1' }, { kind: 'Literal', type: 'number', value: '2' }), str('x')));
  const printed = printStatement(parseStatement("select trim(leading '0' from code) from t"));
  assert.equal(printed, "select ltrim(code, '0') from t");
});

/**
 * `listagg(x, sep) within group (order by …)`: the optional withinGroup field
 * of FunctionCall, parsed, printed and round-tripped.
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

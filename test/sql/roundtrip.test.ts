/**
 * Round trip: printing a parsed statement and parsing the text again gives
 * the same tree (ignoring positions), over the whole corpus.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseScript, parseStatement, printExpr, printQuery, printScript, printStatement } from '../../src/sql/index.js';
import { DIALECT_EXAMPLES, FEATURE_EXAMPLES, SEED_001_SCRIPT, SEED_002_USE } from './corpus.js';
import { strip } from './helpers.js';

const CORPUS = [...DIALECT_EXAMPLES, ...FEATURE_EXAMPLES, SEED_002_USE];

test('the corpus has at least 60 statements', () => {
  assert.ok(CORPUS.length >= 60, String(CORPUS.length));
});

test('parse → print → parse gives the same tree for every corpus statement', () => {
  for (const sql of CORPUS) {
    const first = parseStatement(sql);
    const printed = printStatement(first);
    const second = parseStatement(printed);
    assert.deepEqual(strip(second), strip(first), `${sql}\n  printed: ${printed}`);
    // Printing is stable: the printed text prints to itself.
    assert.equal(printStatement(second), printed);
  }
});

test('printScript round-trips the seed 001 script', () => {
  const script = parseScript(SEED_001_SCRIPT);
  const again = parseScript(printScript(script));
  assert.deepEqual(strip(again.statements), strip(script.statements));
});

test('printQuery and printExpr print the pieces', () => {
  const s = parseStatement("select a + 1 as x from t where b like 'y%' order by 1");
  assert.equal(s.kind, 'QueryStatement');
  if (s.kind !== 'QueryStatement') return;
  assert.equal(printQuery(s.query), "select a + 1 as x from t where b like 'y%' order by 1");
  const body = s.query.body;
  assert.equal(body.kind === 'Select' && body.where ? printExpr(body.where) : '', "b like 'y%'");
});

test('the printer adds parentheses only where precedence needs them', () => {
  const cases: [string, string][] = [
    ['select (a + b) * c from t', 'select (a + b) * c from t'],
    ['select a + (b * c) from t', 'select a + b * c from t'],
    ['select a - (b - c) from t', 'select a - (b - c) from t'],
    ['select - (-1) from t', 'select - -1 from t'],
    ['select * from t where (a or b) and c', 'select * from t where (a or b) and c'],
    ['select * from t where not (a and b)', 'select * from t where not (a and b)'],
    ['select * from t where not (exists (select 1 from u))', 'select * from t where not (exists (select 1 from u))'],
    ['select a from t union (select a from u intersect select a from v)', 'select a from t union select a from u intersect select a from v'],
    ['(select a from t union select a from u) intersect select a from v', '(select a from t union select a from u) intersect select a from v'],
    ['select a from t minus (select a from u minus select a from v)', 'select a from t minus (select a from u minus select a from v)'],
  ];
  for (const [sql, expected] of cases) assert.equal(printStatement(parseStatement(sql)), expected, sql);
});

test('the printer quotes names that are reserved or not plain, and escapes quotes', () => {
  const cases: [string, string][] = [
    ['select "order", "my col", "a""b" from "t t"@"c c"', 'select "order", "my col", "a""b" from "t t"@"c c"'],
    ["select 'it''s' as \"select\" from t", 'select \'it\'\'s\' as "select" from t'],
    ['select [sysdate], sysdate from t', 'select "sysdate", sysdate from t'],
    ['select to_char(code) number from t', 'select to_char(code) as number from t'],
  ];
  for (const [sql, expected] of cases) assert.equal(printStatement(parseStatement(sql)), expected, sql);
});

/**
 * Keywords as names: non-reserved keywords work as column names and aliases
 * (seed 001's `to_char(code) number`), reserved ones need quotes, and the
 * keyword lists the CLI completes from are consistent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isReservedKeyword, KEYWORDS, parseScript, parseStatement, STATEMENT_KEYWORDS } from '../../src/sql/index.js';
import { col, select, sqlError, strip } from './helpers.js';

const NAME_LIKE = ['number', 'name', 'code', 'date', 'type', 'value', 'timestamp', 'interval', 'top', 'key', 'row', 'rows',
  'first', 'last', 'filter', 'over', 'partition', 'replace', 'table', 'to', 'default', 'identified', 'ignore', 'nulls',
  'current', 'range', 'desc', 'asc', 'exit', 'error', 'after', 'if', 'primary', 'escape', 'year', 'day', 'month'];

test('seed 001: `to_char(code) number` aliases the column as number', () => {
  const s = select('select to_char(code) number from t');
  assert.equal(s.items[0].alias, 'number');
  assert.equal(s.from.length, 1);
});

test('non-reserved keywords are usable as bare column aliases', () => {
  for (const word of NAME_LIKE) {
    const s = select(`select a ${word}, b from t`);
    assert.equal(s.items[0].alias, word, word);
    assert.deepEqual(strip(s.items[1].expr), col('b'), word);
  }
});

test('non-reserved keywords are usable as column names and qualified column names', () => {
  for (const word of NAME_LIKE) {
    const s = select(`select ${word}, x.${word} from t x where ${word} = 1`);
    assert.deepEqual(strip(s.items[0].expr), col(word), word);
    assert.deepEqual(strip(s.items[1].expr), col(word, 'x'), word);
  }
});

test('non-reserved keywords are usable as table aliases', () => {
  for (const word of ['acc', 'code', 'date', 'value', 'number']) {
    const s = select(`select 1 from accounts ${word} where ${word}.id = 1`);
    const f = s.from[0];
    assert.equal(f.kind === 'TableRef' && f.alias, word);
  }
});

test('reserved words end an item instead of being taken as an alias', () => {
  const s = select('select a from t where b = 1 group by a having count(*) > 0 order by a');
  assert.equal(s.items[0].alias, undefined);
  const f = s.from[0];
  assert.equal(f.kind === 'TableRef' && f.alias, undefined);
});

test('every statement keyword is reserved, so it can end the previous statement', () => {
  for (const w of STATEMENT_KEYWORDS) assert.ok(isReservedKeyword(w), w);
  const script = parseScript('select a from t\nselect b from u x\nupdate t set a = 1\ndelete from t\nuse all\nset x 1\nexplain select 1 from t');
  assert.deepEqual(
    script.statements.map((s) => s.kind),
    ['QueryStatement', 'QueryStatement', 'Update', 'Delete', 'Use', 'Set', 'Explain'],
  );
});

test('quoted and bracketed names keep spaces and keywords', () => {
  const s = select('select [number], "order", [my col] from "my table" "t t"');
  assert.deepEqual(strip(s.items.map((i) => i.expr)), [col('number'), col('order'), col('my col')]);
  assert.deepEqual(strip(s.from[0]), { kind: 'TableRef', name: { kind: 'TableName', name: 'my table' }, alias: 't t' });
});

test('isReservedKeyword is case-insensitive; KEYWORDS is sorted, lower case and includes both kinds', () => {
  assert.equal(isReservedKeyword('SELECT'), true);
  assert.equal(isReservedKeyword('Number'), false);
  assert.deepEqual([...KEYWORDS], [...KEYWORDS].sort());
  assert.ok(KEYWORDS.every((k) => k === k.toLowerCase()));
  for (const k of ['select', 'synchronize', 'identified', 'nulls', 'top']) assert.ok(KEYWORDS.includes(k), k);
});

test('function names that are keywords: left, right, replace, trunc, extract', () => {
  const s = parseStatement("select left(a, 1), right(a, 1), replace(a, 'x', 'y'), trunc(d), extract(day from d) from t");
  assert.equal(s.kind, 'QueryStatement');
});

test('platform column names that are keywords: Date, Timestamp, Year, Day, To, Action, Default, Current, Errors', () => {
  const s = select('select Date, Timestamp, Year, Day, To, Action, Default, Current, Errors from t where Date > 1 order by Year desc');
  assert.deepEqual(
    s.items.map((i) => (i.expr.kind === 'ColumnRef' ? i.expr.name : i.expr.kind)),
    ['Date', 'Timestamp', 'Year', 'Day', 'To', 'Action', 'Default', 'Current', 'Errors'],
  );
});

test('an Exact Online column named From must be quoted, and then works', () => {
  const s = select('select "From", [To], t.[From] from exchangerates t');
  assert.deepEqual(strip(s.items.map((i) => i.expr)), [col('From'), col('To'), col('From', 't')]);
  const q = select('select t.From, t.select from exchangerates t');
  assert.deepEqual(strip(q.items.map((i) => i.expr)), [col('From', 't'), col('select', 't')]);
  assert.match(sqlError(() => select('select From from t')).message, /expected an expression after "select", found "From"/);
});

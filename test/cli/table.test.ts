import { test } from 'node:test';
import assert from 'node:assert/strict';
import { columnWidths, fitCell, renderTable, TableWriter } from '../../src/cli/output/table.js';
import { valueToText } from '../../src/cli/output/values.js';

test('a table aligns columns, right-aligns numbers and ends with the row count', () => {
  const text = renderTable(
    [
      { name: 'code', type: 'integer' },
      { name: 'name', type: 'varchar' },
    ],
    [
      [7, 'Bakkerij De Vries'],
      [1234, 'Smit'],
    ],
  );
  assert.equal(
    text,
    [' code | name', '------+-------------------', '    7 | Bakkerij De Vries', ' 1234 | Smit', '(2 rows)', ''].join('\n'),
  );
});

test('an empty result still shows the header and (0 rows); one row says "row"', () => {
  assert.equal(renderTable([{ name: 'x', type: 'varchar' }], []), [' x', '---', '(0 rows)', ''].join('\n'));
  assert.match(renderTable([{ name: 'x', type: 'varchar' }], [['a']]), /\(1 row\)\n$/);
});

test('wide values are cut with an ellipsis and the footer says the table was truncated', () => {
  const long = 'Installatiebedrijf Van der Meer Holding B.V. te Hoogeveen';
  const text = renderTable([{ name: 'name', type: 'varchar' }], [[long], ['kort']], { maxColumnWidth: 20 });
  const lines = text.split('\n');
  assert.equal(lines[2], ' Installatiebedrijf…');
  assert.equal(lines[3], ' kort');
  assert.match(lines[4], /^\(2 rows; truncated: .*csv or json/);
});

test('a table that fits is never marked truncated', () => {
  const text = renderTable([{ name: 'name', type: 'varchar' }], [['exactly twenty chars']], { maxColumnWidth: 20 });
  assert.doesNotMatch(text, /truncated/);
  assert.match(text, / exactly twenty chars\n/);
});

test('columns shrink, widest first, to fit the terminal width', () => {
  // 10 + 17 + 5 plus " | " twice and the outer spaces is exactly 40.
  assert.deepEqual(columnWidths([10, 30, 5], 40, 40), [10, 17, 5]);
  assert.deepEqual(columnWidths([10, 30, 5], 40, undefined), [10, 30, 5]);
  // Never below a readable minimum, even when the terminal is narrow.
  assert.deepEqual(columnWidths([30, 30, 30], 40, 20), [6, 6, 6]);
  // A terminal that reports width 0 does not squash the table.
  assert.deepEqual(columnWidths([30, 30], 40, 0), [30, 30]);
});

test('rows after the measured sample keep the widths and are truncated, not misaligned', () => {
  let out = '';
  const w = new TableWriter([{ name: 'v', type: 'varchar' }], (t) => (out += t), { sampleRows: 1 });
  w.addBatch({ columns: ['v'], rows: [['abc']] });
  w.addBatch({ columns: ['v'], rows: [['abcdefgh']] });
  const outcome = w.finish();
  assert.deepEqual(outcome, { rows: 2, truncated: true });
  assert.equal(out.split('\n')[3], ' ab…');
});

test('line breaks inside values do not break the grid; accented text measures by character', () => {
  const text = renderTable([{ name: 'omschrijving', type: 'varchar' }, { name: 'n', type: 'integer' }], [['regel 1\nregel 2', 1], ['één', 22]]);
  assert.match(text, / regel 1↵regel 2 \| {2}1\n/);
  assert.match(text, / één {13}\| 22\n/);
});

test('batch columns are matched to result columns by name', () => {
  let out = '';
  const w = new TableWriter([{ name: 'name', type: 'varchar' }], (t) => (out += t));
  w.addBatch({ columns: ['Division', 'name'], rows: [[102673, 'Jansen']] });
  w.finish();
  assert.match(out, / Jansen\n/);
});

test('values display as dates, timestamps, exact big integers, booleans, hex and empty for NULL', () => {
  assert.equal(valueToText(new Date(Date.UTC(2026, 0, 31)), 'date'), '2026-01-31');
  assert.equal(valueToText(new Date(Date.UTC(2026, 0, 31, 13, 5, 9)), 'timestamp'), '2026-01-31 13:05:09');
  assert.equal(valueToText(new Date(Date.UTC(2026, 0, 31, 13, 5, 9, 120)), 'timestamp'), '2026-01-31 13:05:09.120');
  assert.equal(valueToText(9007199254740993n, 'bigint'), '9007199254740993');
  assert.equal(valueToText(true, 'boolean'), 'true');
  assert.equal(valueToText(new Uint8Array([0, 255]), 'blob'), '\\x00ff');
  assert.equal(valueToText(null, 'varchar'), '');
});

test('fitCell keeps text that fits and marks what it cuts', () => {
  assert.deepEqual(fitCell('abc', 3), { text: 'abc', cut: false });
  assert.deepEqual(fitCell('abcd', 3), { text: 'ab…', cut: true });
});

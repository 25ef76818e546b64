/**
 * Reader tests over real files: CSV dialects (delimiters, quotes, newlines in
 * fields, Dutch decimal commas and dates, BOM), type inference, JSON and
 * NDJSON shapes, XLSX sheets, errors naming file/line/column, a large file
 * streamed in bounded batches, and write → read round trips.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createWriteStream, mkdtempSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { CsvParser, openTable, writeResult, type FileFormat } from '../../src/formats/index.js';
import { SluiceError } from '../../src/util/errors.js';
import type { RowBatch, Value } from '../../src/provider/types.js';

const dir = mkdtempSync(join(tmpdir(), 'sluice-read-'));
function file(name: string, content: string): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

async function readAll(path: string, format: FileFormat, options = {}) {
  const reader = await openTable(path, format, options);
  const rows: (readonly Value[])[] = [];
  for await (const b of reader.batches()) rows.push(...b.rows);
  return { columns: reader.columns, rows };
}

async function rejectsWith(p: Promise<unknown>, code: string, check: (e: SluiceError) => void): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof SluiceError, `expected a SluiceError, got ${String(e)}`);
    assert.equal(e.code, code);
    check(e);
    return true;
  });
}

test('CSV with commas: quoted delimiters, doubled quotes, newlines inside fields, unicode', async () => {
  const p = file('a.csv', 'code,name,city\r\n1,"Bakker, J.","Zwolle"\r\n2,"Say ""hi""","line one\nline two"\r\n3,Ærø ✓,\r\n');
  const { columns, rows } = await readAll(p, 'csv');
  assert.deepEqual(
    columns.map((c) => [c.name, c.type]),
    [
      ['code', 'integer'],
      ['name', 'varchar'],
      ['city', 'varchar'],
    ],
  );
  assert.deepEqual(rows, [
    [1, 'Bakker, J.', 'Zwolle'],
    [2, 'Say "hi"', 'line one\nline two'],
    [3, 'Ærø ✓', null],
  ]);
});

test('CSV delimiter is detected: semicolon with Dutch decimal commas and dates, tab-separated', async () => {
  const semi = file('nl.csv', '\uFEFFrekening;omschrijving;bedrag;datum;actief\n0100;Kas;1.234,56;31-12-2024;true\n0200;Bank;-7,5;1-1-2025;false\n');
  const a = await readAll(semi, 'csv');
  assert.deepEqual(
    a.columns.map((c) => [c.name, c.type]),
    [
      ['rekening', 'varchar'],
      ['omschrijving', 'varchar'],
      ['bedrag', 'decimal'],
      ['datum', 'date'],
      ['actief', 'boolean'],
    ],
  );
  assert.deepEqual(a.rows[0], ['0100', 'Kas', 1234.56, new Date(Date.UTC(2024, 11, 31)), true]);
  assert.deepEqual(a.rows[1], ['0200', 'Bank', -7.5, new Date(Date.UTC(2025, 0, 1)), false]);

  const tab = file('t.csv', 'a\tb\n1.5\t2024-01-02 03:04:05\n2\t2024-01-03T00:00:00Z\n');
  const b = await readAll(tab, 'csv');
  assert.deepEqual(
    b.columns.map((c) => c.type),
    ['decimal', 'timestamp'],
  );
  assert.deepEqual(b.rows, [
    [1.5, new Date(Date.UTC(2024, 0, 2, 3, 4, 5))],
    [2, new Date(Date.UTC(2024, 0, 3))],
  ]);
});

test('CSV inference: int32 vs bigint, numbers beyond 2^53 stay exact, mixed columns are text', async () => {
  const p = file('n.csv', 'small,big,mixed,empty\n1,9007199254740993,1,\n-2,3,x,\n');
  const { columns, rows } = await readAll(p, 'csv');
  assert.deepEqual(
    columns.map((c) => c.type),
    ['integer', 'bigint', 'varchar', 'varchar'],
  );
  assert.deepEqual(rows, [
    [1, 9007199254740993n, '1', null],
    [-2, 3, 'x', null],
  ]);
});

test('CSV errors name the file, line and column', async () => {
  await rejectsWith(openTable(file('bad1.csv', 'a,b\n1,"x"y\n'), 'csv'), 'FMT001', (e) => {
    assert.match(e.message, /bad1\.csv/);
    assert.deepEqual([e.details.location?.line, e.details.location?.column], [2, 6]);
  });
  await rejectsWith(openTable(file('bad2.csv', 'a,b\n1,2\n3,"never closed\n'), 'csv'), 'FMT001', (e) => {
    assert.match(e.message, /never closed/);
    assert.equal(e.details.location?.line, 3);
  });
  await rejectsWith(openTable(file('bad3.csv', 'a,b\n1,2\n3,4,5\n'), 'csv'), 'FMT002', (e) => {
    assert.equal(e.details.location?.line, 3);
    assert.match(e.message, /3 fields; the header has 2/);
  });
});

test('CSV value that contradicts the sampled type is an error with its line and column', async () => {
  const reader = await openTable(file('late.csv', 'id,amount\n1,10\n2,20\n3,twenty\n'), 'csv', { sampleRows: 2 });
  await rejectsWith(
    (async () => {
      for await (const _b of reader.batches()) {
        // read on
      }
    })(),
    'FMT003',
    (e) => {
      assert.deepEqual([e.details.location?.line, e.details.location?.column], [4, 2]);
      assert.match(e.message, /"twenty".*amount.*late\.csv/);
    },
  );
});

test('CsvParser finishes records split across chunks at any point', () => {
  const text = 'a,b\r\n"x ""q""\r\nnext",2\r\n3,"4"\r\n';
  const whole = new CsvParser(',', 'mem').push(text).concat(new CsvParser(',', 'mem').end());
  for (let cut = 0; cut <= text.length; cut++) {
    const parser = new CsvParser(',', 'mem');
    const records = [...parser.push(text.slice(0, cut)), ...parser.push(text.slice(cut)), ...parser.end()];
    assert.deepEqual(
      records.map((r) => [r.line, r.fields]),
      [
        [1, ['a', 'b']],
        [2, ['x "q"\r\nnext', '2']],
        [4, ['3', '4']],
      ],
      `cut at ${cut}`,
    );
  }
  assert.equal(whole.length, 3);
});

test('JSON: an array of objects and an OData {"value": [...]} document', async () => {
  const a = await readAll(file('a.json', '[{"id":1,"name":"één","when":"2024-05-06"},{"id":2,"extra":true,"name":null}]'), 'json');
  assert.deepEqual(
    a.columns.map((c) => [c.name, c.type]),
    [
      ['id', 'integer'],
      ['name', 'varchar'],
      ['when', 'date'],
      ['extra', 'boolean'],
    ],
  );
  assert.deepEqual(a.rows, [
    [1, 'één', new Date(Date.UTC(2024, 4, 6)), null],
    [2, null, null, true],
  ]);
  const b = await readAll(file('odata.json', '{"@odata.context":"x","value":[{"Amount":1.5,"Nested":{"a":1}}]}'), 'json');
  assert.deepEqual(
    b.columns.map((c) => c.type),
    ['double', 'varchar'],
  );
  assert.deepEqual(b.rows, [[1.5, '{"a":1}']]);
});

test('JSON syntax errors give line and column; wrong shapes are named', async () => {
  await rejectsWith(openTable(file('bad.json', '[\n{"a":1},\n{"a":}\n]'), 'json'), 'FMT010', (e) => {
    assert.equal(e.details.location?.line, 3);
  });
  await rejectsWith(openTable(file('shape.json', '{"a":1}'), 'json'), 'FMT011', () => undefined);
  await rejectsWith(openTable(file('elem.json', '[{"a":1},3]'), 'json'), 'FMT012', (e) => assert.match(e.message, /Element 2/));
});

test('NDJSON: one object per line, blank lines skipped, bad line named', async () => {
  const a = await readAll(file('a.ndjson', '{"id":1,"v":"x"}\n\n{"id":2}\n'), 'ndjson');
  assert.deepEqual(a.rows, [
    [1, 'x'],
    [2, null],
  ]);
  await rejectsWith(openTable(file('b.ndjson', '{"id":1}\n{"id":\n'), 'ndjson'), 'FMT010', (e) => assert.equal(e.details.location?.line, 2));
});

test('XLSX: first sheet by default, a named sheet on request, typed cells and formulas', async () => {
  const wb = new ExcelJS.Workbook();
  const s1 = wb.addWorksheet('Debiteuren');
  s1.addRow(['Code', 'Naam', 'Saldo', 'Sinds']);
  s1.addRow([1, 'Bakker', 10.5, new Date(Date.UTC(2020, 0, 1))]);
  s1.addRow([2, { richText: [{ text: 'Rich ' }, { text: 'Text' }] }, { formula: 'C2*2', result: 21 }, new Date(Date.UTC(2021, 5, 1))]);
  const s2 = wb.addWorksheet('Crediteuren');
  s2.addRow(['Id', 'Actief']);
  s2.addRow([7, true]);
  const p = join(dir, 'book.xlsx');
  await wb.xlsx.writeFile(p);
  const first = await readAll(p, 'xlsx');
  assert.deepEqual(
    first.columns.map((c) => [c.name, c.type]),
    [
      ['Code', 'integer'],
      ['Naam', 'varchar'],
      ['Saldo', 'double'],
      ['Sinds', 'date'],
    ],
  );
  assert.deepEqual(first.rows, [
    [1, 'Bakker', 10.5, new Date(Date.UTC(2020, 0, 1))],
    [2, 'Rich Text', 21, new Date(Date.UTC(2021, 5, 1))],
  ]);
  const second = await readAll(p, 'xlsx', { sheet: 'crediteuren' });
  assert.deepEqual(second.rows, [[7, true]]);
  await rejectsWith(openTable(p, 'xlsx', { sheet: 'Nope' }), 'FMT020', (e) => assert.match(e.message, /Nope/));
});

test('a missing file is a clear error', async () => {
  await rejectsWith(openTable(join(dir, 'nope.csv'), 'csv'), 'FMT031', (e) => assert.match(e.message, /nope\.csv/));
});

const typed = [
  { name: 'id', type: 'bigint' as const },
  { name: 'name', type: 'varchar' as const },
  { name: 'amount', type: 'decimal' as const },
  { name: 'day', type: 'date' as const },
  { name: 'at', type: 'timestamp' as const },
  { name: 'ok', type: 'boolean' as const },
];
const typedRows: Value[][] = [
  [9007199254740993n, 'Jansen, "De Bakker"\nregel 2 ✓', 1234.5, new Date(Date.UTC(2024, 1, 29)), new Date(Date.UTC(2024, 1, 29, 13, 14, 15, 120)), true],
  [2, '', -0.25, null, new Date(Date.UTC(2023, 0, 1)), false],
];

for (const format of ['csv', 'json', 'ndjson', 'xlsx'] as const) {
  test(`${format}: what Sluice writes reads back with the same values`, async () => {
    const p = join(dir, `round.${format}`);
    const out = createWriteStream(p);
    await writeResult(format, typed, (async function* () {
      yield { columns: typed.map((c) => c.name), rows: typedRows };
    })(), out);
    out.end();
    await once(out, 'close');
    const { columns, rows } = await readAll(p, format);
    assert.deepEqual(columns.map((c) => c.name), typed.map((c) => c.name));
    const expected = typedRows.map((r) => [...r]);
    assert.deepEqual(rows, expected);
  });
}

test('a 200,000-row CSV streams in bounded batches', async () => {
  const p = join(dir, 'big.csv');
  const out = createWriteStream(p);
  async function* gen(): AsyncIterable<RowBatch> {
    for (let b = 0; b < 40; b++) {
      yield { columns: ['n', 's'], rows: Array.from({ length: 5000 }, (_x, i) => [b * 5000 + i, `rij "${b * 5000 + i}", met komma`]) };
    }
  }
  await writeResult('csv', [{ name: 'n', type: 'integer' }, { name: 's', type: 'varchar' }], gen(), out);
  out.end();
  await once(out, 'close');
  const reader = await openTable(p, 'csv');
  let count = 0;
  let largest = 0;
  let last: readonly Value[] = [];
  for await (const b of reader.batches({ batchSize: 2000 })) {
    count += b.rows.length;
    largest = Math.max(largest, b.rows.length);
    last = b.rows[b.rows.length - 1];
  }
  assert.equal(count, 200000);
  assert.equal(largest, 2000);
  assert.deepEqual(last, [199999, 'rij "199999", met komma']);
});

test('JSON streamed element by element reads what the whole-file parser reads', async () => {
  const tricky = file(
    'tricky.json',
    '{"@odata.context":"x [ { ] }","values":[1],"value" : [\n' +
      '  {"id":1,"text":"brace } and \\"quote\\" and [","nested":{"value":[{"deep":1}]}},\n' +
      '  {"id":9007199254740993,"text":"é\\u00e9","nested":null}\n' +
      '],"@odata.nextLink":"next"}',
  );
  const whole = await readAll(tricky, 'json');
  const streamed = await readAll(tricky, 'json', { streamAbove: 0 });
  assert.deepEqual(streamed, whole);
  assert.deepEqual(streamed.rows, [
    [1, 'brace } and "quote" and [', '{"value":[{"deep":1}]}'],
    [9007199254740993n, 'éé', null],
  ]);
  const plain = file('plain.json', '\uFEFF[{"a":1},{"a":2}]');
  assert.deepEqual((await readAll(plain, 'json', { streamAbove: 0 })).rows, [[1], [2]]);
});

test('JSON streamed: errors name the element or line', async () => {
  await rejectsWith(openTable(file('s1.json', '[{"a":1},\n{"a":}\n]'), 'json', { streamAbove: 0 }), 'FMT010', (e) => assert.equal(e.details.location?.line, 2));
  await rejectsWith(openTable(file('s2.json', '[{"a":1},\n{"a":2'), 'json', { streamAbove: 0 }), 'FMT010', (e) => assert.match(e.message, /ends before/));
  await rejectsWith(openTable(file('s3.json', '[{"a":1}, 7]'), 'json', { streamAbove: 0 }), 'FMT012', (e) => assert.match(e.message, /Element 2/));
  await rejectsWith(openTable(file('s4.json', '{"rows":[{"a":1}]}'), 'json', { streamAbove: 0 }), 'FMT011', () => undefined);
});

test('a 100,000-element JSON file streams in bounded batches', async () => {
  const p = join(dir, 'big.json');
  const out = createWriteStream(p);
  async function* gen(): AsyncIterable<RowBatch> {
    for (let b = 0; b < 20; b++) yield { columns: ['n', 's'], rows: Array.from({ length: 5000 }, (_x, i) => [b * 5000 + i, `r{${i}}"`]) };
  }
  await writeResult('json', [{ name: 'n', type: 'integer' }, { name: 's', type: 'varchar' }], gen(), out);
  out.end();
  await once(out, 'close');
  const reader = await openTable(p, 'json', { streamAbove: 0 });
  let count = 0;
  let largest = 0;
  let last: readonly Value[] = [];
  for await (const b of reader.batches({ batchSize: 3000 })) {
    count += b.rows.length;
    largest = Math.max(largest, b.rows.length);
    last = b.rows[b.rows.length - 1];
  }
  assert.equal(count, 100000);
  assert.equal(largest, 3000);
  assert.deepEqual(last, [99999, 'r{4999}"']);
});

test('NDJSON and streamed JSON refuse a key the sampled objects did not have, naming the line or element', async () => {
  const drain = async (path: string, format: FileFormat, options: Record<string, number>) => {
    const reader = await openTable(path, format, options);
    for await (const _b of reader.batches()) {
      // read on
    }
  };
  await rejectsWith(drain(file('late.ndjson', '{"id":1}\n{"id":2}\n{"id":3,"extra":"x"}\n'), 'ndjson', { sampleRows: 2 }), 'FMT013', (e) => {
    assert.match(e.message, /Line 3 of .*late\.ndjson has a key "extra" that the first 2 lines do not have/);
    assert.equal(e.details.location?.line, 3);
  });
  await rejectsWith(drain(file('late.json', '[{"id":1},{"id":2},{"id":3,"extra":"x"}]'), 'json', { sampleRows: 2, streamAbove: 0 }), 'FMT013', (e) => {
    assert.match(e.message, /Element 3 of .*late\.json has a key "extra" that the first 2 elements do not have/);
    assert.equal(e.details.rowKey, 'element 3');
  });
});

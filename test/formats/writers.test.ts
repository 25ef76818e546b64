/**
 * Golden tests for the result writers: exact CSV / JSON / NDJSON bytes for
 * awkward values (quotes, delimiters, newlines, unicode, bigints beyond 2^53,
 * dates), XLSX read back with types, and backpressure on a slow stream.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable, PassThrough } from 'node:stream';
import { mkdtempSync, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { writeResult, type ResultColumn } from '../../src/formats/index.js';
import type { RowBatch, Value } from '../../src/provider/types.js';

const columns: ResultColumn[] = [
  { name: 'id', type: 'bigint' },
  { name: 'name', type: 'varchar' },
  { name: 'amount', type: 'decimal' },
  { name: 'booked', type: 'date' },
  { name: 'changed', type: 'timestamp' },
  { name: 'open', type: 'boolean' },
];

const rows: Value[][] = [
  [9007199254740993n, 'Jansen, "De Bakker"', 1234.5, new Date(Date.UTC(2024, 1, 29)), new Date(Date.UTC(2024, 1, 29, 13, 14, 15, 120)), true],
  [2, 'twee\nregels; één €', -0.25, null, new Date(Date.UTC(2023, 0, 1, 0, 0, 0)), false],
  [3, '', null, null, null, null],
];

async function* batches(...sets: Value[][][]): AsyncIterable<RowBatch> {
  for (const set of sets) yield { columns: columns.map((c) => c.name), rows: set };
}

class Collect extends Writable {
  chunks: Buffer[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.chunks.push(Buffer.from(chunk));
    cb();
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

test('CSV quotes only fields that need it, keeps bigints exact and writes ISO dates', async () => {
  const out = new Collect();
  const { rows: n } = await writeResult('csv', columns, batches(rows.slice(0, 1), rows.slice(1)), out);
  assert.equal(n, 3);
  assert.equal(
    out.text(),
    'id,name,amount,booked,changed,open\r\n' +
      '9007199254740993,"Jansen, ""De Bakker""",1234.5,2024-02-29,2024-02-29 13:14:15.120,true\r\n' +
      '2,"twee\nregels; één €",-0.25,,2023-01-01 00:00:00,false\r\n' +
      '3,"",,,,\r\n',
  );
});

test('JSON is one array of objects with exact bigints and ISO dates', async () => {
  const out = new Collect();
  await writeResult('json', columns, batches(rows), out);
  assert.equal(
    out.text(),
    '[\n' +
      '{"id":9007199254740993,"name":"Jansen, \\"De Bakker\\"","amount":1234.5,"booked":"2024-02-29","changed":"2024-02-29T13:14:15.120Z","open":true},\n' +
      '{"id":2,"name":"twee\\nregels; één €","amount":-0.25,"booked":null,"changed":"2023-01-01T00:00:00.000Z","open":false},\n' +
      '{"id":3,"name":"","amount":null,"booked":null,"changed":null,"open":null}\n' +
      ']\n',
  );
});

test('JSON of no rows is an empty array', async () => {
  const out = new Collect();
  const { rows: n } = await writeResult('json', columns, batches(), out);
  assert.equal(n, 0);
  assert.deepEqual(JSON.parse(out.text()), []);
});

test('NDJSON writes one parseable object per line', async () => {
  const out = new Collect();
  await writeResult('ndjson', columns, batches(rows), out);
  const lines = out.text().split('\n');
  assert.equal(lines.length, 4);
  assert.equal(lines[3], '');
  assert.deepEqual(JSON.parse(lines[1]), { id: 2, name: 'twee\nregels; één €', amount: -0.25, booked: null, changed: '2023-01-01T00:00:00.000Z', open: false });
});

test('batch columns in another order are matched by name', async () => {
  const out = new Collect();
  async function* swapped(): AsyncIterable<RowBatch> {
    yield { columns: ['b', 'a'], rows: [['x', 1]] };
  }
  await writeResult('csv', [{ name: 'a', type: 'integer' }, { name: 'b', type: 'varchar' }], swapped(), out);
  assert.equal(out.text(), 'a,b\r\n1,x\r\n');
});

test('XLSX holds typed cells: numbers, real dates, booleans, long bigints as text', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-xlsx-'));
  const file = join(dir, 'out.xlsx');
  const out = createWriteStream(file);
  await writeResult('xlsx', columns, batches(rows), out);
  out.end();
  await once(out, 'close');
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.readFile(file);
  const ws = wb.worksheets[0];
  assert.deepEqual((ws.getRow(1).values as unknown[]).slice(1), columns.map((c) => c.name));
  const r2 = ws.getRow(2);
  assert.equal(r2.getCell(1).value, '9007199254740993');
  assert.equal(r2.getCell(2).value, 'Jansen, "De Bakker"');
  assert.equal(r2.getCell(3).value, 1234.5);
  assert.deepEqual(r2.getCell(4).value, new Date(Date.UTC(2024, 1, 29)));
  assert.equal(r2.getCell(4).numFmt, 'yyyy-mm-dd');
  assert.equal(r2.getCell(6).value, true);
  assert.equal(ws.getRow(3).getCell(1).value, 2);
  assert.equal(ws.getRow(3).getCell(2).value, 'twee\nregels; één €');
});

test('writers wait for drain: a slow stream with a tiny buffer still receives every row', async () => {
  let waits = 0;
  const received: Buffer[] = [];
  const slow = new Writable({
    highWaterMark: 16,
    write(chunk: Buffer, _enc, cb) {
      received.push(Buffer.from(chunk));
      setImmediate(cb);
    },
  });
  slow.on('drain', () => waits++);
  async function* many(): AsyncIterable<RowBatch> {
    for (let b = 0; b < 20; b++) {
      yield { columns: ['n'], rows: Array.from({ length: 500 }, (_x, i) => [b * 500 + i]) };
    }
  }
  const { rows: n } = await writeResult('ndjson', [{ name: 'n', type: 'integer' }], many(), slow);
  assert.equal(n, 10000);
  assert.ok(waits > 0, 'the writer waited for drain');
  const lines = Buffer.concat(received).toString('utf8').trim().split('\n');
  assert.equal(lines.length, 10000);
  assert.equal(lines[9999], '{"n":9999}');
});

test('writeResult leaves the output stream open for the caller', async () => {
  const out = new PassThrough();
  out.resume();
  await writeResult('csv', columns, batches(rows), out);
  assert.equal(out.writableEnded, false);
});

test('XLSX through a slow stream arrives whole and readable', async () => {
  const received: Buffer[] = [];
  const slow = new Writable({
    highWaterMark: 1024,
    write(chunk: Buffer, _enc, cb) {
      received.push(Buffer.from(chunk));
      setTimeout(cb, 0);
    },
  });
  async function* many(): AsyncIterable<RowBatch> {
    for (let b = 0; b < 10; b++) yield { columns: ['n', 's'], rows: Array.from({ length: 2000 }, (_x, i) => [b * 2000 + i, `rij ${i}`]) };
  }
  const { rows: n } = await writeResult('xlsx', [{ name: 'n', type: 'integer' }, { name: 's', type: 'varchar' }], many(), slow);
  assert.equal(n, 20000);
  slow.end();
  await once(slow, 'finish');
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(Buffer.concat(received) as unknown as ArrayBuffer);
  const ws = wb.worksheets[0];
  assert.equal(ws.rowCount, 20001);
  assert.deepEqual((ws.getRow(20001).values as unknown[]).slice(1), [19999, 'rij 1999']);
});

test('a reader that hangs up stops the writer with an error instead of a wait forever', async () => {
  for (const format of ['ndjson', 'xlsx'] as const) {
    let calls = 0;
    const hangsUp = new Writable({
      highWaterMark: 64,
      write(_chunk: Buffer, _enc, _cb) {
        // Never acknowledges: the buffer stays full until the stream is destroyed.
        if (++calls === 1) setImmediate(() => hangsUp.destroy());
      },
    });
    hangsUp.on('error', () => undefined);
    async function* many(): AsyncIterable<RowBatch> {
      for (let b = 0; b < 50; b++) yield { columns: ['n'], rows: Array.from({ length: 1000 }, (_x, i) => [i]) };
    }
    await assert.rejects(writeResult(format, [{ name: 'n', type: 'integer' }], many(), hangsUp), /closed before the whole result/, format);
  }
});

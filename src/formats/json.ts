/**
 * JSON and NDJSON. Reading: a JSON file holds an array of objects, or an
 * OData-style `{"value": [...]}`; NDJSON one object per line (streamed).
 * Columns are the object keys in order of first appearance. Writing streams
 * objects out as they come, never building the document in memory.
 */
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { ColumnType, RowBatch, Value } from '../provider/types.js';
import { SluiceError } from '../util/errors.js';
import { alignColumns } from './csv.js';
import {
  convertRecords,
  DEFAULT_BATCH_SIZE,
  DEFAULT_SAMPLE_ROWS,
  inferColumns,
  type RawRecord,
  type TableReader,
} from './records.js';
import { JsonSyntaxError, parseJsonExact } from './json-text.js';
import { writeChunk } from './stream.js';
import { jsonLiteral } from './values.js';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Line and column of a character offset, for JSON syntax errors. */
function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      start = i + 1;
    }
  }
  return { line, column: offset - start + 1 };
}

function syntaxError(file: string, text: string, e: unknown, lineOffset = 0): SluiceError {
  const message = e instanceof Error ? e.message : String(e);
  const at = e instanceof JsonSyntaxError ? lineColumn(text, e.offset) : { line: 1, column: 1 };
  return new SluiceError('FMT010', `${file} is not valid JSON: ${message}.`, {
    location: { line: at.line + lineOffset, column: at.column },
    table: file,
  });
}

/** Open a JSON file (read whole: JSON has no record boundaries to stream on). */
export async function openJson(path: string): Promise<TableReader> {
  const text = (await readFile(path, 'utf8')).replace(/^\uFEFF/, '');
  let doc: unknown;
  try {
    doc = parseJsonExact(text);
  } catch (e) {
    throw syntaxError(path, text, e);
  }
  const found: unknown = Array.isArray(doc) ? doc : isObject(doc) && Array.isArray(doc.value) ? doc.value : undefined;
  if (!Array.isArray(found)) {
    throw new SluiceError('FMT011', `${path} holds neither an array of objects nor {"value": [...]}.`, { table: path });
  }
  const items: readonly unknown[] = found;
  const names: string[] = [];
  const index = new Map<string, number>();
  items.forEach((item, i) => {
    if (!isObject(item)) {
      throw new SluiceError('FMT012', `Element ${i + 1} of ${path} is not an object.`, { table: path, rowKey: `element ${i + 1}` });
    }
    for (const k of Object.keys(item)) {
      if (!index.has(k)) {
        index.set(k, names.length);
        names.push(k);
      }
    }
  });
  async function* records(): AsyncIterable<RawRecord> {
    for (let i = 0; i < items.length; i++) {
      const item = items[i] as Record<string, unknown>;
      yield { pos: i + 1, values: names.map((n) => item[n]) };
    }
  }
  const columns = await inferColumns(names, records(), Number.POSITIVE_INFINITY, false);
  return {
    file: path,
    columns,
    batches: (o = {}) => convertRecords(path, 'element', columns, records(), o.batchSize ?? DEFAULT_BATCH_SIZE, o.signal),
  };
}

async function* ndjsonObjects(path: string): AsyncIterable<{ line: number; item: Record<string, unknown> }> {
  const stream = createReadStream(path, { encoding: 'utf8' });
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let n = 0;
  try {
    for await (const raw of lines) {
      n++;
      const text = n === 1 ? raw.replace(/^\uFEFF/, '') : raw;
      if (text.trim() === '') continue;
      let item: unknown;
      try {
        item = parseJsonExact(text);
      } catch (e) {
        throw syntaxError(path, text, e, n - 1);
      }
      if (!isObject(item)) {
        throw new SluiceError('FMT012', `Line ${n} of ${path} is not a JSON object.`, { table: path, location: { line: n, column: 1 } });
      }
      yield { line: n, item };
    }
  } finally {
    lines.close();
    stream.destroy();
  }
}

/** Open an NDJSON file: keys and types from the first lines; rows stream on demand. */
export async function openNdjson(path: string, options: { readonly sampleRows?: number } = {}): Promise<TableReader> {
  const sampleRows = options.sampleRows ?? DEFAULT_SAMPLE_ROWS;
  const names: string[] = [];
  const known = new Set<string>();
  let n = 0;
  for await (const { item } of ndjsonObjects(path)) {
    for (const k of Object.keys(item)) {
      if (!known.has(k)) {
        known.add(k);
        names.push(k);
      }
    }
    if (++n >= sampleRows) break;
  }
  async function* records(): AsyncIterable<RawRecord> {
    for await (const { line, item } of ndjsonObjects(path)) {
      for (const k of Object.keys(item)) {
        if (!known.has(k)) {
          throw new SluiceError('FMT013', `Line ${line} of ${path} has a key "${k}" that the first ${sampleRows} lines do not have.`, {
            table: path,
            location: { line, column: 1 },
          });
        }
      }
      yield { pos: line, values: names.map((k) => item[k]) };
    }
  }
  const columns = await inferColumns(names, records(), sampleRows, false);
  return {
    file: path,
    columns,
    batches: (o = {}) => convertRecords(path, 'line', columns, records(), o.batchSize ?? DEFAULT_BATCH_SIZE, o.signal),
  };
}

type Columns = readonly { readonly name: string; readonly type: ColumnType }[];

function objectWriter(columns: Columns): (row: readonly Value[], order: readonly number[]) => string {
  const keys = columns.map((c) => JSON.stringify(c.name) + ':');
  const types = columns.map((c) => c.type);
  return (row, order) => {
    let s = '{';
    for (let j = 0; j < keys.length; j++) {
      if (j > 0) s += ',';
      const v = order[j] < 0 ? null : row[order[j]];
      s += keys[j] + jsonLiteral(v ?? null, types[j]);
    }
    return s + '}';
  };
}

/** Write a JSON array of objects, one per line, streamed. */
export async function writeJson(columns: Columns, batches: AsyncIterable<RowBatch>, out: NodeJS.WritableStream): Promise<{ rows: number }> {
  const toText = objectWriter(columns);
  let rows = 0;
  await writeChunk(out, '[');
  for await (const batch of batches) {
    const order = alignColumns(columns, batch);
    let chunk = '';
    for (const row of batch.rows) {
      chunk += (rows === 0 ? '\n' : ',\n') + toText(row, order);
      rows++;
    }
    if (chunk.length > 0) await writeChunk(out, chunk);
  }
  await writeChunk(out, rows === 0 ? ']\n' : '\n]\n');
  return { rows };
}

/** Write one JSON object per line. */
export async function writeNdjson(columns: Columns, batches: AsyncIterable<RowBatch>, out: NodeJS.WritableStream): Promise<{ rows: number }> {
  const toText = objectWriter(columns);
  let rows = 0;
  for await (const batch of batches) {
    const order = alignColumns(columns, batch);
    let chunk = '';
    for (const row of batch.rows) chunk += toText(row, order) + '\n';
    rows += batch.rows.length;
    if (chunk.length > 0) await writeChunk(out, chunk);
  }
  return { rows };
}

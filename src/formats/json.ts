/**
 * JSON and NDJSON. Reading: a JSON file holds an array of objects, or an
 * OData-style `{"value": [...]}`; NDJSON one object per line (streamed).
 * Columns are the object keys in order of first appearance. Writing streams
 * objects out as they come, never building the document in memory.
 */
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
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

/** Files up to this size are parsed whole (types inferred over every row); larger ones stream element by element. */
export const JSON_STREAM_THRESHOLD = 16 * 1024 * 1024;

/**
 * Open a JSON file. Small files are parsed whole; larger ones are streamed
 * one array element at a time (columns from the first `sampleRows` elements),
 * so memory stays bounded.
 */
export async function openJson(path: string, options: { readonly sampleRows?: number; readonly streamAbove?: number } = {}): Promise<TableReader> {
  if ((await stat(path)).size > (options.streamAbove ?? JSON_STREAM_THRESHOLD)) return openJsonStreaming(path, options.sampleRows ?? DEFAULT_SAMPLE_ROWS);
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

/**
 * The elements of the row array of a JSON document (a top-level array, or
 * the array under a top-level "value" key), each parsed on its own. A small
 * scanner tracks strings and nesting so only one element is in memory.
 */
async function* jsonElements(path: string): AsyncIterable<{ index: number; line: number; item: Record<string, unknown> }> {
  const stream = createReadStream(path, { encoding: 'utf8', highWaterMark: 256 * 1024 });
  const stack: number[] = [];
  let arrayDepth = -1;
  let inString = false;
  let escaped = false;
  let line = 1;
  let started = false;
  let expectKey = false;
  let capturingKey = false;
  let key = '';
  let lastKey = '';
  let element: string[] | null = null;
  let elementLine = 0;
  let index = 0;
  let first = true;
  const fail = (code: string, message: string, at: number): never => {
    throw new SluiceError(code, message, { table: path, location: { line: at, column: 1 } });
  };
  try {
    for await (const raw of stream as AsyncIterable<string>) {
      const chunk = first ? raw.replace(/^\uFEFF/, '') : raw;
      first = false;
      let elementStart = 0;
      const n = chunk.length;
      for (let i = 0; i < n; i++) {
        const c = chunk.charCodeAt(i);
        if (c === 10) line++;
        if (inString) {
          if (escaped) escaped = false;
          else if (c === 92) escaped = true;
          else if (c === 34) {
            inString = false;
            if (capturingKey) {
              capturingKey = false;
              lastKey = key;
            }
          } else if (capturingKey) key += chunk[i];
          continue;
        }
        if (c === 32 || c === 9 || c === 10 || c === 13) continue;
        if (element === null && arrayDepth >= 0 && stack.length === arrayDepth && c !== 44 && c !== 93) {
          if (c !== 123) fail('FMT012', `Element ${index + 1} of ${path} is not an object.`, line);
          element = [];
          elementLine = line;
          elementStart = i;
        }
        if (c === 34) {
          inString = true;
          if (expectKey && arrayDepth < 0 && stack.length === 1) {
            capturingKey = true;
            key = '';
          }
          expectKey = false;
          continue;
        }
        if (c === 123 || c === 91) {
          if (!started) {
            started = true;
            if (c === 91) arrayDepth = 1;
          } else if (arrayDepth < 0 && stack.length === 1 && c === 91 && lastKey === 'value') {
            arrayDepth = 2;
          }
          stack.push(c);
          if (c === 123 && stack.length === 1) expectKey = true;
          continue;
        }
        if (c === 125 || c === 93) {
          const open = stack.pop();
          if (open === undefined || (open === 123) !== (c === 125)) fail('FMT010', `${path} is not valid JSON: unexpected "${chunk[i]}".`, line);
          if (element !== null && stack.length === arrayDepth) {
            element.push(chunk.slice(elementStart, i + 1));
            const text = element.join('');
            element = null;
            let item: unknown;
            try {
              item = parseJsonExact(text);
            } catch (e) {
              throw syntaxError(path, text, e, elementLine - 1);
            }
            index++;
            yield { index, line: elementLine, item: item as Record<string, unknown> };
          }
          continue;
        }
        if (!started) fail('FMT011', `${path} holds neither an array of objects nor {"value": [...]}.`, line);
        if (c === 44 && arrayDepth < 0 && stack.length === 1 && stack[0] === 123) expectKey = true;
      }
      if (element !== null) element.push(chunk.slice(elementStart));
    }
  } finally {
    stream.destroy();
  }
  if (stack.length > 0 || inString) fail('FMT010', `${path} is not valid JSON: it ends before its last element is closed.`, line);
  if (arrayDepth < 0) fail('FMT011', `${path} holds neither an array of objects nor {"value": [...]}.`, line);
}

/**
 * A table over a stream of JSON objects (elements of a large array, or NDJSON
 * lines): column names from the first `sampleRows` objects, types inferred
 * from them, rows streamed on demand. A key the sample did not have is an
 * error naming the element or line, never a silently dropped value.
 */
async function openObjectStream(
  path: string,
  objects: () => AsyncIterable<{ readonly pos: number; readonly item: Record<string, unknown> }>,
  unit: 'element' | 'line',
  sampleRows: number,
): Promise<TableReader> {
  const names: string[] = [];
  const known = new Set<string>();
  let n = 0;
  for await (const { item } of objects()) {
    for (const k of Object.keys(item)) {
      if (!known.has(k)) {
        known.add(k);
        names.push(k);
      }
    }
    if (++n >= sampleRows) break;
  }
  async function* records(): AsyncIterable<RawRecord> {
    for await (const { pos, item } of objects()) {
      for (const k of Object.keys(item)) {
        if (!known.has(k)) {
          const where = unit === 'line' ? { location: { line: pos, column: 1 } } : { rowKey: `element ${pos}` };
          const Unit = unit === 'line' ? 'Line' : 'Element';
          throw new SluiceError('FMT013', `${Unit} ${pos} of ${path} has a key "${k}" that the first ${sampleRows} ${unit}s do not have.`, {
            table: path,
            ...where,
          });
        }
      }
      yield { pos, values: names.map((k) => item[k]) };
    }
  }
  const columns = await inferColumns(names, records(), sampleRows, false);
  return {
    file: path,
    columns,
    batches: (o = {}) => convertRecords(path, unit, columns, records(), o.batchSize ?? DEFAULT_BATCH_SIZE, o.signal),
  };
}

async function openJsonStreaming(path: string, sampleRows: number): Promise<TableReader> {
  return openObjectStream(path, async function* () {
    for await (const { index, item } of jsonElements(path)) yield { pos: index, item };
  }, 'element', sampleRows);
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
  return openObjectStream(path, async function* () {
    for await (const { line, item } of ndjsonObjects(path)) yield { pos: line, item };
  }, 'line', options.sampleRows ?? DEFAULT_SAMPLE_ROWS);
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

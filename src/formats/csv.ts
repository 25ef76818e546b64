/**
 * CSV (RFC 4180) reading and writing. The reader is a streaming state
 * machine: quoted fields may hold delimiters, doubled quotes and newlines, and
 * records may span chunks; the delimiter (; , or tab) is detected from the
 * header line unless given. Empty unquoted fields are NULL, `""` is an empty
 * string. The writer quotes only when needed and writes CRLF line ends.
 */
import { createReadStream } from 'node:fs';
import type { ColumnType, RowBatch } from '../provider/types.js';
import { SluiceError } from '../util/errors.js';
import {
  columnNames,
  convertRecords,
  DEFAULT_BATCH_SIZE,
  DEFAULT_SAMPLE_ROWS,
  inferColumns,
  type RawRecord,
  type TableReader,
} from './records.js';
import { formatText } from './values.js';
import { writeChunk } from './stream.js';

export interface CsvRecord {
  /** Line on which the record starts (1-based). */
  readonly line: number;
  readonly fields: readonly (string | null)[];
}

/**
 * Incremental CSV parser: feed text with `push`, finish with `end`. A record
 * not yet complete at the end of a chunk is kept and finished by the next one.
 */
export class CsvParser {
  private carry = '';
  private line = 1;

  constructor(
    private readonly delimiter: string,
    private readonly file: string,
  ) {}

  push(chunk: string): CsvRecord[] {
    return this.parse(this.carry + chunk, false);
  }

  end(): CsvRecord[] {
    return this.parse(this.carry, true);
  }

  private fail(message: string, line: number, column: number): never {
    throw new SluiceError('FMT001', `${message} in ${this.file}.`, { location: { line, column }, table: this.file });
  }

  private parse(text: string, final: boolean): CsvRecord[] {
    const out: CsvRecord[] = [];
    const d = this.delimiter;
    const n = text.length;
    let i = 0;
    let line = this.line;
    while (i < n) {
      const recStart = i;
      const recLine = line;
      let lineStart = i;
      const fields: (string | null)[] = [];
      let complete = false;
      let incomplete = false;
      while (!complete) {
        if (i >= n) {
          if (!final) {
            incomplete = true;
            break;
          }
          fields.push(null);
          complete = true;
          break;
        }
        if (text.charCodeAt(i) === 34 /* " */) {
          const quoteLine = line;
          const quoteCol = i - lineStart + 1;
          let j = i + 1;
          let value = '';
          for (;;) {
            const q = text.indexOf('"', j);
            if (q === -1 || (q + 1 >= n && !final)) {
              if (!final) {
                incomplete = true;
                break;
              }
              this.fail('A quoted field is never closed', quoteLine, quoteCol);
            }
            if (text.charCodeAt(q + 1) === 34) {
              value += text.slice(j, q + 1);
              j = q + 2;
              continue;
            }
            value += text.slice(j, q);
            j = q + 1;
            break;
          }
          if (incomplete) break;
          for (let k = i; k < j; k++) {
            if (text.charCodeAt(k) === 10) {
              line++;
              lineStart = k + 1;
            }
          }
          i = j;
          fields.push(value);
        } else {
          let j = i;
          while (j < n) {
            const c = text[j];
            if (c === d || c === '\n' || c === '\r') break;
            j++;
          }
          if (j >= n && !final) {
            incomplete = true;
            break;
          }
          const value = text.slice(i, j);
          fields.push(value === '' ? null : value);
          i = j;
        }
        if (i >= n) {
          if (!final) {
            incomplete = true;
            break;
          }
          complete = true;
          break;
        }
        const c = text[i];
        if (c === d) {
          i++;
          continue;
        }
        if (c === '\n') {
          i++;
          line++;
          complete = true;
        } else if (c === '\r') {
          if (i + 1 >= n && !final) {
            incomplete = true;
            break;
          }
          i += text[i + 1] === '\n' ? 2 : 1;
          line++;
          complete = true;
        } else {
          this.fail(`Unexpected "${c}" after a closing quote`, line, i - lineStart + 1);
        }
      }
      if (incomplete) {
        this.carry = text.slice(recStart);
        this.line = recLine;
        return out;
      }
      if (!(fields.length === 1 && fields[0] === null)) out.push({ line: recLine, fields });
    }
    this.carry = '';
    this.line = line;
    return out;
  }
}

/** The delimiter used on the first line: the most frequent of ; , and tab outside quotes (comma on a tie). */
export function detectDelimiter(firstLine: string): string {
  const counts = new Map<string, number>([
    [',', 0],
    [';', 0],
    ['\t', 0],
  ]);
  let quoted = false;
  for (const c of firstLine) {
    if (c === '"') quoted = !quoted;
    else if (!quoted && counts.has(c)) counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  let best = ',';
  for (const [c, k] of counts) if (k > (counts.get(best) ?? 0)) best = c;
  return best;
}

export interface CsvReadOptions {
  readonly delimiter?: string;
  /** Read "1.234,56" as 1234.56: true, false, or (default) detect per column when the delimiter is not a comma. */
  readonly decimalComma?: boolean;
  readonly sampleRows?: number;
}

async function* csvRecords(path: string, delimiter: string): AsyncIterable<CsvRecord> {
  const parser = new CsvParser(delimiter, path);
  const stream = createReadStream(path, { encoding: 'utf8', highWaterMark: 256 * 1024 });
  let first = true;
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      let text = chunk;
      if (first) {
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
        first = false;
      }
      yield* parser.push(text);
    }
    yield* parser.end();
  } finally {
    stream.destroy();
  }
}

async function firstLine(path: string): Promise<string> {
  const stream = createReadStream(path, { encoding: 'utf8', start: 0, end: 64 * 1024 });
  let text = '';
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      text += chunk;
      if (/[\r\n]/.test(text)) break;
    }
  } finally {
    stream.destroy();
  }
  return text.replace(/^\uFEFF/, '').split(/\r?\n|\r/)[0];
}

/** Open a CSV file: header, delimiter and column types are settled now; rows stream on demand. */
export async function openCsv(path: string, options: CsvReadOptions = {}): Promise<TableReader> {
  const delimiter = options.delimiter ?? detectDelimiter(await firstLine(path));
  const header = await (async () => {
    for await (const r of csvRecords(path, delimiter)) return r;
    return undefined;
  })();
  if (!header) {
    return { file: path, columns: [], batches: async function* () {} };
  }
  const names = columnNames(header.fields);
  const width = names.length;
  async function* records(): AsyncIterable<RawRecord> {
    let skipped = false;
    for await (const r of csvRecords(path, delimiter)) {
      if (!skipped) {
        skipped = true;
        continue;
      }
      if (r.fields.length !== width) {
        throw new SluiceError('FMT002', `Line ${r.line} of ${path} has ${r.fields.length} fields; the header has ${width}.`, {
          location: { line: r.line, column: 1 },
          table: path,
        });
      }
      yield { pos: r.line, values: r.fields };
    }
  }
  const allowComma = options.decimalComma ?? delimiter !== ',';
  const columns = await inferColumns(names, records(), options.sampleRows ?? DEFAULT_SAMPLE_ROWS, allowComma);
  return {
    file: path,
    columns,
    batches: (o = {}) => convertRecords(path, 'line', columns, records(), o.batchSize ?? DEFAULT_BATCH_SIZE, o.signal),
  };
}

function csvField(text: string, delimiter: string): string {
  if (text.includes('"') || text.includes(delimiter) || text.includes('\n') || text.includes('\r')) {
    return `"${text.replace(/"/g, '""')}"`;
  }
  return text;
}

/**
 * Write rows as CSV. An empty string is written as `""` so it reads back as
 * an empty string rather than NULL.
 */
export async function writeCsv(
  columns: readonly { readonly name: string; readonly type: ColumnType; readonly decimalComma?: boolean; readonly dayFirst?: boolean }[],
  batches: AsyncIterable<RowBatch>,
  out: NodeJS.WritableStream,
  options: { readonly delimiter?: string; readonly header?: boolean } = {},
): Promise<{ rows: number }> {
  const d = options.delimiter ?? ',';
  if (options.header !== false) {
    await writeChunk(out, columns.map((c) => csvField(c.name, d)).join(d) + '\r\n');
  }
  let rows = 0;
  const types = columns.map((c) => c.type);
  for await (const batch of batches) {
    const order = alignColumns(columns, batch);
    let chunk = '';
    for (const row of batch.rows) {
      let lineText = '';
      for (let j = 0; j < order.length; j++) {
        if (j > 0) lineText += d;
        const v = order[j] < 0 ? null : row[order[j]];
        if (v === '') lineText += '""';
        else if (v !== null && v !== undefined) lineText += csvField(formatText(v, types[j], columns[j]), d);
      }
      chunk += lineText + '\r\n';
    }
    rows += batch.rows.length;
    if (chunk.length > 0) await writeChunk(out, chunk);
  }
  return { rows };
}

/** Index in the batch of each declared column (by position when the names agree, else by name; -1 if absent). */
export function alignColumns(columns: readonly { readonly name: string }[], batch: RowBatch): number[] {
  const same = batch.columns.length === columns.length && columns.every((c, j) => c.name === batch.columns[j]);
  if (same) return columns.map((_c, j) => j);
  const lower = batch.columns.map((c) => c.toLowerCase());
  return columns.map((c, j) => {
    const k = batch.columns.indexOf(c.name);
    if (k >= 0) return k;
    const l = lower.indexOf(c.name.toLowerCase());
    return l >= 0 ? l : j < batch.columns.length && batch.columns.length === columns.length ? j : -1;
  });
}

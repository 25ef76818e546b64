/**
 * The reader pipeline every file format shares: a format yields raw records
 * (text or JS values, positioned by line, element or spreadsheet row), a
 * sample of them decides each column's type, and the converter turns the
 * stream into RowBatches of typed values. A value that does not fit the type
 * the sample suggested is an error naming the file, line and column.
 */
import type { RowBatch, Value } from '../provider/types.js';
import { SluiceError } from '../util/errors.js';
import { convertValue, INVALID, TypeGuesser, type InferredColumn } from './values.js';

/** One record as a format read it: `values[j]` belongs to column j; `pos` is its line (or element / row number). */
export interface RawRecord {
  readonly pos: number;
  readonly values: readonly unknown[];
}

/** How `RawRecord.pos` is counted, for messages. */
export type PositionKind = 'line' | 'element' | 'row';

/** A readable table: its inferred columns, and its rows as often as asked. */
export interface TableReader {
  readonly file: string;
  readonly columns: readonly InferredColumn[];
  /** Stream the rows from the start; each call reads the file again. */
  batches(options?: { readonly signal?: AbortSignal; readonly batchSize?: number }): AsyncIterable<RowBatch>;
}

export const DEFAULT_BATCH_SIZE = 5000;
export const DEFAULT_SAMPLE_ROWS = 10000;

/** Unique, non-empty column names: blanks become column_N, repeats get _2, _3. */
export function columnNames(raw: readonly unknown[]): string[] {
  const seen = new Map<string, number>();
  return raw.map((r, i) => {
    let name = r === null || r === undefined ? '' : String(r).trim();
    if (name === '') name = `column_${i + 1}`;
    const key = name.toLowerCase();
    const count = seen.get(key) ?? 0;
    seen.set(key, count + 1);
    return count === 0 ? name : `${name}_${count + 1}`;
  });
}

/** Infer column types from the first `sampleRows` records. */
export async function inferColumns(
  names: readonly string[],
  records: AsyncIterable<RawRecord>,
  sampleRows: number,
  allowDecimalComma: boolean,
): Promise<InferredColumn[]> {
  const guessers = names.map(() => new TypeGuesser(allowDecimalComma));
  let n = 0;
  for await (const r of records) {
    for (let j = 0; j < guessers.length; j++) guessers[j].observe(r.values[j]);
    if (++n >= sampleRows) break;
  }
  return guessers.map((g, j) => g.result(names[j]));
}

function shorten(v: unknown): string {
  const s = typeof v === 'string' ? v : v instanceof Date ? v.toISOString() : String(v);
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}

/** Convert raw records to typed RowBatches of at most `batchSize` rows. */
export async function* convertRecords(
  file: string,
  kind: PositionKind,
  columns: readonly InferredColumn[],
  records: AsyncIterable<RawRecord>,
  batchSize: number,
  signal?: AbortSignal,
): AsyncIterable<RowBatch> {
  const names = columns.map((c) => c.name);
  let rows: Value[][] = [];
  for await (const r of records) {
    const row: Value[] = new Array<Value>(columns.length);
    for (let j = 0; j < columns.length; j++) {
      const v = convertValue(r.values[j], columns[j]);
      if (v === INVALID) {
        throw new SluiceError(
          'FMT003',
          `The value "${shorten(r.values[j])}" in column ${columns[j].name} of ${file} (${kind} ${r.pos}) is not a ${columns[j].type}, the type its first rows suggested.`,
          {
            ...(kind === 'line' ? { location: { line: r.pos, column: j + 1 } } : { rowKey: `${kind} ${r.pos}` }),
            table: file,
            hint: 'Fix the value, or quote the column so it reads as text.',
          },
        );
      }
      row[j] = v;
    }
    rows.push(row);
    if (rows.length >= batchSize) {
      signal?.throwIfAborted();
      yield { columns: names, rows };
      rows = [];
    }
  }
  if (rows.length > 0) yield { columns: names, rows };
}

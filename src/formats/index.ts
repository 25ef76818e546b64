/**
 * File formats: streaming writers for query results (used by the CLI's
 * --format/--output, the server, and the files provider) and readers that
 * turn CSV, JSON, NDJSON and XLSX files into typed RowBatches with inferred
 * columns (used by the files provider). Imports only the provider contract
 * types and util; anything may import this folder.
 */
import { extname } from 'node:path';
import type { ColumnType, RowBatch } from '../provider/types.js';
import { SluiceError } from '../util/errors.js';
import { openCsv, writeCsv, type CsvReadOptions } from './csv.js';
import { openJson, openNdjson, writeJson, writeNdjson } from './json.js';
import type { TableReader } from './records.js';
import { openXlsx, writeXlsx } from './xlsx.js';

export type { TableReader } from './records.js';
export type { InferredColumn } from './values.js';
export { CsvParser, detectDelimiter } from './csv.js';
export { listSheets } from './xlsx.js';

export type FileFormat = 'csv' | 'json' | 'ndjson' | 'xlsx';
export const FILE_FORMATS: readonly FileFormat[] = ['csv', 'json', 'ndjson', 'xlsx'];

export interface ResultColumn {
  readonly name: string;
  readonly type: ColumnType;
}

/**
 * Stream a result to `out` in a format, waiting for 'drain' whenever `out` is
 * behind. Resolves when everything has been handed to `out`; never ends it —
 * the caller owns it (stdout must stay open), and for a file ends it and
 * waits for 'finish'/'close'. Batches' columns are matched to `columns` by
 * position, or by name when they differ.
 */
export async function writeResult(
  format: FileFormat,
  columns: readonly ResultColumn[],
  batches: AsyncIterable<RowBatch>,
  out: NodeJS.WritableStream,
): Promise<{ rows: number }> {
  switch (format) {
    case 'csv':
      return writeCsv(columns, batches, out);
    case 'json':
      return writeJson(columns, batches, out);
    case 'ndjson':
      return writeNdjson(columns, batches, out);
    case 'xlsx':
      return writeXlsx(columns, batches, out);
    default:
      throw new SluiceError('FMT030', `Unknown output format "${String(format)}".`, { hint: 'Use csv, json, ndjson or xlsx.' });
  }
}

/** The format a file name implies (.csv, .txt/.tsv as CSV, .json, .ndjson/.jsonl, .xlsx); undefined otherwise. */
export function formatOfPath(path: string): FileFormat | undefined {
  switch (extname(path).toLowerCase()) {
    case '.csv':
    case '.tsv':
    case '.txt':
      return 'csv';
    case '.json':
      return 'json';
    case '.ndjson':
    case '.jsonl':
      return 'ndjson';
    case '.xlsx':
      return 'xlsx';
    default:
      return undefined;
  }
}

export interface ReadOptions extends CsvReadOptions {
  /** JSON: stream files larger than this many bytes instead of parsing them whole (default 16 MB). */
  readonly streamAbove?: number;
  /** XLSX: the sheet to read (default the first). */
  readonly sheet?: string;
}

/** Open a file as a table: columns are inferred now, rows stream from `batches()`. */
export async function openTable(path: string, format: FileFormat, options: ReadOptions = {}): Promise<TableReader> {
  try {
    switch (format) {
      case 'csv':
        return await openCsv(path, path.toLowerCase().endsWith('.tsv') && !options.delimiter ? { ...options, delimiter: '\t' } : options);
      case 'json':
        return await openJson(path, options);
      case 'ndjson':
        return await openNdjson(path, options);
      case 'xlsx':
        return await openXlsx(path, options);
      default:
        throw new SluiceError('FMT030', `Unknown file format "${String(format)}".`);
    }
  } catch (e) {
    if (e instanceof SluiceError) throw e;
    const code = (e as { code?: unknown }).code;
    if (code === 'ENOENT') throw new SluiceError('FMT031', `The file ${path} does not exist.`, { table: path });
    throw new SluiceError('FMT032', `${path} could not be read as ${format}: ${e instanceof Error ? e.message : String(e)}`, {
      table: path,
      cause: e,
    });
  }
}

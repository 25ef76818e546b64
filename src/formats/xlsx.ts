/**
 * XLSX through exceljs's streaming reader and writer, so large sheets never
 * sit in memory whole. Reading: the first sheet (or a named one), header in
 * the first non-empty row; cells keep their types (numbers, dates, booleans),
 * formulas give their cached result, rich text its plain text. Writing: one
 * sheet with typed cells, dates as real Excel dates.
 */
import { PassThrough } from 'node:stream';
import ExcelJS from 'exceljs';
import type { ColumnType, RowBatch, Value } from '../provider/types.js';
import { SluiceError } from '../util/errors.js';
import { alignColumns } from './csv.js';
import { untilPiped, waitForDrain } from './stream.js';
import {
  columnNames,
  convertRecords,
  DEFAULT_BATCH_SIZE,
  DEFAULT_SAMPLE_ROWS,
  inferColumns,
  type RawRecord,
  type TableReader,
} from './records.js';

/** A cell's value as a plain JS value: formulas → result, rich text → text, errors → null. */
function cellValue(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v !== 'object' || v instanceof Date) return v;
  const o = v as Record<string, unknown>;
  if (Array.isArray(o.richText)) return (o.richText as { text?: unknown }[]).map((p) => String(p.text ?? '')).join('');
  if ('formula' in o || 'sharedFormula' in o) return cellValue(o.result);
  if ('text' in o && 'hyperlink' in o) return cellValue(o.text);
  if ('error' in o) return null;
  return JSON.stringify(o);
}

interface SheetRow {
  readonly number: number;
  readonly values: unknown[];
}

function workbookReader(path: string): AsyncIterable<AsyncIterable<unknown> & { name: string }> {
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(path, {
    worksheets: 'emit',
    sharedStrings: 'cache',
    styles: 'cache',
    hyperlinks: 'ignore',
    entries: 'ignore',
  });
  return reader as unknown as AsyncIterable<AsyncIterable<unknown> & { name: string }>;
}

function rowOf(row: unknown): SheetRow {
  const r = row as { number: number; values: unknown[] };
  // exceljs row values are 1-based (index 0 is empty).
  return { number: r.number, values: r.values.slice(1).map(cellValue) };
}

async function* sheetRows(path: string, sheet: string | undefined): AsyncIterable<SheetRow> {
  let found = false;
  for await (const ws of workbookReader(path)) {
    if (found || (sheet !== undefined && ws.name.toLowerCase() !== sheet.toLowerCase())) {
      for await (const _row of ws) {
        // Drain sheets we skip: the zip stream can only move forward.
      }
      continue;
    }
    found = true;
    for await (const row of ws) yield rowOf(row);
  }
  if (!found) {
    throw new SluiceError('FMT020', sheet === undefined ? `${path} has no sheets.` : `${path} has no sheet "${sheet}".`, { table: path });
  }
}

/** The sheet names of a workbook, in order. */
export async function listSheets(path: string): Promise<string[]> {
  const names: string[] = [];
  for await (const ws of workbookReader(path)) {
    names.push(ws.name);
    for await (const _row of ws) {
      // drain
    }
  }
  return names;
}

/** Open one sheet of a workbook (the first when `sheet` is not given). */
export async function openXlsx(path: string, options: { readonly sheet?: string; readonly sampleRows?: number } = {}): Promise<TableReader> {
  let header: SheetRow | undefined;
  for await (const row of sheetRows(path, options.sheet)) {
    if (row.values.some((v) => v !== null && v !== '')) {
      header = row;
      break;
    }
  }
  const file = options.sheet ? `${path} (sheet ${options.sheet})` : path;
  if (!header) return { file, columns: [], batches: async function* () {} };
  const names = columnNames(header.values);
  const headerRow = header.number;
  async function* records(): AsyncIterable<RawRecord> {
    for await (const row of sheetRows(path, options.sheet)) {
      if (row.number <= headerRow) continue;
      if (row.values.every((v) => v === null || v === '')) continue;
      yield { pos: row.number, values: row.values.slice(0, names.length) };
    }
  }
  const columns = await inferColumns(names, records(), options.sampleRows ?? DEFAULT_SAMPLE_ROWS, false);
  return {
    file,
    columns,
    batches: (o = {}) => convertRecords(file, 'row', columns, records(), o.batchSize ?? DEFAULT_BATCH_SIZE, o.signal),
  };
}

function cellOf(v: Value | undefined, type: ColumnType): ExcelJS.CellValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  if (typeof v === 'number' && !Number.isFinite(v)) return null;
  if (typeof v === 'string' && (type === 'date' || type === 'timestamp')) return v;
  return v;
}

const DATE_FORMAT = 'yyyy-mm-dd';
const TIMESTAMP_FORMAT = 'yyyy-mm-dd hh:mm:ss';

/**
 * Write rows to one sheet. exceljs zips into a PassThrough that is piped to
 * `out` without ending it, so the caller decides when `out` closes; the pipe
 * carries backpressure. Bigints beyond 2^53 are written as text to keep
 * every digit (Excel numbers are doubles).
 */
export async function writeXlsx(
  columns: readonly { readonly name: string; readonly type: ColumnType }[],
  batches: AsyncIterable<RowBatch>,
  out: NodeJS.WritableStream,
  options: { readonly sheet?: string } = {},
): Promise<{ rows: number }> {
  const zipped = new PassThrough();
  const done = untilPiped(zipped, out);
  // Settled below; a rejection while rows are still being added must not go unhandled meanwhile.
  done.catch(() => undefined);
  zipped.pipe(out as NodeJS.WritableStream, { end: false });
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: zipped, useStyles: true, useSharedStrings: false });
  const sheet = workbook.addWorksheet(options.sheet ?? 'Result');
  sheet.columns = columns.map((c) => ({
    header: c.name,
    key: c.name,
    width: Math.min(60, Math.max(10, c.name.length + 2, c.type === 'timestamp' ? 20 : 0)),
    style: c.type === 'date' ? { numFmt: DATE_FORMAT } : c.type === 'timestamp' ? { numFmt: TIMESTAMP_FORMAT } : {},
  }));
  sheet.getRow(1).commit();
  const types = columns.map((c) => c.type);
  let rows = 0;
  for await (const batch of batches) {
    const order = alignColumns(columns, batch);
    for (const row of batch.rows) {
      const values = order.map((k, j) => cellOf(k < 0 ? null : row[k], types[j]));
      sheet.addRow(values).commit();
      rows++;
    }
    // Let the zip stream flush between batches, and wait while `out` is behind, so memory stays bounded.
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (zipped.writableNeedDrain) await waitForDrain(zipped, out);
  }
  sheet.commit();
  await workbook.commit();
  await done;
  return { rows };
}

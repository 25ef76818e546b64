/**
 * The `table` output format: aligned columns for people at a terminal, in the
 * style of psql. Widths are measured over the first rows (bounded memory for
 * results of any size); a value wider than its column is cut with "…" and
 * the footer says so — a table never hides data silently, and points to
 * csv/json for the full values. Numbers are right-aligned.
 */
import type { RowBatch, Value } from '../../provider/types.js';
import type { ResultColumn } from '../../engine/api.js';
import { isNumericType, valueToText } from './values.js';

export interface TableOptions {
  /** No column is wider than this (characters). Default 50. */
  readonly maxColumnWidth?: number;
  /** The whole line fits this width when it can (terminal columns); wide columns shrink first. */
  readonly maxWidth?: number;
  /** Rows held back to measure column widths before the first line is written. Default 1000. */
  readonly sampleRows?: number;
}

export interface TableOutcome {
  readonly rows: number;
  /** Whether any value (or header) was shortened to fit its column. */
  readonly truncated: boolean;
}

const ELLIPSIS = '…';
const MIN_WIDTH = 6;

/** Length in characters (code points), so accented names measure right. */
function textWidth(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

function padRight(s: string, width: number): string {
  return s + ' '.repeat(Math.max(0, width - textWidth(s)));
}

/** Control characters would break the grid; show line breaks as ↵ and tabs as a space. */
function flatten(s: string): string {
  return s.replace(/\r\n|\r|\n/g, '↵').replace(/[\t\f\v]/g, ' ');
}

/** Fit `s` into `width` characters; returns the text and whether it was cut. */
export function fitCell(s: string, width: number): { text: string; cut: boolean } {
  if (textWidth(s) <= width) return { text: s, cut: false };
  const chars = [...s];
  return { text: chars.slice(0, Math.max(0, width - 1)).join('').trimEnd() + ELLIPSIS, cut: true };
}

/** Column widths: natural width capped at maxColumnWidth, then narrowed to fit maxWidth. */
export function columnWidths(natural: readonly number[], maxColumnWidth: number, maxWidth?: number): number[] {
  const widths = natural.map((w) => Math.max(1, Math.min(w, maxColumnWidth)));
  // A terminal that reports no size (0, as some pseudo-terminals do) does not constrain the table.
  if (maxWidth === undefined || maxWidth < 20 || widths.length === 0) return widths;
  const overhead = 3 * (widths.length - 1) + 2;
  let total = widths.reduce((a, b) => a + b, 0) + overhead;
  while (total > maxWidth) {
    let widest = 0;
    for (let i = 1; i < widths.length; i++) if (widths[i] > widths[widest]) widest = i;
    if (widths[widest] <= MIN_WIDTH) break;
    widths[widest]--;
    total--;
  }
  return widths;
}

/** Streams a result as an aligned table through `write`. */
export class TableWriter {
  private readonly columns: readonly ResultColumn[];
  private readonly write: (text: string) => void;
  private readonly options: TableOptions;
  private readonly sample: string[][] = [];
  private widths: number[] | undefined;
  private rowCount = 0;
  private cut = false;

  constructor(columns: readonly ResultColumn[], write: (text: string) => void, options: TableOptions = {}) {
    this.columns = columns;
    this.write = write;
    this.options = options;
  }

  addBatch(batch: RowBatch): void {
    // Batches may carry extra columns (e.g. a partition column); pick ours by name.
    const index = this.columns.map((c, i) => {
      if (batch.columns[i] !== undefined && batch.columns[i].toLowerCase() === c.name.toLowerCase()) return i;
      const found = batch.columns.findIndex((b) => b.toLowerCase() === c.name.toLowerCase());
      return found >= 0 ? found : i;
    });
    for (const row of batch.rows) {
      const cells = index.map((j, i) => flatten(valueToText(row[j] as Value, this.columns[i].type)));
      this.rowCount++;
      if (this.widths) this.writeRow(cells);
      else {
        this.sample.push(cells);
        if (this.sample.length >= (this.options.sampleRows ?? 1000)) this.flushSample();
      }
    }
  }

  finish(): TableOutcome {
    if (!this.widths) this.flushSample();
    const plural = this.rowCount === 1 ? 'row' : 'rows';
    const note = this.cut ? '; truncated: values wider than their column end in "…", use csv or json output for full values' : '';
    this.write(`(${this.rowCount} ${plural}${note})\n`);
    return { rows: this.rowCount, truncated: this.cut };
  }

  private flushSample(): void {
    const headers = this.columns.map((c) => flatten(c.name));
    const natural = headers.map((h, i) => Math.max(textWidth(h), ...this.sample.map((r) => textWidth(r[i]))));
    this.widths = columnWidths(natural, this.options.maxColumnWidth ?? 50, this.options.maxWidth);
    const head = headers.map((h, i) => padRight(this.fit(h, i), this.widths![i]));
    this.write(` ${head.join(' | ')}`.trimEnd() + '\n');
    this.write(this.widths.map((w) => '-'.repeat(w + 2)).join('+') + '\n');
    for (const cells of this.sample) this.writeRow(cells);
    this.sample.length = 0;
  }

  private fit(text: string, i: number): string {
    const { text: fitted, cut } = fitCell(text, this.widths![i]);
    if (cut) this.cut = true;
    return fitted;
  }

  private writeRow(cells: readonly string[]): void {
    const parts = cells.map((cell, i) => {
      const fitted = this.fit(cell, i);
      const padding = ' '.repeat(Math.max(0, this.widths![i] - textWidth(fitted)));
      return isNumericType(this.columns[i].type) ? padding + fitted : fitted + padding;
    });
    this.write(` ${parts.join(' | ')}`.trimEnd() + '\n');
  }
}

/** The whole table as one string, for small results (\describe, \tables, tests). */
export function renderTable(
  columns: readonly ResultColumn[],
  rows: readonly (readonly Value[])[],
  options: TableOptions = {},
): string {
  let out = '';
  const writer = new TableWriter(columns, (t) => (out += t), options);
  writer.addBatch({ columns: columns.map((c) => c.name), rows });
  writer.finish();
  return out;
}

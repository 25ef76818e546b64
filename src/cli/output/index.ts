/**
 * Where statement results go: one ResultOutput per command run, in one of the
 * formats table | csv | json | ndjson | xlsx, to a stream (stdout) or a file
 * (--output). The table format is the CLI's own (./table.ts); the others are
 * the shared streaming writers of src/formats. A script with several result
 * sets writes them one after another; xlsx holds one sheet per file, so a
 * second result set goes to NAME-2.xlsx (and stderr says so).
 */
import { createWriteStream, openSync, statSync, type WriteStream } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import type { ResultColumn } from '../../engine/api.js';
import { writeResult } from '../../formats/index.js';
import type { RowBatch } from '../../provider/types.js';
import { SluiceError } from '../../util/errors.js';
import { TableWriter, type TableOptions, type TableOutcome } from './table.js';

export const OUTPUT_FORMATS = ['table', 'csv', 'json', 'ndjson', 'xlsx'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export function parseFormat(text: string): OutputFormat {
  const f = text.toLowerCase();
  if ((OUTPUT_FORMATS as readonly string[]).includes(f)) return f as OutputFormat;
  throw new SluiceError('CLI001', `Unknown output format "${text}".`, { hint: `Use one of: ${OUTPUT_FORMATS.join(', ')}.` });
}

function outputFileError(file: string, reason: string): SluiceError {
  return new SluiceError('CLI006', `Cannot write the output file ${file}: ${reason}.`, { hint: 'Give --output a file in a folder that exists and that you may write to.' });
}

/**
 * Fail before a query runs (it may take minutes against a cloud platform) when
 * --output cannot be a file: a folder, or a file in a folder that is missing.
 */
export function checkOutputFile(file: string): void {
  const stat = statSync(file, { throwIfNoEntry: false });
  if (stat?.isDirectory()) throw outputFileError(file, 'it is a folder');
  const folder = dirname(resolve(file));
  const parent = statSync(folder, { throwIfNoEntry: false });
  if (!parent) throw outputFileError(file, `the folder ${folder} does not exist`);
  if (!parent.isDirectory()) throw outputFileError(file, `${folder} is not a folder`);
}

/** Open synchronously so a failure (permissions, full disk) is a SluiceError here, not an unhandled stream event later. */
function openFile(file: string): WriteStream {
  let fd: number;
  try {
    fd = openSync(file, 'w');
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const reason = code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'ENOENT' ? 'its folder does not exist' : code === 'EISDIR' ? 'it is a folder' : String(code ?? 'it could not be opened');
    throw outputFileError(file, reason);
  }
  const stream = createWriteStream(file, { fd });
  // Later write errors surface through write()/endFile(); without a listener Node would crash the process.
  stream.on('error', () => undefined);
  return stream;
}

export interface ResultOutput {
  /** Write one result set; resolves when every batch is written. */
  writeRows(columns: readonly ResultColumn[], batches: AsyncIterable<RowBatch>): Promise<TableOutcome>;
  /** Flush and close file targets (a given stream such as stdout is left open). */
  close(): Promise<void>;
}

export interface OutputTarget {
  readonly format: OutputFormat;
  /** Write here; ignored when `file` is given. */
  readonly stream?: Writable;
  /** Write to this file instead (required for xlsx). */
  readonly file?: string;
  readonly table?: TableOptions;
  /** Told about extra files (xlsx result sets after the first). */
  readonly notice?: (text: string) => void;
}

function write(stream: Writable, text: string): Promise<void> {
  return new Promise<void>((done, reject) => {
    if (text.length === 0) return done();
    if (stream.write(text, (err) => (err ? reject(err) : undefined))) done();
    else stream.once('drain', done);
  });
}

function endFile(stream: WriteStream): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    stream.once('error', reject);
    stream.end(() => resolve());
  });
}

/** NAME.xlsx → NAME-2.xlsx for the second result set, and so on. */
export function numberedFile(file: string, n: number): string {
  if (n <= 1) return file;
  const m = /^(.*?)(\.[^./\\]*)?$/.exec(file);
  return `${m?.[1] ?? file}-${n}${m?.[2] ?? ''}`;
}

export function createOutput(target: OutputTarget): ResultOutput {
  const format = target.format;
  if (format === 'xlsx' && !target.file) {
    throw new SluiceError('CLI002', 'The xlsx format writes a file, not the terminal.', { hint: 'Add --output FILE.xlsx.' });
  }
  const files: WriteStream[] = [];
  const open = (file: string): WriteStream => {
    const s = openFile(file);
    files.push(s);
    return s;
  };
  let shared: Writable | undefined;
  const streamFor = (n: number): Writable => {
    if (format === 'xlsx') {
      const file = numberedFile(target.file!, n);
      if (n > 1) target.notice?.(`Result set ${n} written to ${file} (an xlsx file holds one result).`);
      return open(file);
    }
    if (!shared) shared = target.file ? open(target.file) : target.stream;
    if (!shared) throw new SluiceError('CLI003', 'No output stream or file was given.');
    return shared;
  };
  let sets = 0;

  return {
    async writeRows(columns, batches) {
      sets++;
      const out = streamFor(sets);
      if (format === 'table') {
        if (sets > 1) await write(out, '\n');
        let pending = '';
        const table = new TableWriter(columns, (t) => (pending += t), target.table);
        for await (const batch of batches) {
          table.addBatch(batch);
          await write(out, pending);
          pending = '';
        }
        const outcome = table.finish();
        await write(out, pending);
        return outcome;
      }
      // A blank line keeps consecutive CSV blocks / JSON arrays apart for people and line-based tools.
      if (sets > 1 && format !== 'xlsx' && format !== 'ndjson') await write(out, format === 'csv' ? '\r\n' : '\n');
      const { rows } = await writeResult(format, columns, batches, out);
      return { rows, truncated: false };
    },
    async close() {
      if (format === 'xlsx' && sets === 0) {
        // Asked for a file: leave a valid, empty workbook rather than nothing.
        await writeResult('xlsx', [], (async function* () {})(), streamFor(1));
      }
      await Promise.all(files.map(endFile));
    },
  };
}

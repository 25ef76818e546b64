/**
 * The files provider: a folder of CSV, JSON, NDJSON and XLSX files as a
 * container. Every such file under `root` (default: the working directory;
 * subfolders up to four levels, node_modules skipped, `recursive=false` for
 * the top folder only) is a table named after the file, its folder as the
 * schema (workbooks also per sheet, as `file.sheet`), and the
 * table functions csv(path), json(path), ndjson(path) and xlsx(path[, sheet])
 * read any file under root. Tables accept inserts (appended), create table
 * makes an empty file in the container's `format` (default csv), drop table
 * deletes the file. Every change is written to a temporary file and renamed
 * into place, so a file is never left half-written. Reading and writing are
 * done by src/formats.
 */
import { createReadStream, createWriteStream, type Dirent } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { once } from 'node:events';
import { basename, dirname, extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import type {
  ColumnInfo,
  ColumnType,
  Container,
  ContainerConfig,
  Partition,
  Provider,
  ProviderEnv,
  RowBatch,
  RowResult,
  ScanContext,
  ScanPlan,
  ScanRequest,
  TableInfo,
  Value,
  WriteRequest,
} from '../../provider/types.js';
import { SluiceError, toSluiceError } from '../../util/errors.js';
import { FILE_FORMATS, formatOfPath, listSheets, openTable, writeResult, type FileFormat, type TableReader } from '../../formats/index.js';
import { detectDelimiter, writeCsv } from '../../formats/csv.js';
import { convertValue, INVALID } from '../../formats/values.js';

const CATALOG = 'files';
const FUNCTIONS_SCHEMA = 'functions';
const ROOT_SCHEMA = 'files';
const EXTENSIONS: Record<FileFormat, string> = { csv: '.csv', json: '.json', ndjson: '.ndjson', xlsx: '.xlsx' };

interface FileTable {
  info: TableInfo;
  readonly path: string;
  readonly format: FileFormat;
  readonly sheet?: string;
  /** Columns as declared by create table, kept while the file has no rows to infer from. */
  declared?: readonly ColumnInfo[];
  /** Why the file could not be read at connect time; scanning it reports this. */
  error?: SluiceError;
}

interface ScanDetail {
  readonly path: string;
  readonly format: FileFormat;
  readonly sheet?: string;
  readonly delimiter?: string;
  readonly error?: SluiceError;
}

function tableInfo(schema: string, name: string, columns: readonly ColumnInfo[], writable: boolean, description?: string): TableInfo {
  return {
    catalog: CATALOG,
    schema,
    name,
    columns,
    key: [],
    scope: 'system',
    writable: { insert: writable, update: false, delete: false },
    ...(description ? { description } : {}),
  };
}

function columnsOf(reader: TableReader): ColumnInfo[] {
  return reader.columns.map((c) => ({ name: c.name, type: c.type, nullable: true }));
}

const FUNCTIONS: readonly TableInfo[] = (['csv', 'json', 'ndjson', 'xlsx'] as const).map((f) => ({
  ...tableInfo(FUNCTIONS_SCHEMA, f, [], false, `Read a ${f.toUpperCase()} file under the container's root as a table.`),
  parameters: [
    { name: 'path', type: 'varchar' as ColumnType, required: true },
    ...(f === 'xlsx' ? [{ name: 'sheet', type: 'varchar' as ColumnType, required: false }] : []),
    ...(f === 'csv' ? [{ name: 'delimiter', type: 'varchar' as ColumnType, required: false }] : []),
  ],
}));

/** Folders never searched: tool and dependency trees hold thousands of JSON files that are not data. */
const SKIPPED_FOLDERS = new Set(['node_modules', '__pycache__']);
const MAX_DEPTH = 4;

async function walk(dir: string, out: string[], depth: number): Promise<void> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const full = join(dir, e.name);
    if (e.isDirectory()) {
      if (depth < MAX_DEPTH && !SKIPPED_FOLDERS.has(e.name)) await walk(full, out, depth + 1);
    }
    else if (e.isFile() && formatOfPath(e.name) !== undefined) out.push(full);
  }
}

/** Write a file through a temporary sibling and a rename, so readers never see it half-written. */
async function writeAtomically(path: string, fill: (out: NodeJS.WritableStream) => Promise<void>): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const out = createWriteStream(temp);
  try {
    await fill(out);
    out.end();
    await once(out, 'finish');
    await rename(temp, path);
  } catch (e) {
    out.destroy();
    await rm(temp, { force: true });
    throw e;
  }
}

async function* concat(...sources: AsyncIterable<RowBatch>[]): AsyncIterable<RowBatch> {
  for (const s of sources) yield* s;
}

class FilesContainer implements Container {
  readonly providerName = 'Files';
  private files: FileTable[] = [];

  constructor(
    readonly alias: string,
    private readonly root: string,
    private readonly defaultFormat: FileFormat,
    /** Also search subfolders (up to MAX_DEPTH levels; option recursive=false turns it off). */
    private readonly recursive: boolean,
  ) {}

  /** Find every file under root and settle its columns. */
  async refresh(): Promise<void> {
    const paths: string[] = [];
    if (this.recursive) await walk(this.root, paths, 1);
    else await walk(this.root, paths, MAX_DEPTH);
    const next: FileTable[] = [];
    const taken = new Set<string>();
    const keep = new Map(this.files.map((f) => [`${f.path}\u0000${f.sheet ?? ''}`, f]));
    const uniqueName = (schema: string, name: string, ext: string): string => {
      let n = name;
      if (taken.has(`${schema}/${n}`.toLowerCase())) n = `${name}_${ext}`;
      taken.add(`${schema}/${n}`.toLowerCase());
      return n;
    };
    for (const path of paths) {
      const format = formatOfPath(path) as FileFormat;
      const relDir = relative(this.root, dirname(path));
      const schema = relDir === '' ? ROOT_SCHEMA : relDir.split(sep).join('/');
      const base = basename(path, extname(path));
      const ext = extname(path).slice(1).toLowerCase();
      if (format === 'xlsx') {
        let sheets: string[] = [];
        try {
          sheets = await listSheets(path);
        } catch (e) {
          next.push(this.failed(schema, uniqueName(schema, base, ext), path, format, e));
          continue;
        }
        // The file's own name reads its first sheet; inserts rewrite the workbook, so only single-sheet ones take them.
        const first = await this.load(schema, uniqueName(schema, base, ext), path, format, undefined, keep, sheets.length <= 1);
        next.push(first);
        for (const sheet of sheets) next.push(await this.load(schema, uniqueName(schema, `${base}.${sheet}`, ext), path, format, sheet, keep));
      } else {
        next.push(await this.load(schema, uniqueName(schema, base, ext), path, format, undefined, keep));
      }
    }
    this.files = next;
  }

  private failed(schema: string, name: string, path: string, format: FileFormat, e: unknown): FileTable {
    const error = toSluiceError(e, 'FMT032');
    return { info: tableInfo(schema, name, [], false, `Unreadable: ${error.message}`), path, format, error };
  }

  private async load(
    schema: string,
    name: string,
    path: string,
    format: FileFormat,
    sheet: string | undefined,
    keep: Map<string, FileTable>,
    writable = sheet === undefined,
  ): Promise<FileTable> {
    const previous = keep.get(`${path}\u0000${sheet ?? ''}`);
    try {
      const reader = await openTable(path, format, sheet ? { sheet } : {});
      let columns = columnsOf(reader);
      let declared = previous?.declared;
      if (declared && (await this.isEmpty(reader))) columns = [...declared];
      else declared = undefined;
      const info = tableInfo(schema, name, columns, writable, `${format.toUpperCase()} file ${relative(this.root, path)}${sheet ? `, sheet ${sheet}` : ''}`);
      return { info, path, format, ...(sheet ? { sheet } : {}), ...(declared ? { declared } : {}) };
    } catch (e) {
      return this.failed(schema, name, path, format, e);
    }
  }

  private async isEmpty(reader: TableReader): Promise<boolean> {
    for await (const b of reader.batches({ batchSize: 1 })) if (b.rows.length > 0) return false;
    return true;
  }

  tables(): readonly TableInfo[] {
    return [...this.files.map((f) => f.info), ...FUNCTIONS];
  }

  async partitions(): Promise<readonly Partition[]> {
    return [];
  }

  private entry(table: TableInfo): FileTable | undefined {
    return this.files.find((f) => f.info === table) ?? this.files.find((f) => f.info.schema === table.schema && f.info.name === table.name);
  }

  /** A table-function path, resolved under root; paths outside root are refused. */
  private resolvePath(arg: Value | undefined, fn: string): string {
    if (typeof arg !== 'string' || arg === '') {
      throw new SluiceError('FIL001', `${fn}() needs a file path as its first argument.`, { container: this.alias });
    }
    const full = resolve(this.root, arg);
    const rel = relative(this.root, full);
    if (rel.startsWith('..') || isAbsolute(rel)) {
      throw new SluiceError('FIL002', `${fn}('${arg}') is outside the container's root ${this.root}.`, {
        container: this.alias,
        hint: 'Set root=… in the connection string to a folder holding the file.',
      });
    }
    return full;
  }

  private functionSource(table: TableInfo, args: readonly Value[]): ScanDetail {
    const format = table.name as FileFormat;
    const path = this.resolvePath(args[0], table.name);
    const extra = args[1];
    if (extra !== undefined && extra !== null && typeof extra !== 'string') {
      throw new SluiceError('FIL003', `The second argument of ${table.name}() must be text.`, { container: this.alias });
    }
    return {
      path,
      format,
      ...(format === 'xlsx' && typeof extra === 'string' ? { sheet: extra } : {}),
      ...(format === 'csv' && typeof extra === 'string' ? { delimiter: extra === '\\t' ? '\t' : extra } : {}),
    };
  }

  private isFunction(table: TableInfo): boolean {
    return table.schema === FUNCTIONS_SCHEMA && table.parameters !== undefined;
  }

  async describe(table: TableInfo, args: readonly Value[]): Promise<TableInfo> {
    if (!this.isFunction(table)) return table;
    const source = this.functionSource(table, args);
    const reader = await openTable(source.path, source.format, { ...(source.sheet ? { sheet: source.sheet } : {}), ...(source.delimiter ? { delimiter: source.delimiter } : {}) });
    return { ...table, columns: columnsOf(reader) };
  }

  plan(table: TableInfo, request: ScanRequest): ScanPlan {
    let detail: ScanDetail;
    if (this.isFunction(table)) {
      detail = this.functionSource(table, request.arguments ?? []);
    } else {
      const f = this.entry(table);
      if (!f) throw new SluiceError('FIL004', `Container ${this.alias} has no table ${table.name}.`, { container: this.alias, table: table.name });
      detail = { path: f.path, format: f.format, ...(f.sheet ? { sheet: f.sheet } : {}), ...(f.error ? { error: f.error } : {}) };
    }
    // Files have no index to filter with: the engine applies every predicate.
    const limitApplied = request.limit !== undefined && request.conjuncts.length === 0 && (request.orderBy ?? []).length === 0;
    return {
      table,
      request,
      conjuncts: request.conjuncts.map(() => 'unsupported' as const),
      limitApplied,
      orderApplied: false,
      estimatedCallsPerPartition: 0,
      explain: [`read ${detail.format} ${detail.path}${detail.sheet ? ` sheet ${detail.sheet}` : ''}${limitApplied ? `, first ${request.limit} rows` : ''}`],
      detail,
    };
  }

  async *scan(plan: ScanPlan, _partition: Partition | undefined, context: ScanContext): AsyncIterable<RowBatch> {
    const d = plan.detail as ScanDetail;
    if (d.error) throw d.error;
    const reader = await openTable(d.path, d.format, { ...(d.sheet ? { sheet: d.sheet } : {}), ...(d.delimiter ? { delimiter: d.delimiter } : {}) });
    const names = reader.columns.map((c) => c.name);
    const wanted = plan.request.columns.length === 0 ? [] : plan.request.columns;
    const index = wanted.map((w) => names.findIndex((n) => n.toLowerCase() === w.toLowerCase()));
    const missing = wanted.filter((_w, i) => index[i] < 0);
    if (missing.length > 0) {
      throw new SluiceError('FIL005', `${d.path} has no column ${missing.join(', ')} (it has ${names.join(', ')}).`, {
        container: this.alias,
        table: plan.table.name,
      });
    }
    const columns = index.map((i) => names[i]);
    let remaining = plan.limitApplied ? (plan.request.limit ?? 0) : Number.POSITIVE_INFINITY;
    if (remaining <= 0) return;
    for await (const batch of reader.batches({ signal: context.signal })) {
      context.signal.throwIfAborted();
      let rows = batch.rows.map((r) => index.map((i) => r[i]));
      if (rows.length > remaining) rows = rows.slice(0, remaining);
      remaining -= rows.length;
      context.progress?.({ rows: rows.length });
      yield { columns, rows };
      if (remaining <= 0) return;
    }
  }

  async *write(table: TableInfo, request: WriteRequest): AsyncIterable<RowResult> {
    const f = this.entry(table);
    if (!f || !f.info.writable.insert || request.op !== 'insert') {
      throw new SluiceError('FIL010', `Table ${table.name} of container ${this.alias} accepts only inserts, into whole files (not sheets of a workbook with several).`, {
        container: this.alias,
        table: table.name,
      });
    }
    if (f.error) throw f.error;
    const columns = f.info.columns;
    const positions = columns.map((c) => request.rows.columns.findIndex((n) => n.toLowerCase() === c.name.toLowerCase()));
    const unknown = request.rows.columns.filter((n) => !columns.some((c) => c.name.toLowerCase() === n.toLowerCase()));
    if (unknown.length > 0) {
      throw new SluiceError('FIL011', `File table ${table.name} has no column ${unknown.join(', ')}.`, { container: this.alias, table: table.name });
    }
    const results: RowResult[] = [];
    const good: Value[][] = [];
    request.rows.rows.forEach((row, index) => {
      const out: Value[] = [];
      for (let j = 0; j < columns.length; j++) {
        const v = positions[j] < 0 ? null : row[positions[j]];
        const converted = v === null ? null : convertValue(v, { name: columns[j].name, type: columns[j].type });
        if (converted === INVALID) {
          results.push({ index, ok: false, key: `row ${index + 1}`, message: `The value for ${columns[j].name} is not a ${columns[j].type}.` });
          return;
        }
        out.push(converted);
      }
      good.push(out);
      results.push({ index, ok: true });
    });
    request.signal.throwIfAborted();
    if (good.length > 0) await this.append(f, good);
    await this.refreshOne(f);
    yield* results;
  }

  /** Append rows: CSV and NDJSON copy the old bytes then add lines; JSON and XLSX are rewritten with the old rows first. */
  private async append(f: FileTable, rows: Value[][]): Promise<void> {
    const columns = f.info.columns.map((c) => ({ name: c.name, type: c.type }));
    const added: AsyncIterable<RowBatch> = (async function* () {
      yield { columns: columns.map((c) => c.name), rows };
    })();
    await writeAtomically(f.path, async (out) => {
      if (f.format === 'csv' || f.format === 'ndjson') {
        const size = (await stat(f.path)).size;
        if (size > 0) {
          await pipeline(createReadStream(f.path), out as NodeJS.WritableStream, { end: false });
          if (!(await this.endsWithNewline(f.path, size))) out.write(f.format === 'csv' ? '\r\n' : '\n');
        }
        if (f.format === 'csv') {
          const delimiter = size > 0 ? await this.csvDelimiter(f.path) : ',';
          // Write numbers and dates the way the file already does (Dutch "10,5", "31-12-2024"), or its columns would turn to text.
          const found = size > 0 ? (await openTable(f.path, 'csv')).columns : [];
          const styled = columns.map((c) => {
            const style = found.find((x) => x.name === c.name && x.type === c.type);
            return { ...c, decimalComma: style?.decimalComma, dayFirst: style?.dayFirst };
          });
          await writeCsv(styled, added, out, { header: size === 0, delimiter });
        } else {
          await writeResult('ndjson', columns, added, out);
        }
      } else {
        const reader = await openTable(f.path, f.format);
        const old = reader.columns.length > 0 ? reader.batches() : (async function* () {})();
        await writeResult(f.format, columns, concat(old, added), out);
      }
    });
  }

  private async endsWithNewline(path: string, size: number): Promise<boolean> {
    const stream = createReadStream(path, { start: size - 1, end: size - 1 });
    for await (const chunk of stream as AsyncIterable<Buffer>) return chunk[0] === 10 || chunk[0] === 13;
    return true;
  }

  private async csvDelimiter(path: string): Promise<string> {
    const stream = createReadStream(path, { encoding: 'utf8', start: 0, end: 64 * 1024 });
    let text = '';
    for await (const chunk of stream as AsyncIterable<string>) text += chunk;
    return detectDelimiter(text.replace(/^\uFEFF/, '').split(/\r?\n|\r/)[0]);
  }

  private async refreshOne(f: FileTable): Promise<void> {
    const i = this.files.indexOf(f);
    const keep = new Map([[`${f.path}\u0000${f.sheet ?? ''}`, f]]);
    const fresh = await this.load(f.info.schema, f.info.name, f.path, f.format, f.sheet, keep, f.info.writable.insert);
    if (i >= 0) this.files[i] = fresh;
  }

  private pathFor(name: string, format: FileFormat): string {
    const base = this.resolvePath(name, 'create table');
    return formatOfPath(base) ? base : base + EXTENSIONS[format];
  }

  private lookup(name: string): FileTable | undefined {
    const l = name.toLowerCase();
    return (
      this.files.find((f) => f.info.name.toLowerCase() === l && f.sheet === undefined && f.info.schema === ROOT_SCHEMA) ??
      this.files.find((f) => `${f.info.schema}/${f.info.name}`.toLowerCase() === l && f.sheet === undefined)
    );
  }

  async createTable(name: string, columns: readonly ColumnInfo[], options: { readonly orReplace: boolean; readonly ifNotExists: boolean }): Promise<TableInfo> {
    const existing = this.lookup(name);
    if (existing && options.ifNotExists && !options.orReplace) return existing.info;
    if (existing && !options.orReplace) {
      throw new SluiceError('FIL020', `Table ${name} already exists in container ${this.alias} (${existing.path}).`, {
        container: this.alias,
        table: name,
        hint: 'Use create or replace table, or drop it first.',
      });
    }
    const format = existing?.format ?? formatOfPath(name) ?? this.defaultFormat;
    const path = existing?.path ?? this.pathFor(name, format);
    const cols = columns.map((c) => ({ name: c.name, type: c.type }));
    await writeAtomically(path, async (out) => {
      await writeResult(format, cols, (async function* () {})(), out);
    });
    await this.refresh();
    const created = this.files.find((f) => f.path === path && f.sheet === undefined);
    if (!created) throw new SluiceError('FIL021', `Table ${name} was created at ${path} but cannot be read back.`, { container: this.alias });
    created.declared = columns.map((c) => ({ name: c.name, type: c.type, nullable: true }));
    created.info = { ...created.info, columns: created.declared };
    return created.info;
  }

  async dropTable(name: string, options: { readonly ifExists: boolean }): Promise<void> {
    const existing = this.lookup(name);
    if (!existing) {
      if (options.ifExists) return;
      throw new SluiceError('FIL022', `Container ${this.alias} has no file table ${name}.`, { container: this.alias, table: name });
    }
    await rm(existing.path);
    await this.refresh();
  }

  setOption(): boolean {
    return false;
  }

  async close(): Promise<void> {}
}

export const filesProvider: Provider = {
  name: 'Files',
  async connect(config: ContainerConfig, _env: ProviderEnv): Promise<Container> {
    const root = resolve(config.options.root ?? config.options.path ?? process.cwd());
    const format = (config.options.format ?? 'csv').toLowerCase();
    if (!FILE_FORMATS.includes(format as FileFormat)) {
      throw new SluiceError('FIL030', `Container ${config.alias}: format must be one of ${FILE_FORMATS.join(', ')}, not "${format}".`, {
        container: config.alias,
      });
    }
    try {
      if (!(await stat(root)).isDirectory()) throw new Error('not a directory');
    } catch {
      throw new SluiceError('FIL031', `Container ${config.alias}: root ${root} is not a folder.`, { container: config.alias });
    }
    const recursive = !/^(false|no|0)$/i.test(config.options.recursive ?? 'true');
    const container = new FilesContainer(config.alias, root, format as FileFormat, recursive);
    await container.refresh();
    return container;
  },
};

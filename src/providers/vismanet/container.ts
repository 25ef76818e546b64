/**
 * A `VismaNet` container: the catalog's list operations as tables, the
 * companies of the connection as partitions, the pushdown answer (query
 * parameters such as name, status and lastModifiedDateTime + Condition;
 * `key = …` as a by-key GET), scans that read `metadata.totalCount` from
 * the first page and fetch the remaining pages in parallel, and writes
 * (POST with the wrapped DTO, PUT by key with If-Match, DELETE only where the
 * API has one), concurrent within the company's rate governor.
 */
import { vismaCatalog, type VismaColumn, type VismaTable } from '../../catalogs/vismanet.js';
import type {
  ColumnInfo,
  Container,
  Partition,
  PushdownSupport,
  RowBatch,
  RowResult,
  ScanContext,
  ScanPlan,
  ScanRequest,
  TableInfo,
  Value,
  WriteRequest,
} from '../../provider/types.js';
import type { Clock } from '../../util/clock.js';
import { SluiceError } from '../../util/errors.js';
import type { RemoteCallLog } from '../../provider/types.js';
import { VismaClient } from './client.js';
import { boolOption, type VismaOptions } from './options.js';
import { setWrapped, toJson, toValue } from './rows.js';

export const PARTITION_COLUMN = 'company_id';
const CATALOG_NAME = 'VismaNet';

interface ScanDetail {
  readonly query: Readonly<Record<string, string>>;
  readonly byKey?: string;
  readonly limit?: number;
}

function isoSecond(d: Date, roundUp: boolean): string {
  const ms = d.getTime();
  const s = roundUp ? Math.ceil(ms / 1000) * 1000 : Math.floor(ms / 1000) * 1000;
  return new Date(s).toISOString().slice(0, 19);
}

function asDate(v: Value): Date | undefined {
  if (v instanceof Date) return v;
  if (typeof v === 'string') {
    const t = /([zZ]|[+-]\d\d:?\d\d)$/.test(v) ? v : `${v.replace(' ', 'T')}Z`;
    const ms = Date.parse(t);
    return Number.isNaN(ms) ? undefined : new Date(ms);
  }
  return undefined;
}

/** `Customer` → `customers`, for messages in the users' words. */
function plural(tag: string): string {
  const words = tag.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
  return words.endsWith('s') ? words : words.endsWith('y') ? `${words.slice(0, -1)}ies` : `${words}s`;
}

/** Run `count` tasks, at most `concurrency` at a time, yielding results as they finish; a thrown error ends the run after running tasks settle. */
async function* pool<T>(count: number, concurrency: number, run: (i: number) => Promise<T>): AsyncGenerator<T> {
  const results: T[] = [];
  let next = 0;
  let active = 0;
  let failure: { error: unknown } | undefined;
  let wake: (() => void) | undefined;
  const start = () => {
    while (!failure && active < concurrency && next < count) {
      const i = next++;
      active++;
      run(i)
        .then(
          (r) => {
            results.push(r);
          },
          (e: unknown) => {
            failure ??= { error: e };
          },
        )
        .finally(() => {
          active--;
          wake?.();
        });
    }
  };
  for (;;) {
    start();
    if (results.length > 0) {
      yield results.shift() as T;
      continue;
    }
    if (active === 0) {
      if (failure) throw failure.error;
      if (next >= count) return;
    }
    await new Promise<void>((resolve) => {
      wake = resolve;
    });
    wake = undefined;
  }
}

export class VismaContainer implements Container {
  readonly providerName = 'VismaNet';
  private readonly tableInfos: readonly TableInfo[];
  private readonly byName = new Map<string, { info: TableInfo; table: VismaTable }>();
  private readonly etags = new Map<string, string>();
  readonly client: VismaClient;

  constructor(
    readonly alias: string,
    private readonly options: VismaOptions,
    clock: Clock,
    log: RemoteCallLog,
  ) {
    this.client = new VismaClient(alias, options, clock, log);
    const infos: TableInfo[] = [];
    for (const t of vismaCatalog().tables) {
      const info = this.tableInfo(t);
      infos.push(info);
      this.byName.set(t.table, { info, table: t });
    }
    this.tableInfos = infos;
  }

  private tableInfo(t: VismaTable): TableInfo {
    const columns: ColumnInfo[] = t.columns.map((c) => {
      const filter = t.filters.find((f) => f.column === c.name);
      const operators = [...(filter?.operators ?? []), ...(t.key.includes(c.name) && t.byKeyPath && !filter?.operators.includes('=') ? (['='] as const) : [])];
      return {
        name: c.name,
        type: c.type,
        nullable: !t.key.includes(c.name),
        ...(operators.length > 0 ? { filterOperators: operators } : {}),
        ...(c.writePath ? {} : { readOnly: true }),
        ...(c.maxLength ? { maxLength: c.maxLength } : {}),
        ...(c.path.length > 1 ? { description: `${c.path.join('.')} in ${t.dto}` } : {}),
      };
    });
    columns.push({ name: PARTITION_COLUMN, type: 'varchar', nullable: false, readOnly: true, description: 'The company (ipp-company-id) the row belongs to.' });
    return {
      catalog: CATALOG_NAME,
      schema: t.schema,
      name: t.table,
      columns,
      key: t.key,
      scope: 'partitioned',
      partitionColumn: PARTITION_COLUMN,
      writable: { insert: !!t.insert, update: !!t.update, delete: !!t.delete },
      writeRefusals: {
        ...(t.insert ? {} : { insert: `Visma.net has no API to create ${plural(t.schema)}.` }),
        ...(t.update ? {} : { update: `Visma.net has no API to update ${plural(t.schema)}.` }),
        ...(t.delete ? {} : { delete: `Visma.net has no API to delete ${plural(t.schema)}.` }),
      },
      description: `GET /v1${t.path} (${t.operationId})${t.deprecated ? ', deprecated' : ''}`,
    };
  }

  tables(): readonly TableInfo[] {
    return this.tableInfos;
  }

  private entry(table: TableInfo): VismaTable {
    const e = this.byName.get(table.name.toLowerCase());
    if (!e) throw new SluiceError('VNT030', `Container ${this.alias} has no table ${table.name}.`, { container: this.alias, table: table.name });
    return e.table;
  }

  async partitions(_signal: AbortSignal): Promise<readonly Partition[]> {
    if (this.options.companyIds.length === 0) {
      throw new SluiceError('VNT011', `Container ${this.alias} names no Visma.net company.`, {
        container: this.alias,
        hint: 'Add company-id=<ipp-company-id>[,<…>] to the connection string; each company is a partition.',
      });
    }
    return this.options.companyIds.map((id, i) => ({ id, isDefault: i === 0, state: 'available' as const }));
  }

  plan(table: TableInfo, request: ScanRequest): ScanPlan {
    const t = this.entry(table);
    const query: Record<string, string> = {};
    const support: PushdownSupport[] = [];
    let byKey: string | undefined;
    let byKeyIndex = -1;
    for (const [i, conj] of request.conjuncts.entries()) {
      let answer: PushdownSupport = 'unsupported';
      if (conj.kind === 'compare' && conj.value !== null) {
        const column = conj.column.toLowerCase();
        const filter = t.filters.find((f) => f.column === column);
        if (conj.op === '=' && t.key.includes(column) && t.byKeyPath && byKey === undefined && t.paging !== 'none') {
          byKey = String(conj.value instanceof Date ? conj.value.toISOString() : conj.value);
          byKeyIndex = i;
          answer = 'exact';
        } else if (filter && !(filter.param in query) && filter.operators.includes(conj.op)) {
          if (filter.kind === 'equals') {
            query[filter.param] = String(toJson(conj.value, 'varchar'));
            answer = filter.exact ? 'exact' : 'inexact';
          } else {
            const d = asDate(conj.value);
            if (d && filter.conditionParam) {
              query[filter.param] = isoSecond(d, conj.op === '<' || conj.op === '<=');
              query[filter.conditionParam] = conj.op;
              answer = 'inexact';
            }
          }
        }
      }
      support.push(answer);
    }
    // A by-key GET takes no other filters: the engine applies them to its one row.
    if (byKey !== undefined) {
      for (let i = 0; i < support.length; i++) if (i !== byKeyIndex) support[i] = 'unsupported';
    }
    const allExact = support.every((s) => s === 'exact');
    const limit = byKey === undefined && allExact && request.limit !== undefined && t.paging === 'page' ? request.limit : undefined;
    const detail: ScanDetail = byKey !== undefined ? { query: {}, byKey } : { query, ...(limit !== undefined ? { limit } : {}) };
    const explain =
      byKey !== undefined
        ? [`GET /v1${(t.byKeyPath ?? '').replace(/\{[^}]+\}/, encodeURIComponent(byKey))} (one row by key)`]
        : [
            `GET /v1${t.path}${Object.keys(query).length ? `?${new URLSearchParams(query).toString()}` : ''}`,
            t.paging === 'page'
              ? `paging: pageSize ${limit !== undefined ? Math.min(limit, this.options.pageSize) : this.options.pageSize}; first page gives metadata.totalCount, the rest fetched ${this.options.pageConcurrency} at a time`
              : 'paging: none (one call returns all rows)',
          ];
    return {
      table,
      request,
      conjuncts: support,
      limitApplied: limit !== undefined,
      orderApplied: false,
      estimatedCallsPerPartition: byKey !== undefined || t.paging === 'none' ? 1 : 2,
      explain,
      detail,
    };
  }

  private company(partition: Partition | undefined, table: string): string {
    if (partition) return partition.id;
    if (this.options.companyIds.length === 1) return this.options.companyIds[0];
    throw new SluiceError('VNT012', `Table ${table} of container ${this.alias} needs a company; select one with use <company>@${this.alias}.`, {
      container: this.alias,
      table,
    });
  }

  private outputColumns(t: VismaTable, request: ScanRequest): VismaColumn[] {
    const wanted = new Set([...request.columns.map((c) => c.toLowerCase()), ...t.key]);
    return t.columns.filter((c) => wanted.has(c.name));
  }

  private batch(columns: readonly VismaColumn[], company: string, dtos: readonly unknown[]): RowBatch {
    return {
      columns: [...columns.map((c) => c.name), PARTITION_COLUMN],
      rows: dtos.map((d) => [...columns.map((c) => toValue(d, c)), company]),
    };
  }

  async *scan(plan: ScanPlan, partition: Partition | undefined, context: ScanContext): AsyncIterable<RowBatch> {
    const t = this.entry(plan.table);
    const company = this.company(partition, t.table);
    const detail = (plan.detail ?? { query: {} }) as ScanDetail;
    const columns = this.outputColumns(t, plan.request);
    const controller = new AbortController();
    const onAbort = () => controller.abort(context.signal.reason);
    context.signal.addEventListener('abort', onAbort, { once: true });
    if (context.signal.aborted) controller.abort(context.signal.reason);
    const signal = controller.signal;
    try {
      if (detail.byKey !== undefined && t.byKeyPath) {
        const res = await this.client.call(company, {
          method: 'GET',
          path: t.byKeyPath.replace(/\{[^}]+\}/, encodeURIComponent(detail.byKey)),
          accept: [404],
          signal,
          countRows: () => 1,
        });
        context.progress?.({ calls: 1 });
        if (res.status === 404 || typeof res.body !== 'object' || res.body === null) return;
        const etag = res.headers.get('etag');
        if (etag) this.etags.set(`${company}|${t.table}|${detail.byKey}`, etag);
        context.progress?.({ rows: 1 });
        yield this.batch(columns, company, [res.body]);
        return;
      }
      const arrayOf = (body: unknown): unknown[] => (Array.isArray(body) ? body : []);
      if (t.paging === 'none') {
        const res = await this.client.call(company, { method: 'GET', path: t.path, query: detail.query, signal, countRows: (b) => arrayOf(b).length });
        const rows = arrayOf(res.body);
        context.progress?.({ calls: 1, rows: rows.length });
        if (rows.length > 0) yield this.batch(columns, company, rows);
        return;
      }
      yield* this.pagedScan(t, company, detail, columns, context, signal);
    } finally {
      context.signal.removeEventListener('abort', onAbort);
      controller.abort();
    }
  }

  private async *pagedScan(t: VismaTable, company: string, detail: ScanDetail, columns: VismaColumn[], context: ScanContext, signal: AbortSignal): AsyncGenerator<RowBatch> {
    const limit = detail.limit;
    let size = Math.max(1, Math.min(this.options.pageSize, limit ?? Number.MAX_SAFE_INTEGER));
    const fetchPage = async (n: number, pageSize: number): Promise<unknown[]> => {
      const res = await this.client.call(company, {
        method: 'GET',
        path: t.path,
        query: { ...detail.query, pageNumber: String(n), pageSize: String(pageSize) },
        signal,
        countRows: (b) => (Array.isArray(b) ? b.length : 0),
      });
      const rows = Array.isArray(res.body) ? res.body : [];
      context.progress?.({ calls: 1, rows: rows.length });
      return rows;
    };
    // Pages can shift while they are read (rows added meanwhile): a key seen once is not emitted again.
    const seen = new Set<string>();
    const keyColumn = t.key.length === 1 ? t.columns.find((c) => c.name === t.key[0]) : undefined;
    let emitted = 0;
    const emit = (rows: readonly unknown[]): RowBatch | undefined => {
      const fresh = keyColumn
        ? rows.filter((r) => {
            const k = String(toValue(r, keyColumn));
            if (seen.has(k)) return false;
            seen.add(k);
            return true;
          })
        : rows;
      const take = limit !== undefined ? fresh.slice(0, Math.max(0, limit - emitted)) : fresh;
      emitted += take.length;
      return take.length > 0 ? this.batch(columns, company, take) : undefined;
    };
    const done = () => limit !== undefined && emitted >= limit;

    const first = await fetchPage(1, size);
    const firstBatch = emit(first);
    if (firstBatch) yield firstBatch;
    if (first.length === 0 || done()) return;
    const meta = (first[0] as { metadata?: { totalCount?: unknown; maxPageSize?: unknown } }).metadata;
    const maxPageSize = Number(meta?.maxPageSize);
    if (Number.isFinite(maxPageSize) && maxPageSize > 0 && maxPageSize < size) {
      // The API capped the page: page numbers count in its size from here on.
      size = maxPageSize;
    }
    if (first.length < size) return;
    const total = Number(meta?.totalCount);
    let nextPage = 2;
    if (Number.isFinite(total)) {
      const pages = Math.ceil(total / size);
      const queue: Promise<unknown[]>[] = [];
      const launch = () => {
        const p = fetchPage(nextPage++, size);
        p.catch(() => undefined);
        queue.push(p);
      };
      while (nextPage <= pages && queue.length < this.options.pageConcurrency) launch();
      let latestTotal = total;
      let lastFull = true;
      while (queue.length > 0) {
        const rows = await (queue.shift() as Promise<unknown[]>);
        if (nextPage <= pages && !done()) launch();
        lastFull = rows.length >= size;
        const count = Number((rows[0] as { metadata?: { totalCount?: unknown } } | undefined)?.metadata?.totalCount);
        if (Number.isFinite(count)) latestTotal = count;
        const b = emit(rows);
        if (b) yield b;
        if (done()) return;
      }
      // Read past the counted pages only when rows were added while reading.
      if (!lastFull || latestTotal <= pages * size) return;
    }
    // No count, or more rows than counted arrived meanwhile: read on until a short page.
    for (;;) {
      const rows = await fetchPage(nextPage++, size);
      const b = emit(rows);
      if (b) yield b;
      if (rows.length < size || done()) return;
    }
  }

  async *write(table: TableInfo, request: WriteRequest): AsyncIterable<RowResult> {
    const t = this.entry(table);
    const noun = plural(t.schema);
    const op = request.op;
    const operation = op === 'insert' ? t.insert : op === 'update' ? t.update : t.delete;
    if (!operation) {
      const verb = op === 'insert' ? 'create' : op;
      throw new SluiceError('VNT020', `Visma.net has no API to ${verb} ${noun}.`, {
        container: this.alias,
        table: t.table,
        hint: op === 'delete' ? `Leave out delete (for synchronize: "or delete"); ${noun} can only be removed in Visma.net itself.` : `Table ${t.table} is read-only in Visma.net's API.`,
      });
    }
    if ((op === 'update' || op === 'delete') && t.key.length === 0) {
      throw new SluiceError('VNT023', `Table ${t.table} has no key, so rows cannot be addressed for ${op}.`, { container: this.alias, table: t.table });
    }
    const company = this.company(request.partition, t.table);
    const byName = new Map(t.columns.map((c) => [c.name, c]));
    const names = request.rows.columns.map((c) => c.toLowerCase());
    const cols: (VismaColumn | undefined)[] = [];
    for (const [j, name] of names.entries()) {
      if (name === PARTITION_COLUMN) {
        cols.push(undefined);
        continue;
      }
      const c = byName.get(name);
      if (!c) throw new SluiceError('VNT021', `Table ${t.table} has no column ${request.rows.columns[j]}.`, { container: this.alias, table: t.table });
      const isKey = t.key.includes(name);
      const hasValue = request.rows.rows.some((r) => r[j] !== null && r[j] !== undefined);
      if (!c.writePath && !(isKey && op !== 'insert') && hasValue && op !== 'delete') {
        throw new SluiceError('VNT022', `Column ${c.name} of ${t.table} cannot be written: Visma.net's ${operation.requestDto ?? 'write DTO'} has no field for it.`, {
          container: this.alias,
          table: t.table,
          hint: 'Leave the column out, or write its id form (e.g. customerclass_id rather than customerclass_description).',
        });
      }
      cols.push(c.writePath ? c : isKey ? c : undefined);
    }
    const keyIndex = t.key.length === 1 ? names.indexOf(t.key[0]) : -1;
    if ((op === 'update' || op === 'delete') && keyIndex < 0) {
      throw new SluiceError('VNT024', `${op} on ${t.table} needs the key column ${t.key.join(', ')}.`, { container: this.alias, table: t.table });
    }
    const rows = request.rows.rows;
    const concurrency = Math.max(1, request.concurrency ?? 1);
    const keyText = (row: readonly Value[]): string | undefined => {
      const v = keyIndex >= 0 ? row[keyIndex] : null;
      return v === null || v === undefined ? undefined : `${t.key[0]}=${String(toJson(v, 'varchar'))}`;
    };
    const fail = (index: number, row: readonly Value[], e: unknown): RowResult => {
      if (e instanceof SluiceError && e.details.status !== undefined && e.details.status !== 401 && e.details.status !== 403) {
        const key = keyText(row);
        return { index, ok: false, ...(key ? { key } : {}), message: e.message, code: e.code };
      }
      throw e;
    };
    const one = async (index: number): Promise<RowResult> => {
      const row = rows[index];
      try {
        if (op === 'insert') return await this.insertRow(t, company, cols, row, index, keyIndex, request.signal);
        const keyValue = String(toJson(row[keyIndex], 'varchar'));
        if (row[keyIndex] === null || row[keyIndex] === undefined) {
          return { index, ok: false, message: `${op} on ${t.table} needs a value for ${t.key[0]}.`, code: 'VNT024' };
        }
        const path = operation.path.replace(/\{[^}]+\}/, encodeURIComponent(keyValue));
        const etagKey = `${company}|${t.table}|${keyValue}`;
        if (op === 'delete') {
          await this.client.call(company, { method: 'DELETE', path, signal: request.signal });
          this.etags.delete(etagKey);
          return { index, ok: true, key: `${t.key[0]}=${keyValue}` };
        }
        const body: Record<string, unknown> = {};
        for (const [j, c] of cols.entries()) {
          if (!c?.writePath || j === keyIndex) continue;
          setWrapped(body, c.writePath, toJson(row[j], c.type));
        }
        const etag = this.etags.get(etagKey);
        const res = await this.client.call(company, { method: 'PUT', path, body, accept: [412], signal: request.signal, ...(etag ? { headers: { 'If-Match': etag } } : {}) });
        if (res.status === 412) {
          this.etags.delete(etagKey);
          return {
            index,
            ok: false,
            key: `${t.key[0]}=${keyValue}`,
            code: 'VNT412',
            message: `The ${plural(t.schema).replace(/s$/, '')} ${keyValue} was changed in Visma.net (company ${company}) after it was read (ETag mismatch, HTTP 412); read it again and retry.`,
          };
        }
        const newTag = res.headers.get('etag');
        if (newTag) this.etags.set(etagKey, newTag);
        else this.etags.delete(etagKey);
        return { index, ok: true, key: `${t.key[0]}=${keyValue}` };
      } catch (e) {
        return fail(index, row, e);
      }
    };
    yield* pool(rows.length, concurrency, one);
  }

  private async insertRow(
    t: VismaTable,
    company: string,
    cols: readonly (VismaColumn | undefined)[],
    row: readonly Value[],
    index: number,
    keyIndex: number,
    signal: AbortSignal,
  ): Promise<RowResult> {
    const insert = t.insert;
    if (!insert) throw new Error('unreachable: insert checked by write()');
    const body: Record<string, unknown> = {};
    const given: Record<string, Value> = {};
    for (const [j, c] of cols.entries()) {
      if (!c?.writePath || row[j] === null || row[j] === undefined) continue;
      setWrapped(body, c.writePath, toJson(row[j], c.type));
      given[c.name] = row[j];
    }
    const res = await this.client.call(company, { method: 'POST', path: insert.path, body, signal });
    const location = res.headers.get('location');
    const fromLocation = location ? decodeURIComponent(location.replace(/[?#].*$/, '').split('/').filter((s) => s.length > 0).pop() ?? '') : '';
    const givenKey = keyIndex >= 0 && row[keyIndex] !== null ? String(toJson(row[keyIndex], 'varchar')) : '';
    const newKey = fromLocation || givenKey;
    const keyName = t.key[0];
    const key = keyName && newKey ? `${keyName}=${newKey}` : undefined;
    if (this.options.readAfterInsert && newKey && t.byKeyPath) {
      const got = await this.client.call(company, {
        method: 'GET',
        path: t.byKeyPath.replace(/\{[^}]+\}/, encodeURIComponent(newKey)),
        accept: [404],
        signal,
        countRows: () => 1,
      });
      if (got.status === 200 && typeof got.body === 'object' && got.body !== null) {
        const etag = got.headers.get('etag');
        if (etag) this.etags.set(`${company}|${t.table}|${newKey}`, etag);
        const returned: Record<string, Value> = {};
        for (const c of t.columns) returned[c.name] = toValue(got.body, c);
        returned[PARTITION_COLUMN] = company;
        return { index, ok: true, ...(key ? { key } : {}), returned };
      }
    }
    const returned: Record<string, Value> = { ...given, [PARTITION_COLUMN]: company };
    if (keyName && newKey) returned[keyName] = newKey;
    return { index, ok: true, ...(key ? { key } : {}), returned };
  }

  /** Tuning knobs by their connection-string names; `calls_per_hour` works too, for SQL's `set calls_per_hour@vismanet 7500`. */
  setOption(name: string, value: string): boolean {
    const option = name.toLowerCase().replace(/_/g, '-');
    switch (option) {
      case 'calls-per-hour': {
        const n = Number(value);
        if (!Number.isInteger(n) || n < 0) return false;
        this.client.setCallsPerHour(n);
        return true;
      }
      case 'page-size':
      case 'page-concurrency': {
        const n = Number(value);
        if (!Number.isInteger(n) || n < 1) return false;
        if (option === 'page-size') this.options.pageSize = n;
        else this.options.pageConcurrency = n;
        return true;
      }
      case 'read-after-insert':
        this.options.readAfterInsert = boolOption(value, this.options.readAfterInsert);
        return true;
      default:
        return false;
    }
  }

  async close(): Promise<void> {
    this.etags.clear();
  }
}

/**
 * Datasets and the write overlay. A dataset is the data behind one or more
 * endpoints (crm/Accounts, bulk/CRM/Accounts and sync/CRM/Accounts share
 * "Accounts"): a base of `count` generated rows plus, per division, an
 * overlay of changed, inserted and deleted rows. Scans merge the two in a
 * stable order (base index order, then inserts) or in Timestamp order for
 * sync endpoints, resuming from a position token for paging.
 */
import { BoundedCache } from '../common/cache.js';
import { ENTITY, GL_CHART, JOURNALS, VAT_CODES, WRITE_TIMESTAMP_START, World, accountRow, addressRow, bankAccountRow, baseTimestamp, contactRow, decodeGuid, glAccountRow, itemRow, journalRow, salesInvoiceLineRow, salesInvoiceRow, transactionLineRow, vatCodeRow, type Row } from './world.js';

export interface Dataset {
  readonly name: string;
  /** Entity code inside base GUIDs; 0 for datasets without generated rows. */
  readonly entity: number;
  readonly key: string;
  count(div: number): number;
  row(div: number, i: number): Row;
  /** Whether base Timestamps increase with the index (true for generated entities). */
  readonly timestamped: boolean;
  /** Other names of the key on the dataset's URLs (a sync twin's `ID` for a regular `QuotationID`): filled on writes. */
  readonly aliasKeys?: readonly string[];
  /** `sync/Deleted` EntityType code of the entity, when the catalog gives one. */
  readonly deletedEntityType?: number;
}

export interface Overlay {
  /** Changed base rows and inserted rows by key (lower-case). */
  readonly rows: Map<string, Row>;
  /** Inserted keys in insertion order. */
  readonly inserted: string[];
  readonly deleted: Set<string>;
}

export type Position = { phase: 0; index: number } | { phase: 1; index: number };

function fixed(name: string, entity: number, key: string, count: (div: number) => number, row: (div: number, i: number) => Row): Dataset {
  return { name, entity, key, count, row, timestamped: true };
}

/** A dataset with no generated rows: unmodelled endpoints and write-only stores (webhooks, deletions). */
export function emptyDataset(name: string, key: string, aliasKeys: readonly string[] = [], deletedEntityType?: number): Dataset {
  return { name, entity: 0, key, count: () => 0, row: () => ({}), timestamped: false, aliasKeys, ...(deletedEntityType !== undefined ? { deletedEntityType } : {}) };
}

export function modelledDatasets(w: World): Map<string, Dataset> {
  const s = w.sizes;
  const list: Dataset[] = [
    fixed('Accounts', ENTITY.Accounts, 'ID', () => s.accounts, (d, i) => accountRow(w, d, i)),
    fixed('BankAccounts', ENTITY.BankAccounts, 'ID', () => s.bankAccounts, (d, i) => bankAccountRow(w, d, i)),
    fixed('Contacts', ENTITY.Contacts, 'ID', () => s.contacts, (d, i) => contactRow(w, d, i)),
    fixed('Addresses', ENTITY.Addresses, 'ID', () => s.addresses, (d, i) => addressRow(w, d, i)),
    fixed('Items', ENTITY.Items, 'ID', () => s.items, (d, i) => itemRow(w, d, i)),
    fixed('GLAccounts', ENTITY.GLAccounts, 'ID', () => GL_CHART.length, (d, i) => glAccountRow(w, d, i)),
    fixed('VATCodes', ENTITY.VATCodes, 'ID', () => VAT_CODES.length, (d, i) => vatCodeRow(w, d, i)),
    fixed('Journals', ENTITY.Journals, 'ID', () => JOURNALS.length, (d, i) => journalRow(w, d, i)),
    fixed('SalesInvoices', ENTITY.SalesInvoices, 'InvoiceID', () => s.invoices, (d, i) => salesInvoiceRow(w, d, i)),
    fixed('SalesInvoiceLines', ENTITY.SalesInvoiceLines, 'ID', () => s.invoiceLines, (d, i) => salesInvoiceLineRow(w, d, i)),
    fixed('TransactionLines', ENTITY.TransactionLines, 'ID', () => s.transactionLines, (d, i) => transactionLineRow(w, d, i)),
  ];
  return new Map(list.map((d) => [d.name, d]));
}

/** Per-division state: overlays by dataset and the Int64 write counter. */
export class DivisionStore {
  readonly division: number;
  private readonly overlays = new Map<string, Overlay>();
  private counter = WRITE_TIMESTAMP_START;
  /** Added to every base Timestamp; raised when the division "moves" (Timestamps regenerated). */
  tsOffset = 0;

  constructor(division: number) {
    this.division = division;
  }

  nextTimestamp(): number {
    return ++this.counter;
  }

  /** The highest Timestamp handed out so far (writes) — base rows are all below it. */
  lastTimestamp(): number {
    return this.counter;
  }

  /** Regenerate every Timestamp above all earlier ones, as a division move does. */
  regenerate(): void {
    const shift = Math.ceil((this.counter + 1) / WRITE_TIMESTAMP_START) * WRITE_TIMESTAMP_START;
    this.tsOffset += shift;
    this.counter += shift;
    // Rows are replaced, never changed in place: rendered JSON is cached per row object.
    for (const o of this.overlays.values()) {
      for (const [k, r] of o.rows) if (typeof r.Timestamp === 'number') o.rows.set(k, { ...r, Timestamp: r.Timestamp + shift });
    }
  }

  allOverlays(): IterableIterator<Overlay> {
    return this.overlays.values();
  }

  overlay(name: string): Overlay {
    let o = this.overlays.get(name);
    if (!o) {
      o = { rows: new Map(), inserted: [], deleted: new Set() };
      this.overlays.set(name, o);
    }
    return o;
  }

  peek(name: string): Overlay | undefined {
    return this.overlays.get(name);
  }
}

export class Store {
  readonly world: World;
  private readonly divisions = new Map<number, DivisionStore>();
  /**
   * Recently generated base rows (shared, never mutated: writes copy them).
   * Bounded, so a million-row world stays a few MB; 0 switches it off.
   */
  private readonly cache: BoundedCache<number, Row>;
  private readonly cacheSize: number;
  /** Base rows generated so far (cache misses included, cache hits not). */
  generated = 0;
  /** Bumped by every write and division move: derived indexes (sort orders) built before are stale. */
  version = 0;

  constructor(world: World, cacheSize = 10_000) {
    this.world = world;
    this.cacheSize = cacheSize;
    this.cache = new BoundedCache<number, Row>(cacheSize);
  }

  /** The division's Timestamp offset (raised by a division move). */
  tsOffset(div: number): number {
    return this.divisions.get(div)?.tsOffset ?? 0;
  }

  /** Base row i freshly generated, bypassing the row cache (for callers that cache the rendered row instead). */
  generate(ds: Dataset, div: number, i: number): Row {
    this.generated++;
    const r = ds.row(div, i);
    const offset = this.divisions.get(div)?.tsOffset ?? 0;
    if (offset !== 0 && typeof r.Timestamp === 'number') r.Timestamp += offset;
    return r;
  }

  /** Regenerate a division's Timestamps (a division move): cached rows carry the old ones. */
  moveDivision(div: number): void {
    this.version++;
    this.division(div).regenerate();
    this.cache.clear();
  }

  /** Base row i of a dataset, from the cache when it was generated recently. */
  baseRow(ds: Dataset, div: number, i: number): Row {
    if (this.cacheSize === 0 || ds.entity === 0) return this.generate(ds, div, i);
    const k = (ds.entity * 16_777_216 + div) * 16_777_216 + i;
    let r = this.cache.get(k);
    if (r === undefined) {
      r = this.generate(ds, div, i);
      this.cache.set(k, r);
    }
    return r;
  }

  division(code: number): DivisionStore {
    let d = this.divisions.get(code);
    if (!d) {
      d = new DivisionStore(code);
      this.divisions.set(code, d);
    }
    return d;
  }

  /** The current row for a key, or undefined when absent or deleted. */
  get(ds: Dataset, div: number, key: string): Row | undefined {
    const k = key.toLowerCase();
    const o = this.divisions.get(div)?.peek(ds.name);
    if (o) {
      if (o.deleted.has(k)) return undefined;
      const r = o.rows.get(k);
      if (r) return r;
    }
    if (ds.entity === 0) return undefined;
    const g = decodeGuid(this.world.seed, k);
    if (!g || g.entity !== ds.entity || g.division !== div || g.index >= ds.count(div)) return undefined;
    return this.baseRow(ds, div, g.index);
  }

  /** Base index of a key, when it is a generated row. */
  baseIndex(ds: Dataset, div: number, key: string): number | undefined {
    const g = decodeGuid(this.world.seed, key);
    if (!g || g.entity !== ds.entity || g.division !== div || g.index >= ds.count(div)) return undefined;
    return g.index;
  }

  /**
   * A position as one number: base row i is i, the j-th inserted row is
   * -(j + 1). Compact enough to keep one per row of a million-row sort.
   */
  static code(pos: Position): number {
    return pos.phase === 0 ? pos.index : -(pos.index + 1);
  }

  /** The current row at a position code (see `code`), or undefined when deleted since. */
  rowAt(ds: Dataset, div: number, code: number): Row | undefined {
    const o = this.divisions.get(div)?.peek(ds.name);
    if (code < 0) {
      const k = o?.inserted[-code - 1];
      return k === undefined || o?.deleted.has(k) ? undefined : o?.rows.get(k);
    }
    if (code >= ds.count(div)) return undefined;
    const r = this.baseRow(ds, div, code);
    if (!o) return r;
    const k = String(r[ds.key]).toLowerCase();
    if (o.deleted.has(k)) return undefined;
    return o.rows.get(k) ?? r;
  }

  /** The position code of a live key, for ordering rows found by key as a scan would. */
  codeOf(ds: Dataset, div: number, key: string): number | undefined {
    const p = this.positionAfter(ds, div, key);
    return p === undefined ? undefined : p.phase === 0 ? p.index - 1 : -p.index;
  }

  /**
   * Rows in stable order from `from` on: base rows by index (with changes
   * applied, deletions skipped), then inserted rows in insertion order.
   * `cache: false` generates base rows without passing them through the row
   * cache (a full scan would only churn it).
   */
  *scan(ds: Dataset, div: number, from: Position = { phase: 0, index: 0 }, cache = true): Generator<{ row: Row; pos: Position }> {
    const o = this.divisions.get(div)?.peek(ds.name);
    const touched = o !== undefined && (o.rows.size > 0 || o.deleted.size > 0);
    if (from.phase === 0) {
      const n = ds.count(div);
      for (let i = from.index; i < n; i++) {
        const r = cache ? this.baseRow(ds, div, i) : this.generate(ds, div, i);
        if (!touched) {
          yield { row: r, pos: { phase: 0, index: i } };
          continue;
        }
        const k = String(r[ds.key]).toLowerCase();
        if (o.deleted.has(k)) continue;
        const changed = o.rows.get(k);
        yield { row: changed ?? r, pos: { phase: 0, index: i } };
      }
    }
    if (!o) return;
    const start = from.phase === 1 ? from.index : 0;
    for (let i = start; i < o.inserted.length; i++) {
      const k = o.inserted[i];
      if (o.deleted.has(k)) continue;
      const r = o.rows.get(k);
      if (r) yield { row: r, pos: { phase: 1, index: i } };
    }
  }

  /**
   * Rows with Timestamp > `after`, in Timestamp order: untouched base rows
   * (their Timestamps increase with the index) then changed and inserted
   * rows, whose Timestamps come from the write counter and are higher.
   */
  *scanSince(ds: Dataset, div: number, after: number): Generator<Row> {
    const o = this.divisions.get(div)?.peek(ds.name);
    if (ds.entity !== 0) {
      const n = ds.count(div);
      const offset = this.divisions.get(div)?.tsOffset ?? 0;
      const first = Math.max(0, Math.min(n, Math.floor(after) - offset - baseTimestamp(ds.entity, 0) + 1));
      for (let i = first; i < n; i++) {
        const r = this.baseRow(ds, div, i);
        if (o) {
          const k = String(r[ds.key]).toLowerCase();
          if (o.deleted.has(k) || o.rows.has(k)) continue;
        }
        yield r;
      }
    }
    if (!o) return;
    const written = [...o.rows.entries()]
      .filter(([k, r]) => !o.deleted.has(k) && typeof r.Timestamp === 'number' && r.Timestamp > after)
      .map(([, r]) => r)
      .sort((a, b) => Number(a.Timestamp) - Number(b.Timestamp));
    yield* written;
  }

  /** Whether nothing was written to this dataset in this division (positions are plain indexes). */
  untouched(ds: Dataset, div: number): boolean {
    const o = this.divisions.get(div)?.peek(ds.name);
    return o === undefined || (o.rows.size === 0 && o.deleted.size === 0 && o.inserted.length === 0);
  }

  /** The position just after a key, for $skiptoken paging. */
  positionAfter(ds: Dataset, div: number, key: string): Position | undefined {
    const k = key.toLowerCase();
    const o = this.divisions.get(div)?.peek(ds.name);
    if (o) {
      const at = o.inserted.indexOf(k);
      if (at >= 0) return { phase: 1, index: at + 1 };
    }
    const i = this.baseIndex(ds, div, k);
    return i === undefined ? undefined : { phase: 0, index: i + 1 };
  }

  /** Number of live rows (fast when nothing was written). */
  count(ds: Dataset, div: number): number {
    const o = this.divisions.get(div)?.peek(ds.name);
    if (!o) return ds.count(div);
    let n = ds.count(div) + o.inserted.length;
    for (const k of o.deleted) {
      if (o.inserted.includes(k) || this.baseIndex(ds, div, k) !== undefined) n--;
    }
    return n;
  }

  /** Insert or replace a row; bumps its Timestamp. */
  put(ds: Dataset, div: number, row: Row, isNew: boolean): Row {
    this.version++;
    const d = this.division(div);
    const o = d.overlay(ds.name);
    const k = String(row[ds.key]).toLowerCase();
    for (const a of ds.aliasKeys ?? []) if (row[a] === undefined || row[a] === null) row[a] = row[ds.key];
    row.Timestamp = d.nextTimestamp();
    o.rows.set(k, row);
    if (isNew) o.inserted.push(k);
    return row;
  }

  remove(ds: Dataset, div: number, key: string): void {
    this.version++;
    const d = this.division(div);
    const o = d.overlay(ds.name);
    const k = key.toLowerCase();
    o.deleted.add(k);
    o.rows.delete(k);
    d.nextTimestamp();
  }
}

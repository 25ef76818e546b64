/**
 * Open feeds between pages. Power BI reads a feed page after page, each next
 * request following the previous one within milliseconds. Rather than run the
 * query again for every page (a sort of the whole table for keyless tables,
 * a remote round trip for platforms), the server keeps the engine's stream
 * and its session open, parked under the next link's `$skiptoken`, for a short
 * time. A next-page request with that exact token continues the stream; any
 * other instance (or a request after expiry) simply runs the query from the
 * position in the token — same rows, only slower. Parked cursors hold a
 * session, so they are few, short-lived, and evicted when a database's
 * sessions are all taken.
 */
import type { RowBatch, Value } from '../provider/types.js';
import type { OutputSlot } from './odata/edm.js';
import type { EntitySet } from './odata/model.js';
import type { Lease } from './sessions.js';

/** Rows of an engine stream, read batch by batch without an await per row. */
export class RowReader {
  private rows: readonly (readonly Value[])[] = [];
  private i = 0;
  private finished = false;

  constructor(private readonly iterator: AsyncIterator<RowBatch>) {}

  /** Make at least one row available; false at the end of the stream. */
  async fill(): Promise<boolean> {
    while (this.i >= this.rows.length) {
      if (this.finished) return false;
      const r = await this.iterator.next();
      if (r.done) {
        this.finished = true;
        return false;
      }
      this.rows = r.value.rows;
      this.i = 0;
    }
    return true;
  }

  available(): number {
    return this.rows.length - this.i;
  }

  take(): readonly Value[] {
    return this.rows[this.i++];
  }

  async close(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    await this.iterator.return?.();
  }
}

export interface Cursor {
  readonly database: string;
  readonly set: EntitySet;
  readonly queryHash: string;
  readonly lease: Lease;
  readonly reader: RowReader;
  readonly abort: AbortController;
  readonly slots: readonly OutputSlot[];
  readonly keyIndexes: readonly number[];
  readonly mode: 'keyset' | 'offset';
  readonly pageRows: number;
  readonly count?: number;
  /** Absolute position of the next row. */
  position: number;
  /** Rows still owed to `$top`. */
  remaining?: number;
}

interface Parked {
  readonly cursor: Cursor;
  readonly timer: NodeJS.Timeout;
}

export class CursorCache {
  private readonly parked = new Map<string, Parked>();

  constructor(
    private readonly ttlMs = 60_000,
    private readonly maxPerDatabase = 2,
  ) {}

  private static key(database: string, token: string): string {
    return `${database.toLowerCase()}\u0000${token}`;
  }

  /** Park a cursor under the token of its next link (or close it when too many are parked). */
  park(token: string, cursor: Cursor): void {
    const db = cursor.database.toLowerCase();
    // The same next link reached twice (a link re-run from its token ends where the first run's page did): the older stream must be closed, not dropped.
    this.evict(CursorCache.key(cursor.database, token));
    const mine = [...this.parked.entries()].filter(([, p]) => p.cursor.database.toLowerCase() === db);
    if (mine.length >= this.maxPerDatabase) this.evict(mine[0][0]);
    const key = CursorCache.key(cursor.database, token);
    const timer = setTimeout(() => this.evict(key), this.ttlMs);
    timer.unref();
    this.parked.set(key, { cursor, timer });
  }

  /** Take the cursor parked under this token, if any (it is no longer parked). */
  take(database: string, token: string): Cursor | undefined {
    const key = CursorCache.key(database, token);
    const p = this.parked.get(key);
    if (!p) return undefined;
    clearTimeout(p.timer);
    this.parked.delete(key);
    return p.cursor;
  }

  /** Close the oldest parked cursor of a database (its session is needed). */
  evictOldest(database: string): boolean {
    const db = database.toLowerCase();
    for (const [key, p] of this.parked) {
      if (p.cursor.database.toLowerCase() === db) {
        this.evict(key);
        return true;
      }
    }
    return false;
  }

  /** Close every parked cursor of a database (its configuration changed). */
  dropDatabase(database: string): void {
    const db = database.toLowerCase();
    for (const [key, p] of [...this.parked]) if (p.cursor.database.toLowerCase() === db) this.evict(key);
  }

  private evict(key: string): void {
    const p = this.parked.get(key);
    if (!p) return;
    clearTimeout(p.timer);
    this.parked.delete(key);
    closeCursor(p.cursor);
  }

  closeAll(): void {
    for (const key of [...this.parked.keys()]) this.evict(key);
  }
}

/**
 * Stop the stream and hand the session back: reusable when the engine's
 * stream closed cleanly, otherwise aborted and closed.
 */
export function closeCursor(cursor: Cursor): void {
  void cursor.reader.close().then(
    () => cursor.lease.release(true),
    () => {
      cursor.abort.abort(new Error('cursor closed'));
      cursor.lease.release(false);
    },
  );
}

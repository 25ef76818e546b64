/**
 * Engine sessions per database. A session is exclusive while a request uses
 * it (the engine runs one statement at a time per session), so each database
 * keeps a small pool; a new session opens the database's containers (secrets
 * unsealed only here) and runs its startup SQL. When the startup SQL selects
 * partitions with a query (`use select …`), its `use` statements run again
 * each time a pooled session is handed out, so the selection follows the data
 * for every request (other `use` forms select the same partitions again by
 * construction); a session is reopened (the whole startup SQL again, fresh
 * partition lists) once it is older than the maximum session age. When the
 * database's configuration changes, older sessions are closed instead of
 * reused. A session that was aborted, failed, or ran user SQL (which may
 * `use` or `set`) is closed rather than handed to the next request.
 */
import { createHash } from 'node:crypto';
import type { Session } from '../engine/api.js';
import type { ContainerConfig } from '../provider/types.js';
import { parseScript } from '../sql/index.js';
import type { Statement } from '../sql/ast.js';
import { systemClock } from '../util/clock.js';
import type { Clock } from '../util/clock.js';
import { SluiceError, toSluiceError } from '../util/errors.js';
import type { SecretBox } from '../util/secrets.js';
import { buildModel } from './odata/model.js';
import type { ServiceModel } from './odata/model.js';
import { isOutsidePartitions, selectedPartitions } from './scope.js';
import type { PartitionScope } from './scope.js';
import type { DatabaseRecord } from './state/types.js';
import { openContainer } from './tenancy.js';

/** Opens an engine session over the given (unsealed) containers. */
export type SessionFactory = (containers: readonly ContainerConfig[], database: DatabaseRecord) => Promise<Session>;

export interface Lease {
  readonly session: Session;
  readonly model: ServiceModel;
  /** The partitions the startup SQL selected for this request. */
  readonly scope: PartitionScope;
  /** The configuration the session was opened with (fingerprintOf). */
  readonly fingerprint: string;
  /** Return the session; `reusable: false` closes it. */
  release(reusable: boolean): void;
}

interface Entry {
  readonly session: Session;
  readonly model: ServiceModel;
  /** The startup SQL's `use` statements when one has a query (else none), run again for every request. */
  readonly uses: readonly Statement[];
  readonly openedAt: number;
  scope: PartitionScope;
}

interface DatabasePool {
  fingerprint: string;
  idle: Entry[];
  busy: number;
  waiters: (() => void)[];
}

export interface SessionPoolOptions {
  readonly maxPerDatabase?: number;
  readonly clock?: Clock;
  /** A pooled session older than this is reopened (default 10 minutes). */
  readonly maxSessionAgeMs?: number;
}

/** What a database's sessions depend on: a change closes its pooled sessions, parked streams and cached responses. */
export function fingerprintOf(db: DatabaseRecord): string {
  return createHash('sha256').update(JSON.stringify([db.containers, db.startupSql ?? ''])).digest('base64url');
}

/** Run a script and drain every result (startup SQL has no output to keep). */
export async function runScript(session: Session, script: string, signal?: AbortSignal): Promise<void> {
  for await (const result of session.execute(script, signal ? { signal } : {})) {
    if (result.kind === 'rows') {
      for await (const _batch of result.batches) {
        // drained
      }
    }
  }
}

export class SessionPool {
  private readonly pools = new Map<string, DatabasePool>();
  private closed = false;
  private readonly maxPerDatabase: number;
  private readonly clock: Clock;
  private readonly maxAgeMs: number;

  constructor(
    private readonly factory: SessionFactory,
    private readonly box: SecretBox,
    options: SessionPoolOptions = {},
  ) {
    this.maxPerDatabase = options.maxPerDatabase ?? 4;
    this.clock = options.clock ?? systemClock;
    this.maxAgeMs = options.maxSessionAgeMs ?? 10 * 60_000;
  }

  private poolFor(db: DatabaseRecord): DatabasePool {
    const key = db.name.toLowerCase();
    const fp = fingerprintOf(db);
    let pool = this.pools.get(key);
    if (pool && pool.fingerprint !== fp) {
      for (const s of pool.idle) void s.session.close().catch(() => undefined);
      pool.idle = [];
      pool.fingerprint = fp;
    }
    if (!pool) {
      pool = { fingerprint: fp, idle: [], busy: 0, waiters: [] };
      this.pools.set(key, pool);
    }
    return pool;
  }

  private async open(db: DatabaseRecord, signal: AbortSignal): Promise<Entry> {
    const containers = db.containers.map((c) => openContainer(c, this.box));
    const session = await this.factory(containers, db);
    try {
      const startup = db.startupSql ?? '';
      let uses: Statement[] = [];
      if (startup.trim() !== '') {
        // Only a `use` with a query can answer differently later: codes, `all` and `default` select the
        // same partitions again (the session keeps its partition lists). With a query, every `use` runs
        // again, in order, so the last one still decides as it did at startup.
        const all = parseScript(startup).statements.filter((s) => s.kind === 'Use');
        uses = all.some((s) => s.kind === 'Use' && s.items.some((item) => item.kind === 'query')) ? all : [];
        await runScript(session, startup, signal);
      }
      const scope = await selectedPartitions(session, signal);
      const model = buildModel(session.containers(), (c, t) => isOutsidePartitions(c, t, scope));
      return { session, model, uses, scope, openedAt: this.clock.now() };
    } catch (e) {
      await session.close().catch(() => undefined);
      throw unavailable(db, e);
    }
  }

  /** Make a pooled session current: the startup SQL's selection again (a `use select …` is evaluated now). */
  private async refresh(db: DatabaseRecord, entry: Entry, signal: AbortSignal): Promise<void> {
    if (entry.uses.length === 0) return;
    try {
      for (const use of entry.uses) await entry.session.executeStatement(use, { signal });
      entry.scope = await selectedPartitions(entry.session, signal);
    } catch (e) {
      await entry.session.close().catch(() => undefined);
      throw unavailable(db, e);
    }
  }

  async acquire(db: DatabaseRecord, signal: AbortSignal): Promise<Lease> {
    if (this.closed) throw new SluiceError('SRV300', 'The server is shutting down.', { status: 503 });
    const pool = this.poolFor(db);
    while (pool.idle.length === 0 && pool.busy >= this.maxPerDatabase) {
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          pool.waiters = pool.waiters.filter((w) => w !== wake);
          reject(signal.reason);
        };
        const wake = () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        };
        if (signal.aborted) return reject(signal.reason);
        signal.addEventListener('abort', onAbort, { once: true });
        pool.waiters.push(wake);
      });
    }
    pool.busy++;
    const fp = pool.fingerprint;
    let entry = pool.idle.pop();
    try {
      if (entry && this.clock.now() - entry.openedAt > this.maxAgeMs) {
        void entry.session.close().catch(() => undefined);
        entry = undefined;
      }
      if (entry) await this.refresh(db, entry, signal);
      else entry = await this.open(db, signal);
    } catch (e) {
      pool.busy--;
      pool.waiters.shift()?.();
      throw e;
    }
    const taken = entry;
    let released = false;
    return {
      session: taken.session,
      model: taken.model,
      scope: taken.scope,
      fingerprint: fp,
      release: (reusable) => {
        if (released) return;
        released = true;
        pool.busy--;
        if (reusable && !this.closed && pool.fingerprint === fp) pool.idle.push(taken);
        else void taken.session.close().catch(() => undefined);
        pool.waiters.shift()?.();
      },
    };
  }

  /** Whether a request for this database would have to wait for a session. */
  saturated(db: DatabaseRecord): boolean {
    const pool = this.pools.get(db.name.toLowerCase());
    return pool !== undefined && pool.idle.length === 0 && pool.busy >= this.maxPerDatabase;
  }

  async close(): Promise<void> {
    this.closed = true;
    const all: Promise<void>[] = [];
    for (const pool of this.pools.values()) {
      for (const s of pool.idle) all.push(s.session.close().catch(() => undefined));
      pool.idle = [];
      for (const w of pool.waiters) w();
    }
    await Promise.all(all);
  }
}

function unavailable(db: DatabaseRecord, e: unknown): SluiceError {
  const err = toSluiceError(e);
  return new SluiceError(err.code, `The database "${db.name}" could not be opened: ${err.message}`, { ...err.details, status: 503 });
}

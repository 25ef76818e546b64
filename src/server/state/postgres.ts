/**
 * The shared state store: the same document as the file store, kept in one
 * PostgreSQL row (jsonb) with a version number, so several `sluice serve`
 * instances behind a load balancer see the same users, databases and grants.
 * Updates lock the row (`select … for update`) for the read-modify-write;
 * reads compare the version first and fetch the document only when it moved.
 * The URL comes from SLUICE_STATE_URL; `sluice_table=name` in its query picks
 * the table (default `sluice_state`).
 */
import pg from 'pg';
import { redact } from '../../util/secrets.js';
import { SluiceError } from '../../util/errors.js';
import { normaliseState } from './types.js';
import type { MutableState, StateDocument, StateStore } from './types.js';

export class PostgresStateStore implements StateStore {
  private cached?: { readonly version: string; readonly doc: StateDocument };
  private ready?: Promise<void>;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly table: string,
    private readonly where: string,
  ) {}

  static fromUrl(url: string): PostgresStateStore {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new SluiceError('SRV110', `SLUICE_STATE_URL is not a valid URL: ${redact(url)}`);
    }
    const table = parsed.searchParams.get('sluice_table') ?? 'sluice_state';
    parsed.searchParams.delete('sluice_table');
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(table)) {
      throw new SluiceError('SRV111', `sluice_table must be a lower-case identifier, not "${table}".`);
    }
    const pool = new pg.Pool({ connectionString: parsed.toString(), max: 4 });
    // Idle clients can fail when the database restarts; report, don't crash.
    pool.on('error', () => undefined);
    const shown = new URL(parsed.toString());
    if (shown.password) shown.password = '***';
    return new PostgresStateStore(pool, table, shown.toString());
  }

  describe(): string {
    return `${this.where} (table ${this.table})`;
  }

  private init(): Promise<void> {
    this.ready ??= (async () => {
      await this.pool.query(`create table if not exists ${this.table} (id integer primary key, version bigint not null, doc jsonb not null)`);
      await this.pool.query(`insert into ${this.table} (id, version, doc) values (1, 0, '{}'::jsonb) on conflict (id) do nothing`);
    })();
    return this.ready;
  }

  async read(): Promise<StateDocument> {
    await this.init();
    const v = await this.pool.query<{ version: string }>(`select version::text as version from ${this.table} where id = 1`);
    const version = v.rows[0]?.version ?? '0';
    if (this.cached?.version === version) return this.cached.doc;
    const r = await this.pool.query<{ version: string; doc: unknown }>(`select version::text as version, doc from ${this.table} where id = 1`);
    const doc = normaliseState(r.rows[0]?.doc);
    this.cached = { version: r.rows[0]?.version ?? '0', doc };
    return doc;
  }

  async update<T>(change: (state: MutableState) => T): Promise<T> {
    await this.init();
    const client = await this.pool.connect();
    try {
      await client.query('begin');
      const r = await client.query<{ doc: unknown }>(`select doc from ${this.table} where id = 1 for update`);
      const state = normaliseState(r.rows[0]?.doc);
      let result: T;
      try {
        result = change(state);
      } catch (e) {
        await client.query('rollback');
        throw e;
      }
      await client.query(`update ${this.table} set doc = $1::jsonb, version = version + 1 where id = 1`, [JSON.stringify(state)]);
      await client.query('commit');
      this.cached = undefined;
      return result;
    } catch (e) {
      await client.query('rollback').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }

  /** Remove the table (tests). */
  async drop(): Promise<void> {
    await this.pool.query(`drop table if exists ${this.table}`);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

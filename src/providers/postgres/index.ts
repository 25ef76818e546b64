/**
 * The PostgreSQL provider: a database as a container (source and target).
 * Connection from `host=…;port=…;database=…;user=…;password=…` or
 * `url=postgresql://…`. Scans stream through a server-side cursor
 * (DECLARE … CURSOR inside a read-only transaction, FETCH in batches) and are
 * cancelled with pg_cancel_backend when the statement is aborted. All SQL
 * generation lives in sql-container.ts; this file is the pg driver.
 */
import pg from 'pg';
import type { ColumnInfo, ColumnType, Container, ContainerConfig, Provider, ProviderEnv, TableInfo } from '../../provider/types.js';
import { SluiceError } from '../../util/errors.js';
import { redact } from '../../util/secrets.js';
import { buildCatalog, connectionOptions, SqlContainer, type SqlDialect, type SqlDriver, type SqlSession } from './sql-container.js';

const TEXT_PARSED = [20 /* int8 */, 1700 /* numeric */, 1082 /* date */, 1114 /* timestamp */, 1184 /* timestamptz */];

/** Keep int8, numeric and dates as text: the container converts them exactly (bigint beyond 2^53, UTC dates). */
const types = {
  getTypeParser: ((oid: number, format?: string) =>
    TEXT_PARSED.includes(oid) ? (v: string) => v : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

export function postgresType(dataType: string): ColumnType {
  switch (dataType.toLowerCase()) {
    case 'smallint':
    case 'integer':
      return 'integer';
    case 'bigint':
      return 'bigint';
    case 'numeric':
    case 'decimal':
    case 'money':
      return 'decimal';
    case 'real':
    case 'double precision':
      return 'double';
    case 'boolean':
      return 'boolean';
    case 'date':
      return 'date';
    case 'timestamp without time zone':
    case 'timestamp with time zone':
      return 'timestamp';
    case 'uuid':
      return 'guid';
    case 'bytea':
      return 'blob';
    default:
      return 'varchar';
  }
}

const dialect: SqlDialect = {
  quote: (id) => `"${id.replace(/"/g, '""')}"`,
  placeholder: (n) => `$${n}`,
  exactTextComparison: true,
  textRange: (q) => `${q} COLLATE "C"`,
  likeNoEscape: " ESCAPE ''",
  orderTerm: (q, type, descending) =>
    `${type === 'varchar' ? `${q} COLLATE "C"` : q} ${descending ? 'DESC NULLS FIRST' : 'ASC NULLS LAST'}`,
  tableName: (name) => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name.toLowerCase() : name),
  // 42P01 undefined_table.
  isMissingTable: (e) => (e as { code?: unknown } | null)?.code === '42P01',
  ddlType(c: ColumnInfo): string {
    switch (c.type) {
      case 'boolean':
        return 'boolean';
      case 'integer':
        return 'integer';
      case 'bigint':
        return 'bigint';
      case 'double':
        return 'double precision';
      case 'decimal':
        // Without a declared precision, numeric keeps any value exactly.
        return c.precision ? `numeric(${c.precision},${c.scale ?? 0})` : 'numeric';
      case 'date':
        return 'date';
      case 'timestamp':
        return 'timestamp';
      case 'guid':
        return 'uuid';
      case 'blob':
        return 'bytea';
      default:
        return c.maxLength ? `varchar(${c.maxLength})` : 'text';
    }
  },
};

const CATALOG_SQL = `
SELECT c.table_schema, c.table_name, c.column_name, c.data_type, c.is_nullable, c.character_maximum_length,
  c.numeric_precision, c.numeric_scale,
  EXISTS (
    SELECT 1 FROM information_schema.table_constraints tc
    JOIN information_schema.key_column_usage k
      ON k.constraint_name = tc.constraint_name AND k.constraint_schema = tc.constraint_schema
    WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_schema = c.table_schema
      AND tc.table_name = c.table_name AND k.column_name = c.column_name) AS is_key
FROM information_schema.columns c
JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
WHERE c.table_schema NOT IN ('pg_catalog', 'information_schema') AND c.table_schema NOT LIKE 'pg\\_%'
  AND t.table_type IN ('BASE TABLE', 'VIEW')
ORDER BY c.table_schema, c.table_name, c.ordinal_position`;

class PostgresDriver implements SqlDriver {
  constructor(
    private readonly pool: pg.Pool,
    private readonly database: string,
  ) {}

  async query(sql: string, params: readonly unknown[]) {
    const r = await this.pool.query({ text: sql, values: [...params], rowMode: 'array' });
    return { rows: r.rows as unknown[][], affected: r.rowCount ?? 0 };
  }

  async transaction<T>(fn: (session: SqlSession) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      const session: SqlSession = {
        query: async (sql, params) => {
          const r = await client.query({ text: sql, values: [...params], rowMode: 'array' });
          return { rows: r.rows as unknown[][], affected: r.rowCount ?? 0 };
        },
      };
      const result = await fn(session);
      await client.query('COMMIT');
      return result;
    } catch (e) {
      try {
        await client.query('ROLLBACK');
      } catch {
        broken = true;
      }
      throw e;
    } finally {
      client.release(broken);
    }
  }

  async *stream(sql: string, params: readonly unknown[], batchSize: number, signal: AbortSignal) {
    signal.throwIfAborted();
    const client = await this.pool.connect();
    const pid = (client as unknown as { processID?: number }).processID;
    let broken = false;
    let open = false;
    const onAbort = () => {
      broken = true;
      if (pid !== undefined) this.pool.query('SELECT pg_cancel_backend($1)', [pid]).catch(() => undefined);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      await client.query('BEGIN READ ONLY');
      open = true;
      await client.query({ text: `DECLARE sluice_scan NO SCROLL CURSOR FOR ${sql}`, values: [...params] });
      for (;;) {
        const r = await client.query({ text: `FETCH ${batchSize} FROM sluice_scan`, rowMode: 'array' });
        signal.throwIfAborted();
        if (r.rows.length > 0) yield r.rows as unknown[][];
        signal.throwIfAborted();
        if (r.rows.length < batchSize) break;
      }
      await client.query('COMMIT');
      open = false;
    } catch (e) {
      broken = broken || signal.aborted;
      throw e;
    } finally {
      signal.removeEventListener('abort', onAbort);
      if (open && !broken) {
        // The consumer stopped early (or failed): close the cursor and its transaction.
        try {
          await client.query('ROLLBACK');
        } catch {
          broken = true;
        }
      }
      client.release(broken);
    }
  }

  async loadCatalog(): Promise<TableInfo[]> {
    const r = await this.pool.query({ text: CATALOG_SQL, rowMode: 'array' });
    const rows = (r.rows as unknown[][]).map((x) => ({
      schema: String(x[0]),
      table: String(x[1]),
      column: String(x[2]),
      type: postgresType(String(x[3])),
      nullable: x[4] === 'YES',
      maxLength: x[5] === null ? undefined : Number(x[5]),
      precision: x[6] === null ? undefined : Number(x[6]),
      scale: x[7] === null ? undefined : Number(x[7]),
      key: x[8] === true,
    }));
    return buildCatalog(this.database, rows);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

export const postgresProvider: Provider = {
  name: 'PostgreSQL',
  async connect(config: ContainerConfig, env: ProviderEnv): Promise<Container> {
    const o = connectionOptions(config.options, { port: 5432, user: process.env.USER ?? 'postgres' }, env.secrets, config.alias);
    const pool = new pg.Pool({
      host: o.host,
      port: o.port,
      database: o.database,
      user: o.user,
      password: o.password,
      max: o.poolSize,
      types,
      // Timestamps travel as UTC text both ways.
      options: '-c TimeZone=UTC',
      application_name: 'sluice',
    });
    // An idle client dropped by the server must not crash the process.
    pool.on('error', () => undefined);
    const url = `postgresql://${o.host}:${o.port}/${o.database}`;
    const schemaRow = await pool.query('SELECT current_schema()').catch(async (e: unknown) => {
      await pool.end().catch(() => undefined);
      const message = redact(e instanceof Error ? e.message : String(e)).split(o.password ?? '\u0000').join('***');
      throw new SluiceError('SQL004', `Cannot connect container ${config.alias} to ${url}: ${message}`, {
        container: config.alias,
        hint: 'Check host, port, database, user and password in the connection string.',
      });
    });
    const schema = String((schemaRow.rows[0] as { current_schema?: unknown }).current_schema ?? 'public');
    const container = new SqlContainer(config.alias, 'PostgreSQL', dialect, new PostgresDriver(pool, o.database), env, url, o.batchSize, schema);
    try {
      await container.refresh();
    } catch (e) {
      await pool.end().catch(() => undefined);
      throw e;
    }
    return container;
  },
};

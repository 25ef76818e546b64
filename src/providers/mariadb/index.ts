/**
 * The MariaDB (and MySQL) provider: a database as a container (source and
 * target). Connection from `host=…;port=…;database=…;user=…;password=…` or
 * `url=mariadb://…`. Scans stream with queryStream (the driver pauses the
 * socket when we stop reading, so memory stays bounded) and are cancelled
 * with KILL QUERY. SQL generation is shared with PostgreSQL
 * (../postgres/sql-container.ts); text comparisons here are case-insensitive,
 * so they are pushed as 'inexact' and the engine re-checks them.
 */
import mariadb, { type Pool } from 'mariadb';
import type { ColumnInfo, ColumnType, Container, ContainerConfig, Provider, ProviderEnv, TableInfo } from '../../provider/types.js';
import { SluiceError } from '../../util/errors.js';
import { redact } from '../../util/secrets.js';
import { buildCatalog, connectionOptions, SqlContainer, type SqlDialect, type SqlDriver, type SqlSession } from '../postgres/sql-container.js';

export function mariadbType(dataType: string, columnType: string): ColumnType {
  const t = dataType.toLowerCase();
  const unsigned = /unsigned/i.test(columnType);
  switch (t) {
    case 'tinyint':
      return /^tinyint\(1\)/i.test(columnType) ? 'boolean' : 'integer';
    case 'bool':
    case 'boolean':
      return 'boolean';
    case 'smallint':
    case 'mediumint':
    case 'year':
      return 'integer';
    case 'int':
    case 'integer':
      return unsigned ? 'bigint' : 'integer';
    case 'bigint':
      return 'bigint';
    case 'decimal':
    case 'numeric':
      return 'decimal';
    case 'float':
    case 'double':
    case 'real':
      return 'double';
    case 'date':
      return 'date';
    case 'datetime':
    case 'timestamp':
      return 'timestamp';
    case 'uuid':
      return 'guid';
    case 'binary':
    case 'varbinary':
    case 'tinyblob':
    case 'blob':
    case 'mediumblob':
    case 'longblob':
      return 'blob';
    default:
      return 'varchar';
  }
}

const dialect: SqlDialect = {
  quote: (id) => `\`${id.replace(/`/g, '``')}\``,
  placeholder: () => '?',
  exactTextComparison: false,
  textRange: (q) => q,
  likeNoEscape: undefined,
  orderTerm: (q, type, descending) => {
    // Collations order text case-insensitively; the engine orders binary.
    if (type === 'varchar' || type === 'guid') return undefined;
    return descending ? `${q} IS NULL DESC, ${q} DESC` : `${q} IS NULL, ${q} ASC`;
  },
  tableName: (name) => name,
  // ER_BAD_TABLE_ERROR (DROP) and ER_NO_SUCH_TABLE.
  isMissingTable: (e) => {
    const errno = (e as { errno?: unknown } | null)?.errno;
    return errno === 1051 || errno === 1146;
  },
  /**
   * VARCHAR without a length becomes TEXT (no silent truncation, like the
   * engine's unbounded varchar), except in a primary key: MariaDB cannot
   * index TEXT without a prefix, so a key column gets VARCHAR(255) (1,020
   * bytes in utf8mb4, inside InnoDB's 3,072-byte key limit). A decimal
   * without precision is DECIMAL(38,10), MariaDB having no unbounded one.
   */
  ddlType(c: ColumnInfo, inKey: boolean): string {
    switch (c.type) {
      case 'boolean':
        return 'boolean';
      case 'integer':
        return 'int';
      case 'bigint':
        return 'bigint';
      case 'double':
        return 'double';
      case 'decimal':
        // MariaDB's DECIMAL holds at most 65 digits, 38 after the point.
        return c.precision && c.precision <= 65 ? `decimal(${c.precision},${Math.min(c.scale ?? 0, 38, c.precision)})` : 'decimal(38,10)';
      case 'date':
        return 'date';
      case 'timestamp':
        return 'datetime(6)';
      case 'guid':
        return 'uuid';
      case 'blob':
        return 'longblob';
      default:
        if (c.maxLength && c.maxLength <= 16000) return `varchar(${c.maxLength})`;
        return inKey ? 'varchar(255)' : 'text';
    }
  },
};

const CATALOG_SQL = `
SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE,
  CASE WHEN DATA_TYPE IN ('char', 'varchar') THEN CHARACTER_MAXIMUM_LENGTH END,
  NUMERIC_PRECISION, NUMERIC_SCALE, COLUMN_KEY = 'PRI'
FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ?
ORDER BY TABLE_NAME, ORDINAL_POSITION`;

function resultOf(r: unknown): { rows: readonly (readonly unknown[])[]; affected: number } {
  if (Array.isArray(r)) return { rows: r as unknown[][], affected: r.length };
  const ok = r as { affectedRows?: number };
  return { rows: [], affected: Number(ok.affectedRows ?? 0) };
}

class MariadbDriver implements SqlDriver {
  constructor(
    private readonly pool: Pool,
    private readonly database: string,
  ) {}

  async query(sql: string, params: readonly unknown[]) {
    return resultOf(await this.pool.query({ sql, rowsAsArray: true }, [...params]));
  }

  async transaction<T>(fn: (session: SqlSession) => Promise<T>): Promise<T> {
    const conn = await this.pool.getConnection();
    try {
      await conn.beginTransaction();
      const session: SqlSession = { query: async (sql, params) => resultOf(await conn.query({ sql, rowsAsArray: true }, [...params])) };
      const result = await fn(session);
      await conn.commit();
      return result;
    } catch (e) {
      await conn.rollback().catch(() => undefined);
      throw e;
    } finally {
      await conn.release();
    }
  }

  async *stream(sql: string, params: readonly unknown[], batchSize: number, signal: AbortSignal) {
    signal.throwIfAborted();
    const conn = await this.pool.getConnection();
    const threadId = conn.threadId;
    let finished = false;
    const kill = () => {
      if (threadId !== null) this.pool.query(`KILL QUERY ${Number(threadId)}`).catch(() => undefined);
    };
    signal.addEventListener('abort', kill, { once: true });
    const stream = conn.queryStream({ sql, rowsAsArray: true }, [...params]);
    try {
      let batch: unknown[][] = [];
      for await (const row of stream as AsyncIterable<unknown[]>) {
        batch.push(row);
        if (batch.length >= batchSize) {
          signal.throwIfAborted();
          yield batch;
          batch = [];
        }
      }
      signal.throwIfAborted();
      if (batch.length > 0) yield batch;
      finished = true;
    } finally {
      signal.removeEventListener('abort', kill);
      if (finished) await conn.release();
      else {
        // Stopped early or aborted: stop the server's work and drop the connection.
        kill();
        await conn.destroy();
      }
    }
  }

  async loadCatalog(): Promise<TableInfo[]> {
    const r = (await this.pool.query({ sql: CATALOG_SQL, rowsAsArray: true }, [this.database])) as unknown[][];
    const rows = r.map((x) => ({
      schema: String(x[0]),
      table: String(x[1]),
      column: String(x[2]),
      type: mariadbType(String(x[3]), String(x[4])),
      nullable: x[5] === 'YES',
      maxLength: x[6] === null ? undefined : Number(x[6]),
      precision: x[7] === null ? undefined : Number(x[7]),
      scale: x[8] === null ? undefined : Number(x[8]),
      key: Number(x[9]) === 1,
    }));
    return buildCatalog(this.database, rows);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

export const mariadbProvider: Provider = {
  name: 'MariaDB',
  async connect(config: ContainerConfig, env: ProviderEnv): Promise<Container> {
    const o = connectionOptions(config.options, { port: 3306, user: 'root' }, env.secrets, config.alias);
    const url = `mariadb://${o.host}:${o.port}/${o.database}`;
    const fail = (e: unknown) => {
      const message = redact(e instanceof Error ? e.message : String(e)).split(o.password || '\u0000').join('***');
      return new SluiceError('SQL004', `Cannot connect container ${config.alias} to ${url}: ${message}`, {
        container: config.alias,
        hint: 'Check host, port, database, user and password in the connection string.',
      });
    };
    const server = { host: o.host, port: o.port, database: o.database, user: o.user, password: o.password, connectTimeout: 5000 };
    // One plain connection first: a pool would retry until its acquire timeout before saying what is wrong.
    try {
      await (await mariadb.createConnection(server)).end();
    } catch (e) {
      throw fail(e);
    }
    const pool = mariadb.createPool({
      ...server,
      connectionLimit: o.poolSize,
      // Dates travel as text and are read as UTC; the container converts them.
      dateStrings: true,
      bigIntAsNumber: false,
      decimalAsNumber: false,
      insertIdAsNumber: true,
      initSql: "SET time_zone = '+00:00'",
      acquireTimeout: 10000,
    });
    const container = new SqlContainer(config.alias, 'MariaDB', dialect, new MariadbDriver(pool, o.database), env, url, o.batchSize, o.database);
    try {
      await container.refresh();
    } catch (e) {
      await pool.end().catch(() => undefined);
      throw e instanceof SluiceError ? e : fail(e);
    }
    return container;
  },
};

/**
 * The `inmemorystorage` container (provider `InMemoryStorage`): tables that
 * live in the session's own DuckDB, one DuckDB schema per container. The
 * engine reads them in place through `localRelation` (no scan, no copy) and
 * writes them with set-based SQL; `write` is here too so the generic write
 * path (and synchronize) works against it like against any other container.
 */
import type {
  ColumnInfo,
  Container,
  ContainerConfig,
  LocalDatabase,
  Partition,
  Provider,
  ProviderEnv,
  RowBatch,
  RowResult,
  ScanPlan,
  ScanRequest,
  TableInfo,
  Value,
  WriteRequest,
} from '../../provider/types.js';
import { duckTypeName } from '../../util/duckdb-types.js';
import { SluiceError } from '../../util/errors.js';

const CATALOG = 'InMemoryStorage';
const SCHEMA = 'Memory';

/** The DuckDB type of a column; decimals are exact DECIMAL(p, s), DECIMAL(38, 10) when undeclared. */
function typeSql(column: ColumnInfo): string {
  return duckTypeName(column.type, column.precision, column.scale);
}

/** A constant as DuckDB SQL text. */
export function sqlLiteral(v: Value): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'NULL';
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  if (v instanceof Date) return `TIMESTAMP '${v.toISOString().replace('T', ' ').replace('Z', '')}'`;
  if (v instanceof Uint8Array) return `'\\x${Buffer.from(v).toString('hex').replace(/(..)/g, '$1\\x').slice(0, -2)}'::BLOB`;
  return `'${v.replace(/'/g, "''")}'`;
}

export class InMemoryContainer implements Container {
  readonly providerName = 'InMemoryStorage';
  private readonly byName = new Map<string, TableInfo>();
  private readonly schema: string;

  constructor(
    readonly alias: string,
    private readonly db: LocalDatabase,
  ) {
    this.schema = `mem_${alias.toLowerCase().replace(/[^a-z0-9_]/g, '_')}`;
  }

  async init(): Promise<void> {
    await this.db.run(`CREATE SCHEMA IF NOT EXISTS ${this.db.quote(this.schema)}`);
  }

  tables(): readonly TableInfo[] {
    return [...this.byName.values()];
  }

  async partitions(): Promise<readonly Partition[]> {
    return [];
  }

  plan(table: TableInfo, request: ScanRequest): ScanPlan {
    return {
      table,
      request,
      conjuncts: request.conjuncts.map(() => 'unsupported'),
      limitApplied: false,
      orderApplied: false,
      estimatedCallsPerPartition: 0,
      explain: [`read in place from DuckDB ${this.relationOf(table.name)}`],
    };
  }

  // eslint-disable-next-line require-yield
  async *scan(plan: ScanPlan): AsyncIterable<RowBatch> {
    throw new SluiceError('MEM002', `In-memory table ${plan.table.name} is read in place, not scanned.`, { container: this.alias });
  }

  localRelation(table: TableInfo): string | undefined {
    const t = this.byName.get(table.name.toLowerCase());
    return t ? this.relationOf(t.name) : undefined;
  }

  private relationOf(name: string): string {
    return `${this.db.quote(this.schema)}.${this.db.quote(name)}`;
  }

  /**
   * `options.key`: the columns declared `primary key`; DuckDB enforces it
   * (unique, not null) and it is reported as the table's key, so the OData
   * server pages by it and write() addresses rows by it.
   */
  async createTable(name: string, columns: readonly ColumnInfo[], options: { orReplace: boolean; ifNotExists: boolean; key?: readonly string[] }): Promise<TableInfo> {
    const existing = this.byName.get(name.toLowerCase());
    if (existing && options.ifNotExists) return existing;
    if (existing && !options.orReplace) {
      throw new SluiceError('MEM001', `Table ${name}@${this.alias} already exists.`, {
        container: this.alias,
        table: name,
        hint: 'Use "create or replace table", or drop it first.',
      });
    }
    if (columns.length === 0) throw new SluiceError('MEM003', `Table ${name} needs at least one column.`, { container: this.alias });
    const key = (options.key ?? []).map((k) => {
      const c = columns.find((x) => x.name.toLowerCase() === k.toLowerCase());
      if (!c) throw new SluiceError('MEM005', `The key column "${k}" is not a column of ${name}.`, { container: this.alias, table: name });
      return c.name;
    });
    const cols = columns.map((c) => `${this.db.quote(c.name)} ${typeSql(c)}`);
    if (key.length > 0) cols.push(`PRIMARY KEY (${key.map((k) => this.db.quote(k)).join(', ')})`);
    await this.db.run(`CREATE OR REPLACE TABLE ${this.relationOf(name)} (${cols.join(', ')})`);
    if (existing) this.byName.delete(name.toLowerCase());
    const info: TableInfo = {
      catalog: CATALOG,
      schema: SCHEMA,
      name,
      columns: columns.map((c) => ({
        name: c.name,
        type: c.type,
        nullable: c.nullable && !key.includes(c.name),
        filterOperators: [],
        ...(c.type === 'decimal' && c.precision !== undefined ? { precision: c.precision, scale: c.scale ?? 0 } : {}),
      })),
      key,
      scope: 'system',
      writable: { insert: true, update: true, delete: true },
      description: 'In-memory table (lives until the session closes).',
    };
    this.byName.set(name.toLowerCase(), info);
    return info;
  }

  async dropTable(name: string, options: { ifExists: boolean }): Promise<void> {
    const t = this.byName.get(name.toLowerCase());
    if (!t) {
      if (options.ifExists) return;
      throw new SluiceError('MEM004', `Table ${name}@${this.alias} does not exist.`, { container: this.alias, table: name });
    }
    await this.db.run(`DROP TABLE IF EXISTS ${this.relationOf(t.name)}`);
    this.byName.delete(name.toLowerCase());
  }

  async *write(table: TableInfo, request: WriteRequest): AsyncIterable<RowResult> {
    const rel = this.localRelation(table);
    if (!rel) throw new SluiceError('MEM004', `Table ${table.name}@${this.alias} does not exist.`, { container: this.alias });
    const cols = request.rows.columns;
    // Rows are addressed by every key column; without a key there is nothing that names one row.
    const keys = table.key;
    if (request.op !== 'insert') {
      if (keys.length === 0) {
        throw new SluiceError('MEM006', `Table ${table.name}@${this.alias} has no key, so rows cannot be ${request.op}d one by one.`, {
          container: this.alias,
          table: table.name,
          hint: `Declare a primary key when creating it, or use an ${request.op} statement with a where clause.`,
        });
      }
      const missing = keys.filter((k) => !cols.some((c) => c.toLowerCase() === k.toLowerCase()));
      if (missing.length > 0) {
        throw new SluiceError('MEM007', `Rows to ${request.op} in ${table.name}@${this.alias} must carry the key column(s) ${missing.join(', ')}.`, {
          container: this.alias,
          table: table.name,
        });
      }
    }
    for (let i = 0; i < request.rows.rows.length; i++) {
      if (request.signal.aborted) throw request.signal.reason;
      const row = request.rows.rows[i];
      try {
        if (request.op === 'insert') {
          await this.db.run(`INSERT INTO ${rel} (${cols.map((c) => this.db.quote(c)).join(', ')}) VALUES (${row.map(sqlLiteral).join(', ')})`);
        } else {
          const where = keys
            .map((k) => {
              const idx = cols.findIndex((c) => c.toLowerCase() === k.toLowerCase());
              const v = idx < 0 ? null : row[idx];
              return `${this.db.quote(k)} IS NOT DISTINCT FROM ${sqlLiteral(v)}`;
            })
            .join(' AND ');
          if (request.op === 'delete') {
            await this.db.run(`DELETE FROM ${rel} WHERE ${where}`);
          } else {
            const sets = cols
              .map((c, j) => ({ c, v: row[j] }))
              .filter((x) => !keys.some((k) => k.toLowerCase() === x.c.toLowerCase()))
              .map((x) => `${this.db.quote(x.c)} = ${sqlLiteral(x.v)}`);
            if (sets.length > 0) await this.db.run(`UPDATE ${rel} SET ${sets.join(', ')} WHERE ${where}`);
          }
        }
        yield { index: i, ok: true };
      } catch (e) {
        yield { index: i, ok: false, message: e instanceof Error ? e.message : String(e) };
      }
    }
  }

  async close(): Promise<void> {
    // The tables go with the session's DuckDB instance.
  }
}

export const inMemoryStorageProvider: Provider = {
  name: 'InMemoryStorage',
  async connect(config: ContainerConfig, env: ProviderEnv): Promise<Container> {
    const c = new InMemoryContainer(config.alias, env.local);
    await c.init();
    return c;
  },
};

/**
 * The session's embedded DuckDB: one in-memory instance per session. The
 * executor fills temp tables here from provider scans (appender + data chunks,
 * the fastest load path measured) and runs the SQL the engine printed from the
 * AST; results stream back chunk by chunk, converted to provider `Value`s.
 * Nothing outside engine/ touches DuckDB directly, except the in-memory
 * provider through the narrow `LocalDatabase` view.
 */
import {
  BIGINT,
  BLOB,
  BOOLEAN,
  DATE,
  DECIMAL,
  DOUBLE,
  DuckDBBlobValue,
  DuckDBConnection,
  DuckDBDataChunk,
  DuckDBDateValue,
  DuckDBDecimalValue,
  DuckDBInstance,
  DuckDBTimestampValue,
  DuckDBTypeId,
  INTEGER,
  JSDuckDBValueConverter,
  TIMESTAMP,
  VARCHAR,
} from '@duckdb/node-api';
import type { DuckDBResult, DuckDBType, DuckDBValue, DuckDBValueConverter } from '@duckdb/node-api';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ColumnType, LocalDatabase, RowBatch, Value } from '../provider/types.js';
import { SluiceError } from '../util/errors.js';
import { decimalTextToValue, toScaledDecimal } from './decimal.js';
import { decimalShape, duckTypeName } from '../util/duckdb-types.js';

/** Quote an identifier for DuckDB (always quoted: keeps case, spaces and keywords safe). */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function quoteString(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

export { DEFAULT_DECIMAL, decimalShape, duckTypeName } from '../util/duckdb-types.js';

function duckType(type: ColumnType, precision?: number, scale?: number): DuckDBType {
  switch (type) {
    case 'boolean':
      return BOOLEAN;
    case 'integer':
      return INTEGER;
    case 'bigint':
      return BIGINT;
    case 'decimal': {
      const d = decimalShape(precision, scale);
      return DECIMAL(d.precision, d.scale);
    }
    case 'double':
      return DOUBLE;
    case 'date':
      return DATE;
    case 'timestamp':
      return TIMESTAMP;
    case 'blob':
      return BLOB;
    case 'varchar':
    case 'guid':
      return VARCHAR;
  }
}

/** The provider column type a DuckDB result column maps to. */
export function columnTypeOf(type: DuckDBType): ColumnType {
  switch (type.typeId) {
    case DuckDBTypeId.BOOLEAN:
      return 'boolean';
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.UTINYINT:
    case DuckDBTypeId.USMALLINT:
      return 'integer';
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UINTEGER:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT:
      return 'bigint';
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.DOUBLE:
      return 'double';
    case DuckDBTypeId.DECIMAL:
      return 'decimal';
    case DuckDBTypeId.DATE:
      return 'date';
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_TZ:
      return 'timestamp';
    case DuckDBTypeId.UUID:
      return 'guid';
    case DuckDBTypeId.BLOB:
      return 'blob';
    default:
      return 'varchar';
  }
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);

/**
 * DuckDB value → provider Value: bigint only beyond 2^53, decimals as numbers
 * that print exactly as stored (else their digits as a string, see
 * decimal.ts), nested values as JSON text.
 */
const toValue: DuckDBValueConverter<Value> = (value, type) => {
  if (value === null) return null;
  switch (type.typeId) {
    case DuckDBTypeId.DECIMAL:
      return decimalTextToValue((value as DuckDBDecimalValue).toString());
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT: {
      const b = value as bigint;
      return b <= MAX_SAFE && b >= MIN_SAFE ? Number(b) : b;
    }
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.STRUCT:
    case DuckDBTypeId.MAP:
    case DuckDBTypeId.ARRAY:
    case DuckDBTypeId.UNION:
    case DuckDBTypeId.INTERVAL:
    case DuckDBTypeId.TIME:
    case DuckDBTypeId.TIME_TZ:
      return String(value);
    default: {
      const v = JSDuckDBValueConverter(value, type, JSDuckDBValueConverter);
      if (v === null || typeof v !== 'object' || v instanceof Date || v instanceof Uint8Array) return v as Value;
      return JSON.stringify(v);
    }
  }
};

const DAY_MS = 86_400_000;

/** Coerce one provider value into the DuckDBValue a column of `type` takes; lenient because platforms are. */
function coerce(value: Value, type: ColumnType, decimal = DEFAULT_DECIMAL_SHAPE): DuckDBValue {
  if (value === null || value === undefined) return null;
  switch (type) {
    case 'decimal': {
      const scaled = toScaledDecimal(value, decimal.precision, decimal.scale);
      return scaled === null ? null : new DuckDBDecimalValue(scaled, decimal.precision, decimal.scale);
    }
    case 'varchar':
    case 'guid':
      if (typeof value === 'string') return value;
      if (value instanceof Date) return value.toISOString();
      if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
      return String(value);
    case 'integer':
    case 'double': {
      if (typeof value === 'number') return value;
      if (typeof value === 'boolean') return value ? 1 : 0;
      const n = Number(value instanceof Date ? value.getTime() : value);
      return Number.isNaN(n) ? null : type === 'integer' ? Math.trunc(n) : n;
    }
    case 'bigint':
      if (typeof value === 'bigint') return value;
      if (typeof value === 'number') return BigInt(Math.trunc(value));
      try {
        return BigInt(String(value));
      } catch {
        return null;
      }
    case 'boolean':
      if (typeof value === 'boolean') return value;
      if (typeof value === 'string') return /^(true|1|y|yes)$/i.test(value);
      return Boolean(value);
    case 'date':
    case 'timestamp': {
      const d = value instanceof Date ? value : new Date(typeof value === 'bigint' ? Number(value) : (value as string | number));
      const ms = d.getTime();
      if (Number.isNaN(ms)) return null;
      if (type === 'date') return new DuckDBDateValue(Math.floor(ms / DAY_MS));
      return new DuckDBTimestampValue(BigInt(ms) * 1000n);
    }
    case 'blob':
      if (value instanceof Uint8Array) return new DuckDBBlobValue(value);
      return DuckDBBlobValue.fromString(String(value));
  }
}

const DEFAULT_DECIMAL_SHAPE = decimalShape();

export interface TempColumn {
  readonly name: string;
  readonly type: ColumnType;
  /** For 'decimal': the declared precision and scale (default DECIMAL(38,10)). */
  readonly precision?: number;
  readonly scale?: number;
}

/** Receives row batches for one temp table and appends them through data chunks. */
export class TableLoader {
  private readonly types: DuckDBType[];
  private readonly shapes: { precision: number; scale: number }[];
  private rowsLoaded = 0;
  constructor(
    private readonly appender: Awaited<ReturnType<DuckDBConnection['createAppender']>>,
    readonly columns: readonly TempColumn[],
  ) {
    this.types = columns.map((c) => duckType(c.type, c.precision, c.scale));
    this.shapes = columns.map((c) => decimalShape(c.precision, c.scale));
  }

  get rows(): number {
    return this.rowsLoaded;
  }

  /**
   * Append a batch; its columns are matched to the table's by name
   * (case-insensitive). A column the batch lacks takes its value from
   * `constants` (lower-cased name → value), else NULL.
   */
  append(batch: RowBatch, constants?: ReadonlyMap<string, Value>): void {
    const n = batch.rows.length;
    if (n === 0) return;
    const index = new Map<string, number>();
    batch.columns.forEach((c, i) => index.set(c.toLowerCase(), i));
    const sources = this.columns.map((c) => index.get(c.name.toLowerCase()));
    const CHUNK = 2048;
    for (let start = 0; start < n; start += CHUNK) {
      const end = Math.min(n, start + CHUNK);
      const chunk = DuckDBDataChunk.create(this.types, end - start);
      const cols: DuckDBValue[][] = [];
      for (let j = 0; j < this.columns.length; j++) {
        const src = sources[j];
        const type = this.columns[j].type;
        const col: DuckDBValue[] = new Array<DuckDBValue>(end - start);
        if (src === undefined) {
          const constant = constants?.get(this.columns[j].name.toLowerCase());
          col.fill(constant === undefined ? null : coerce(constant, type, this.shapes[j]));
        } else if (type === 'varchar' || type === 'double' || type === 'guid') {
          // The common cases: values already of the right JS type pass straight through.
          for (let r = start; r < end; r++) {
            const v = batch.rows[r][src];
            col[r - start] = (type === 'double' ? typeof v === 'number' : typeof v === 'string') ? (v as DuckDBValue) : coerce(v, type);
          }
        } else {
          const shape = this.shapes[j];
          for (let r = start; r < end; r++) col[r - start] = coerce(batch.rows[r][src], type, shape);
        }
        cols.push(col);
      }
      chunk.setColumns(cols);
      this.appender.appendDataChunk(chunk);
    }
    this.rowsLoaded += n;
  }

  close(): void {
    this.appender.flushSync();
    this.appender.closeSync();
  }
}

/**
 * Instance settings. SLUICE_DUCKDB_MEMORY_LIMIT (e.g. `64MB`) caps each
 * session's buffer pool — `sluice serve` sets it, holding many sessions at
 * once — and gives it a private temp directory so sorts, joins and in-memory
 * tables beyond the cap spill to disk instead of failing (and never into the
 * working directory, DuckDB's default). Unset: DuckDB's defaults.
 */
function duckConfig(): Record<string, string> {
  const limit = process.env.SLUICE_DUCKDB_MEMORY_LIMIT;
  if (!limit) return {};
  return { memory_limit: limit, temp_directory: join(tmpdir(), `sluice-duckdb-${process.pid}`) };
}

export class LocalDb implements LocalDatabase {
  private tempCounter = 0;
  private constructor(
    private readonly instance: DuckDBInstance,
    readonly connection: DuckDBConnection,
  ) {}

  static async open(): Promise<LocalDb> {
    const instance = await DuckDBInstance.create(':memory:', duckConfig());
    const connection = await instance.connect();
    return new LocalDb(instance, connection);
  }

  quote(name: string): string {
    return quoteIdent(name);
  }

  async run(sql: string): Promise<void> {
    try {
      await this.connection.run(sql);
    } catch (e) {
      throw duckError(e, sql);
    }
  }

  /** Run a query and return all rows (for small internal results: use lists, metadata). */
  async all(sql: string): Promise<{ columns: string[]; types: ColumnType[]; rows: Value[][] }> {
    try {
      const reader = await this.connection.runAndReadAll(sql);
      const columns = reader.columnNames();
      const types = reader.columnTypes().map(columnTypeOf);
      const rows = reader.convertRows(toValue) as Value[][];
      return { columns, types, rows };
    } catch (e) {
      throw duckError(e, sql);
    }
  }

  /** Start a streaming query; batches are converted chunk by chunk. */
  async stream(sql: string): Promise<{ columns: { name: string; type: ColumnType }[]; batches: AsyncIterable<RowBatch> }> {
    let result: DuckDBResult;
    try {
      result = await this.connection.stream(sql);
    } catch (e) {
      throw duckError(e, sql);
    }
    const names = result.deduplicatedColumnNames();
    const columns = names.map((name, i) => ({ name, type: columnTypeOf(result.columnType(i)) }));
    async function* batches(): AsyncIterable<RowBatch> {
      for (;;) {
        let chunk: DuckDBDataChunk | null;
        try {
          chunk = await result.fetchChunk();
        } catch (e) {
          throw duckError(e, sql);
        }
        if (!chunk || chunk.rowCount === 0) return;
        yield { columns: names, rows: chunk.convertRows(toValue) as Value[][] };
      }
    }
    return { columns, batches: batches() };
  }

  newTempName(prefix = 'scan'): string {
    this.tempCounter += 1;
    return `__sluice_${prefix}_${this.tempCounter}`;
  }

  /** Create a temp table with the given columns and a loader appending into it. */
  async createLoader(table: string, columns: readonly TempColumn[]): Promise<TableLoader> {
    const cols = columns.length > 0 ? columns : [{ name: '__dummy', type: 'integer' as ColumnType }];
    await this.run(`CREATE OR REPLACE TEMP TABLE ${quoteIdent(table)} (${cols.map((c) => `${quoteIdent(c.name)} ${duckTypeName(c.type, c.precision, c.scale)}`).join(', ')})`);
    const appender = await this.connection.createAppender(table, 'main', 'temp');
    return new TableLoader(appender, cols);
  }

  interrupt(): void {
    this.connection.interrupt();
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}

/**
 * A DuckDB failure as a SluiceError. The generated SQL never reaches the user (it names temp
 * tables they never wrote); the session rewords these in the user's terms (duck-errors.ts).
 * Set SLUICE_DEBUG_SQL=1 to see the SQL in the hint while developing.
 */
export function duckError(e: unknown, sql: string): SluiceError {
  if (e instanceof SluiceError) return e;
  const message = e instanceof Error ? e.message : String(e);
  const debug = process.env.SLUICE_DEBUG_SQL === '1' ? { hint: `Generated SQL: ${sql.length > 400 ? sql.slice(0, 400) + '…' : sql}` } : {};
  return new SluiceError('ENG500', `The local query engine failed: ${message.split('\n')[0]}`, { ...debug, cause: e });
}

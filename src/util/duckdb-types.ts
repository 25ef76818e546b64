/**
 * How a Sluice column type is stored in DuckDB, in one place: the engine's
 * temp tables and the in-memory storage provider (whose tables live in the
 * engine's DuckDB) must agree, or a value would change on its way through.
 */
import type { ColumnType } from '../provider/types.js';

/**
 * Decimals are stored as DuckDB DECIMAL so sums and comparisons are exact.
 * A 'decimal' column that states no precision (Exact's Edm.Decimal amounts,
 * most platforms) becomes DECIMAL(38,10): 28 digits before the point, 10
 * after — room for amounts, quantities and exchange rates alike.
 */
export const DEFAULT_DECIMAL = { precision: 38, scale: 10 } as const;

/** The precision and scale a decimal column is stored with (clamped to what DuckDB allows). */
export function decimalShape(precision?: number, scale?: number): { precision: number; scale: number } {
  if (precision === undefined) return { ...DEFAULT_DECIMAL };
  const p = Math.max(1, Math.min(38, Math.trunc(precision)));
  const s = Math.max(0, Math.min(p, Math.trunc(scale ?? 0)));
  return { precision: p, scale: s };
}

export function duckTypeName(type: ColumnType, precision?: number, scale?: number): string {
  switch (type) {
    case 'boolean':
      return 'BOOLEAN';
    case 'integer':
      return 'INTEGER';
    case 'bigint':
      return 'BIGINT';
    case 'decimal': {
      const d = decimalShape(precision, scale);
      return `DECIMAL(${d.precision}, ${d.scale})`;
    }
    case 'double':
      return 'DOUBLE';
    case 'date':
      return 'DATE';
    case 'timestamp':
      return 'TIMESTAMP';
    case 'blob':
      return 'BLOB';
    case 'varchar':
    case 'guid':
      return 'VARCHAR';
  }
}

/**
 * Catalog entries → TableInfo. Every endpoint of the generated catalog is a
 * table in catalog `ExactOnlineREST` under its schema (so
 * `exactonlinerest..accounts`, `crm.accounts` and `accounts` all resolve),
 * typed from the EDM types, with its key, scope, the `Division` partition
 * column (added where the endpoint lacks one), the operators Exact filters
 * server-side, and the operations its HTTP methods allow. Also the
 * connector's own `RateLimits` table.
 */
import type { ExactColumn, ExactEndpoint } from '../../catalogs/exactonline.js';
import type { ColumnInfo, FilterOperator, TableInfo } from '../../provider/types.js';

export const CATALOG = 'ExactOnlineREST';
export const PARTITION_COLUMN = 'Division';
export const RATE_LIMITS_TABLE = 'RateLimits';

/**
 * Columns whose values Exact pads (Accounts.Code is 18 characters,
 * right-aligned; country codes carry a trailing space). They come back
 * trimmed and are filtered through trim().
 */
export function isTrimmed(col: Pick<ExactColumn, 'name' | 'edmType'>): boolean {
  return col.edmType === 'Edm.String' && (/Code$/.test(col.name) || /Country$/.test(col.name));
}

const RANGE: readonly FilterOperator[] = ['=', '<>', '<', '<=', '>', '>=', 'in', 'isnull'];

function operators(col: ExactColumn): readonly FilterOperator[] {
  if (!col.filterable || col.navigation) return [];
  if (isTrimmed(col)) return ['=', '<>', 'in', 'isnull'];
  if (col.edmType === 'Edm.String') return ['=', '<>', 'in', 'isnull', 'like'];
  return RANGE;
}

/** Collections posted nested in their parent (SalesInvoices.SalesInvoiceLines): a JSON-array column. */
export function isNestedWriteColumn(col: ExactColumn): boolean {
  return col.navigation === true && col.edmType.startsWith('Collection(') && col.mandatory === true;
}

/** The columns a table shows: plain properties, plus nested collections that inserts need. */
export function visibleColumns(e: ExactEndpoint): readonly ExactColumn[] {
  return e.columns.filter((c) => !c.navigation || isNestedWriteColumn(c));
}

export function hasPartitionColumn(e: ExactEndpoint): boolean {
  return e.scope !== 'system';
}

/**
 * Subscription-level endpoints without a division in their URL
 * (`/api/v1/system/Users`): every division would get the same answer (the
 * subscription of the user's current division), so they are read once per
 * connection, not once per division or subscription.
 */
export function readOnce(e: ExactEndpoint): boolean {
  return !e.needsDivision && e.scope === 'subscription';
}

/** The scope the engine fans out by: division-less subscription tables are read once, like system tables. */
export function tableScope(e: ExactEndpoint): TableInfo['scope'] {
  return readOnce(e) ? 'system' : e.scope;
}

export function tableInfo(e: ExactEndpoint): TableInfo {
  const cols: ColumnInfo[] = visibleColumns(e).map((c) => ({
    name: c.name,
    type: c.type,
    nullable: !e.key.includes(c.name),
    filterOperators: operators(c),
    mandatory: c.mandatory || undefined,
    readOnly: c.readOnly || undefined,
    description: c.navigation ? `${c.edmType} as a JSON array (insert only; read it from its own table)` : undefined,
  }));
  if (hasPartitionColumn(e) && !cols.some((c) => c.name.toLowerCase() === 'division')) {
    cols.push({ name: PARTITION_COLUMN, type: 'integer', nullable: false, readOnly: true, description: 'The division (administratie) the row belongs to.' });
  }
  const canWrite = e.methodsKnown;
  return {
    catalog: CATALOG,
    schema: e.schema,
    name: e.table,
    columns: cols,
    key: e.key,
    scope: tableScope(e),
    partitionColumn: hasPartitionColumn(e) ? (cols.find((c) => c.name.toLowerCase() === 'division')?.name ?? PARTITION_COLUMN) : undefined,
    writable: {
      insert: canWrite && e.methods.includes('POST'),
      update: canWrite && e.methods.includes('PUT') && e.key.length > 0,
      delete: canWrite && e.methods.includes('DELETE') && e.key.length > 0,
    },
    description: `${e.kind === 'regular' ? '' : `${e.kind} `}endpoint ${e.url}${
      readOnce(e)
        ? ' (subscription-level, no division in the URL: read once per connection, for the subscription of the current division, whose code fills Division)'
        : e.scope === 'subscription'
          ? ' (subscription-level: one set per Exact Online subscription)'
          : e.scope === 'system'
            ? ' (system-wide)'
            : ''
    }`,
  };
}

export function rateLimitsTable(): TableInfo {
  const col = (name: string, type: ColumnInfo['type'], description: string): ColumnInfo => ({ name, type, nullable: true, readOnly: true, description });
  return {
    catalog: CATALOG,
    schema: 'System',
    name: RATE_LIMITS_TABLE,
    scope: 'system',
    key: ['Division'],
    writable: { insert: false, update: false, delete: false },
    description: 'Last seen Exact Online rate limits per division of this app (no remote calls).',
    columns: [
      col('Division', 'integer', 'Division the budget belongs to (0: calls without a division).'),
      col('MinutelyLimit', 'integer', 'X-RateLimit-Minutely-Limit'),
      col('MinutelyRemaining', 'integer', 'X-RateLimit-Minutely-Remaining'),
      col('MinutelyReset', 'timestamp', 'X-RateLimit-Minutely-Reset'),
      col('DailyLimit', 'integer', 'X-RateLimit-Limit'),
      col('DailyRemaining', 'integer', 'X-RateLimit-Remaining'),
      col('DailyReset', 'timestamp', 'X-RateLimit-Reset'),
      col('LastSeen', 'timestamp', 'When the headers were last seen.'),
      col('Calls', 'integer', 'Calls made by this process.'),
      col('Throttled', 'integer', '429 answers received.'),
      col('ErrorsThisHour', 'integer', '400/401/403/404 answers in the last hour (Exact blocks after 10 per endpoint).'),
    ],
  };
}

/**
 * The pushdown negotiation for Exact Online tables (`Container.plan`): pure,
 * no remote calls. Chooses the endpoint (the table's own, its bulk twin or
 * its sync twin — whichever answers with the fewest calls and accepts the
 * filters, including mandatory filtering), the `$select`, the `$filter` with
 * an exact/inexact/unsupported answer per conjunct, `$top`, `$orderby`, and
 * the key URL `(guid'…')` for an ID lookup. Division predicates are decided
 * locally against the partition (every row of a division has that Division).
 */
import type { ExactCatalog, ExactColumn, ExactEndpoint } from '../../catalogs/exactonline.js';
import type { Predicate, PushdownSupport, ScanPlan, ScanRequest, TableInfo, Value } from '../../provider/types.js';
import { SluiceError } from '../../util/errors.js';
import { encodeQuery, literal, translate, type FilterColumn } from './odata.js';
import { hasPartitionColumn, isTrimmed, PARTITION_COLUMN, RATE_LIMITS_TABLE, visibleColumns } from './tables.js';

export type ScanMode = 'key' | 'collection' | 'ratelimits';

export interface ExactPlanDetail {
  readonly mode: ScanMode;
  readonly endpoint?: ExactEndpoint;
  /** Path and query after `/api/v1/{division}/`, e.g. `bulk/CRM/Accounts?$select=…`. */
  readonly pathAndQuery?: string;
  /** Output columns (TableInfo names) and the API property each comes from. */
  readonly output: readonly { readonly name: string; readonly source?: ExactColumn }[];
  /** Conjuncts on the partition column, decided per partition. */
  readonly divisionPredicates: readonly Predicate[];
  readonly pageSize: number;
}

export interface PlannerContext {
  readonly alias: string;
  readonly apiUrl: string;
  readonly catalog: ExactCatalog;
  /** Rows per division seen on earlier scans of an endpoint (for estimates). */
  readonly learnedRows: (endpointUrl: string) => number | undefined;
  /** Daily budget warnings for explain (no remote calls: last seen headers). */
  readonly budgetWarnings: (estimatedCalls: number) => readonly string[];
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function columnsOf(e: ExactEndpoint): Map<string, ExactColumn> {
  return new Map(e.columns.map((c) => [c.name.toLowerCase(), c]));
}

function predicateColumns(p: Predicate, out: Set<string>): Set<string> {
  if (p.kind === 'and' || p.kind === 'or') p.predicates.forEach((q) => predicateColumns(q, out));
  else out.add(p.column.toLowerCase());
  return out;
}

/** Whether a predicate holds for a row whose only known value is the division. */
export function divisionHolds(p: Predicate, division: number): boolean {
  const cmp = (v: Value): number | undefined => {
    const n = typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
    return Number.isNaN(n) ? undefined : division - n;
  };
  switch (p.kind) {
    case 'compare': {
      const d = cmp(p.value);
      if (d === undefined) return false;
      return { '=': d === 0, '<>': d !== 0, '<': d < 0, '<=': d <= 0, '>': d > 0, '>=': d >= 0 }[p.op];
    }
    case 'in': {
      const found = p.values.some((v) => cmp(v) === 0);
      return p.not ? !found && !p.values.includes(null) : found;
    }
    case 'isnull':
      return p.not;
    case 'like':
      return new RegExp(`^${p.pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/%/g, '.*').replace(/_/g, '.')}$`, 's').test(String(division)) !== p.not;
    case 'and':
      return p.predicates.every((q) => divisionHolds(q, division));
    case 'or':
      return p.predicates.some((q) => divisionHolds(q, division));
  }
}

interface Candidate {
  readonly endpoint: ExactEndpoint;
  readonly select: string[];
  readonly filters: string[];
  readonly support: PushdownSupport[];
  /** Mandatory filtering is satisfied by the query's own filters (or the endpoint has none). */
  readonly mandatoryMet: boolean;
  /** When not: a filter on a listed column that holds for every row, to add instead. */
  readonly alwaysTrue?: string;
  readonly pushedAny: boolean;
}

const EMPTY_GUID = "guid'00000000-0000-0000-0000-000000000000'";
const EPOCH = "datetime'1900-01-01T00:00:00'";

/**
 * A filter on one of the endpoint's mandatory-filter columns that every row
 * passes: the key (never null; a guid key is never the empty guid), else
 * `Modified`/`Date` from 1900 (Exact fills them on every row).
 */
export function alwaysTrueFilter(e: ExactEndpoint): string | undefined {
  const cols = columnsOf(e);
  const listed = e.mandatoryFilterColumns.map((m) => cols.get(m.toLowerCase())).filter((c): c is ExactColumn => c !== undefined && !c.navigation);
  const guidKey = listed.find((c) => e.key.length === 1 && e.key[0] === c.name && c.edmType === 'Edm.Guid');
  if (guidKey) return `${guidKey.name} ne ${EMPTY_GUID}`;
  const dated = listed.find((c) => (c.name === 'Modified' || c.name === 'Date') && c.edmType === 'Edm.DateTime');
  if (dated) return `${dated.name} ge ${EPOCH}`;
  const intKey = listed.find((c) => e.key.length === 1 && e.key[0] === c.name && (c.edmType === 'Edm.Int32' || c.edmType === 'Edm.Int64'));
  if (intKey) return `${intKey.name} ge ${intKey.edmType === 'Edm.Int64' ? '-9223372036854775808L' : '-2147483648'}`;
  return undefined;
}

function tryEndpoint(
  e: ExactEndpoint,
  needed: readonly string[],
  conjuncts: readonly Predicate[],
  isDivision: (p: Predicate) => boolean,
  navigation: ReadonlySet<string> = new Set(),
): Candidate | undefined {
  const cols = columnsOf(e);
  const select: string[] = [];
  for (const n of needed) {
    const c = cols.get(n.toLowerCase());
    if (!c) {
      // Division is added per partition; nested collections are never read (they stay empty).
      if ((n.toLowerCase() === 'division' && hasPartitionColumn(e)) || navigation.has(n.toLowerCase())) continue;
      return undefined;
    }
    if (c.navigation) continue;
    select.push(c.name);
  }
  const lookup = (name: string): FilterColumn | undefined => {
    const c = cols.get(name.toLowerCase());
    if (!c || c.navigation) return undefined;
    // Sync endpoints filter on Timestamp only.
    const filterable = e.kind === 'sync' ? c.name === 'Timestamp' : c.filterable;
    return { apiName: c.name, edmType: c.edmType, filterable, trimmed: isTrimmed(c) };
  };
  if (e.kind === 'sync') return syncCandidate(e, select, conjuncts, isDivision);
  const filters: string[] = [];
  const support: PushdownSupport[] = [];
  const mandatory = new Set(e.mandatoryFilterColumns.map((m) => m.toLowerCase()));
  let mandatoryMet = mandatory.size === 0;
  let pushedAny = false;
  for (const p of conjuncts) {
    if (isDivision(p)) {
      support.push('exact');
      continue;
    }
    const t = translate(p, lookup);
    support.push(t.support);
    if (t.filter) {
      filters.push(t.filter);
      pushedAny = true;
      if (!mandatoryMet && p.kind !== 'or' && [...predicateColumns(p, new Set())].some((c) => mandatory.has(c))) mandatoryMet = true;
    }
  }
  const alwaysTrue = mandatoryMet ? undefined : alwaysTrueFilter(e);
  return { endpoint: e, select, filters, support, mandatoryMet, pushedAny, ...(alwaysTrue ? { alwaysTrue } : {}) };
}

/**
 * A sync endpoint takes exactly one filter, `Timestamp gt nL` (anything else is a 400). Timestamps are
 * whole numbers, so `> n` and `>= n` push down exactly (as `gt n` and `gt n-1`) and `= n` narrows to
 * `gt n-1`; the highest such bound is sent, every other conjunct is applied by the engine.
 */
function syncCandidate(e: ExactEndpoint, select: string[], conjuncts: readonly Predicate[], isDivision: (p: Predicate) => boolean): Candidate {
  const support: PushdownSupport[] = conjuncts.map((p) => (isDivision(p) ? 'exact' : 'unsupported'));
  let best: { index: number; after: bigint; exact: boolean } | undefined;
  conjuncts.forEach((p, index) => {
    const bound = isDivision(p) ? undefined : timestampBound(p);
    if (bound && bound.after >= 0n && (!best || bound.after > best.after)) best = { index, ...bound };
  });
  if (best) support[best.index] = best.exact ? 'exact' : 'inexact';
  return { endpoint: e, select, filters: [`Timestamp gt ${best?.after ?? 0n}L`], support, mandatoryMet: true, pushedAny: best !== undefined };
}

function timestampBound(p: Predicate): { after: bigint; exact: boolean } | undefined {
  if (p.kind !== 'compare' || p.column.toLowerCase() !== 'timestamp') return undefined;
  const v = p.value;
  const n =
    typeof v === 'bigint' ? v : typeof v === 'number' && Number.isSafeInteger(v) ? BigInt(v) : typeof v === 'string' && /^-?\d{1,19}$/.test(v.trim()) ? BigInt(v.trim()) : undefined;
  if (n === undefined) return undefined;
  if (p.op === '>') return { after: n, exact: true };
  if (p.op === '>=') return { after: n - 1n, exact: true };
  if (p.op === '=') return { after: n - 1n, exact: false };
  return undefined;
}

function keyLookup(e: ExactEndpoint, conjuncts: readonly Predicate[]): { index: number; literal: string } | undefined {
  if (e.kind !== 'regular' && e.kind !== 'system' && e.kind !== 'beta') return undefined;
  if (e.key.length !== 1 || !e.methods.includes('GET')) return undefined;
  const keyCol = e.columns.find((c) => c.name === e.key[0]);
  if (!keyCol || keyCol.edmType !== 'Edm.Guid') return undefined;
  const index = conjuncts.findIndex(
    (p) => p.kind === 'compare' && p.op === '=' && p.column.toLowerCase() === keyCol.name.toLowerCase() && typeof p.value === 'string' && GUID.test(p.value),
  );
  if (index < 0) return undefined;
  const p = conjuncts[index] as { value: Value };
  return { index, literal: literal('Edm.Guid', p.value) as string };
}

function estimate(pageSize: number, rows: number | undefined): number {
  if (rows === undefined) return 1;
  return Math.max(1, Math.ceil(rows / pageSize));
}

export function planScan(ctx: PlannerContext, table: TableInfo, request: ScanRequest): ScanPlan {
  if (table.name === RATE_LIMITS_TABLE && table.schema === 'System') {
    return {
      table,
      request,
      conjuncts: request.conjuncts.map(() => 'unsupported'),
      limitApplied: false,
      orderApplied: false,
      estimatedCallsPerPartition: 0,
      explain: ['RateLimits: local governor state, no remote calls'],
      detail: {
        mode: 'ratelimits',
        output: (request.columns.length > 0 ? request.columns.map((n) => table.columns.find((c) => c.name.toLowerCase() === n.toLowerCase())?.name ?? n) : table.columns.map((c) => c.name)).map((name) => ({ name })),
        divisionPredicates: [],
        pageSize: 0,
      } satisfies ExactPlanDetail,
    };
  }
  const base = ctx.catalog.endpoints.find((e) => e.table === table.name);
  if (!base) throw new SluiceError('EOL070', `Table ${table.name} is not in the Exact Online catalog.`, { container: ctx.alias, table: table.name });
  const tableCols = new Map(table.columns.map((c) => [c.name.toLowerCase(), c.name]));
  const unknown = request.columns.filter((c) => !tableCols.has(c.toLowerCase()));
  if (unknown.length > 0) {
    throw new SluiceError('EOL071', `Table ${table.name} has no column ${unknown.join(', ')}.`, { container: ctx.alias, table: table.name });
  }
  const partitionCol = table.partitionColumn?.toLowerCase();
  const endpointHasDivision = base.columns.some((c) => c.name.toLowerCase() === 'division');
  const isDivision = (p: Predicate): boolean => {
    if (!partitionCol) return false;
    const cols = predicateColumns(p, new Set());
    return cols.size === 1 && cols.has(partitionCol);
  };
  const divisionPredicates = request.conjuncts.filter(isDivision);
  // Exact needs at least one property in $select: use the key for count(*)-style scans.
  const neededNames = request.columns.length > 0 ? request.columns.map((c) => tableCols.get(c.toLowerCase()) as string) : [base.key[0] ?? visibleColumns(base)[0].name];
  const needed = neededNames.filter((n) => !(n === PARTITION_COLUMN && !endpointHasDivision));
  const output = [...new Set([...neededNames, ...(table.partitionColumn ? [table.partitionColumn] : [])])].map((name) => ({
    name,
    source: base.columns.find((c) => c.name === name),
  }));
  const prefix = base.needsDivision ? `${ctx.apiUrl}/api/v1/{division}/` : `${ctx.apiUrl}/api/v1/`;

  // 1. ID = '<guid>': one call to the key URL.
  const key = keyLookup(base, request.conjuncts);
  if (key) {
    const cand = tryEndpoint(base, needed, [], isDivision);
    const select = cand?.select ?? needed;
    const pathAndQuery = `${base.url}(${key.literal})?${encodeQuery({ $select: select.join(',') })}`;
    return {
      table,
      request,
      conjuncts: request.conjuncts.map((p, i) => (i === key.index || isDivision(p) ? 'exact' : 'unsupported')),
      limitApplied: false,
      orderApplied: false,
      estimatedCallsPerPartition: 1,
      explain: [`${table.name}: key lookup GET ${prefix}${base.url}(${key.literal})`, `  $select=${select.join(',')}`, '  est. calls per division: 1'],
      detail: { mode: 'key', endpoint: base, pathAndQuery, output, divisionPredicates, pageSize: 1 } satisfies ExactPlanDetail,
    };
  }

  const byUrl = (url: string | undefined) => (url ? ctx.catalog.endpoints.find((e) => e.url === url) : undefined);
  const navigation = new Set(base.columns.filter((c) => c.navigation).map((c) => c.name.toLowerCase()));
  const twin = (url: string | undefined) => {
    const t = byUrl(url);
    return t ? tryEndpoint(t, needed, request.conjuncts, isDivision, navigation) : undefined;
  };
  const baseCand = tryEndpoint(base, needed, request.conjuncts, isDivision, navigation);
  const bulkCand = base.kind === 'regular' ? twin(base.bulkTwin) : undefined;
  const syncCand = base.kind === 'regular' || base.kind === 'bulk' ? twin(base.syncTwin) : undefined;
  const wantsOrderedTop = request.limit !== undefined && (request.orderBy?.length ?? 0) > 0;

  let chosen: Candidate | undefined;
  let why = '';
  // met: the query's own filters satisfy mandatory filtering; usable: or an always-true filter can.
  const met = (c: Candidate | undefined): c is Candidate => c !== undefined && c.mandatoryMet;
  const usable = (c: Candidate | undefined): c is Candidate => c !== undefined && (c.mandatoryMet || c.alwaysTrue !== undefined);
  const narrows = (c: Candidate) => c.pushedAny || request.limit !== undefined;
  if (wantsOrderedTop && usable(baseCand) && baseCand.support.every((s) => s === 'exact')) {
    chosen = baseCand;
    why = 'ordered $top needs the regular endpoint';
  } else if (met(bulkCand)) {
    chosen = bulkCand;
    why = 'bulk endpoint: 1,000 rows a call';
  } else if (met(baseCand) && (narrows(baseCand) || !syncCand)) {
    chosen = baseCand;
    why = baseCand.pushedAny ? 'filters apply on the regular endpoint' : 'regular endpoint';
  } else if (usable(bulkCand) && narrows(bulkCand)) {
    // Filters that are not on the mandatory list (or a LIMIT) still narrow the read: cheaper than a full sync read.
    chosen = bulkCand;
    why = 'bulk endpoint: 1,000 rows a call';
  } else if (usable(baseCand) && narrows(baseCand)) {
    chosen = baseCand;
    why = baseCand.pushedAny ? 'filters apply on the regular endpoint' : 'regular endpoint';
  } else if (syncCand) {
    chosen = syncCand;
    why = met(baseCand) ? 'sync endpoint: a full read in 1,000-row pages' : `mandatory filtering on ${base.url}: full read through the sync endpoint`;
  } else if (usable(bulkCand)) {
    chosen = bulkCand;
    why = 'bulk endpoint: 1,000 rows a call (the sync endpoint lacks a needed column)';
  } else if (usable(baseCand)) {
    chosen = baseCand;
    why = 'regular endpoint';
  }
  if (!chosen) {
    const cols = base.mandatoryFilterColumns;
    throw new SluiceError('EOL072', `${table.name} has mandatory filtering: filter on one of ${cols.join(', ')}.`, {
      container: ctx.alias,
      table: table.name,
      hint: `Add e.g. \`where ${cols[0]} = …\` to the query, or read ${base.syncTwin ? 'the Incremental table' : 'a bulk table'} instead.`,
    });
  }
  const added = chosen.mandatoryMet ? undefined : chosen.alwaysTrue;
  if (added) {
    chosen = { ...chosen, filters: [...chosen.filters, added] };
    why += `; mandatory filtering: added ${added}, true for every row`;
  }
  const e = chosen.endpoint;
  const allExact = chosen.support.every((s) => s === 'exact');
  const topAllowed = e.kind !== 'sync' && request.limit !== undefined && allExact && (!request.orderBy?.length || e === base);
  const orderApplied = topAllowed && e === base && (request.orderBy?.length ?? 0) > 0 && request.orderBy!.every((o) => columnsOf(e).has(o.column.toLowerCase()));
  const limitApplied = topAllowed && (!request.orderBy?.length || orderApplied);
  const orderby = orderApplied ? request.orderBy!.map((o) => `${columnsOf(e).get(o.column.toLowerCase())!.name}${o.descending ? ' desc' : ''}`).join(',') : undefined;
  const filter = chosen.filters.length > 0 ? chosen.filters.join(' and ') : undefined;
  const top = limitApplied ? String(request.limit) : undefined;
  const pathAndQuery = `${e.url}?${encodeQuery({ $select: chosen.select.join(','), $filter: filter, $orderby: orderby, $top: top })}`;
  const learned = ctx.learnedRows(e.url) ?? ctx.learnedRows(base.url);
  const rowsExpected = limitApplied ? Math.min(request.limit!, learned ?? request.limit!) : chosen.pushedAny ? undefined : learned;
  const est = estimate(e.pageSize, rowsExpected);
  const explain = [
    `${table.name}: GET ${prefix}${e.url} (${why})`,
    `  $select=${chosen.select.join(',')}`,
    ...(filter ? [`  $filter=${filter}`] : []),
    ...(orderby ? [`  $orderby=${orderby}`] : []),
    ...(top ? [`  $top=${top}`] : []),
    `  page size ${e.pageSize}; est. calls per division: ${est}${rowsExpected === undefined ? ' (row count not known yet: at least 1)' : ` (~${rowsExpected} rows)`}`,
    ...request.conjuncts.map((p, i) => `  conjunct ${i + 1}: ${chosen!.support[i]}${isDivision(p) ? ' (division, decided per partition)' : ''}`),
    ...ctx.budgetWarnings(est),
  ];
  return {
    table,
    request,
    conjuncts: chosen.support,
    limitApplied,
    orderApplied,
    estimatedCallsPerPartition: est,
    explain,
    detail: { mode: 'collection', endpoint: e, pathAndQuery, output, divisionPredicates, pageSize: e.pageSize } satisfies ExactPlanDetail,
  };
}

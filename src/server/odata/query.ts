/**
 * OData query options → the engine's AST. A request for an entity set becomes
 * one `Query` per page: `select <columns> from catalog.schema.table@alias
 * where <$filter> [and <position>] order by … limit page+1 offset …`.
 * The extra row tells whether a next page exists without counting.
 *
 * Paging is server-driven and resumable through `$skiptoken`:
 * - keyset: with no `$orderby` on a table with a key, pages are ordered by the
 *   key and the token holds the last key seen; the next page asks for rows
 *   after it (a predicate, so it stays cheap and stable when rows are added);
 * - offset: with `$orderby` or without a key, pages are ordered by the
 *   requested order plus a tiebreak (key, or all columns) and the token holds
 *   the absolute offset.
 * The token also carries the rows still owed to a `$top`, and a hash of the
 * query it belongs to so it cannot be replayed against another one.
 */
import { createHash } from 'node:crypto';
import type { Expr, Literal, OrderItem, Query, SelectItem, Statement } from '../../sql/ast.js';
import type { ColumnType, Value } from '../../provider/types.js';
import { SluiceError } from '../../util/errors.js';
import { isoDate } from './edm.js';
import type { OutputSlot } from './edm.js';
import { parseFilter } from './filter.js';
import { findProperty } from './model.js';
import type { EntityProperty, EntitySet } from './model.js';

export interface FeedOptions {
  readonly select: readonly EntityProperty[];
  readonly filter?: Expr;
  readonly orderBy: readonly { readonly property: EntityProperty; readonly descending: boolean }[];
  readonly top?: number;
  readonly skip: number;
  readonly count: boolean;
  readonly token?: PageToken;
  /** Whether `$select` was given (for `@odata.context`). */
  readonly selectGiven: boolean;
  /** The option texts the next link repeats. */
  readonly carried: readonly [string, string][];
  readonly queryHash: string;
}

export interface PageToken {
  readonly mode: 'keyset' | 'offset';
  /** keyset: the last key's values as text; offset: unused. */
  readonly key?: readonly string[];
  readonly offset?: number;
  /** Rows still owed to `$top`. */
  readonly remaining?: number;
}

export function badRequest(code: string, message: string, hint?: string): SluiceError {
  return new SluiceError(code, message, { status: 400, ...(hint ? { hint } : {}) });
}

const SUPPORTED = new Set(['$select', '$filter', '$orderby', '$top', '$skip', '$count', '$skiptoken', '$format']);

function nonNegativeInt(name: string, text: string): number {
  if (!/^\d{1,16}$/.test(text) || Number(text) > Number.MAX_SAFE_INTEGER) {
    throw badRequest('ODATA020', `${name} must be a whole number from 0 up, not "${text.slice(0, 40)}".`);
  }
  return Number(text);
}

function column(name: string): Expr {
  return { kind: 'ColumnRef', qualifier: [], name };
}

function lit(type: Literal['type'], value: string): Literal {
  return { kind: 'Literal', type, value };
}

function and(a: Expr | undefined, b: Expr | undefined): Expr | undefined {
  if (!a) return b;
  if (!b) return a;
  return { kind: 'Binary', op: 'and', left: a, right: b };
}

/** Parse the query options of an entity set request. Throws 400-class SluiceErrors. */
export function parseFeedOptions(set: EntitySet, params: URLSearchParams): FeedOptions {
  for (const name of params.keys()) {
    if (name.startsWith('$') && !SUPPORTED.has(name)) {
      throw badRequest('ODATA021', `The query option ${name.slice(0, 40)} is not supported.`, 'Supported: $select, $filter, $orderby, $top, $skip, $count, $skiptoken.');
    }
  }
  for (const name of SUPPORTED) {
    if (params.getAll(name).length > 1) throw badRequest('ODATA022', `The query option ${name} is given more than once.`);
  }
  const format = params.get('$format');
  if (format !== null && !/^(json|application\/json)(;.*)?$/i.test(format)) {
    throw badRequest('ODATA023', `$format=${format.slice(0, 40)} is not supported; only json.`);
  }

  const carried: [string, string][] = [];
  let select: EntityProperty[] = [...set.properties];
  const selectText = params.get('$select');
  if (selectText !== null && selectText.trim() !== '*' && selectText.trim() !== '') {
    select = [];
    for (const raw of selectText.split(',')) {
      const name = raw.trim();
      const prop = findProperty(set, name);
      if (!prop) throw badRequest('ODATA024', `$select names an unknown property "${name.slice(0, 80)}" of ${set.name}.`);
      if (!select.includes(prop)) select.push(prop);
    }
    carried.push(['$select', selectText]);
  }

  let filter: Expr | undefined;
  const filterText = params.get('$filter');
  if (filterText !== null && filterText.trim() !== '') {
    filter = parseFilter(filterText, (name) => {
      const prop = findProperty(set, name);
      if (prop && prop.column === undefined) {
        throw badRequest('ODATA025', `${prop.name} is a generated row number and cannot be filtered on.`);
      }
      return prop?.column;
    });
    carried.push(['$filter', filterText]);
  }

  const orderBy: { property: EntityProperty; descending: boolean }[] = [];
  const orderText = params.get('$orderby');
  if (orderText !== null && orderText.trim() !== '') {
    for (const raw of orderText.split(',')) {
      const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)(?:\s+(asc|desc))?\s*$/i.exec(raw);
      if (!m) throw badRequest('ODATA026', `$orderby item "${raw.slice(0, 80)}" is not a property name with optional asc or desc.`);
      const prop = findProperty(set, m[1]);
      if (!prop) throw badRequest('ODATA024', `$orderby names an unknown property "${m[1]}" of ${set.name}.`);
      if (prop.column === undefined) throw badRequest('ODATA025', `${prop.name} is a generated row number and cannot be ordered on.`);
      orderBy.push({ property: prop, descending: (m[2] ?? '').toLowerCase() === 'desc' });
    }
    carried.push(['$orderby', orderText]);
  }

  const topText = params.get('$top');
  const skipText = params.get('$skip');
  const top = topText === null ? undefined : nonNegativeInt('$top', topText);
  const skip = skipText === null ? 0 : nonNegativeInt('$skip', skipText);

  const countText = params.get('$count');
  if (countText !== null && countText !== 'true' && countText !== 'false') throw badRequest('ODATA027', '$count must be true or false.');
  const count = countText === 'true';
  if (count) carried.push(['$count', 'true']);

  const queryHash = createHash('sha256')
    .update([set.name, selectText ?? '', filterText ?? '', orderText ?? ''].join('\u0000'))
    .digest('base64url')
    .slice(0, 12);

  const tokenText = params.get('$skiptoken');
  const token = tokenText === null ? undefined : decodeToken(tokenText, set, queryHash);

  return { select, filter, orderBy, top, skip, count, token, selectGiven: selectText !== null && select.length !== set.properties.length, carried, queryHash };
}

// ---------------------------------------------------------------------------
// Tokens

export function encodeToken(token: PageToken, queryHash: string): string {
  return Buffer.from(JSON.stringify({ h: queryHash, m: token.mode === 'keyset' ? 'k' : 'o', k: token.key, o: token.offset, r: token.remaining })).toString('base64url');
}

function invalidToken(): SluiceError {
  return badRequest('ODATA030', 'The $skiptoken is not valid for this request.', 'Follow @odata.nextLink exactly as the server returned it.');
}

function decodeToken(text: string, set: EntitySet, queryHash: string): PageToken {
  if (text.length > 4096) throw invalidToken();
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw invalidToken();
  }
  if (typeof raw !== 'object' || raw === null) throw invalidToken();
  const o = raw as Record<string, unknown>;
  if (o.h !== queryHash) throw invalidToken();
  const remaining = o.r;
  if (remaining !== undefined && !(typeof remaining === 'number' && Number.isSafeInteger(remaining) && remaining >= 0)) throw invalidToken();
  if (o.m === 'o') {
    if (!(typeof o.o === 'number' && Number.isSafeInteger(o.o) && o.o >= 0)) throw invalidToken();
    return { mode: 'offset', offset: o.o, remaining: remaining as number | undefined };
  }
  if (o.m === 'k') {
    const key = o.k;
    if (!Array.isArray(key) || key.length !== set.key.length || !key.every((v) => typeof v === 'string' && v.length < 1024)) throw invalidToken();
    // Validate each value against its property type now, so a forged token is a 400, not an engine error.
    set.key.forEach((k, i) => {
      const prop = findProperty(set, k);
      if (!prop || !literalFor(prop.type, key[i] as string)) throw invalidToken();
    });
    const offset = typeof o.o === 'number' && Number.isSafeInteger(o.o) && o.o >= 0 ? o.o : 0;
    return { mode: 'keyset', key: key as string[], offset, remaining: remaining as number | undefined };
  }
  throw invalidToken();
}

/** A key value as token text (typed back by the model when read). */
export function keyText(value: Value, type: ColumnType): string {
  if (value instanceof Date) return type === 'date' ? isoDate(value) : value.toISOString();
  return String(value);
}

function literalFor(type: ColumnType, text: string): Literal | undefined {
  switch (type) {
    case 'integer':
    case 'bigint':
    case 'double':
    case 'decimal':
      return /^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(text) ? lit('number', text) : undefined;
    case 'boolean':
      return text === 'true' || text === 'false' ? lit('boolean', text) : undefined;
    case 'date':
      return /^\d{4}-\d{2}-\d{2}$/.test(text) ? lit('date', text) : undefined;
    case 'timestamp': {
      const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(\.\d{3})?Z$/.exec(text);
      return m ? lit('timestamp', `${m[1]} ${m[2]}${m[3] ?? ''}`) : undefined;
    }
    case 'varchar':
    case 'guid':
      return lit('string', text);
    case 'blob':
      return undefined;
  }
}

// ---------------------------------------------------------------------------
// Statements

export interface PagePlan {
  readonly statement: Statement;
  /** The output properties and where their values are in the engine's rows. */
  readonly slots: readonly OutputSlot[];
  /** Positions of the key columns in the engine's rows (keyset paging). */
  readonly keyIndexes: readonly number[];
  readonly mode: 'keyset' | 'offset';
  /** Rows to send on this page (the query asks one more to detect a next page). */
  readonly pageRows: number;
  /** Absolute position of the first row in the full ordered result (synthetic row id, offset tokens). */
  readonly position: number;
  /** Rows owed to `$top` before this page, undefined when unlimited. */
  readonly remaining?: number;
}

function fromItem(set: EntitySet): Query['body'] {
  return {
    kind: 'Select',
    distinct: false,
    items: [],
    from: [{ kind: 'TableRef', name: { kind: 'TableName', catalog: set.table.catalog || undefined, schema: set.table.schema || undefined, name: set.table.name, container: set.containerAlias } }],
    groupBy: [],
  };
}

/** `select count(*) from … where $filter`. */
export function countStatement(set: EntitySet, options: FeedOptions): Statement {
  const body = fromItem(set);
  if (body.kind !== 'Select') throw new Error('unreachable');
  return {
    kind: 'QueryStatement',
    query: {
      kind: 'Query',
      with: [],
      body: { ...body, items: [{ expr: { kind: 'FunctionCall', name: 'count', args: [], distinct: false, star: true } }], ...(options.filter ? { where: options.filter } : {}) },
      orderBy: [],
    },
  };
}

/**
 * The statement for the page the options (and token) ask for. `continuous`
 * leaves out the page limit (only `$top` bounds it) so the server can keep the
 * stream open and serve the following pages from it.
 */
export function pageStatement(set: EntitySet, options: FeedOptions, pageSize: number, continuous = false): PagePlan {
  const keyProps = set.syntheticKey ? [] : set.key.map((k) => findProperty(set, k)).filter((p): p is EntityProperty => p !== undefined);
  const mode: 'keyset' | 'offset' = options.token ? options.token.mode : options.orderBy.length === 0 && keyProps.length > 0 ? 'keyset' : 'offset';

  const items: SelectItem[] = [];
  const indexOf = new Map<EntityProperty, number>();
  const slots: OutputSlot[] = [];
  for (const p of options.select) {
    if (p.column === undefined) {
      slots.push({ name: p.name, type: p.type, index: -1 });
      continue;
    }
    indexOf.set(p, items.length);
    slots.push({ name: p.name, type: p.type, index: items.length });
    items.push({ expr: column(p.column), alias: p.name });
  }
  const keyIndexes: number[] = [];
  if (mode === 'keyset') {
    for (const p of keyProps) {
      let at = indexOf.get(p);
      if (at === undefined) {
        at = items.length;
        indexOf.set(p, at);
        items.push({ expr: column(p.column as string), alias: p.name });
      }
      keyIndexes.push(at);
    }
  }
  if (items.length === 0) {
    // Only the synthetic id was selected: the engine still needs a column to count rows by.
    items.push({ expr: lit('number', '1'), alias: 'one' });
  }

  const orderBy: OrderItem[] = options.orderBy.map((o) => ({ expr: column(o.property.column as string), descending: o.descending }));
  const tiebreak = keyProps.length > 0 ? keyProps : set.properties.filter((p) => p.column !== undefined && p.type !== 'blob');
  for (const p of tiebreak) {
    if (!options.orderBy.some((o) => o.property === p)) orderBy.push({ expr: column(p.column as string), descending: false });
  }

  let where = options.filter;
  let offset = options.skip;
  let position = options.skip;
  if (options.token?.mode === 'keyset' && options.token.key) {
    where = and(where, afterKey(keyProps, options.token.key));
    offset = 0;
    position = options.token.offset ?? 0;
  } else if (options.token?.mode === 'offset') {
    offset = options.token.offset ?? 0;
    position = offset;
  }
  const remaining = options.token ? options.token.remaining : options.top;
  const pageRows = Math.min(pageSize, remaining ?? Number.MAX_SAFE_INTEGER);

  const body = fromItem(set);
  if (body.kind !== 'Select') throw new Error('unreachable');
  const query: Query = {
    kind: 'Query',
    with: [],
    body: { ...body, items, ...(where ? { where } : {}) },
    orderBy,
    ...(continuous ? (remaining !== undefined ? { limit: lit('number', String(remaining + 1)) } : {}) : { limit: lit('number', String(pageRows + 1)) }),
    ...(offset > 0 ? { offset: lit('number', String(offset)) } : {}),
  };
  return { statement: { kind: 'QueryStatement', query }, slots, keyIndexes, mode, pageRows, position, remaining };
}

/** `(k1 > v1) or (k1 = v1 and k2 > v2) or …`: rows strictly after the given key in key order. */
function afterKey(keyProps: readonly EntityProperty[], values: readonly string[]): Expr {
  let result: Expr | undefined;
  for (let i = 0; i < keyProps.length; i++) {
    let term: Expr | undefined;
    for (let j = 0; j < i; j++) {
      term = and(term, { kind: 'Binary', op: '=', left: column(keyProps[j].column as string), right: literalFor(keyProps[j].type, values[j]) as Literal });
    }
    term = and(term, { kind: 'Binary', op: '>', left: column(keyProps[i].column as string), right: literalFor(keyProps[i].type, values[i]) as Literal });
    result = result ? { kind: 'Binary', op: 'or', left: result, right: term as Expr } : term;
  }
  return result as Expr;
}

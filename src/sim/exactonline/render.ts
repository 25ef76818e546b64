/**
 * Renders rows as Exact Online does: JSON verbose OData v2 (`{"d":…}`,
 * `__metadata`, deferred navigation properties, `/Date(ms)/`) or, when the
 * client does not ask for JSON, an Atom feed with the same data. Column
 * plans are built once per endpoint so a page is string concatenation.
 */
import type { ExactColumn, ExactEndpoint } from '../../catalogs/exactonline.js';
import { BoundedCache } from '../common/cache.js';
import type { Row, SimValue } from './world.js';

export interface ColPlan {
  readonly name: string;
  readonly edm: string;
  readonly nav: boolean;
  readonly date: boolean;
}

export function isNavigation(c: ExactColumn): boolean {
  return c.navigation === true || c.edmType.startsWith('Collection(') || !c.edmType.startsWith('Edm.');
}

export function planColumns(cols: readonly ExactColumn[]): ColPlan[] {
  return cols.map((c) => ({ name: c.name, edm: c.edmType, nav: isNavigation(c), date: c.edmType === 'Edm.DateTime' }));
}

/** Exact names its model types in the singular (`Exact.Web.Api.Models.Account`). */
export function typeName(ep: ExactEndpoint): string {
  const last = ep.entity.split('/').pop() ?? ep.entity;
  const singular = last.endsWith('ies') ? `${last.slice(0, -3)}y` : last.endsWith('sses') ? last.slice(0, -2) : last.endsWith('s') && !last.endsWith('ss') ? last.slice(0, -1) : last;
  return `Exact.Web.Api.Models.${singular}`;
}

const keyEdmCache = new WeakMap<ExactEndpoint, (string | undefined)[]>();

export function keyLiteral(ep: ExactEndpoint, row: Row): string {
  let edms = keyEdmCache.get(ep);
  if (!edms) {
    edms = ep.key.map((k) => ep.columns.find((c) => c.name === k)?.edmType);
    keyEdmCache.set(ep, edms);
  }
  if (ep.key.length === 1 && edms[0] === 'Edm.Guid') {
    // The common case, kept cheap: one guid key.
    const v = row[ep.key[0]];
    return v === null || v === undefined ? 'null' : `guid'${String(v)}'`;
  }
  const types = edms;
  const parts = ep.key.map((k, i) => {
    const v = row[k];
    const col = { edmType: types[i] };
    if (v === null || v === undefined) return 'null';
    if (col?.edmType === 'Edm.Guid') return `guid'${String(v)}'`;
    if (typeof v === 'number') return col?.edmType === 'Edm.Int64' ? `${v}L` : String(v);
    return `'${String(v).replace(/'/g, "''")}'`;
  });
  if (ep.key.length === 1) return parts[0] ?? '';
  return ep.key.map((k, i) => `${k}=${parts[i]}`).join(',');
}

export interface RenderContext {
  /** `http://host/api/v1/{division}/` (or without division for current/Me). */
  readonly entityBase: string;
  readonly ep: ExactEndpoint;
  readonly cols: readonly ColPlan[];
  readonly typeName: string;
  /** Expanded navigation properties: name → rows. */
  readonly expand?: (name: string, row: Row) => Row[] | undefined;
  readonly expandCols?: (name: string) => { cols: readonly ColPlan[]; ep: ExactEndpoint; typeName: string } | undefined;
}

type JsonRow = Record<string, unknown>;

/**
 * A row as the object Exact would serialise. Dates become "/Date(ms)/"
 * strings; `escapeDates` then writes them as WCF does ("\/Date(ms)\/").
 * Building objects and calling JSON.stringify once per page is several
 * times faster than concatenating strings per cell.
 */
export function rowObject(ctx: RenderContext, row: Row): JsonRow {
  const uri = `${ctx.entityBase}${ctx.ep.url}(${keyLiteral(ctx.ep, row)})`;
  const o: JsonRow = { __metadata: { uri, type: ctx.typeName } };
  for (const c of ctx.cols) {
    if (c.nav) {
      const rows = ctx.expand?.(c.name, row);
      const sub = rows ? ctx.expandCols?.(c.name) : undefined;
      if (rows && sub) {
        const subCtx: RenderContext = { entityBase: ctx.entityBase, ep: sub.ep, cols: sub.cols, typeName: sub.typeName };
        o[c.name] = { results: rows.map((r) => rowObject(subCtx, r)) };
      } else {
        o[c.name] = { __deferred: { uri: `${uri}/${c.name}` } };
      }
      continue;
    }
    const v = row[c.name];
    if (v === undefined || v === null) o[c.name] = null;
    else if (c.date && typeof v === 'number') o[c.name] = `/Date(${v})/`;
    else o[c.name] = v;
  }
  return o;
}

/**
 * Write "/Date(ms)/" the way Exact's serializer does: "\/Date(ms)\/".
 * replaceAll with plain strings beats a capturing regex; an escaped slash
 * elsewhere in a string still decodes to the same text.
 */
export function escapeDates(json: string): string {
  return json.includes('"/Date(') ? json.replaceAll('"/Date(', '"\\/Date(').replaceAll(')/"', ')\\/"') : json;
}

/**
 * A column plan compiled for hand-written JSON: per column the `,"Name":`
 * prefix and how to write its value. Built once per plan (plans are shared
 * per endpoint and per $select), so a row is a loop of string appends with
 * no intermediate object, no JSON.stringify of the whole row and no
 * regex pass for dates.
 */
interface Compiled {
  /** Distinct per plan: part of the fragment cache key. */
  readonly id: number;
  /** The columns' part of a row: `,"Name":value…` (see `compileColumns`). */
  readonly columns: ColumnsRenderer;
}

type ColumnsRenderer = (row: Row, uriOpen: string, value: (v: SimValue | undefined) => string) => string;

/**
 * Compile a plan to a function that reads each column as `row["Name"]`.
 * A loop over names would make every read a megamorphic keyed load (the
 * profile's largest rendering cost); one function per plan reads each
 * property at a fixed place, which V8 caches per row shape. Names come from
 * the catalog and are embedded as JSON string literals, so any name is safe.
 */
function compileColumns(list: readonly ColPlan[]): ColumnsRenderer {
  const lines: string[] = ['let out = "", v;'];
  for (const p of list) {
    const prefix = `,${JSON.stringify(p.name)}:`;
    if (p.nav) {
      const tail = `${JSON.stringify(`/${p.name}`).slice(1, -1)}"}}`;
      lines.push(`out += ${JSON.stringify(`${prefix}{"__deferred":{"uri":`)} + uriOpen + ${JSON.stringify(tail)};`);
    } else if (p.date) {
      lines.push(`v = row[${JSON.stringify(p.name)}]; out += ${JSON.stringify(prefix)} + (typeof v === "number" ? ${JSON.stringify('"\\/Date(')} + v + ${JSON.stringify(')\\/"')} : value(v));`);
    } else {
      lines.push(`v = row[${JSON.stringify(p.name)}]; out += ${JSON.stringify(prefix)} + value(v);`);
    }
  }
  lines.push('return out;');
  // The body is generated from catalog names, each embedded as a JSON literal.
  return new Function('row', 'uriOpen', 'value', lines.join('\n')) as ColumnsRenderer;
}

const compiledPlans = new WeakMap<readonly ColPlan[], Compiled>();
let nextPlanId = 1;

function compile(cols: readonly ColPlan[]): Compiled {
  let c = compiledPlans.get(cols);
  if (c) return c;
  // A name selected twice appears once, in its first place, as an object's key would.
  const seen = new Set<string>();
  const list = cols.filter((p) => (seen.has(p.name) ? false : (seen.add(p.name), true)));
  c = { id: nextPlanId++, columns: compileColumns(list) };
  compiledPlans.set(cols, c);
  return c;
}

/**
 * A string as a JSON literal. Most values are plain text: scan for the
 * characters JSON must escape (quote, backslash, controls, lone surrogates)
 * and only hand those strings to JSON.stringify.
 */
export function jsonString(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    if (ch < 0x20 || ch === 0x22 || ch === 0x5c || (ch >= 0xd800 && ch <= 0xdfff)) return JSON.stringify(s);
  }
  return `"${s}"`;
}

function jsonValue(v: SimValue | undefined): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return jsonString(v);
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null';
  return v ? 'true' : 'false';
}

/** Per request context: the escaped start of every row's uri and the `type` part, built once per page. */
interface Head {
  readonly uriOpen: string;
  readonly typePart: string;
  readonly guidKey: boolean;
}
const heads = new WeakMap<RenderContext, Head>();

function headOf(ctx: RenderContext): Head {
  let h = heads.get(ctx);
  if (h === undefined) {
    const edms = ctx.ep.key.map((k) => ctx.ep.columns.find((c) => c.name === k)?.edmType);
    h = {
      uriOpen: jsonString(`${ctx.entityBase}${ctx.ep.url}`).slice(0, -1),
      typePart: `","type":${jsonString(ctx.typeName)}}`,
      guidKey: ctx.ep.key.length === 1 && edms[0] === 'Edm.Guid',
    };
    heads.set(ctx, h);
  }
  return h;
}

/**
 * One row as Exact writes it: `__metadata` first, then the plan's columns
 * in order; dates as "\/Date(ms)\/" (WCF escapes the slashes).
 */
export function rowJson(ctx: RenderContext, row: Row): string {
  if (ctx.expand) return escapeDates(JSON.stringify(rowObject(ctx, row)));
  const c = compile(ctx.cols);
  const head = headOf(ctx);
  // A guid key is hex and needs no escaping; other keys may hold quotes or backslashes.
  const keyLit = keyLiteral(ctx.ep, row);
  const uriOpen = head.guidKey ? `${head.uriOpen}(${keyLit})` : `${head.uriOpen}${jsonString(`(${keyLit})`).slice(1, -1)}`;
  return `{"__metadata":{"uri":${uriOpen}${head.typePart}${c.columns(row, uriOpen, jsonValue)}}`;
}

/**
 * Rendered JSON per row object, for the column plan and base URL it was
 * rendered with. Rows are immutable (writes replace them), so a stale entry
 * cannot be served; the WeakMap lets unused rows go.
 */
const rendered = new WeakMap<Row, { cols: readonly ColPlan[]; base: string; json: string }>();

function cachedRowJson(ctx: RenderContext, row: Row, cache: boolean): string {
  if (!cache) return rowJson(ctx, row);
  const hit = rendered.get(row);
  if (hit && hit.cols === ctx.cols && hit.base === ctx.entityBase) return hit.json;
  const json = rowJson(ctx, row);
  rendered.set(row, { cols: ctx.cols, base: ctx.entityBase, json });
  return json;
}

/**
 * A collection page: {"d":{"results":[…],"__count":"n","__next":"…"}}.
 * `cacheRows` keeps each row's JSON with the row object: worth it only when
 * row objects live on (the row cache is on), otherwise it is pure overhead.
 */
export function pageJson(ctx: RenderContext, rows: readonly Row[], next: string | undefined, inlineCount: number | undefined, bare: boolean, cacheRows = true): string {
  if (ctx.expand) {
    const results = rows.map((r) => rowObject(ctx, r));
    if (bare) return escapeDates(JSON.stringify({ d: results }));
    const d: JsonRow = { results };
    if (inlineCount !== undefined) d.__count = String(inlineCount);
    if (next !== undefined) d.__next = next;
    return escapeDates(JSON.stringify({ d }));
  }
  let results = '[';
  for (let i = 0; i < rows.length; i++) {
    if (i > 0) results += ',';
    results += cachedRowJson(ctx, rows[i], cacheRows);
  }
  results += ']';
  if (bare) return `{"d":${results}}`;
  const count = inlineCount !== undefined ? `,"__count":"${inlineCount}"` : '';
  const nextPart = next !== undefined ? `,"__next":${jsonString(next)}` : '';
  return `{"d":{"results":${results}${count}${nextPart}}}`;
}

/**
 * Rendered JSON of generated base rows, by (column plan, entity base URL,
 * row number): bounded (first in, first out), so pages read again (as connector benchmarks
 * and retries do) cost a lookup instead of generation and rendering, and a
 * cold scan of a million rows cannot grow it past its character budget.
 * Base rows depend only on (seed, division, row) and the division's
 * Timestamp offset, so the owner clears it when a division moves; written
 * rows live in the overlay and are never cached here.
 */
export class FragmentCache {
  private readonly cache: BoundedCache<number, string>;
  /** (plan, entity base URL) → small number, so row keys are numbers (cheap to hash), not strings. */
  private readonly contexts = new Map<string, number>();

  constructor(maxChars = 32 * 1024 * 1024) {
    this.cache = new BoundedCache<number, string>(maxChars, (_k, v) => v.length + 16);
  }

  /** The key space of one page's rows: call once per page. */
  context(ctx: RenderContext): number {
    const name = `${compile(ctx.cols).id}|${ctx.entityBase}`;
    let id = this.contexts.get(name);
    if (id === undefined) {
      if (this.contexts.size >= 1 << 20) this.clear();
      id = this.contexts.size;
      this.contexts.set(name, id);
    }
    return id;
  }

  /** Pages asked for before, by (context, first row): only their rows are worth keeping. */
  private readonly seenPages = new BoundedCache<number, true>(100_000);

  /**
   * Whether a page was asked for before. A page read once (a scan) gains
   * nothing from caching its rows, which would only cost a copy and garbage
   * collection; a page read again (retries, benchmarks, polling) is cached
   * from its second read on.
   */
  seenBefore(id: number, start: number): boolean {
    const k = id * 67_108_864 + start;
    if (this.seenPages.get(k) !== undefined) return true;
    this.seenPages.set(k, true);
    return false;
  }

  /** Row `index`'s JSON in context `id`; `make` generates the row on a miss. */
  get(id: number, ctx: RenderContext, index: number, make: () => Row): string {
    const k = id * 67_108_864 + index;
    const hit = this.cache.get(k);
    if (hit !== undefined) return hit;
    const json = rowJson(ctx, make());
    // rowJson builds a rope of ~2 pieces per column; kept as is it costs three
    // times its length in memory and GC time. Converting to a number makes V8
    // flatten the string in place (the parse then fails at the first '{').
    flatten(json);
    if (index < 67_108_864) this.cache.set(k, json);
    return json;
  }

  clear(): void {
    this.cache.clear();
    this.contexts.clear();
    this.seenPages.clear();
  }

  get size(): number {
    return this.cache.size;
  }
}

function flatten(s: string): void {
  void Number(s);
}

/** A collection page from already rendered rows. */
export function pageJsonFromRows(rowsJson: readonly string[], next: string | undefined, inlineCount: number | undefined, bare: boolean): string {
  const results = `[${rowsJson.join(',')}]`;
  if (bare) return `{"d":${results}}`;
  const count = inlineCount !== undefined ? `,"__count":"${inlineCount}"` : '';
  const nextPart = next !== undefined ? `,"__next":${jsonString(next)}` : '';
  return `{"d":{"results":${results}${count}${nextPart}}}`;
}

function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function xmlValue(edm: string, v: SimValue | undefined): string | null {
  if (v === null || v === undefined) return null;
  if (edm === 'Edm.DateTime' && typeof v === 'number') return new Date(v).toISOString().replace(/\.\d{3}Z$/, '');
  return xmlEscape(String(v));
}

export function rowXmlEntry(ctx: RenderContext, row: Row, updated: string): string {
  const uri = `${ctx.entityBase}${ctx.ep.url}(${keyLiteral(ctx.ep, row)})`;
  let props = '';
  let links = '';
  for (const c of ctx.cols) {
    if (c.nav) {
      const link = `<link rel="http://schemas.microsoft.com/ado/2007/08/dataservices/related/${c.name}" type="application/atom+xml;type=feed" title="${c.name}" href="${xmlEscape(`${uri}/${c.name}`)}"`;
      const rows = ctx.expand?.(c.name, row);
      const sub = rows ? ctx.expandCols?.(c.name) : undefined;
      if (rows && sub) {
        // An expanded collection is an inline feed inside the link, as OData v2 Atom writes it.
        const subCtx: RenderContext = { entityBase: ctx.entityBase, ep: sub.ep, cols: sub.cols, typeName: sub.typeName };
        const inner = rows.map((r) => rowXmlEntry(subCtx, r, updated)).join('');
        links += `${link}><m:inline><feed><title type="text">${c.name}</title><id>${xmlEscape(`${uri}/${c.name}`)}</id><updated>${updated}</updated>${inner}</feed></m:inline></link>`;
      } else {
        links += `${link} />`;
      }
      continue;
    }
    const v = xmlValue(c.edm, row[c.name]);
    const typeAttr = c.edm === 'Edm.String' ? '' : ` m:type="${c.edm}"`;
    props += v === null ? `<d:${c.name}${typeAttr} m:null="true" />` : `<d:${c.name}${typeAttr}>${v}</d:${c.name}>`;
  }
  return `<entry><id>${xmlEscape(uri)}</id><title type="text"></title><updated>${updated}</updated><author><name /></author>${links}<category term="${ctx.typeName}" scheme="http://schemas.microsoft.com/ado/2007/08/dataservices/scheme" /><content type="application/xml"><m:properties>${props}</m:properties></content></entry>`;
}

export function feedXml(ctx: RenderContext, rows: readonly Row[], next: string | undefined, selfUrl: string, now: number): string {
  const updated = new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const entries = rows.map((r) => rowXmlEntry(ctx, r, updated)).join('');
  const nextLink = next ? `<link rel="next" href="${xmlEscape(next)}" />` : '';
  return `<?xml version="1.0" encoding="utf-8"?><feed xml:base="${xmlEscape(ctx.entityBase)}" xmlns="http://www.w3.org/2005/Atom" xmlns:d="http://schemas.microsoft.com/ado/2007/08/dataservices" xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata"><id>${xmlEscape(selfUrl)}</id><title type="text">${xmlEscape(ctx.ep.entity.split('/').pop() ?? '')}</title><updated>${updated}</updated><link rel="self" title="${xmlEscape(ctx.ep.entity)}" href="${xmlEscape(ctx.ep.entity)}" />${entries}${nextLink}</feed>`;
}

/** Exact's JSON error body. */
export function errorJson(message: string): string {
  return JSON.stringify({ error: { code: '', message: { lang: '', value: message } } });
}

export function errorXml(message: string): string {
  return `<?xml version="1.0" encoding="utf-8"?><error xmlns="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata"><code></code><message xml:lang="">${xmlEscape(message)}</message></error>`;
}

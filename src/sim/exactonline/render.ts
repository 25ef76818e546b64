/**
 * Renders rows as Exact Online does: JSON verbose OData v2 (`{"d":…}`,
 * `__metadata`, deferred navigation properties, `/Date(ms)/`) or, when the
 * client does not ask for JSON, an Atom feed with the same data. Column
 * plans are built once per endpoint so a page is string concatenation.
 */
import type { ExactColumn, ExactEndpoint } from '../../catalogs/exactonline.js';
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

export function rowJson(ctx: RenderContext, row: Row): string {
  return escapeDates(JSON.stringify(rowObject(ctx, row)));
}

/**
 * Rendered JSON per row object, for the column plan and base URL it was
 * rendered with. Rows are immutable (writes replace them), so a stale entry
 * cannot be served; the WeakMap lets unused rows go.
 */
const rendered = new WeakMap<Row, { cols: readonly ColPlan[]; base: string; json: string }>();

function cachedRowJson(ctx: RenderContext, row: Row): string {
  const hit = rendered.get(row);
  if (hit && hit.cols === ctx.cols && hit.base === ctx.entityBase) return hit.json;
  const json = rowJson(ctx, row);
  rendered.set(row, { cols: ctx.cols, base: ctx.entityBase, json });
  return json;
}

/** A collection page: {"d":{"results":[…],"__count":"n","__next":"…"}}. */
export function pageJson(ctx: RenderContext, rows: readonly Row[], next: string | undefined, inlineCount: number | undefined, bare: boolean): string {
  if (ctx.expand) {
    const results = rows.map((r) => rowObject(ctx, r));
    if (bare) return escapeDates(JSON.stringify({ d: results }));
    const d: JsonRow = { results };
    if (inlineCount !== undefined) d.__count = String(inlineCount);
    if (next !== undefined) d.__next = next;
    return escapeDates(JSON.stringify({ d }));
  }
  const parts = new Array<string>(rows.length);
  for (let i = 0; i < rows.length; i++) parts[i] = cachedRowJson(ctx, rows[i]);
  const results = `[${parts.join(',')}]`;
  if (bare) return `{"d":${results}}`;
  const count = inlineCount !== undefined ? `,"__count":"${inlineCount}"` : '';
  const nextPart = next !== undefined ? `,"__next":${JSON.stringify(next)}` : '';
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
      links += `<link rel="http://schemas.microsoft.com/ado/2007/08/dataservices/related/${c.name}" type="application/atom+xml;type=feed" title="${c.name}" href="${xmlEscape(`${uri}/${c.name}`)}" />`;
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

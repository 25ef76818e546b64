/**
 * The Visma.net Financials simulator's HTTP layer: Visma Connect's
 * client-credentials token endpoint and the ERP API under `/v1/…` (also
 * `/controller/api/v1/…` and `/API/controller/api/v1/…`, as the spec and
 * the older host spell it). It enforces what the real service enforces and
 * the connector must cope with: bearer tokens that expire, `ipp-company-id`,
 * mandatory paging with `metadata` on each item, ETag / If-Match, the
 * wrapped `{"value": …}` write DTOs, Visma's error bodies, per-company rate
 * limits with X-RateLimit-* and 429 Retry-After, latency and faults.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../../util/clock.js';
import { vismaCatalog } from '../../catalogs/vismanet.js';
import { applyWrite, CUSTOMER_STATUSES, emptyParty, Rng, SUPPLIER_STATUSES, type Company, type ResourceKind, type SimDocument } from './world.js';

export interface VismaFaults {
  /** Probability (0..1) that an API call fails with `status`. */
  readonly errorRate?: number;
  /** Fail the next N API calls (counted down as they happen). */
  failNext?: number;
  /** Status of injected failures (default 500). */
  readonly status?: number;
  /** Only calls whose `METHOD /path` matches fail (e.g. /^POST \/customer/). */
  readonly match?: RegExp;
  /** Writes whose name matches are refused with a 400 validation error (a target failing on some rows). */
  readonly rejectNames?: RegExp;
  /** Added to every API call's latency. */
  readonly extraLatencyMs?: number;
}

export interface VismaRateLimit {
  /** Calls per company per hour (a published production figure is 15,000). */
  readonly perHour: number;
  /** Length of the counting window; the window allows perHour × windowMs / 1 h calls (default 60 s). */
  readonly windowMs?: number;
}

export interface VismaSimStats {
  requests: number;
  tokenRequests: number;
  throttled: number;
  inserts: number;
  updates: number;
  maxInFlight: number;
  byStatus: Record<string, number>;
  byRoute: Record<string, number>;
}

export interface SimConfig {
  readonly clock: Clock;
  readonly seed: number;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly tenantId: string;
  readonly latencyMs: number;
  readonly writeLatencyMs: number;
  readonly maxPageSize: number;
  rateLimit: VismaRateLimit | false;
  faults: VismaFaults;
}

const TOKEN_TTL_S = 3600;
const NAME_MAX = 60;

interface Token {
  readonly expires: number;
  readonly tenant: string;
}

interface Window {
  start: number;
  used: number;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(`HTTP ${status}`);
  }
}

/** Visma's error body. */
export function ippError(status: number, message: string, faultCode: string): HttpError {
  return new HttpError(status, {
    ExceptionType: 'IPPException',
    ExceptionMessage: message,
    ExceptionFaultCode: faultCode,
    ExceptionMessageID: `${faultCode}_${randomBytes(4).toString('hex')}`,
    ExceptionDetails: '',
  });
}

/** Unwrap `{"value": …}` write fields; a bare value where a wrapper belongs is a 400, as the real API cannot bind it. */
function unwrapDto(body: unknown, path: string): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw ippError(400, `Error: the request body${path ? ` at '${path}'` : ''} must be a JSON object.`, '10001');
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
    if (Array.isArray(v) || typeof v === 'boolean') {
      out[k] = v;
      continue;
    }
    if (typeof v !== 'object' || v === null || !('value' in v)) {
      throw ippError(400, `Error: field '${path}${k}' must be given as {"value": …}.`, '10001');
    }
    const inner = (v as { value: unknown }).value;
    out[k] = typeof inner === 'object' && inner !== null && !Array.isArray(inner) ? unwrapDto(inner, `${path}${k}.`) : inner;
  }
  return out;
}

function parseDate(text: string): number {
  const t = text.trim().replace(' ', 'T');
  const withZone = /([zZ]|[+-]\d\d:?\d\d)$/.test(t) ? t : `${t}Z`;
  const ms = Date.parse(withZone);
  if (Number.isNaN(ms)) throw ippError(400, `Error: '${text}' is not a valid date and time.`, '10002');
  return ms;
}

function compare(a: number, cond: string, b: number): boolean {
  switch (cond) {
    case '>':
      return a > b;
    case '<':
      return a < b;
    case '>=':
      return a >= b;
    case '<=':
      return a <= b;
    default:
      throw ippError(400, `Error: condition '${cond}' is not supported; use >, <, >= or <=.`, '10003');
  }
}

export class VismaSimCore {
  readonly companies = new Map<string, Company>();
  private readonly tokens = new Map<string, Token>();
  private readonly windows = new Map<string, Window>();
  private readonly faultRng: Rng;
  private inFlight = 0;
  private readonly listPaths: ReadonlySet<string>;
  stats: VismaSimStats = VismaSimCore.emptyStats();
  baseUrl = '';

  constructor(readonly config: SimConfig) {
    this.faultRng = new Rng(config.seed ^ 0x5eed);
    this.listPaths = new Set(vismaCatalog().tables.map((t) => t.path.toLowerCase()));
  }

  static emptyStats(): VismaSimStats {
    return { requests: 0, tokenRequests: 0, throttled: 0, inserts: 0, updates: 0, maxInFlight: 0, byStatus: {}, byRoute: {} };
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let status = 500;
    let counted = true;
    this.inFlight++;
    this.stats.maxInFlight = Math.max(this.stats.maxInFlight, this.inFlight);
    try {
      const body = await readBody(req);
      const url = new URL(req.url ?? '/', 'http://sim');
      if (url.pathname.startsWith('/__sim/')) {
        counted = false;
        const answer = this.admin(req.method ?? 'GET', url.pathname.slice('/__sim/'.length), body);
        status = answer.status;
        send(res, answer.status, answer.body);
        return;
      }
      if (url.pathname === '/connect/token') {
        this.stats.tokenRequests++;
        const answer = this.token(req.method ?? 'GET', body, req.headers['content-type'] ?? '');
        status = 200;
        send(res, 200, answer, { 'Cache-Control': 'no-store' });
        return;
      }
      const result = await this.api(req, url, body);
      status = result.status;
      send(res, result.status, result.body, result.headers);
    } catch (e) {
      if (e instanceof HttpError) {
        status = e.status;
        send(res, e.status, e.body, e.headers);
      } else {
        status = 500;
        send(res, 500, { ExceptionType: 'Exception', ExceptionMessage: 'Internal error in the simulator.', ExceptionFaultCode: '0' });
      }
    } finally {
      this.inFlight--;
      if (counted) this.stats.byStatus[status] = (this.stats.byStatus[status] ?? 0) + 1;
    }
  }

  /**
   * Control endpoints for a simulator running in another process (`sluice sim visma`):
   * `/__sim/stats` (GET; POST or DELETE resets), `/__sim/faults` (GET; POST a JSON
   * VismaFaults, `match` and `rejectNames` as regular-expression text),
   * `/__sim/ratelimit` (GET; POST `{"perHour":…,"windowMs":…}` or `false`).
   */
  private admin(method: string, what: string, body: string): { status: number; body: unknown } {
    let parsed: unknown;
    try {
      parsed = body ? JSON.parse(body) : undefined;
    } catch {
      return { status: 400, body: { message: 'The body is not JSON.' } };
    }
    if (what === 'stats') {
      if (method === 'POST' || method === 'DELETE') this.stats = VismaSimCore.emptyStats();
      return { status: 200, body: this.stats };
    }
    if (what === 'faults') {
      if (method === 'POST' && typeof parsed === 'object' && parsed !== null) {
        const f = parsed as Record<string, unknown>;
        const num = (k: string) => (typeof f[k] === 'number' ? { [k]: f[k] as number } : {});
        const re = (k: string) => (typeof f[k] === 'string' ? { [k]: new RegExp(f[k] as string) } : {});
        this.config.faults = { ...num('errorRate'), ...num('failNext'), ...num('status'), ...num('extraLatencyMs'), ...re('match'), ...re('rejectNames') };
      }
      const f = this.config.faults;
      return { status: 200, body: { ...f, ...(f.match ? { match: f.match.source } : {}), ...(f.rejectNames ? { rejectNames: f.rejectNames.source } : {}) } };
    }
    if (what === 'ratelimit') {
      if (method === 'POST') {
        if (parsed === false) this.config.rateLimit = false;
        else if (typeof parsed === 'object' && parsed !== null && typeof (parsed as { perHour?: unknown }).perHour === 'number') {
          const p = parsed as { perHour: number; windowMs?: unknown };
          this.config.rateLimit = { perHour: p.perHour, ...(typeof p.windowMs === 'number' ? { windowMs: p.windowMs } : {}) };
        } else return { status: 400, body: { message: 'Send {"perHour": n, "windowMs": ms} or false.' } };
      }
      return { status: 200, body: this.config.rateLimit };
    }
    return { status: 404, body: { message: 'Unknown admin endpoint; use /__sim/stats, /__sim/faults, /__sim/ratelimit.' } };
  }

  private token(method: string, body: string, contentType: string): unknown {
    if (method !== 'POST') throw new HttpError(405, { error: 'invalid_request', error_description: 'Use POST.' });
    if (!contentType.includes('application/x-www-form-urlencoded')) {
      throw new HttpError(400, { error: 'invalid_request', error_description: 'The token request must be form-encoded.' });
    }
    const form = new URLSearchParams(body);
    if (form.get('grant_type') !== 'client_credentials') throw new HttpError(400, { error: 'unsupported_grant_type' });
    if (form.get('client_id') !== this.config.clientId || form.get('client_secret') !== this.config.clientSecret) {
      throw new HttpError(400, { error: 'invalid_client' });
    }
    if (form.get('tenant_id') !== this.config.tenantId) throw new HttpError(400, { error: 'invalid_request', error_description: 'Unknown tenant_id.' });
    const token = randomBytes(24).toString('base64url');
    this.tokens.set(token, { expires: this.config.clock.now() + TOKEN_TTL_S * 1000, tenant: this.config.tenantId });
    return { access_token: token, token_type: 'Bearer', expires_in: TOKEN_TTL_S, scope: form.get('scope') ?? '' };
  }

  private async api(req: IncomingMessage, url: URL, body: string): Promise<{ status: number; body: unknown; headers: Record<string, string> }> {
    const now = this.config.clock.now();
    const auth = req.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(auth);
    const token = match ? this.tokens.get(match[1]) : undefined;
    if (!token || token.expires <= now) {
      throw new HttpError(401, { message: 'Authorization has been denied for this request.' }, { 'WWW-Authenticate': 'Bearer' });
    }
    const companyId = String(req.headers['ipp-company-id'] ?? '');
    if (!companyId) throw ippError(400, 'Error: the ipp-company-id header is missing.', '10010');
    const company = this.companies.get(companyId);
    if (!company) throw ippError(403, `Error: no access to company '${companyId}'.`, '10011');

    const limitHeaders = this.countCall(companyId, now);
    const method = req.method ?? 'GET';
    const path = apiPath(url.pathname);
    if (path === undefined) throw new HttpError(404, { message: `No HTTP resource was found that matches the request URI '${url.pathname}'.` }, limitHeaders);
    const route = `${method} ${routeName(path)}`;
    this.stats.requests++;
    this.stats.byRoute[route] = (this.stats.byRoute[route] ?? 0) + 1;

    const isWrite = method !== 'GET';
    const latency = (isWrite ? this.config.writeLatencyMs : this.config.latencyMs) + (this.config.faults.extraLatencyMs ?? 0);
    if (latency > 0) await this.config.clock.sleep(latency);
    this.injectFault(`${method} ${path}`, limitHeaders);

    try {
      const result = this.route(method, path, url.searchParams, body, company, req.headers['if-match']);
      return { ...result, headers: { ...limitHeaders, ...result.headers } };
    } catch (e) {
      if (e instanceof HttpError) throw new HttpError(e.status, e.body, { ...limitHeaders, ...e.headers });
      throw e;
    }
  }

  private countCall(companyId: string, now: number): Record<string, string> {
    const limit = this.config.rateLimit;
    if (!limit) return {};
    const windowMs = limit.windowMs ?? 60_000;
    const allowed = Math.max(1, Math.round((limit.perHour * windowMs) / 3_600_000));
    let w = this.windows.get(companyId);
    const start = Math.floor(now / windowMs) * windowMs;
    if (!w || w.start !== start) {
      w = { start, used: 0 };
      this.windows.set(companyId, w);
    }
    const reset = Math.ceil((w.start + windowMs) / 1000);
    if (w.used >= allowed) {
      this.stats.throttled++;
      const retryAfter = Math.max(1, Math.ceil((w.start + windowMs - now) / 1000));
      throw new HttpError(
        429,
        { message: `API calls quota exceeded! maximum admitted ${allowed} per ${windowMs / 1000} seconds.` },
        { 'Retry-After': String(retryAfter), 'X-RateLimit-Limit': String(allowed), 'X-RateLimit-Remaining': '0', 'X-RateLimit-Reset': String(reset) },
      );
    }
    w.used++;
    return { 'X-RateLimit-Limit': String(allowed), 'X-RateLimit-Remaining': String(allowed - w.used), 'X-RateLimit-Reset': String(reset) };
  }

  private injectFault(what: string, headers: Record<string, string>): void {
    const f = this.config.faults;
    if (f.match && !f.match.test(what)) return;
    let fail = false;
    if (f.failNext && f.failNext > 0) {
      f.failNext--;
      fail = true;
    } else if (f.errorRate && this.faultRng.chance(f.errorRate)) {
      fail = true;
    }
    if (!fail) return;
    const status = f.status ?? 500;
    const err = ippError(status, 'Error: an injected fault occurred (simulator).', '99999');
    throw new HttpError(status, err.body, headers);
  }

  private route(
    method: string,
    path: string,
    query: URLSearchParams,
    body: string,
    company: Company,
    ifMatch: string | undefined,
  ): { status: number; body: unknown; headers: Record<string, string> } {
    const segments = path.split('/').filter((s) => s.length > 0);
    const resource = segments[0]?.toLowerCase();
    const kind: ResourceKind | undefined = resource === 'customer' ? 'customer' : resource === 'supplier' ? 'supplier' : undefined;
    if (kind && segments.length === 1) {
      if (method === 'GET') return { status: 200, body: this.list(company, kind, query), headers: {} };
      if (method === 'POST') return this.create(company, kind, body);
      throw new HttpError(405, { message: `The requested resource does not support http method '${method}'.` }, { Allow: 'GET, POST' });
    }
    if (kind && segments.length === 2 && !this.listPaths.has(`/${segments.join('/').toLowerCase()}`)) {
      const number = decodeURIComponent(segments[1]);
      if (method === 'GET') {
        const doc = this.find(company, kind, number);
        return { status: 200, body: render(doc), headers: { ETag: etag(doc) } };
      }
      if (method === 'PUT') return this.update(company, kind, number, body, ifMatch);
      throw new HttpError(405, { message: `The requested resource does not support http method '${method}'.` }, { Allow: 'GET, PUT' });
    }
    if (method === 'GET' && this.listPaths.has(`/${segments.join('/').toLowerCase()}`)) return { status: 200, body: [], headers: {} };
    if (method === 'GET' && segments.length >= 2) throw ippError(404, `Error: the record '${segments.slice(1).join('/')}' was not found.`, '10404');
    throw new HttpError(404, { message: `No HTTP resource was found that matches the request URI '${path}'.` });
  }

  private list(company: Company, kind: ResourceKind, query: URLSearchParams): RawJson {
    let docs = [...company.resources[kind].values()];
    const eq = (param: string, field: string, ci: boolean) => {
      const v = query.get(param);
      if (v === null || v === '') return;
      docs = docs.filter((d) => {
        const x = d.dto[field];
        return typeof x === 'string' && (ci ? x.toLowerCase() === v.toLowerCase() : x === v);
      });
    };
    eq('name', 'name', true);
    eq('status', 'status', false);
    eq('corporateId', 'corporateId', false);
    eq('vatRegistrationId', 'vatRegistrationId', false);
    for (const [param, get] of [
      ['lastModifiedDateTime', (d: SimDocument) => d.lastModified],
      ['createdDateTime', (d: SimDocument) => d.created],
    ] as const) {
      const v = query.get(param);
      if (v === null || v === '') continue;
      const at = parseDate(v);
      const cond = query.get(`${param}Condition`) ?? '>=';
      docs = docs.filter((d) => compare(get(d), cond, at));
    }
    docs.sort((a, b) => (a.dto.internalId as number) - (b.dto.internalId as number));
    const max = this.config.maxPageSize;
    const pageSize = Math.min(max, Math.max(1, intParam(query, 'pageSize') ?? max));
    const pageNumber = Math.max(1, intParam(query, 'pageNumber') ?? 1);
    const totalCount = docs.length;
    const metadata = `,"metadata":{"totalCount":${totalCount},"maxPageSize":${max}}}`;
    const items = docs.slice((pageNumber - 1) * pageSize, pageNumber * pageSize).map((d) => renderText(d).slice(0, -1) + metadata);
    return new RawJson(`[${items.join(',')}]`);
  }

  private find(company: Company, kind: ResourceKind, number: string): SimDocument {
    const doc = company.resources[kind].get(number);
    if (!doc) throw ippError(404, `Error: ${kind === 'customer' ? 'Customer' : 'Supplier'} '${number}' was not found.`, '10404');
    return doc;
  }

  private validate(kind: ResourceKind, dto: Record<string, unknown>, creating: boolean): void {
    const label = kind === 'customer' ? 'Customer' : 'Supplier';
    const name = dto.name;
    if (creating && (typeof name !== 'string' || name.trim() === '')) throw ippError(400, `Error: '${label} name' cannot be empty.`, '12001');
    if (typeof name === 'string' && name.length > NAME_MAX) {
      throw ippError(400, `Error: '${label} name' cannot be longer than ${NAME_MAX} characters (got ${name.length}).`, '12002');
    }
    const statuses: readonly string[] = kind === 'customer' ? CUSTOMER_STATUSES : SUPPLIER_STATUSES;
    if (dto.status !== undefined && (typeof dto.status !== 'string' || !statuses.includes(dto.status))) {
      throw ippError(400, `Error: '${String(dto.status)}' is not a valid status; use ${statuses.join(', ')}.`, '12003');
    }
    const reject = this.config.faults.rejectNames;
    if (reject && typeof name === 'string' && reject.test(name)) throw ippError(400, `Error: ${label} '${name}' was refused by a validation rule (simulator).`, '12009');
  }

  private parseBody(body: string): Record<string, unknown> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      throw ippError(400, 'Error: the request body is not valid JSON.', '10001');
    }
    return unwrapDto(parsed, '');
  }

  private create(company: Company, kind: ResourceKind, body: string): { status: number; body: unknown; headers: Record<string, string> } {
    const write = this.parseBody(body);
    this.validate(kind, write, true);
    const store = company.resources[kind];
    let number = typeof write.number === 'string' || typeof write.number === 'number' ? String(write.number).trim() : '';
    if (number === '') {
      let max = kind === 'customer' ? 10000 : 70000;
      for (const k of store.keys()) if (/^\d+$/.test(k)) max = Math.max(max, Number(k));
      number = String(max + 1);
    }
    if (store.has(number)) throw ippError(400, `Error: ${kind === 'customer' ? 'Customer' : 'Supplier'} ID '${number}' already exists.`, '12004');
    const internalId = company.nextInternalId++;
    const dto = emptyParty(kind, internalId);
    applyWrite(dto, write);
    dto.number = number;
    dto.internalId = internalId;
    const now = this.config.clock.now();
    store.set(number, { dto, version: 1, created: now, lastModified: now });
    this.stats.inserts++;
    const location = `${this.baseUrl}/v1/${kind}/${encodeURIComponent(number)}`;
    return { status: 201, body: '', headers: { Location: location } };
  }

  private update(company: Company, kind: ResourceKind, number: string, body: string, ifMatch: string | undefined): { status: number; body: unknown; headers: Record<string, string> } {
    const doc = this.find(company, kind, number);
    if (ifMatch !== undefined && ifMatch !== '*' && ifMatch !== etag(doc)) {
      throw ippError(412, `Error: ${kind === 'customer' ? 'Customer' : 'Supplier'} '${number}' was changed by someone else (ETag mismatch).`, '10412');
    }
    const write = this.parseBody(body);
    delete write.number;
    this.validate(kind, write, false);
    applyWrite(doc.dto, write);
    doc.version++;
    doc.lastModified = Math.max(this.config.clock.now(), doc.lastModified + 1);
    this.stats.updates++;
    return { status: 204, body: '', headers: { ETag: etag(doc) } };
  }
}

function intParam(query: URLSearchParams, name: string): number | undefined {
  const v = query.get(name);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw ippError(400, `Error: '${name}' must be a whole number.`, '10004');
  return n;
}

export function etag(doc: SimDocument): string {
  return `"${String(doc.dto.internalId)}-${doc.version}"`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function render(doc: SimDocument): Record<string, unknown> {
  return JSON.parse(renderText(doc)) as Record<string, unknown>;
}

/** A body already serialised (list pages are assembled from cached item texts). */
class RawJson {
  constructor(readonly text: string) {}
}

const rendered = new WeakMap<SimDocument, { readonly version: number; readonly lastModified: number; readonly text: string }>();

/** The document's JSON text, cached until it changes: pages of 1,000 items stay cheap to serve. */
function renderText(doc: SimDocument): string {
  const hit = rendered.get(doc);
  if (hit && hit.version === doc.version && hit.lastModified === doc.lastModified) return hit.text;
  const text = JSON.stringify({ ...doc.dto, createdDateTime: iso(doc.created), lastModifiedDateTime: iso(doc.lastModified) });
  rendered.set(doc, { version: doc.version, lastModified: doc.lastModified, text });
  return text;
}

/** The path after the version prefix, or undefined when the prefix is not one of the API's. */
export function apiPath(pathname: string): string | undefined {
  const m = /^(?:\/API)?(?:\/controller\/api)?\/v1(\/.*)?$/i.exec(pathname);
  if (!m) return undefined;
  return m[1] ?? '/';
}

function routeName(path: string): string {
  const segs = path.split('/').filter((s) => s);
  return '/' + segs.map((s, i) => (i === 0 ? s.toLowerCase() : /\d/.test(s) ? '{id}' : s)).join('/');
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = body instanceof RawJson ? body.text : body === '' || body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { ...(text ? { 'Content-Type': 'application/json; charset=utf-8' } : {}), 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

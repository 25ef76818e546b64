/**
 * The Exact Online simulator's HTTP layer on plain node:http: OAuth pages
 * and token endpoint, the REST API under /api/v1 (routing, auth, division
 * access, rate limits, error blocks, fault injection, reads with OData
 * options, writes), and the /__sim admin endpoints. Data comes from the
 * Store (generated base + overlay); rendering from render.ts.
 */
import { createHmac } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ExactCatalog, ExactColumn, ExactEndpoint } from '../../catalogs/exactonline.js';
import type { Clock } from '../../util/clock.js';
import { NO_FAULTS, checkLatency, drawLatency, holdUntil, readBody, send, type FaultProfile, type Latency } from '../common/http.js';
import { amsterdamOffsetMs, isValidIban } from '../common/dutch.js';
import { Rng, hash32 } from '../common/prng.js';
import { RateLimiter } from './limits.js';
import { OAuthServer } from './oauth.js';
import { ODataError, compareCells, orderByKeys, parseFilter, parseOrderBy, type CompiledFilter } from './odata.js';
import { FragmentCache, errorJson, errorXml, feedXml, pageJson, pageJsonFromRows, planColumns, rowJson, typeName, type ColPlan, type RenderContext } from './render.js';
import { Datasets, WORLD_TABLE_URLS, worldTable } from './sources.js';
import { Store, modelledDatasets, type Dataset, type Position } from './store.js';
import { WORLD_DATE, WRITE_TIMESTAMP_START, World, baseTimestamp, pad18, round2, type Row, type SimUser, type SimValue, VAT_CODES, VAT_INDEX, JOURNAL_INDEX, GL_INDEX, GL_CHART, ENTITY, invoiceLines } from './world.js';

export interface SimStats {
  calls: number;
  byDivision: Record<string, number>;
  byEndpoint: Record<string, number>;
  status429: number;
  errors: number;
  /** Base rows generated (not taken from a cache) to answer calls: what a read costs, without a clock. */
  rowsGenerated: number;
  /** Latency injected so far: calls, the sum and the largest delay drawn (ms). */
  latency: { calls: number; totalMs: number; maxMs: number };
}

/** The generator latency draws come from: its own, so that faults and new IDs do not shift the sequence. */
export function latencyRng(seed: number): Rng {
  return new Rng(hash32(seed, 0x1a7e));
}

export interface ServerConfig {
  readonly catalog: ExactCatalog;
  readonly world: World;
  readonly clock: Clock;
  readonly oauth: OAuthServer;
  readonly limiter: RateLimiter;
  /** Changeable at run time (POST /__sim/faults {"latency": …}). */
  latency: Latency;
  faults: FaultProfile;
  readonly mandatoryFiltering: boolean;
  /** DateTime values are Amsterdam wall-clock time written as UTC (unsure fact; default false: UTC instants). */
  readonly dutchLocalTime?: boolean;
  /** Endpoints answered without a division (default current/Me and system/Users; unsure which else). */
  readonly divisionlessUrls?: readonly string[];
  /** Sync endpoints demand exactly `$filter=Timestamp gt nL` (default); false also takes ge, no L suffix, or no filter. */
  readonly strictSyncFilter: boolean;
  readonly bareArrayOnTop: boolean;
  readonly webhookSecret: string;
  /** Generated rows kept for reuse (0: none). */
  readonly rowCacheSize?: number;
  /** Characters of rendered base-row JSON kept for reuse (0: none). */
  readonly renderCacheChars?: number;
  baseUrl: string;
}

class HttpError extends Error {
  readonly status: number;
  readonly headers: Record<string, string>;
  constructor(status: number, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.status = status;
    this.headers = headers;
  }
}

interface EpInfo {
  readonly ep: ExactEndpoint;
  readonly cols: Map<string, ExactColumn>;
  readonly plan: ColPlan[];
  readonly typeName: string;
  /** Column plans by $select text, so equal selects share one plan (and the rendered-row cache). */
  readonly selects: Map<string, ColPlan[]>;
}

interface ApiCall {
  readonly user: SimUser;
  readonly clientId: string;
  readonly division: number;
  readonly info: EpInfo;
  readonly key?: string;
  readonly nav?: string;
  readonly count: boolean;
  readonly query: URLSearchParams;
  readonly json: boolean;
  readonly entityBase: string;
  readonly selfUrl: string;
  rateHeaders: Record<string, string>;
  truncate: boolean;
}

const JSON_TYPE = 'application/json; charset=utf-8';
/** A `$filter` pinning the key to at most this many values is answered by lookups instead of a scan. */
const MAX_PINNED_KEYS = 1000;
/** Fields that name an account (crm/Accounts ID) on the endpoints that have them. */
const ACCOUNT_REF_FIELDS = ['Account', 'OrderAccount', 'InvoiceAccount', 'DeliveryAccount', 'OrderedBy', 'InvoiceTo', 'DeliverTo', 'Supplier'];
/** Endpoints that answer without a division by default: the ones the platform facts name. */
export const DEFAULT_DIVISIONLESS = ['current/Me', 'system/Users'];
/** Sort indexes kept (each 4 bytes a row: 4 MB for a million-row division). */
const SORT_CACHE_ENTRIES = 8;
/** Where token errors are counted in the error allowance: no division, the token endpoint. */
const TOKEN_DIVISION = 'oauth';
const TOKEN_ENDPOINT = 'oauth2/token';
const XML_TYPE = 'application/atom+xml; charset=utf-8';
const OBJECT_MOVED = '<html><head><title>Object moved</title></head><body>\r\n<h2>Object moved to <a href="/api/oauth2/auth">here</a>.</h2>\r\n</body></html>\r\n';

export class ExactServer {
  readonly cfg: ServerConfig;
  readonly store: Store;
  private readonly counters: SimStats = { calls: 0, byDivision: {}, byEndpoint: {}, status429: 0, errors: 0, rowsGenerated: 0, latency: { calls: 0, totalMs: 0, maxMs: 0 } };
  private generatedAtReset = 0;
  private readonly byUrl = new Map<string, EpInfo>();
  private readonly modelled: Map<string, Dataset>;
  private readonly datasets: Datasets;
  private readonly rng: Rng;
  private readonly latencyRng: Rng;
  private readonly writeLog = new Map<number, { at: number; ts: number }[]>();
  private invoiceCounter = new Map<number, number>();
  /** POST-only action endpoints whose key names an entity of exactly one other endpoint (AcceptQuotation → crm/Quotations, FinishAssemblyOrder → inventory/AssemblyOrders). */
  private readonly actionTargets = new Map<string, { field: string; target: ExactEndpoint }>();
  /**
   * POST-only actions whose key is a plain `ID` (see idActionTarget): the
   * field naming the entities acted on, whether it is a collection of
   * `{ID}` objects (ProcessPayments.PaymentIDs → cashflow/Payments) or the
   * key itself (CompleteSalesOrderLine.ID → salesorder/SalesOrderLines).
   */
  private readonly idActions = new Map<string, { field: string; collection: boolean; target: ExactEndpoint }>();
  /** Endpoint URLs (as lower-case segments) answered without a division, in the user's current one. */
  private readonly divisionless: string[][];
  /** Allowed codes of enumerated fields (catalog enums), by `url|Field`. */
  private readonly enums = new Map<string, Set<string>>();
  /** Sort indexes of ordered queries (see sortedCodes), least recently used first. */
  private readonly sortCache = new Map<string, { version: number; codes: Int32Array }>();
  /** Rendered JSON of base rows (see FragmentCache). */
  private readonly fragments: FragmentCache;
  /** Webhook deliveries in flight, so close() can wait for them. */
  readonly pending = new Set<Promise<void>>();

  /** The counters, with rowsGenerated brought up to date. */
  get stats(): SimStats {
    this.counters.rowsGenerated = this.store.generated - this.generatedAtReset;
    return this.counters;
  }

  constructor(cfg: ServerConfig) {
    this.cfg = cfg;
    this.store = new Store(cfg.world, cfg.rowCacheSize);
    this.fragments = new FragmentCache(cfg.renderCacheChars ?? 32 * 1024 * 1024);
    this.modelled = modelledDatasets(cfg.world);
    this.datasets = new Datasets(this.modelled, cfg.catalog.endpoints);
    this.divisionless = (cfg.divisionlessUrls ?? DEFAULT_DIVISIONLESS).map((u) => u.toLowerCase().split('/').filter(Boolean));
    for (const e of cfg.catalog.enums) this.enums.set(`${e.url.toLowerCase()}|${e.field}`, new Set(e.values.map((v) => String(v.code))));
    const keyOwners = new Map<string, ExactEndpoint[]>();
    for (const ep of cfg.catalog.endpoints) {
      const k = ep.key[0];
      if (ep.kind !== 'regular' || k === undefined || !ep.methods.includes('GET')) continue;
      const list = keyOwners.get(k.toLowerCase()) ?? [];
      list.push(ep);
      keyOwners.set(k.toLowerCase(), list);
    }
    for (const ep of cfg.catalog.endpoints) {
      const k = ep.key[0];
      if (ep.methods.length !== 1 || ep.methods[0] !== 'POST' || k === undefined) continue;
      if (k.toLowerCase() === 'id') {
        const idAction = idActionTarget(ep, cfg.catalog.endpoints);
        if (idAction) this.idActions.set(ep.url.toLowerCase(), idAction);
        continue;
      }
      const owners = keyOwners.get(k.toLowerCase()) ?? [];
      // Else a key named after an entity of the same service (FinishAssemblyOrder.AssemblyOrder → inventory/AssemblyOrders).
      const named = cfg.catalog.endpoints.filter((t) => t.kind === 'regular' && t.service === ep.service && t.methods.includes('GET') && t.entity.toLowerCase() === `${k.toLowerCase()}s`);
      const target = owners.length === 1 ? owners[0] : named.length === 1 ? named[0] : undefined;
      if (target) this.actionTargets.set(ep.url.toLowerCase(), { field: k, target });
    }
    this.rng = new Rng(cfg.world.seed ^ 0x5eed);
    this.latencyRng = latencyRng(cfg.world.seed);
    for (const ep of cfg.catalog.endpoints) {
      this.byUrl.set(ep.url.toLowerCase(), {
        ep,
        cols: new Map(ep.columns.map((c) => [c.name.toLowerCase(), c])),
        plan: planColumns(ep.columns),
        typeName: typeName(ep),
        selects: new Map(),
      });
    }
  }

  /** Simulate a division move: DivisionMoveDate set, every sync Timestamp regenerated higher. */
  moveDivision(code: number): void {
    this.cfg.world.moveDates.set(code, this.wallNow());
    this.store.moveDivision(code);
    this.fragments.clear();
  }

  resetStats(): void {
    this.counters.calls = 0;
    this.counters.byDivision = {};
    this.counters.byEndpoint = {};
    this.counters.status429 = 0;
    this.counters.errors = 0;
    this.counters.latency = { calls: 0, totalMs: 0, maxMs: 0 };
    this.generatedAtReset = this.store.generated;
  }

  // -------------------------------------------------------------------------
  // Entry point

  handle(req: IncomingMessage, res: ServerResponse): void {
    this.route(req, res).catch((e: unknown) => {
      if (!res.headersSent) send(res, 500, { 'Content-Type': JSON_TYPE }, errorJson(e instanceof Error ? e.message : String(e)));
    });
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawUrl = req.url ?? '/';
    const qAt = rawUrl.indexOf('?');
    let path: string;
    try {
      path = decodeURIComponent(qAt < 0 ? rawUrl : rawUrl.slice(0, qAt));
    } catch {
      send(res, 400, { 'Content-Type': JSON_TYPE }, errorJson('Bad Request - Invalid URL'));
      return;
    }
    const query = new URLSearchParams(qAt < 0 ? '' : rawUrl.slice(qAt + 1));
    const lower = path.toLowerCase();
    if (lower.startsWith('/__sim/')) return this.admin(req, res, lower.slice(7));
    if (lower === '/api/oauth2/auth') return this.authorize(req, res, query);
    if (lower === '/api/oauth2/token') return this.tokenEndpoint(req, res);
    if (lower.startsWith('/api/v1/')) return this.api(req, res, path.slice(8), query);
    send(res, 404, { 'Content-Type': 'text/html' }, '<html><body><h1>404 - File or directory not found.</h1></body></html>');
  }

  // -------------------------------------------------------------------------
  // Admin

  private async admin(req: IncomingMessage, res: ServerResponse, what: string): Promise<void> {
    const body = req.method === 'POST' || req.method === 'PUT' ? (await readBody(req)).toString('utf8') : '';
    if (what === 'stats') {
      if (req.method === 'DELETE' || req.method === 'POST') this.resetStats();
      send(res, 200, { 'Content-Type': JSON_TYPE }, JSON.stringify(this.stats));
      return;
    }
    if (what === 'faults') {
      if (body) {
        let f: Partial<FaultProfile> & { latency?: unknown };
        let latency: Latency;
        try {
          f = JSON.parse(body) as Partial<FaultProfile> & { latency?: unknown };
          if (typeof f !== 'object' || f === null || Array.isArray(f)) throw new Error('not an object');
        } catch {
          send(res, 400, { 'Content-Type': JSON_TYPE }, errorJson('POST a JSON object such as {"errorRate":0.05} or {"latency":{"dist":"lognormal","p50":40,"p95":200}}.'));
          return;
        }
        const { latency: rawLatency, ...rates } = f;
        for (const [k, v] of Object.entries(rates)) {
          if (!(k in NO_FAULTS) || typeof v !== 'number' || !(v >= 0 && v <= 1)) {
            send(res, 400, { 'Content-Type': JSON_TYPE }, errorJson(`Fault "${k}" must be one of ${Object.keys(NO_FAULTS).join(', ')} with a rate between 0 and 1.`));
            return;
          }
        }
        if ('latency' in f) {
          try {
            latency = checkLatency(rawLatency);
          } catch (e) {
            send(res, 400, { 'Content-Type': JSON_TYPE }, errorJson(e instanceof Error ? e.message : String(e)));
            return;
          }
          this.cfg.latency = latency;
        }
        this.cfg.faults = { ...this.cfg.faults, ...rates };
      }
      send(res, 200, { 'Content-Type': JSON_TYPE }, JSON.stringify({ ...this.cfg.faults, latency: this.cfg.latency ?? 0 }));
      return;
    }
    if (what.startsWith('move-division')) {
      const code = Number(new URLSearchParams((req.url ?? '').split('?')[1] ?? '').get('division'));
      if (!this.cfg.world.divisions.has(code)) {
        send(res, 404, { 'Content-Type': JSON_TYPE }, errorJson(`No division ${code}.`));
        return;
      }
      this.moveDivision(code);
      send(res, 200, { 'Content-Type': JSON_TYPE }, JSON.stringify({ division: code, DivisionMoveDate: this.cfg.world.moveDates.get(code) }));
      return;
    }
    if (what === 'revoke') {
      this.cfg.oauth.revokeAll();
      send(res, 204, {}, '');
      return;
    }
    send(res, 404, { 'Content-Type': JSON_TYPE }, errorJson('Unknown admin endpoint; use /__sim/stats, /__sim/faults, /__sim/revoke, /__sim/move-division?division=N.'));
  }

  // -------------------------------------------------------------------------
  // OAuth

  private async authorize(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): Promise<void> {
    let params = query;
    if (req.method === 'POST') params = new URLSearchParams((await readBody(req)).toString('utf8'));
    const clientId = params.get('client_id') ?? '';
    const redirectUri = params.get('redirect_uri') ?? '';
    const state = params.get('state');
    const o = this.cfg.oauth;
    if (clientId.toLowerCase() !== o.clientId.toLowerCase() || redirectUri !== o.redirectUri || params.get('response_type') !== 'code') {
      send(res, 400, { 'Content-Type': 'text/html; charset=utf-8' }, '<html><body><h1>Invalid request</h1><p>Unknown client_id, redirect_uri or response_type.</p></body></html>');
      return;
    }
    const approve = req.method === 'POST' ? params.get('approve') === '1' || params.get('approve') === 'true' : params.get('sim_auto_approve') === '1';
    if (!approve) {
      const hidden = ['client_id', 'redirect_uri', 'response_type', 'state', 'sim_user']
        .filter((k) => params.get(k) !== null)
        .map((k) => `<input type="hidden" name="${k}" value="${(params.get(k) ?? '').replace(/&/g, '&amp;').replace(/"/g, '&quot;')}">`)
        .join('');
      send(res, 200, { 'Content-Type': 'text/html; charset=utf-8' },
        `<!DOCTYPE html><html><head><title>Exact Online (simulator) - Inloggen</title></head><body><h1>Exact Online simulator</h1><p>The application requests access to your Exact Online data as ${this.cfg.world.defaultUser.fullName}.</p><form method="post" action="/api/oauth2/auth">${hidden}<input type="hidden" name="approve" value="1"><button type="submit">Toestaan</button></form></body></html>`);
      return;
    }
    const userId = params.get('sim_user') ?? this.cfg.world.defaultUser.id;
    const code = o.issueCode(this.cfg.world.users.has(userId) ? userId : this.cfg.world.defaultUser.id, clientId, redirectUri);
    const sep = redirectUri.includes('?') ? '&' : '?';
    const location = `${redirectUri}${sep}code=${encodeURIComponent(code)}${state !== null ? `&state=${encodeURIComponent(state)}` : ''}`;
    send(res, 302, { Location: location, 'Content-Type': 'text/html' }, `<html><body>Object moved to <a href="${location}">here</a>.</body></html>`);
  }

  private async tokenEndpoint(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') {
      send(res, 405, { 'Content-Type': JSON_TYPE }, JSON.stringify({ error: 'invalid_request', error_description: 'Use POST.' }));
      return;
    }
    const form = new URLSearchParams((await readBody(req)).toString('utf8'));
    // Token errors that count (TooEarlyToRefreshTokens) share the error allowance of API calls, under the token endpoint.
    const owner = form.get('grant_type') === 'refresh_token' ? this.cfg.oauth.refreshOwner(form.get('refresh_token') ?? '') : undefined;
    const blocked = owner ? this.cfg.limiter.blockedUntil(owner.clientId, owner.userId, TOKEN_DIVISION, TOKEN_ENDPOINT) : undefined;
    if (owner && blocked !== undefined) {
      this.counters.errors++;
      this.cfg.limiter.recordError(owner.clientId, owner.userId, TOKEN_DIVISION, TOKEN_ENDPOINT);
      const until = this.cfg.limiter.blockedUntil(owner.clientId, owner.userId, TOKEN_DIVISION, TOKEN_ENDPOINT) ?? blocked;
      send(res, 429, { 'Content-Type': JSON_TYPE, 'Cache-Control': 'no-store', 'Retry-After': String(Math.ceil((until - this.cfg.clock.now()) / 1000)) },
        JSON.stringify({ error: 'access_denied', error_description: `Too many errors: token requests of this app and user are blocked until ${new Date(until).toISOString()}.` }));
      return;
    }
    const r = this.cfg.oauth.token(form);
    if (r.errorFor) {
      this.counters.errors++;
      this.cfg.limiter.recordError(r.errorFor.clientId, r.errorFor.userId, TOKEN_DIVISION, TOKEN_ENDPOINT);
    }
    send(res, r.status, { 'Content-Type': JSON_TYPE, 'Cache-Control': 'no-store', ...(r.headers ?? {}) }, r.body);
  }

  // -------------------------------------------------------------------------
  // REST API

  private async api(req: IncomingMessage, res: ServerResponse, rest: string, query: URLSearchParams): Promise<void> {
    const cfg = this.cfg;
    const accept = req.headers.accept ?? '';
    const json = /json/i.test(accept);
    this.counters.calls++;

    // Fault injection happens before anything else, like a flaky network or gateway.
    const f = cfg.faults;
    const delay = drawLatency(cfg.latency, this.latencyRng);
    if (cfg.latency !== undefined) {
      const l = this.counters.latency;
      l.calls++;
      l.totalMs += delay;
      if (delay > l.maxMs) l.maxMs = delay;
    }
    if (f.resetRate > 0 && this.rng.chance(f.resetRate)) {
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
      req.socket.destroy();
      return;
    }
    // The latency is the time to the answer, counted from the request's
    // arrival: the simulator does its work inside it, as the real API's own
    // processing is part of what its clients see as latency. So its CPU time
    // adds nothing to a call unless the work takes longer than the latency.
    if (delay > 0) holdUntil(res, performance.now() + delay);
    const truncate = f.truncateRate > 0 && this.rng.chance(f.truncateRate);

    const auth = req.headers.authorization ?? '';
    const m = /^Bearer\s+(.+)$/i.exec(auth);
    if (!m) {
      this.counters.errors++;
      send(res, 401, { 'Content-Type': 'text/html; charset=utf-8', Location: '/api/oauth2/auth' }, OBJECT_MOVED);
      return;
    }
    const grant = cfg.oauth.check(m[1].trim());
    if (!grant) {
      this.counters.errors++;
      // An expired token still names its app and user: the 401 counts against their error allowance.
      const owner = cfg.oauth.owner(m[1].trim());
      if (owner) {
        const who = cfg.world.users.get(owner.userId) ?? cfg.world.defaultUser;
        const target = this.resolve(rest, who);
        if (target) cfg.limiter.recordError(owner.clientId, who.id, target.division, target.epName);
      }
      send(res, 401, { 'Content-Type': JSON_TYPE, 'WWW-Authenticate': 'Bearer error="invalid_token"' }, errorJson('Unauthorized: the access token is invalid or has expired.'));
      return;
    }
    const user = cfg.world.users.get(grant.userId) ?? cfg.world.defaultUser;
    const target = this.resolve(rest, user);
    if (!target) {
      this.plain(res, 404, json, 'Not found', {});
      this.counters.errors++;
      return;
    }
    const { division, info, key, rawKey, nav, count, epName, beta } = target;
    this.counters.byDivision[String(division)] = (this.counters.byDivision[String(division)] ?? 0) + 1;
    this.counters.byEndpoint[epName] = (this.counters.byEndpoint[epName] ?? 0) + 1;

    const blocked = cfg.limiter.blockedUntil(grant.clientId, user.id, division, epName);
    if (blocked !== undefined) {
      this.counters.status429++;
      this.counters.errors++;
      // A call while blocked is another error: errors that go on make the block longer.
      cfg.limiter.recordError(grant.clientId, user.id, division, epName);
      const until = cfg.limiter.blockedUntil(grant.clientId, user.id, division, epName) ?? blocked;
      this.plain(res, 429, json, `Too many errors: this app is blocked for division ${division} and endpoint ${epName} until ${new Date(until).toISOString()}.`, { 'Retry-After': String(Math.ceil((until - cfg.clock.now()) / 1000)) });
      return;
    }
    if (f.status429Rate > 0 && this.rng.chance(f.status429Rate)) {
      this.counters.status429++;
      this.counters.errors++;
      this.plain(res, 429, json, 'Too many requests.', cfg.limiter.stormHeaders());
      return;
    }
    const fail = (status: number, message: string, headers: Record<string, string> = {}) => {
      this.counters.errors++;
      if (status === 400 || status === 401 || status === 403 || status === 404) cfg.limiter.recordError(grant.clientId, user.id, division, epName);
      this.plain(res, status, json, message, headers, truncate);
    };
    const d = cfg.world.divisions.get(division);
    if (!d || !user.access.has(division)) {
      fail(403, 'Forbidden', { Reason: 'NoDivisionAccess' });
      return;
    }
    // System-wide tables stay readable from a blocked division's URL; its own data does not.
    if (cfg.world.blocked.has(division) && info?.ep.scope !== 'system') {
      fail(403, 'Forbidden', { Reason: 'DivisionBlocked' });
      return;
    }
    const limit = cfg.limiter.take(grant.clientId, division);
    if (!limit.ok) {
      this.counters.status429++;
      this.counters.errors++;
      this.plain(res, 429, json, 'Too many requests.', limit.headers);
      return;
    }
    if (!info) {
      fail(404, 'Not found', limit.headers);
      return;
    }
    if (f.errorRate > 0 && this.rng.chance(f.errorRate)) {
      this.counters.errors++;
      this.plain(res, this.rng.chance(0.5) ? 500 : 503, json, 'An internal error occurred (simulated).', limit.headers, truncate);
      return;
    }
    const call: ApiCall = {
      user, clientId: grant.clientId, division, info, count, query, json, truncate,
      ...(key !== undefined ? { key } : {}),
      ...(nav !== undefined ? { nav } : {}),
      entityBase: info.ep.needsDivision || info.ep.kind !== 'current' ? `${cfg.baseUrl}/api/v1/${beta ? 'beta/' : ''}${division}/` : `${cfg.baseUrl}/api/v1/`,
      selfUrl: `${cfg.baseUrl}/api/v1/${rest}`,
      rateHeaders: limit.headers,
    };
    try {
      const method = req.method ?? 'GET';
      // POST-only action endpoints (PrintedSalesInvoices, AcceptQuotation, …) refuse GET like any other method they lack.
      if (!info.ep.methods.includes(method as 'GET')) {
        throw new HttpError(405, `The requested resource does not support http method '${method}'.`);
      }
      if (rawKey !== undefined && !validKeyLiteral(rawKey, info.ep)) throw new HttpError(400, 'Bad Request - Error in query syntax.');
      if (method === 'GET') this.get(res, call);
      else if (method === 'POST') await this.post(req, res, call);
      else if (method === 'PUT') await this.put(req, res, call);
      else if (method === 'DELETE') this.del(res, call);
      else throw new HttpError(405, `The requested resource does not support http method '${method}'.`);
    } catch (e) {
      if (e instanceof HttpError) fail(e.status, e.message, { ...limit.headers, ...e.headers });
      else if (e instanceof ODataError) fail(e.status, e.message, limit.headers);
      else throw e;
    }
  }

  /**
   * Route an API path: current/Me and system/Users (no division: the user's
   * current one), beta/{division}/…, {division}/…; then the endpoint, with a
   * key `(…)` on its entity segment and optionally a navigation property.
   * Undefined when the path has no division.
   */
  private resolve(rest: string, user: SimUser): { division: number; info?: EpInfo; key?: string; rawKey?: string; nav?: string; count: boolean; epName: string; beta: boolean } | undefined {
    const segs = rest.split('/').filter((s) => s.length > 0);
    let division: number;
    let pathSegs: string[];
    let beta = false;
    const divisionless = this.divisionless.some((p) => p.every((seg, i) => (i === p.length - 1 ? (segs[i] ?? '').toLowerCase().replace(/\(.*$/, '') === seg : segs[i]?.toLowerCase() === seg)));
    if (divisionless) {
      division = user.currentDivision;
      pathSegs = segs;
    } else if (segs[0]?.toLowerCase() === 'beta' && /^\d+$/.test(segs[1] ?? '')) {
      division = Number(segs[1]);
      pathSegs = segs.slice(2);
      beta = true;
    } else if (/^\d+$/.test(segs[0] ?? '')) {
      division = Number(segs[0]);
      pathSegs = segs.slice(1);
    } else {
      return undefined;
    }
    let count = false;
    if (pathSegs[pathSegs.length - 1] === '$count') {
      count = true;
      pathSegs = pathSegs.slice(0, -1);
    }
    let key: string | undefined;
    let rawKey: string | undefined;
    let nav: string | undefined;
    let info: EpInfo | undefined;
    for (let cut = pathSegs.length; cut >= 1 && !info; cut--) {
      const head = pathSegs.slice(0, cut);
      const last = head[head.length - 1];
      const km = /^(.*?)\((.*)\)$/.exec(last);
      const entitySegs = km ? [...head.slice(0, -1), km[1]] : head;
      const url = (beta ? 'beta/' : '') + entitySegs.join('/');
      const found = this.byUrl.get(url.toLowerCase());
      if (found && (cut === pathSegs.length || (km && cut === pathSegs.length - 1))) {
        info = found;
        if (km) {
          rawKey = km[2];
          key = parseKeyLiteral(km[2]);
        }
        if (cut === pathSegs.length - 1) nav = pathSegs[pathSegs.length - 1];
      }
    }
    const epName = info?.ep.url ?? pathSegs.join('/');
    return {
      division, count, epName, beta,
      ...(info ? { info } : {}),
      ...(key !== undefined ? { key } : {}),
      ...(rawKey !== undefined ? { rawKey } : {}),
      ...(nav !== undefined ? { nav } : {}),
    };
  }

  private plain(res: ServerResponse, status: number, json: boolean, message: string, headers: Record<string, string>, truncate = false): void {
    send(res, status, { 'Content-Type': json ? JSON_TYPE : 'application/xml; charset=utf-8', ...headers }, json ? errorJson(message) : errorXml(message), truncate);
  }

  private ok(res: ServerResponse, call: ApiCall, status: number, body: string, contentType: string): void {
    send(res, status, { 'Content-Type': contentType, ...call.rateHeaders }, body, call.truncate);
  }

  // -------------------------------------------------------------------------
  // Reads

  private get(res: ServerResponse, call: ApiCall): void {
    const { ep } = call.info;
    const q = call.query;
    const url = ep.url.toLowerCase();
    if (url === 'read/sync/sync/synctimestamp') return this.syncTimestamp(res, call);
    const select = q.get('$select');
    const top = q.get('$top') !== null ? Number(q.get('$top')) : undefined;
    if (top !== undefined && (!Number.isInteger(top) || top < 0)) throw new ODataError(400, "Invalid value for '$top'.");
    const skip = q.get('$skip') !== null ? Number(q.get('$skip')) : 0;
    if (!Number.isInteger(skip) || skip < 0) throw new ODataError(400, "Invalid value for '$skip'.");
    if (ep.selectRequired && !select && call.key === undefined && !call.count) {
      if (ep.kind === 'regular' || ep.kind === 'beta' || ep.kind === 'read') {
        if (top !== 1) throw new ODataError(400, 'Please add a $select or a $top=1 statement to the query string.');
      } else {
        throw new ODataError(400, '$select is mandatory for this endpoint. Please add a $select statement to the query string.');
      }
    }
    const filterText = q.get('$filter');
    const filter = filterText ? parseFilter(filterText, call.info.cols, call.info.typeName) : undefined;
    // Sync endpoints take exactly `Timestamp gt nL`; a lenient simulator also takes ge, a missing L, or none.
    if (ep.kind === 'sync' && (this.cfg.strictSyncFilter ? !filter?.onlyTimestampGt : filter && !filter.timestampLowerBoundOnly)) {
      throw new ODataError(400, 'This $filter parameter is not supported for this resource');
    }
    if (ep.mandatoryFilterColumns.length > 0 && this.cfg.mandatoryFiltering && call.key === undefined) {
      const hit = filter && ep.mandatoryFilterColumns.some((c) => filter.columns.has(c));
      if (!hit) {
        throw new ODataError(400, `This endpoint has mandatory filtering applied. Please add a $filter on one of these fields: ${ep.mandatoryFilterColumns.join(', ')}.`);
      }
    }
    const plan = select && select.trim() !== '*' ? this.selectPlan(call.info, select) : call.info.plan;
    const expandSet = new Set((q.get('$expand') ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean));
    for (const e of expandSet) {
      if (!call.info.cols.has(e)) throw new ODataError(400, `No property '${e}' exists in type '${call.info.typeName}'.`);
    }
    const ctx: RenderContext = {
      entityBase: call.entityBase,
      ep,
      cols: plan,
      typeName: call.info.typeName,
      ...(expandSet.size > 0
        ? {
            expand: (name: string, row: Row) => (expandSet.has(name.toLowerCase()) ? this.navRows(call.division, ep, name, row) : undefined),
            expandCols: (name: string) => this.navInfo(name),
          }
        : {}),
    };

    // Navigation: SalesInvoices(guid'…')/SalesInvoiceLines
    if (call.nav !== undefined && call.key !== undefined) {
      const parent = this.lookup(call, call.key);
      const sub = this.navInfo(call.nav);
      if (!parent || !sub) throw new HttpError(404, 'Not found');
      const rows = this.navRows(call.division, ep, call.nav, parent) ?? [];
      const subCtx: RenderContext = { entityBase: call.entityBase, ep: sub.ep, cols: sub.cols, typeName: sub.typeName };
      this.writePage(res, call, subCtx, rows, undefined);
      return;
    }
    if (call.key !== undefined) {
      const row = this.lookup(call, call.key);
      const rows = row && (!filter || filter.test(row)) ? [row] : [];
      if (call.count) {
        this.ok(res, call, 200, String(rows.length), 'text/plain; charset=utf-8');
        return;
      }
      this.writePage(res, call, ctx, rows, undefined);
      return;
    }

    const pageSize = ep.pageSize;
    const orderby = q.get('$orderby');
    const skiptoken = q.get('$skiptoken');
    const inline = q.get('$inlinecount') === 'allpages';

    // World tables and ordered queries: materialise (small or explicitly asked for).
    const isWorld = WORLD_TABLE_URLS.has(url);
    if (ep.kind === 'sync') {
      const ds = this.datasets.for(ep);
      let after = filter?.timestampAfter ?? 0;
      if (skiptoken) after = Math.max(after, Number(skiptoken.replace(/[Ll]$/, '')) || 0);
      if (call.count) {
        let n = 0;
        for (const _ of this.store.scanSince(ds, call.division, after)) n++;
        this.ok(res, call, 200, String(n), 'text/plain; charset=utf-8');
        return;
      }
      const limit = Math.min(pageSize, top ?? Infinity);
      if (call.json && !ctx.expand && ds.entity !== 0 && this.store.untouched(ds, call.division)) {
        // Nothing written: the page is a run of base rows, rendered (or cached) by number.
        const n = ds.count(call.division);
        const offset = this.store.tsOffset(call.division);
        const first = Math.max(0, Math.min(n, Math.floor(after) - offset - baseTimestamp(ds.entity, 0) + 1));
        const end = Math.min(n, first + limit);
        const more = end < n;
        const next = more && end > first && (top === undefined || top > pageSize) ? this.nextLink(call, { $skiptoken: `${baseTimestamp(ds.entity, end - 1) + offset}L`, $top: top !== undefined ? String(top - (end - first)) : null }) : undefined;
        this.writeBasePage(res, call, ctx, ds, first, end, next);
        return;
      }
      const rows: Row[] = [];
      let more = false;
      for (const r of this.store.scanSince(ds, call.division, after)) {
        if (rows.length >= limit) {
          more = true;
          break;
        }
        rows.push(r);
      }
      const next = more && (top === undefined || top > pageSize) ? this.nextLink(call, { $skiptoken: `${Number(rows[rows.length - 1].Timestamp)}L`, $top: top !== undefined ? String(top - rows.length) : null }) : undefined;
      this.writePage(res, call, ctx, rows, next);
      return;
    }

    const pageLimit = Math.min(pageSize, top ?? Infinity);
    const pageFrom = () => skip + (skiptoken && /^\d+$/.test(skiptoken) ? Number(skiptoken) : 0);
    const skipNext = (offset: number, got: number, total: number) =>
      offset + got < total && (top === undefined || top > got)
        ? this.nextLink(call, { $skip: String(offset + got), $skiptoken: null, $top: top !== undefined ? String(top - got) : null })
        : undefined;

    // Rows pinned by key ($filter=ID eq guid'…', or an `or` list of them): looked up, not scanned for.
    const keyDs = isWorld ? undefined : this.datasets.for(ep);
    const pinned = keyDs && filter ? filter.pinned(keyDs.key) : undefined;
    if (keyDs && filter && pinned && pinned.length <= MAX_PINNED_KEYS) {
      const found = new Map<number, Row>();
      for (const v of pinned) {
        if (typeof v !== 'string') continue;
        const code = this.store.codeOf(keyDs, call.division, v);
        if (code === undefined || found.has(code)) continue;
        const r = this.store.rowAt(keyDs, call.division, code);
        if (r && filter.test(r)) found.set(code, r);
      }
      // The order a scan gives: base rows by index, then inserted rows in insertion order.
      const scanOrder = (c: number) => (c >= 0 ? c : 2 ** 40 - c);
      let rows = [...found.entries()].sort(([a], [b]) => scanOrder(a) - scanOrder(b)).map(([, r]) => r);
      if (orderby) {
        const compare = parseOrderBy(orderby, call.info.cols, call.info.typeName);
        rows = rows.sort(compare);
      }
      if (call.count) {
        this.ok(res, call, 200, String(rows.length), 'text/plain; charset=utf-8');
        return;
      }
      const offset = pageFrom();
      const page = rows.slice(offset, offset + pageLimit);
      this.writePage(res, call, ctx, page, skipNext(offset, page.length, rows.length), inline ? rows.length : undefined);
      return;
    }

    if (isWorld || orderby) {
      if (keyDs) {
        // A dataset in order: a sort index (position codes), built once per query shape and reused for every page.
        const keys = orderby ? orderByKeys(orderby, call.info.cols, call.info.typeName) : [];
        const codes = this.sortedCodes(keyDs, call.division, keys, filter, filterText ?? '');
        if (call.count) {
          this.ok(res, call, 200, String(codes.length), 'text/plain; charset=utf-8');
          return;
        }
        const offset = pageFrom();
        const rows: Row[] = [];
        for (let i = offset; i < codes.length && rows.length < pageLimit; i++) {
          const r = this.store.rowAt(keyDs, call.division, codes[i]);
          if (r) rows.push(r);
        }
        this.writePage(res, call, ctx, rows, skipNext(offset, rows.length, codes.length), inline ? codes.length : undefined);
        return;
      }
      const compare = orderby ? parseOrderBy(orderby, call.info.cols, call.info.typeName) : undefined;
      const all = worldTable(this.cfg.world, url, call.division, call.user, this.cfg.clock.now()).filter((r) => !filter || filter.test(r));
      if (call.count) {
        this.ok(res, call, 200, String(all.length), 'text/plain; charset=utf-8');
        return;
      }
      if (compare) all.sort(compare);
      const offset = pageFrom();
      const rows = all.slice(offset, offset + pageLimit);
      this.writePage(res, call, ctx, rows, skipNext(offset, rows.length, all.length), inline ? all.length : undefined);
      return;
    }

    // Streaming scan in stable order, resumable from a $skiptoken key.
    let from: Position = { phase: 0, index: 0 };
    if (skiptoken) {
      const k = parseKeyLiteral(skiptoken);
      const ds = this.datasets.for(ep);
      const p = this.store.positionAfter(ds, call.division, k);
      if (!p) throw new ODataError(400, `Invalid $skiptoken '${skiptoken}'.`);
      from = p;
    }
    if (call.count) {
      const ds = this.datasets.for(ep);
      let n = 0;
      if (!filter) n = this.store.count(ds, call.division);
      else for (const x of this.iterRows(call, ep, from)) if (filter.test(x.row)) n++;
      this.ok(res, call, 200, String(n), 'text/plain; charset=utf-8');
      return;
    }
    let skipLeft = skip;
    if (!filter && !inline && skipLeft > 0 && from.phase === 0 && this.store.untouched(this.datasets.for(ep), call.division)) {
      // Nothing written: positions are plain indexes, so jump instead of generating skipped rows.
      from = { phase: 0, index: from.index + skipLeft };
      skipLeft = 0;
    }
    const limit = Math.min(pageSize, top ?? Infinity);
    const fastDs = this.datasets.for(ep);
    if (call.json && !ctx.expand && !filter && !inline && skipLeft === 0 && from.phase === 0 && fastDs.entity !== 0 && this.store.untouched(fastDs, call.division)) {
      // Nothing written: rows are numbered base rows, so render (or reuse) exactly the page's rows.
      const n = fastDs.count(call.division);
      const start = Math.min(n, from.index);
      const end = Math.min(n, start + limit);
      const next =
        end < n && end > start && (top === undefined || top > end - start)
          ? this.nextLink(call, { $skiptoken: `guid'${this.cfg.world.guid(fastDs.entity, call.division, end - 1)}'`, $skip: null, $top: top !== undefined ? String(top - (end - start)) : null })
          : undefined;
      this.writeBasePage(res, call, ctx, fastDs, start, end, next);
      return;
    }
    const rows: Row[] = [];
    let skipped = 0;
    let more = false;
    let total = 0;
    for (const x of this.iterRows(call, ep, from)) {
      if (filter && !filter.test(x.row)) continue;
      total++;
      if (skipped < skipLeft) {
        skipped++;
        continue;
      }
      if (rows.length >= limit) {
        more = true;
        if (!inline) break;
        continue;
      }
      rows.push(x.row);
    }
    const last = rows[rows.length - 1];
    const next =
      more && last && (top === undefined || top > rows.length)
        ? this.nextLink(call, { $skiptoken: skiptokenOf(ep, last), $skip: null, $top: top !== undefined ? String(top - rows.length) : null })
        : undefined;
    this.writePage(res, call, ctx, rows, next, inline ? total : undefined);
  }

  private *iterRows(call: ApiCall, ep: ExactEndpoint, from: Position): Generator<{ row: Row; pos: Position }> {
    const ds = this.datasets.for(ep);
    yield* this.store.scan(ds, call.division, from);
  }

  /**
   * The position codes (Store.code) of a dataset's rows that pass `filter`,
   * in `$orderby` order (ties in scan order). Built with one scan that keeps
   * only each row's code and sort values — not the row — and cached per
   * (dataset, division, order, filter) until the next write, so paging
   * through a million ordered rows sorts once, not once per page.
   */
  private sortedCodes(ds: Dataset, div: number, keys: readonly { name: string; desc: boolean }[], filter: CompiledFilter | undefined, filterText: string): Int32Array {
    const cacheKey = `${ds.name}|${div}|${keys.map((k) => `${k.name} ${k.desc ? 'd' : 'a'}`).join(',')}|${filterText}`;
    const hit = this.sortCache.get(cacheKey);
    if (hit && hit.version === this.store.version) {
      // Most recently used last.
      this.sortCache.delete(cacheKey);
      this.sortCache.set(cacheKey, hit);
      return hit.codes;
    }
    const vals: SimValue[][] = keys.map(() => []);
    const found: number[] = [];
    for (const x of this.store.scan(ds, div, { phase: 0, index: 0 }, false)) {
      if (filter && !filter.test(x.row)) continue;
      found.push(Store.code(x.pos));
      for (let k = 0; k < keys.length; k++) vals[k].push(x.row[keys[k].name] ?? null);
    }
    const order = new Uint32Array(found.length);
    for (let i = 0; i < order.length; i++) order[i] = i;
    if (keys.length > 0) {
      // Normalise each sort column once (numbers and booleans to a Float64Array with nulls
      // lowest, strings lower-cased, as Exact's collation compares them), not per comparison.
      const cols = vals.map((col): ((a: number, b: number) => number) => {
        if (col.every((v) => v === null || typeof v === 'number' || typeof v === 'boolean')) {
          const f = Float64Array.from(col, (v) => (v === null ? -Infinity : Number(v)));
          return (a, b) => (f[a] < f[b] ? -1 : f[a] > f[b] ? 1 : 0);
        }
        if (col.every((v) => v === null || typeof v === 'string')) {
          const l = col.map((v) => (v === null ? null : (v as string).toLowerCase()));
          return (a, b) => {
            const x = l[a];
            const y = l[b];
            if (x === null || y === null) return x === y ? 0 : x === null ? -1 : 1;
            return x < y ? -1 : x > y ? 1 : 0;
          };
        }
        return (a, b) => compareCells(col[a], col[b]);
      });
      order.sort((a, b) => {
        for (let k = 0; k < cols.length; k++) {
          const c = cols[k](a, b);
          if (c !== 0) return keys[k].desc ? -c : c;
        }
        return a - b;
      });
    }
    const codes = new Int32Array(found.length);
    for (let i = 0; i < codes.length; i++) codes[i] = found[order[i]];
    this.sortCache.set(cacheKey, { version: this.store.version, codes });
    while (this.sortCache.size > SORT_CACHE_ENTRIES) this.sortCache.delete(this.sortCache.keys().next().value as string);
    return codes;
  }

  private selectPlan(info: EpInfo, select: string): ColPlan[] {
    const known = info.selects.get(select);
    if (known) return known;
    const names = select.split(',').map((s) => s.trim()).filter(Boolean);
    const plan = names.map((n) => {
      const c = info.cols.get(n.toLowerCase());
      if (!c) throw new ODataError(400, `No property '${n}' exists in type '${info.typeName}'.`);
      return planColumns([c])[0];
    });
    if (info.selects.size >= 64) info.selects.clear();
    info.selects.set(select, plan);
    return plan;
  }

  private nextLink(call: ApiCall, changes: Record<string, string | null>): string {
    const p = new URLSearchParams(call.query);
    for (const [k, v] of Object.entries(changes)) {
      if (v === null) p.delete(k);
      else p.set(k, v);
    }
    const qs = [...p.entries()].map(([k, v]) => `${k}=${encodeURIComponent(v).replace(/%24/g, '$').replace(/%2C/g, ',').replace(/%27/g, "'")}`).join('&');
    return `${call.entityBase}${call.info.ep.url}?${qs}`;
  }

  private writePage(res: ServerResponse, call: ApiCall, ctx: RenderContext, rows: readonly Row[], next: string | undefined, inlineCount?: number): void {
    if (!call.json) {
      this.ok(res, call, 200, feedXml(ctx, rows, next, call.selfUrl, this.cfg.clock.now()), XML_TYPE);
      return;
    }
    const bare = this.cfg.bareArrayOnTop && call.query.has('$top') && !next;
    this.ok(res, call, 200, pageJson(ctx, rows, next, inlineCount, bare), JSON_TYPE);
  }

  /** A JSON page of base rows [start, end) of an untouched dataset, through the fragment cache. */
  private writeBasePage(res: ServerResponse, call: ApiCall, ctx: RenderContext, ds: Dataset, start: number, end: number, next: string | undefined): void {
    const parts = new Array<string>(Math.max(0, end - start));
    const div = call.division;
    // Bulk and sync pages (1,000 rows) are read once by the clients that use
    // them, and so is any page seen for the first time: caching those rows
    // would only feed the garbage collector.
    const id = end - start > 100 ? -1 : this.fragments.context(ctx);
    if (id < 0 || !this.fragments.seenBefore(id, start)) {
      for (let i = start; i < end; i++) parts[i - start] = rowJson(ctx, this.store.generate(ds, div, i));
    } else {
      for (let i = start; i < end; i++) parts[i - start] = this.fragments.get(id, ctx, i, () => this.store.generate(ds, div, i));
    }
    const bare = this.cfg.bareArrayOnTop && call.query.has('$top') && !next;
    this.ok(res, call, 200, pageJsonFromRows(parts, next, undefined, bare), JSON_TYPE);
  }

  private lookup(call: ApiCall, key: string): Row | undefined {
    const url = call.info.ep.url.toLowerCase();
    if (WORLD_TABLE_URLS.has(url)) {
      const k = key.toLowerCase();
      return worldTable(this.cfg.world, url, call.division, call.user, this.cfg.clock.now()).find((r) => String(r[call.info.ep.key[0] ?? 'ID']).toLowerCase() === k);
    }
    return this.store.get(this.datasets.for(call.info.ep), call.division, key);
  }

  private navInfo(name: string): { cols: ColPlan[]; ep: ExactEndpoint; typeName: string } | undefined {
    if (name.toLowerCase() !== 'salesinvoicelines') return undefined;
    const info = this.byUrl.get('salesinvoice/salesinvoicelines');
    return info ? { cols: info.plan, ep: info.ep, typeName: info.typeName } : undefined;
  }

  private navRows(div: number, ep: ExactEndpoint, name: string, row: Row): Row[] | undefined {
    if (name.toLowerCase() !== 'salesinvoicelines' || !ep.url.toLowerCase().endsWith('salesinvoices')) return undefined;
    return this.invoiceLinesOf(div, String(row.InvoiceID));
  }

  /** The live lines of an invoice: its generated lines (with changes) and inserted ones. */
  invoiceLinesOf(div: number, invoiceId: string): Row[] {
    const lines = this.modelled.get('SalesInvoiceLines') as Dataset;
    const invoices = this.modelled.get('SalesInvoices') as Dataset;
    const out: Row[] = [];
    const idx = this.store.baseIndex(invoices, div, invoiceId);
    if (idx !== undefined) {
      const { count, first } = invoiceLines(idx);
      for (let j = first; j < first + count; j++) {
        const r = this.store.get(lines, div, this.cfg.world.guid(ENTITY.SalesInvoiceLines, div, j));
        if (r) out.push(r);
      }
    }
    const o = this.store.division(div).peek('SalesInvoiceLines');
    if (o) {
      for (const k of o.inserted) {
        const r = o.rows.get(k);
        if (r && !o.deleted.has(k) && String(r.InvoiceID).toLowerCase() === invoiceId.toLowerCase()) out.push(r);
      }
    }
    return out;
  }

  private syncTimestamp(res: ServerResponse, call: ApiCall): void {
    const raw = call.query.get('modified') ?? '';
    const m = /^datetime'(.*)'$/i.exec(raw.trim());
    const parsed = m ? Date.parse(/[zZ]|[+-]\d\d:\d\d$/.test(m[1]) ? m[1] : `${m[1]}Z`) : NaN;
    if (Number.isNaN(parsed)) throw new ODataError(400, "Please provide the parameter 'modified' as datetime'yyyy-mm-ddThh:mm:ss'.");
    // Wall-clock Amsterdam time (dutchLocalTime) back to the instant the write log keeps.
    const ms = this.cfg.dutchLocalTime && m && !/[zZ]|[+-]\d\d:\d\d$/.test(m[1]) ? parsed - amsterdamOffsetMs(parsed - 3_600_000) : parsed;
    const endPoint = (call.query.get('endPoint') ?? '').replace(/^'|'$/g, '');
    let ts = 1;
    if (ms > WORLD_DATE) {
      ts = WRITE_TIMESTAMP_START;
      for (const w of this.writeLog.get(call.division) ?? []) if (w.at < ms) ts = w.ts;
    }
    const ctx: RenderContext = { entityBase: call.entityBase, ep: call.info.ep, cols: call.info.plan, typeName: call.info.typeName };
    this.writePage(res, call, ctx, [{ Modified: ms, API: endPoint || null, TimeStampAsBigInt: ts }], undefined);
  }

  // -------------------------------------------------------------------------
  // Writes

  private async readJsonBody(req: IncomingMessage, info: EpInfo): Promise<Record<string, unknown>> {
    const text = (await readBody(req)).toString('utf8');
    let body: unknown;
    try {
      body = text.trim() === '' ? {} : JSON.parse(text);
    } catch {
      throw new HttpError(400, 'Error processing request stream. The request body is not valid JSON.');
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'Error processing request stream. A JSON object was expected.');
    for (const k of Object.keys(body)) {
      if (k === '__metadata') continue;
      if (!info.cols.has(k.toLowerCase())) {
        throw new HttpError(400, `Error processing request stream. The property name '${k}' specified for type '${info.typeName}' is not valid.`);
      }
    }
    return body as Record<string, unknown>;
  }

  /** Convert JSON values to stored cells by EDM type; 400 on a wrong type. */
  private coerce(info: EpInfo, body: Record<string, unknown>, forInsert: boolean): Row {
    const out: Row = {};
    for (const [k, v] of Object.entries(body)) {
      const col = info.cols.get(k.toLowerCase());
      if (!col || isNavigationCol(col)) continue;
      // Read-only fields are ignored, as Exact does; create-only ones only count on POST.
      if (col.readOnly || (!forInsert && col.createOnly)) continue;
      const value = coerceValue(col, v, info.typeName, this.cfg.dutchLocalTime);
      const allowed = this.enums.get(`${info.ep.url.toLowerCase()}|${col.name}`);
      if (allowed && value !== null && !allowed.has(String(value))) {
        throw new HttpError(500, `${col.name}: '${String(value)}' is not a valid value; use one of ${[...allowed].join(', ')}.`);
      }
      out[col.name] = value;
    }
    return out;
  }

  /** Whether another live account of the division has this (padded) Code. */
  private accountCodeTaken(div: number, code: string, exceptId?: string): boolean {
    const accounts = this.modelled.get('Accounts') as Dataset;
    const trimmed = code.trim();
    const same = (r: Row | undefined) => r !== undefined && String(r.Code).trim() === trimmed && String(r.ID) !== exceptId;
    // Base accounts are numbered 1000 + index; a changed one carries its new Code in the overlay.
    const n = /^\d+$/.test(trimmed) ? Number(trimmed) - 1000 : -1;
    if (n >= 0 && n < accounts.count(div) && same(this.store.get(accounts, div, this.cfg.world.guid(ENTITY.Accounts, div, n)))) return true;
    const o = this.store.division(div).peek('Accounts');
    if (o) for (const [k, r] of o.rows) if (!o.deleted.has(k) && same(r)) return true;
    return false;
  }

  /**
   * Whether an account is used by sales invoices or booked transaction
   * lines (generated or written): such an account cannot be deleted.
   */
  private accountInUse(div: number, id: string): boolean {
    const k = id.toLowerCase();
    for (const name of ['SalesInvoices', 'TransactionLines']) {
      const o = this.store.division(div).peek(name);
      if (!o) continue;
      for (const [key, r] of o.rows) {
        if (o.deleted.has(key)) continue;
        if ([r.InvoiceTo, r.OrderedBy, r.DeliverTo, r.Account].some((v) => typeof v === 'string' && v.toLowerCase() === k)) return true;
      }
    }
    const idx = this.store.baseIndex(this.modelled.get('Accounts') as Dataset, div, k);
    if (idx === undefined) return false;
    // Base invoices (and the transaction lines booked from them) go to customer accounts chosen by index.
    const invoices = this.modelled.get('SalesInvoices') as Dataset;
    const n = invoices.count(div);
    for (let i = 0; i < n; i++) if (this.cfg.world.invoiceCustomer(div, i) === idx) return true;
    return false;
  }

  /**
   * The server's "now" as a DateTime value: the UTC instant, or with
   * dutchLocalTime the Amsterdam wall-clock time written as if it were UTC
   * (how Exact's dates behave, unsure).
   */
  private wallNow(): number {
    const now = this.cfg.clock.now();
    return this.cfg.dutchLocalTime ? now + amsterdamOffsetMs(now) : now;
  }

  private audit(row: Row, user: SimUser, div: number, isNew: boolean): void {
    const now = this.wallNow();
    if (isNew) {
      row.Created = now;
      row.Creator = user.id;
      row.CreatorFullName = user.fullName;
      row.Division = div;
    }
    row.Modified = now;
    row.Modifier = user.id;
    row.ModifierFullName = user.fullName;
  }

  private logWrite(div: number, ts: number): void {
    let l = this.writeLog.get(div);
    if (!l) this.writeLog.set(div, (l = []));
    l.push({ at: this.cfg.clock.now(), ts });
  }

  private save(ds: Dataset, div: number, row: Row, isNew: boolean, ep: ExactEndpoint, user: SimUser, clientId: string): Row {
    this.audit(row, user, div, isNew);
    const saved = this.store.put(ds, div, row, isNew);
    this.logWrite(div, Number(saved.Timestamp));
    this.notify(div, topicOf(ds, ep), isNew ? 'Create' : 'Update', String(row[ds.key]), ep, clientId);
    return saved;
  }

  private newId(): string {
    const h = () => Math.floor(this.rng.next() * 0x100000000).toString(16).padStart(8, '0');
    const a = h();
    const b = h();
    const c = h();
    const d = h();
    // Entity field ffff marks rows created through the API (never a base GUID).
    return `${a}-ffff-4${b.slice(0, 3)}-a${b.slice(3, 6)}-${c}${d.slice(0, 4)}`;
  }

  private checkRef(ds: string, div: number, id: SimValue | undefined, field: string, what: string): Row {
    const d = this.modelled.get(ds) as Dataset;
    const r = typeof id === 'string' ? this.store.get(d, div, id) : undefined;
    if (!r) throw new HttpError(500, `${field}: ${id === undefined || id === null ? 'Mandatory' : `'${String(id)}' is not an existing ${what}`}.`);
    return r;
  }

  /** On endpoints without a hand model: Guid fields that name an account must name an existing one. */
  private checkAccountRefs(info: EpInfo, div: number, row: Row): void {
    for (const name of ACCOUNT_REF_FIELDS) {
      const col = info.cols.get(name.toLowerCase());
      const v = row[col?.name ?? name];
      if (col?.edmType === 'Edm.Guid' && typeof v === 'string') this.checkRef('Accounts', div, v, col.name, 'account');
    }
  }

  /**
   * An action keyed by a plain ID (CompleteSalesOrderLine, ProcessPayments,
   * InvoiceSalesOrders) needs the entities it names: missing → 500
   * "Mandatory: F.", unknown → 500 "F: '…' is not an existing …", as for
   * the actions keyed by the entity's own key.
   */
  private checkIdAction(action: { field: string; collection: boolean; target: ExactEndpoint }, body: Record<string, unknown>, div: number): void {
    const name = Object.keys(body).find((k) => k.toLowerCase() === action.field.toLowerCase());
    const raw = name === undefined ? undefined : body[name];
    let ids: unknown[];
    if (!action.collection) ids = raw === undefined || raw === null || raw === '' ? [] : [raw];
    else {
      // A collection of complex values ({ID: guid}), as an array or OData v2's {results: […]}.
      const list = Array.isArray(raw) ? raw : raw !== null && typeof raw === 'object' && Array.isArray((raw as { results?: unknown }).results) ? (raw as { results: unknown[] }).results : undefined;
      if (raw !== undefined && raw !== null && list === undefined) throw new HttpError(400, `Error processing request stream. ${action.field} must be a collection.`);
      ids = (list ?? []).map((e) => (e !== null && typeof e === 'object' ? (e as Record<string, unknown>).ID ?? (e as Record<string, unknown>).id : e));
    }
    if (ids.length === 0) throw new HttpError(500, `Mandatory: ${action.field}.`);
    const target = this.datasets.for(action.target);
    for (const v of ids) {
      if (typeof v !== 'string' || !GUID_RE.test(v) || !this.store.get(target, div, v.toLowerCase())) {
        throw new HttpError(500, `${action.field}: '${String(v)}' is not an existing ${entityInWords(action.target)}.`);
      }
    }
  }

  private checkMandatory(info: EpInfo, row: Row, skip: readonly string[] = []): void {
    if (info.ep.url.toLowerCase() === 'crm/contacts') {
      if (!row.FirstName && !row.LastName) throw new HttpError(500, 'Mandatory: FirstName or LastName.');
      skip = [...skip, 'FirstName', 'LastName'];
    }
    for (const c of info.ep.columns) {
      if (!c.mandatory || skip.includes(c.name) || isNavigationCol(c)) continue;
      const v = row[c.name];
      if (v === undefined || v === null || v === '') throw new HttpError(500, `Mandatory: ${c.name}.`);
    }
  }

  private async post(req: IncomingMessage, res: ServerResponse, call: ApiCall): Promise<void> {
    const { info, division: div, user } = call;
    const ep = info.ep;
    const url = ep.url.toLowerCase();
    if (call.key !== undefined) throw new HttpError(400, 'POST is not allowed on a single entity.');
    const body = await this.readJsonBody(req, info);
    if (url === 'salesinvoice/printedsalesinvoices') return this.printInvoice(res, call, body);
    const action = this.actionTargets.get(url);
    if (action) {
      // An action on an entity (AcceptQuotation, CompleteSalesOrder, …) needs an existing one.
      const v = body[action.field] ?? body[Object.keys(body).find((k) => k.toLowerCase() === action.field.toLowerCase()) ?? ''];
      if (v === undefined || v === null || v === '') throw new HttpError(500, `Mandatory: ${action.field}.`);
      const target = this.datasets.for(action.target);
      if (typeof v !== 'string' || !this.store.get(target, div, v)) {
        throw new HttpError(500, `${action.field}: '${String(v)}' is not an existing ${entityInWords(action.target)}.`);
      }
    }
    if (WORLD_TABLE_URLS.has(url)) throw new HttpError(500, 'Creating this entity is not supported by the simulator.');
    const ds = this.datasets.for(ep);
    const row = this.coerce(info, body, true);
    // After coerce, so a malformed Guid key is a 400 like any wrong type.
    const idAction = this.idActions.get(url);
    if (idAction) this.checkIdAction(idAction, body, div);
    const keyCol = ds.key;
    row[keyCol] = typeof row[keyCol] === 'string' && row[keyCol] !== '' ? String(row[keyCol]).toLowerCase() : this.newId();
    if (this.store.get(ds, div, String(row[keyCol]))) throw new HttpError(500, `An entity with ${keyCol} ${String(row[keyCol])} already exists.`);
    let lines: Row[] = [];
    switch (ds.name) {
      case 'Accounts': {
        this.checkMandatory(info, row);
        if (row.Code === undefined || row.Code === null) row.Code = pad18(900000 + this.store.division(div).overlay('Accounts').inserted.length + 1);
        else row.Code = pad18(String(row.Code));
        if (this.accountCodeTaken(div, String(row.Code))) throw new HttpError(500, `Code: '${String(row.Code).trim()}' is already used by another account.`);
        if (typeof row.Country === 'string') row.Country = row.Country.trim().toUpperCase().padEnd(3, ' ');
        row.Status ??= 'C';
        row.Type = 'A';
        row.IsSales = row.Status === 'C';
        row.IsSupplier ??= false;
        row.Blocked ??= false;
        break;
      }
      case 'Contacts':
      case 'Addresses': {
        this.checkMandatory(info, row);
        const acc = this.checkRef('Accounts', div, row.Account, 'Account', 'account');
        row.AccountName = acc.Name;
        if (ds.name === 'Contacts') row.FullName = [row.FirstName, row.LastName].filter(Boolean).join(' ');
        if (ds.name === 'Addresses') row.Type ??= 1;
        break;
      }
      case 'BankAccounts': {
        this.checkMandatory(info, row);
        const acc = this.checkRef('Accounts', div, row.Account, 'Account', 'account');
        row.AccountName = acc.Name;
        row.BankAccountHolderName ??= acc.Name;
        const number = String(row.BankAccount).replace(/\s+/g, '').toUpperCase();
        // Something shaped like an IBAN must carry valid check digits.
        if (/^[A-Z]{2}\d{2}/.test(number)) {
          if (!isValidIban(number)) throw new HttpError(500, `BankAccount: '${String(row.BankAccount)}' is not a valid IBAN.`);
          row.BankAccount = number;
          row.IBAN ??= number;
        }
        row.Main ??= false;
        row.Blocked ??= false;
        break;
      }
      case 'Items': {
        this.checkMandatory(info, row);
        if (row.GLRevenue) {
          const gl = this.checkRef('GLAccounts', div, row.GLRevenue, 'GLRevenue', 'GL account');
          row.GLRevenueCode = gl.Code;
        } else {
          row.GLRevenue = this.store.get(this.modelled.get('GLAccounts') as Dataset, div, this.cfg.world.guid(ENTITY.GLAccounts, div, GL_INDEX.get('8000') ?? 0))?.ID ?? null;
          row.GLRevenueCode = '8000';
        }
        row.SalesVatCode ??= '2';
        row.IsSalesItem ??= true;
        break;
      }
      case 'SalesInvoices': {
        row.OrderedBy ??= (row.InvoiceTo as SimValue | undefined) ?? null;
        const rawLines = body.SalesInvoiceLines;
        const lineList = Array.isArray(rawLines) ? rawLines : rawLines && typeof rawLines === 'object' && Array.isArray((rawLines as { results?: unknown }).results) ? (rawLines as { results: unknown[] }).results : [];
        this.checkMandatory(info, row, ['SalesInvoiceLines']);
        if (lineList.length === 0) throw new HttpError(500, 'Mandatory: SalesInvoiceLines.');
        const ordered = this.checkRef('Accounts', div, row.OrderedBy, 'OrderedBy', 'account');
        const invTo = this.checkRef('Accounts', div, row.InvoiceTo ?? row.OrderedBy, 'InvoiceTo', 'account');
        if (row.DeliverTo) this.checkRef('Accounts', div, row.DeliverTo, 'DeliverTo', 'account');
        if (JOURNAL_INDEX.get(String(row.Journal)) === undefined) throw new HttpError(500, `Journal: '${String(row.Journal)}' is not an existing journal.`);
        row.InvoiceTo = invTo.ID;
        row.InvoiceToName = invTo.Name;
        row.OrderedByName = ordered.Name;
        row.Status = 20;
        row.StatusDescription = 'Open';
        row.Type ??= 8020;
        row.Currency ??= 'EUR';
        row.InvoiceNumber = null;
        row.InvoiceDate = typeof body.InvoiceDate === 'string' ? coerceValue({ name: 'InvoiceDate', edmType: 'Edm.DateTime', type: 'timestamp', filterable: true }, body.InvoiceDate, info.typeName, this.cfg.dutchLocalTime) : this.wallNow();
        const lineInfo = this.byUrl.get('salesinvoice/salesinvoicelines') as EpInfo;
        lines = lineList.map((l, n) => {
          if (typeof l !== 'object' || l === null) throw new HttpError(400, 'Error processing request stream. SalesInvoiceLines must hold objects.');
          for (const k of Object.keys(l)) {
            if (k !== '__metadata' && !lineInfo.cols.has(k.toLowerCase())) throw new HttpError(400, `Error processing request stream. The property name '${k}' specified for type '${lineInfo.typeName}' is not valid.`);
          }
          const lr = this.coerce(lineInfo, l as Record<string, unknown>, true);
          this.fillLine(div, lr, String(row.InvoiceID), n + 1);
          return lr;
        });
        this.totals(row, lines);
        break;
      }
      case 'SalesInvoiceLines': {
        const inv = this.checkRef('SalesInvoices', div, row.InvoiceID, 'InvoiceID', 'sales invoice');
        if (inv.Status === 50) throw new HttpError(500, 'The invoice has been processed and can no longer be changed.');
        this.fillLine(div, row, String(inv.InvoiceID), this.invoiceLinesOf(div, String(inv.InvoiceID)).length + 1);
        break;
      }
      case 'WebhookSubscriptions': {
        await this.validateWebhook(row);
        row.ClientID = call.clientId;
        row.UserID = user.id;
        break;
      }
      default:
        this.checkMandatory(info, row);
        this.checkAccountRefs(info, div, row);
    }
    const saved = this.save(ds, div, row, true, ep, user, call.clientId);
    if (ds.name === 'SalesInvoices') {
      const lineDs = this.modelled.get('SalesInvoiceLines') as Dataset;
      const lineEp = (this.byUrl.get('salesinvoice/salesinvoicelines') as EpInfo).ep;
      for (const l of lines) this.save(lineDs, div, l, true, lineEp, user, call.clientId);
    }
    if (ds.name === 'SalesInvoiceLines') this.retotal(div, String(saved.InvoiceID), user, call.clientId);
    const prefer = /return=representation/i.test(String(call.query.get('Prefer') ?? '') + String((req.headers.prefer as string | undefined) ?? ''));
    const ctx: RenderContext = {
      entityBase: call.entityBase,
      ep,
      cols: prefer ? info.plan : info.plan.filter((c) => c.name === ds.key || Object.prototype.hasOwnProperty.call(body, c.name)),
      typeName: info.typeName,
      ...(ds.name === 'SalesInvoices' && prefer
        ? { expand: (name: string, r: Row) => this.navRows(div, ep, name, r), expandCols: (name: string) => this.navInfo(name) }
        : {}),
    };
    if (!call.json) {
      this.ok(res, call, 201, feedXml(ctx, [saved], undefined, call.selfUrl, this.cfg.clock.now()), XML_TYPE);
      return;
    }
    this.ok(res, call, 201, `{"d":${rowJson(ctx, saved)}}`, JSON_TYPE);
  }

  private fillLine(div: number, lr: Row, invoiceId: string, lineNumber: number): void {
    const item = this.checkRef('Items', div, lr.Item, 'Item', 'item');
    lr.InvoiceID = invoiceId;
    lr.ID = typeof lr.ID === 'string' ? lr.ID.toLowerCase() : this.newId();
    lr.LineNumber = lineNumber;
    lr.ItemCode = item.Code;
    lr.ItemDescription = item.Description;
    lr.Description ??= item.Description;
    // The GL account defaults from the item's revenue account.
    if (lr.GLAccount) this.checkRef('GLAccounts', div, lr.GLAccount, 'GLAccount', 'GL account');
    else lr.GLAccount = item.GLRevenue;
    lr.VATCode ??= item.SalesVatCode;
    const vi = VAT_INDEX.get(String(lr.VATCode).trim());
    if (vi === undefined) throw new HttpError(500, `VATCode: '${String(lr.VATCode)}' is not an existing VAT code.`);
    lr.VATPercentage = VAT_CODES[vi][2];
    lr.Quantity ??= 1;
    lr.UnitPrice ??= item.StandardSalesPrice ?? 0;
    lr.AmountFC = round2(Number(lr.Quantity) * Number(lr.UnitPrice));
    lr.AmountDC = lr.AmountFC;
    lr.VATAmountFC = round2(Number(lr.AmountFC) * VAT_CODES[vi][2]);
    lr.VATAmountDC = lr.VATAmountFC;
    lr.Division = null;
  }

  private totals(inv: Row, lines: readonly Row[]): void {
    const net = round2(lines.reduce((s, l) => s + Number(l.AmountFC ?? 0), 0));
    const vat = round2(lines.reduce((s, l) => s + Number(l.VATAmountFC ?? 0), 0));
    inv.AmountFCExclVat = net;
    inv.VATAmountFC = vat;
    inv.VATAmountDC = vat;
    inv.AmountFC = round2(net + vat);
    inv.AmountDC = inv.AmountFC;
  }

  private retotal(div: number, invoiceId: string, user: SimUser, clientId: string): void {
    const invDs = this.modelled.get('SalesInvoices') as Dataset;
    const inv = this.store.get(invDs, div, invoiceId);
    if (!inv) return;
    const copy = { ...inv };
    this.totals(copy, this.invoiceLinesOf(div, invoiceId));
    this.save(invDs, div, copy, false, (this.byUrl.get('salesinvoice/salesinvoices') as EpInfo).ep, user, clientId);
  }

  private guardProcessed(ds: Dataset, div: number, row: Row): void {
    if (ds.name === 'SalesInvoices' && row.Status === 50) throw new HttpError(500, 'The invoice has been processed and can no longer be changed.');
    if (ds.name === 'SalesInvoiceLines') {
      const inv = this.store.get(this.modelled.get('SalesInvoices') as Dataset, div, String(row.InvoiceID));
      if (inv?.Status === 50) throw new HttpError(500, 'The invoice has been processed and can no longer be changed.');
    }
    if (ds.name === 'TransactionLines') throw new HttpError(405, "The requested resource does not support http method 'PUT'.");
  }

  private async put(req: IncomingMessage, res: ServerResponse, call: ApiCall): Promise<void> {
    const { info, division: div } = call;
    if (call.key === undefined) throw new HttpError(400, 'PUT needs a key: …/Entity(guid\'…\').');
    const body = await this.readJsonBody(req, info);
    if (WORLD_TABLE_URLS.has(info.ep.url.toLowerCase())) throw new HttpError(500, 'Changing this entity is not supported by the simulator.');
    const ds = this.datasets.for(info.ep);
    const current = this.store.get(ds, div, call.key);
    if (!current) throw new HttpError(404, 'Not found');
    this.guardProcessed(ds, div, current);
    const changes = this.coerce(info, body, false);
    delete changes[ds.key];
    const row: Row = { ...current, ...changes };
    if (ds.name === 'Accounts' && changes.Code !== undefined && changes.Code !== null) {
      row.Code = pad18(String(changes.Code));
      if (this.accountCodeTaken(div, String(row.Code), String(current.ID))) throw new HttpError(500, `Code: '${String(row.Code).trim()}' is already used by another account.`);
    }
    if (ds.name === 'Contacts' || ds.name === 'Addresses') {
      const acc = this.checkRef('Accounts', div, row.Account, 'Account', 'account');
      row.AccountName = acc.Name;
    }
    if (ds.name === 'SalesInvoices') {
      if (changes.InvoiceTo !== undefined) row.InvoiceToName = this.checkRef('Accounts', div, row.InvoiceTo, 'InvoiceTo', 'account').Name;
      if (changes.OrderedBy !== undefined) row.OrderedByName = this.checkRef('Accounts', div, row.OrderedBy, 'OrderedBy', 'account').Name;
    }
    if (ds.name === 'SalesInvoiceLines') this.fillLine(div, row, String(row.InvoiceID), Number(row.LineNumber));
    if (ds.entity === 0) this.checkAccountRefs(info, div, changes);
    this.checkMandatory(info, row, ['SalesInvoiceLines', 'Journal']);
    this.save(ds, div, row, false, info.ep, call.user, call.clientId);
    if (ds.name === 'SalesInvoiceLines') this.retotal(div, String(row.InvoiceID), call.user, call.clientId);
    this.ok(res, call, 204, '', 'text/plain');
  }

  private del(res: ServerResponse, call: ApiCall): void {
    const { info, division: div } = call;
    if (call.key === undefined) throw new HttpError(400, "DELETE needs a key: …/Entity(guid'…').");
    if (WORLD_TABLE_URLS.has(info.ep.url.toLowerCase())) throw new HttpError(500, 'Deleting this entity is not supported by the simulator.');
    const ds = this.datasets.for(info.ep);
    const current = this.store.get(ds, div, call.key);
    if (!current) throw new HttpError(404, 'Not found');
    this.guardProcessed(ds, div, current);
    if (ds.name === 'Accounts' && this.accountInUse(div, call.key)) {
      throw new HttpError(500, `The account '${String(current.Code).trim()}' is in use (sales invoices or transactions) and cannot be deleted.`);
    }
    const removed: { ds: Dataset; key: string }[] = [];
    if (ds.name === 'SalesInvoices') {
      for (const l of this.invoiceLinesOf(div, call.key)) removed.push({ ds: this.modelled.get('SalesInvoiceLines') as Dataset, key: String(l.ID) });
    }
    removed.push({ ds, key: call.key });
    for (const r of removed) {
      this.store.remove(r.ds, div, r.key);
      this.recordDeletion(div, r.ds, r.key, call.user);
      this.notify(div, topicOf(r.ds, info.ep), 'Delete', r.key, info.ep, call.clientId);
    }
    if (ds.name === 'SalesInvoiceLines') this.retotal(div, String(current.InvoiceID), call.user, call.clientId);
    this.ok(res, call, 204, '', 'text/plain');
  }

  private recordDeletion(div: number, ds: Dataset, key: string, user: SimUser): void {
    const code = ds.deletedEntityType ?? this.cfg.catalog.deletedEntityTypes.find((t) => t.entity.toLowerCase() === ds.name.toLowerCase())?.code;
    if (code === undefined) return;
    const deleted = this.datasets.for((this.byUrl.get('sync/deleted') as EpInfo).ep);
    const row: Row = {
      ID: this.newId(),
      EntityKey: key.toLowerCase(),
      EntityType: code,
      Division: div,
      DeletedBy: user.id,
      DeletedDate: this.wallNow(),
    };
    const saved = this.store.put(deleted, div, row, true);
    this.logWrite(div, Number(saved.Timestamp));
  }

  private printInvoice(res: ServerResponse, call: ApiCall, body: Record<string, unknown>): void {
    const div = call.division;
    const invDs = this.modelled.get('SalesInvoices') as Dataset;
    const id = typeof body.InvoiceID === 'string' ? body.InvoiceID : '';
    if (!id) throw new HttpError(500, 'Mandatory: InvoiceID.');
    const inv = this.store.get(invDs, div, id);
    if (!inv) throw new HttpError(500, `InvoiceID: '${id}' is not an existing sales invoice.`);
    if (inv.Status === 50) throw new HttpError(500, 'The invoice has already been processed.');
    if (inv.Status === 10) throw new HttpError(500, 'The invoice is a draft (status 10): only open invoices (status 20) can be printed.');
    const counter = (this.invoiceCounter.get(div) ?? 0) + 1;
    this.invoiceCounter.set(div, counter);
    const year = new Date(this.cfg.clock.now()).getUTCFullYear();
    const number = year * 100000 + 90000 + counter;
    const updated: Row = { ...inv, Status: 50, StatusDescription: 'Verwerkt', InvoiceNumber: number };
    const invEp = (this.byUrl.get('salesinvoice/salesinvoices') as EpInfo).ep;
    this.save(invDs, div, updated, false, invEp, call.user, call.clientId);
    this.bookInvoice(div, updated, call.user, call.clientId);
    const customer = this.store.get(this.modelled.get('Accounts') as Dataset, div, String(inv.InvoiceTo));
    const wantsEmail = body.SendEmailToCustomer === true;
    const hasEmail = typeof customer?.Email === 'string' && customer.Email.includes('@');
    const result: Row = {
      InvoiceID: String(inv.InvoiceID),
      Division: div,
      InvoiceDate: Number(inv.InvoiceDate),
      DocumentCreationSuccess: 'The invoice document has been created.',
      DocumentCreationError: null,
      Document: this.newId(),
      EmailCreationSuccess: wantsEmail && hasEmail ? `The invoice has been sent by e-mail to ${String(customer?.Email)}.` : null,
      EmailCreationError: wantsEmail && !hasEmail ? 'The customer has no e-mail address.' : null,
      SendEmailToCustomer: wantsEmail,
      SenderEmailAddress: typeof body.SenderEmailAddress === 'string' ? body.SenderEmailAddress : null,
      ExtraText: typeof body.ExtraText === 'string' ? body.ExtraText : null,
    };
    const ctx: RenderContext = { entityBase: call.entityBase, ep: call.info.ep, cols: call.info.plan, typeName: call.info.typeName };
    this.ok(res, call, 201, `{"d":${rowJson(ctx, result)}}`, JSON_TYPE);
  }

  /** Post a processed invoice's entry: debtor, revenue per line, VAT — like the generated history. */
  private bookInvoice(div: number, inv: Row, user: SimUser, clientId: string): void {
    const tl = this.modelled.get('TransactionLines') as Dataset;
    const tlEp = (this.byUrl.get('financialtransaction/transactionlines') as EpInfo).ep;
    const lines = this.invoiceLinesOf(div, String(inv.InvoiceID));
    const date = Number(inv.InvoiceDate);
    const d = new Date(date);
    const entryId = this.newId();
    const common: Row = {
      EntryID: entryId, EntryNumber: inv.InvoiceNumber, InvoiceNumber: inv.InvoiceNumber, JournalCode: '70', JournalDescription: 'Verkoop',
      Type: 20, Account: inv.InvoiceTo, AccountName: inv.InvoiceToName, Date: date, FinancialYear: d.getUTCFullYear(),
      FinancialPeriod: d.getUTCMonth() + 1, Currency: 'EUR', ExchangeRate: 1, Status: 50, Description: `Factuur ${String(inv.InvoiceNumber)}`,
    };
    const gl = (code: string) => this.cfg.world.guid(ENTITY.GLAccounts, div, GL_INDEX.get(code) ?? 0);
    const out: Row[] = [{ ...common, LineNumber: 0, LineType: 0, GLAccount: gl('1300'), GLAccountCode: '1300', AmountDC: Number(inv.AmountDC), AmountFC: Number(inv.AmountDC) }];
    lines.forEach((l, n) => {
      const glRow = this.store.get(this.modelled.get('GLAccounts') as Dataset, div, String(l.GLAccount));
      out.push({ ...common, LineNumber: n + 1, LineType: 1, GLAccount: l.GLAccount, GLAccountCode: glRow?.Code ?? null, Item: l.Item, ItemCode: l.ItemCode, Quantity: -Number(l.Quantity), VATCode: l.VATCode, AmountDC: -Number(l.AmountFC), AmountFC: -Number(l.AmountFC) });
    });
    out.push({ ...common, LineNumber: lines.length + 1, LineType: 2, GLAccount: gl('1500'), GLAccountCode: '1500', GLAccountDescription: GL_CHART[GL_INDEX.get('1500') ?? 0][1], AmountDC: -Number(inv.VATAmountDC), AmountFC: -Number(inv.VATAmountDC) });
    for (const r of out) {
      r.ID = this.newId();
      this.save(tl, div, r, true, tlEp, user, clientId);
    }
  }

  // -------------------------------------------------------------------------
  // Webhooks

  private async validateWebhook(row: Row): Promise<void> {
    const url = typeof row.CallbackURL === 'string' ? row.CallbackURL : '';
    const topic = typeof row.Topic === 'string' ? row.Topic : '';
    if (!url) throw new HttpError(500, 'Mandatory: CallbackURL.');
    if (!topic) throw new HttpError(500, 'Mandatory: Topic.');
    const known = this.cfg.catalog.endpoints.some((e) => e.webhooks && (e.entity.toLowerCase() === topic.toLowerCase() || e.url.toLowerCase() === topic.toLowerCase()));
    if (!known) throw new HttpError(500, `Topic: '${topic}' is not a supported webhook topic.`);
    try {
      const r = await fetch(url, { method: 'POST', body: '' });
      await r.arrayBuffer();
      if (!r.ok) throw new Error(`HTTP ${r.status}`);
    } catch (e) {
      throw new HttpError(500, `The callback URL could not be validated: ${e instanceof Error ? e.message : String(e)}.`);
    }
  }

  private notify(div: number, entity: string, action: 'Create' | 'Update' | 'Delete', key: string, ep: ExactEndpoint, clientId: string): void {
    const o = this.store.division(div).peek('WebhookSubscriptions');
    if (!o || o.rows.size === 0 || entity === 'WebhookSubscriptions') return;
    for (const [k, sub] of o.rows) {
      if (o.deleted.has(k) || String(sub.Topic).toLowerCase() !== entity.toLowerCase()) continue;
      const content = {
        Topic: String(sub.Topic),
        ClientId: clientId,
        Division: div,
        Action: action,
        Key: key,
        ExactOnlineEndpoint: `${this.cfg.baseUrl}/api/v1/${div}/${ep.url}(guid'${key}')`,
        EventCreatedOn: new Date(this.cfg.clock.now()).toISOString(),
      };
      const raw = JSON.stringify(content);
      const hash = createHmac('sha256', this.cfg.webhookSecret).update(raw).digest('hex').toUpperCase();
      const body = `{"Content":${raw},"HashCode":"${hash}"}`;
      const p = fetch(String(sub.CallbackURL), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body })
        .then((r) => r.arrayBuffer())
        .then(() => undefined, () => undefined);
      this.pending.add(p);
      void p.finally(() => this.pending.delete(p));
    }
  }
}

/** An endpoint's entity in words, singular: SalesOrderLines → "sales order line". */
function entityInWords(ep: ExactEndpoint): string {
  return ep.entity.replace(/s$/, '').replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
}

/**
 * What a POST-only action keyed by a plain `ID` acts on: a mandatory
 * collection field `XIDs` names entities X (PaymentIDs → cashflow/Payments,
 * SalesOrderIDs → salesorder/SalesOrders; the same service first); else the
 * action's name ends with an entity of its own service, which its ID is the
 * key of (CompleteSalesOrderLine → salesorder/SalesOrderLines). Helper types
 * such as cashflow/PaymentIDs match neither and stay unchecked.
 */
function idActionTarget(ep: ExactEndpoint, all: readonly ExactEndpoint[]): { field: string; collection: boolean; target: ExactEndpoint } | undefined {
  const readable = all.filter((t) => t.kind === 'regular' && t.methods.includes('GET') && t.key.length === 1);
  for (const c of ep.columns) {
    const m = /^Collection\(/.test(c.edmType) ? /^(\w+)IDs$/.exec(c.name) : null;
    if (!m) continue;
    const named = readable.filter((t) => t.entity.toLowerCase() === `${m[1].toLowerCase()}s`);
    const target = named.find((t) => t.service === ep.service) ?? (named.length === 1 ? named[0] : undefined);
    if (target) return { field: c.name, collection: true, target };
  }
  const suffixed = readable
    .filter((t) => t.service === ep.service && t.key[0]?.toLowerCase() === 'id' && t.entity.endsWith('s') && ep.entity.endsWith(t.entity.slice(0, -1)) && ep.entity !== t.entity.slice(0, -1))
    .sort((a, b) => b.entity.length - a.entity.length);
  const target = suffixed[0];
  return target ? { field: ep.key[0] ?? 'ID', collection: false, target } : undefined;
}

function isNavigationCol(c: ExactColumn): boolean {
  return c.navigation === true || c.edmType.startsWith('Collection(') || !c.edmType.startsWith('Edm.');
}

/** `guid'…'` → the guid; `'text'` → text; `123` → "123". */
export function parseKeyLiteral(s: string): string {
  const t = s.trim();
  const g = /^guid'(.*)'$/i.exec(t);
  if (g) return g[1].toLowerCase();
  const q = /^'(.*)'$/.exec(t);
  if (q) return q[1].replace(/''/g, "'");
  return t.replace(/[Ll]$/, '');
}

/** The webhook topic of a write: the modelled entity's name, or the endpoint's entity for a store shared by URL (its name is a URL). */
function topicOf(ds: Dataset, ep: ExactEndpoint): string {
  return ds.name.includes('/') ? ep.entity : ds.name;
}

const GUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether a key segment's literal fits the key's type: `guid'…'` with a well-formed GUID for a Guid key. */
function validKeyLiteral(raw: string, ep: ExactEndpoint): boolean {
  const t = raw.trim();
  const g = /^guid'(.*)'$/i.exec(t);
  if (g) return GUID_RE.test(g[1]);
  const keyCol = ep.columns.find((c) => c.name === ep.key[0]);
  if (keyCol?.edmType === 'Edm.Guid') return false;
  if (keyCol && /^Edm\.(Int16|Int32|Int64|Byte)$/.test(keyCol.edmType)) return /^-?\d+[Ll]?$/.test(t);
  return true;
}

function skiptokenOf(ep: ExactEndpoint, row: Row): string {
  const k = ep.key[0] ?? 'ID';
  const v = row[k];
  const col = ep.columns.find((c) => c.name === k);
  if (col?.edmType === 'Edm.Guid') return `guid'${String(v)}'`;
  if (typeof v === 'number') return String(v);
  return `'${String(v).replace(/'/g, "''")}'`;
}

/** A JSON value as a stored cell; `dutch`: an instant with a zone becomes Amsterdam wall-clock time. */
function coerceValue(col: ExactColumn, v: unknown, typeName: string, dutch = false): SimValue {
  const bad = () => new HttpError(400, `Error processing request stream. Cannot convert the value of property '${col.name}' to '${col.edmType}' (type '${typeName}').`);
  if (v === null || v === undefined) return null;
  switch (col.edmType) {
    case 'Edm.Guid':
      if (typeof v !== 'string' || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v)) throw bad();
      return v.toLowerCase();
    case 'Edm.DateTime': {
      if (typeof v === 'number') return v;
      if (typeof v !== 'string') throw bad();
      const m = /^\/Date\((-?\d+)\)\/$/.exec(v);
      if (m) return Number(m[1]);
      const zoned = /[zZ]|[+-]\d\d:\d\d$/.test(v);
      const ms = Date.parse(zoned ? v : `${v}Z`);
      if (Number.isNaN(ms)) throw bad();
      // Without a zone the text is wall-clock time already; with one it is an instant.
      return dutch && zoned ? ms + amsterdamOffsetMs(ms) : ms;
    }
    case 'Edm.Int16': case 'Edm.Int32': case 'Edm.Int64': case 'Edm.Byte': {
      const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v;
      if (typeof n !== 'number' || !Number.isInteger(n)) throw bad();
      return n;
    }
    case 'Edm.Double': case 'Edm.Decimal': {
      const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
      if (typeof n !== 'number' || !Number.isFinite(n)) throw bad();
      return n;
    }
    case 'Edm.Boolean':
      if (typeof v !== 'boolean') throw bad();
      return v;
    default:
      if (typeof v === 'object') throw bad();
      return String(v);
  }
}

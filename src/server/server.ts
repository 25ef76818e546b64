/**
 * `sluice serve`: the HTTP server. Built on node:http rather than a framework
 * because every response that matters is a stream of engine batches written
 * with backpressure (res.write → 'drain') and cancelled when the client goes
 * away (res 'close' → AbortController → the engine's ExecuteOptions.signal);
 * a framework's reply pipeline adds nothing there and hides both. Routing is
 * a handful of fixed shapes, matched on raw path segments before decoding so
 * an encoded slash or `..` can never change which database is addressed.
 *
 * Routes (all but /health need Basic or Bearer credentials and a grant):
 *   GET  /health
 *   GET  /{db}/odata4/                       service document
 *   GET  /{db}/odata4/$metadata              CSDL
 *   GET  /{db}/odata4/{EntitySet}[/$count]   feed / count
 *   POST /{db}/sql                           SQL text or {"sql": …} → JSON, CSV, NDJSON
 *   GET  /{db}/download/{EntitySet}.csv|.json|.xlsx
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import type { StatementResult } from '../engine/api.js';
import type { FileFormat } from '../formats/index.js';
import { writeResult } from '../formats/index.js';
import { writeChunk } from '../formats/stream.js';
import type { Value } from '../provider/types.js';
import { parseScript } from '../sql/index.js';
import { systemClock } from '../util/clock.js';
import type { Clock } from '../util/clock.js';
import { SluiceError, toSluiceError } from '../util/errors.js';
import type { SecretBox } from '../util/secrets.js';
import { Authenticator, grantOf } from './auth.js';
import { etagMatches, etagOf, ResponseCache } from './cache.js';
import { metadataXml, rowWriter, serviceDocument } from './odata/edm.js';
import type { EntitySet } from './odata/model.js';
import { countStatement, encodeToken, keyText, pageStatement, parseFeedOptions } from './odata/query.js';
import type { PageToken } from './odata/query.js';
import { closeCursor, CursorCache, RowReader } from './cursors.js';
import type { Cursor } from './cursors.js';
import { checkSqlScript, outsideScope, selectedPartitions, withinScope } from './scope.js';
import { fingerprintOf, SessionPool } from './sessions.js';
import type { Lease, SessionFactory } from './sessions.js';
import type { DatabaseRecord, GrantRecord, StateStore, UserRecord } from './state/types.js';

export interface ServerOptions {
  readonly store: StateStore;
  readonly secrets: SecretBox;
  readonly sessionFactory: SessionFactory;
  readonly clock?: Clock;
  readonly host?: string;
  /** 0: an ephemeral port. */
  readonly port?: number;
  /** Default rows per OData page (5,000). */
  readonly pageSize?: number;
  /** The largest page a client may ask for with `Prefer: odata.maxpagesize` (50,000). */
  readonly maxPageSize?: number;
  /** Responses up to this size are buffered to get an ETag (1 MiB). */
  readonly etagBufferBytes?: number;
  readonly maxSessionsPerDatabase?: number;
  /** A pooled session older than this is reopened, running the whole startup SQL again (default 10 minutes). */
  readonly maxSessionAgeMs?: number;
  /** Where request logs go (one JSON object per line); default stdout. */
  readonly log?: (line: string) => void;
  /** The URL clients reach the server by (behind a proxy); default from the Host header. */
  readonly publicUrl?: string;
  /** The authenticator (its throttle and credential cache); tests pass one with their own clock and limits. */
  readonly authenticator?: Authenticator;
  /**
   * How many reverse proxies in front of the server append to
   * `X-Forwarded-For` (0: none, the header is ignored). With n, the client
   * address is the n-th entry from the right, the one the outermost trusted
   * proxy saw. Default: $SLUICE_TRUST_PROXY (a number, or `true` for 1), else 0.
   */
  readonly trustProxy?: number;
}

export interface RunningServer {
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

const DB_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const ODATA_JSON = 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';

/** An error with the HTTP status it answers with. */
function httpError(status: number, code: string, message: string, hint?: string): SluiceError {
  return new SluiceError(code, message, { status, ...(hint ? { hint } : {}) });
}

const OWN_CODES = /^(ODATA|SRV)/;

function statusOf(e: SluiceError): number {
  if (OWN_CODES.test(e.code) && e.details.status) return e.details.status;
  if (OWN_CODES.test(e.code)) return 400;
  // An engine or provider error: a remote status means the platform failed (502); otherwise the request was wrong.
  if (e.details.status !== undefined) return 502;
  return 400;
}

interface RequestContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  readonly started: number;
  readonly abort: AbortController;
  user?: string;
  database?: string;
  rows: number;
  status: number;
  errorCode?: string;
  /** The feed left its stream open for the next page: the lease belongs to the parked cursor. */
  cursorParked?: boolean;
}

/** Writes a body that is buffered (for an ETag) until it grows past a limit, then streamed with backpressure. */
class BodyWriter {
  private chunks: Buffer[] = [];
  private size = 0;
  private streaming = false;
  constructor(
    private readonly ctx: RequestContext,
    private readonly contentType: string,
    private readonly limit: number,
    private readonly headers: Record<string, string>,
  ) {}

  async write(text: string | Buffer): Promise<void> {
    const chunk = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
    if (chunk.length === 0) return;
    if (!this.streaming) {
      this.chunks.push(chunk);
      this.size += chunk.length;
      if (this.size <= this.limit) return;
      this.streaming = true;
      this.ctx.res.writeHead(200, { 'Content-Type': this.contentType, ...this.headers });
      const all = Buffer.concat(this.chunks);
      this.chunks = [];
      await this.push(all);
      return;
    }
    await this.push(chunk);
  }

  private async push(chunk: Buffer): Promise<void> {
    if (this.ctx.abort.signal.aborted) throw this.ctx.abort.signal.reason;
    if (!this.ctx.res.write(chunk)) await once(this.ctx.res, 'drain', { signal: this.ctx.abort.signal });
  }

  /** Finish: a buffered body gets an ETag (and 304 when the client has it). Returns the body when it was buffered. */
  end(): Buffer | undefined {
    const { res, req } = this.ctx;
    if (this.streaming) {
      res.end();
      return undefined;
    }
    const body = Buffer.concat(this.chunks);
    const etag = etagOf(body);
    if (etagMatches(req.headers['if-none-match'], etag)) {
      this.ctx.status = 304;
      res.writeHead(304, { ETag: etag, ...this.headers });
      res.end();
      return body;
    }
    res.writeHead(200, { 'Content-Type': this.contentType, 'Content-Length': String(body.length), ETag: etag, ...this.headers });
    res.end(body);
    return body;
  }
}

/** A writable view of the response for `writeResult` (formats), with backpressure and abort. */
function responseSink(ctx: RequestContext): NodeJS.WritableStream {
  return ctx.res;
}

export class SluiceServer {
  readonly pool: SessionPool;
  readonly cache = new ResponseCache();
  readonly cursors = new CursorCache();
  private readonly clock: Clock;
  private readonly auth: Authenticator;
  private readonly log: (line: string) => void;
  private readonly pageSize: number;
  private readonly maxPageSize: number;
  private readonly etagBuffer: number;
  private readonly trustProxy: number;
  /** The configuration fingerprint last seen per database (lower-case name). */
  private readonly seen = new Map<string, string>();

  constructor(private readonly options: ServerOptions) {
    this.clock = options.clock ?? systemClock;
    this.auth = options.authenticator ?? new Authenticator(this.clock);
    this.pool = new SessionPool(options.sessionFactory, options.secrets, {
      maxPerDatabase: options.maxSessionsPerDatabase ?? 4,
      clock: this.clock,
      ...(options.maxSessionAgeMs !== undefined ? { maxSessionAgeMs: options.maxSessionAgeMs } : {}),
    });
    this.log = options.log ?? ((line) => process.stdout.write(`${line}\n`));
    this.pageSize = options.pageSize ?? 5000;
    this.maxPageSize = options.maxPageSize ?? 50_000;
    this.etagBuffer = options.etagBufferBytes ?? 1024 * 1024;
    this.trustProxy = options.trustProxy ?? trustProxyFromEnvironment(process.env.SLUICE_TRUST_PROXY);
  }

  /** The client's address: the socket's, or with trusted proxies the one they saw (X-Forwarded-For). */
  private clientAddress(req: IncomingMessage): string {
    const socket = req.socket.remoteAddress ?? '';
    if (this.trustProxy <= 0) return socket;
    const header = req.headers['x-forwarded-for'];
    const text = Array.isArray(header) ? header.join(',') : (header ?? '');
    const chain = [...text.split(',').map((x) => x.trim()).filter((x) => x !== ''), socket];
    const candidate = chain[Math.max(0, chain.length - 1 - this.trustProxy)];
    return isIP(candidate) ? candidate : socket;
  }

  async listen(): Promise<RunningServer> {
    const server = createServer((req, res) => void this.handle(req, res));
    server.keepAliveTimeout = 65_000;
    server.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1');
    await once(server, 'listening');
    const addr = server.address() as AddressInfo;
    const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    return {
      url: `http://${host}:${addr.port}`,
      server,
      close: async () => {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        this.cursors.closeAll();
        await this.pool.close();
      },
    };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const abort = new AbortController();
    const ctx: RequestContext = {
      req,
      res,
      url: new URL(req.url ?? '/', 'http://localhost'),
      started: this.clock.now(),
      abort,
      rows: 0,
      status: 200,
    };
    res.on('close', () => {
      if (!res.writableFinished) abort.abort(new SluiceError('SRV400', 'The client closed the connection.'));
    });
    res.setHeader('OData-Version', '4.0');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    try {
      await this.route(ctx);
    } catch (e) {
      this.fail(ctx, e);
    } finally {
      this.writeLog(ctx);
    }
  }

  private fail(ctx: RequestContext, e: unknown): void {
    const { res } = ctx;
    if (ctx.abort.signal.aborted) {
      // The client went away (before or during the body): whatever the error that followed, it is not the server's failure.
      ctx.status = 499;
      ctx.errorCode = 'SRV400';
      res.destroy();
      return;
    }
    const internal = !(e instanceof SluiceError);
    const err = internal ? new SluiceError('SRV500', 'Internal server error.') : e;
    const status = internal ? 500 : statusOf(err);
    ctx.status = status;
    ctx.errorCode = err.code;
    if (res.headersSent) {
      // Part of the body is out: cut the connection so the client sees a failure, not a short feed.
      res.destroy();
      return;
    }
    const details = err.details.hint ? [{ code: 'hint', message: err.details.hint }] : undefined;
    const where = [err.details.container && `container ${err.details.container}`, err.details.table && `table ${err.details.table}`, err.details.partition && `partition ${err.details.partition}`]
      .filter(Boolean)
      .join(', ');
    const body = JSON.stringify({ error: { code: err.code, message: err.message, ...(where ? { target: where } : {}), ...(details ? { details } : {}) } });
    const headers: Record<string, string> = { 'Content-Type': 'application/json;charset=utf-8', 'Content-Length': String(Buffer.byteLength(body)) };
    if (status === 401) headers['WWW-Authenticate'] = 'Basic realm="Sluice", charset="UTF-8"';
    if (err.details.hint && status === 429) headers['Retry-After'] = err.details.hint.replace(/\D/g, '') || '1';
    res.writeHead(status, headers);
    res.end(body);
  }

  private writeLog(ctx: RequestContext): void {
    // The path only, and of the query only the option names: values may hold customer data or tokens.
    const options = [...new Set(ctx.url.searchParams.keys())];
    const line = {
      time: new Date(this.clock.now()).toISOString(),
      method: ctx.req.method,
      path: ctx.url.pathname,
      ...(options.length ? { options } : {}),
      user: ctx.user ?? null,
      database: ctx.database ?? null,
      status: ctx.status,
      ms: this.clock.now() - ctx.started,
      rows: ctx.rows,
      ...(ctx.errorCode ? { error: ctx.errorCode } : {}),
    };
    try {
      this.log(JSON.stringify(line));
    } catch {
      // A failing log sink must not take requests down.
    }
  }

  // -------------------------------------------------------------------------
  // Routing

  private async route(ctx: RequestContext): Promise<void> {
    const raw = (ctx.req.url ?? '/').split('?')[0];
    const rawSegments = raw.split('/').slice(1);
    const segments: string[] = [];
    for (const s of rawSegments) {
      let d: string;
      try {
        d = decodeURIComponent(s);
      } catch {
        throw httpError(400, 'SRV401', 'The request path is not validly encoded.');
      }
      if (d.includes('/') || d.includes('\\') || d === '..' || d === '.' || d.includes('\u0000')) {
        throw httpError(400, 'SRV402', 'The request path contains an encoded slash or a dot segment.');
      }
      segments.push(d);
    }
    const method = ctx.req.method ?? 'GET';
    if (segments.length === 1 && segments[0] === 'health') {
      if (method !== 'GET' && method !== 'HEAD') throw httpError(405, 'SRV403', 'Use GET.');
      const body = JSON.stringify({ status: 'ok' });
      ctx.res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
      ctx.res.end(body);
      return;
    }
    if (segments.length < 2 || segments[0] === '') throw httpError(404, 'SRV404', 'Not found. Feeds live at /{database}/odata4/.');
    const [dbName, area, ...rest] = segments;
    if (!DB_RE.test(dbName)) throw httpError(404, 'SRV404', 'Not found. Feeds live at /{database}/odata4/.');

    const { user, db, grant } = await this.authorize(ctx, dbName);
    ctx.user = user.name;
    ctx.database = db.name;
    this.noticeConfiguration(db);

    if (area === 'odata4') {
      if (method !== 'GET' && method !== 'HEAD') throw httpError(405, 'SRV403', 'OData feeds are read-only; use GET.');
      if (rest.length === 0 || (rest.length === 1 && rest[0] === '')) return this.cached(ctx, db, (lease) => this.serviceDocument(ctx, lease));
      if (rest.length === 1 && rest[0] === '$metadata') return this.cached(ctx, db, (lease) => this.metadata(ctx, lease));
      const m = /^([A-Za-z_][A-Za-z0-9_]*)(\(.*\))?$/.exec(rest[0]);
      if (!m) throw httpError(404, 'SRV405', `There is no entity set "${rest[0].slice(0, 80)}".`);
      if (m[2]) throw httpError(400, 'ODATA040', 'Addressing a single entity by key is not supported; use $filter on the key.');
      const countOnly = rest.length === 2 && rest[1] === '$count';
      if (rest.length > 2 || (rest.length === 2 && !countOnly)) throw httpError(404, 'SRV405', 'Not found.');
      const token = ctx.url.searchParams.get('$skiptoken');
      let cursor = token && !countOnly ? this.cursors.take(db.name, token) : undefined;
      if (cursor && cursor.lease.fingerprint !== fingerprintOf(db)) {
        // Opened under an older configuration: run the query again from the token instead.
        closeCursor(cursor);
        cursor = undefined;
      }
      if (cursor) {
        if (cursor.set.name !== m[1]) {
          this.cursors.park(token as string, cursor);
        } else return this.resumeFeed(ctx, cursor);
      }
      return this.cached(ctx, db, (lease) => this.feed(ctx, lease, m[1], countOnly));
    }
    if (area === 'sql' && rest.length === 0) {
      if (method !== 'POST') throw httpError(405, 'SRV403', 'Send SQL with POST.');
      if (user.kind !== 'person' && user.kind !== 'service') throw httpError(403, 'SRV406', 'Not allowed.');
      return this.sql(ctx, db, grant);
    }
    if (area === 'download' && rest.length === 1) {
      if (method !== 'GET') throw httpError(405, 'SRV403', 'Use GET.');
      const m = /^([A-Za-z_][A-Za-z0-9_]*)\.(csv|json|xlsx)$/.exec(rest[0]);
      if (!m) throw httpError(404, 'SRV405', 'Download as /{database}/download/{EntitySet}.csv, .json or .xlsx.');
      return this.download(ctx, db, m[1], m[2] as FileFormat);
    }
    throw httpError(404, 'SRV404', 'Not found. Feeds live at /{database}/odata4/.');
  }

  private async authorize(ctx: RequestContext, dbName: string): Promise<{ user: UserRecord; db: DatabaseRecord; grant: GrantRecord }> {
    const state = await this.options.store.read();
    const ip = this.clientAddress(ctx.req);
    const outcome = await this.auth.authenticate(ctx.req.headers.authorization, ip, state);
    if (!outcome.ok) {
      if (outcome.user) ctx.user = outcome.user;
      if (outcome.reason === 'throttled') {
        throw httpError(429, 'SRV407', 'Too many failed logins; wait before trying again.', `Retry after ${outcome.retryAfterSeconds ?? 1} seconds.`);
      }
      throw httpError(401, 'SRV408', outcome.reason === 'missing' ? 'Credentials are required (HTTP Basic or a Bearer token).' : 'The user name, password or token is not valid.');
    }
    const db = state.databases.find((d) => d.name.toLowerCase() === dbName.toLowerCase());
    // The same answer whether the database is missing or not granted: nothing about other tenants leaks.
    const grant = db ? grantOf(state, outcome.user.name, db.name) : undefined;
    if (!db || !grant) {
      ctx.user = outcome.user.name;
      throw httpError(404, 'SRV409', `The database "${dbName}" does not exist or you have no access to it.`);
    }
    return { user: outcome.user, db, grant };
  }

  /**
   * The state is read for every request, so a changed database (startup SQL,
   * containers) is noticed on the next request to it, on every instance
   * sharing the state store: its cached responses and parked streams are
   * dropped (the session pool closes its old sessions on the same change).
   */
  private noticeConfiguration(db: DatabaseRecord): void {
    const key = db.name.toLowerCase();
    const fp = fingerprintOf(db);
    const before = this.seen.get(key);
    if (before === fp) return;
    this.seen.set(key, fp);
    if (before === undefined) return;
    this.cache.dropDatabase(db.name);
    this.cursors.dropDatabase(db.name);
  }

  /** Serve from the response cache when the database has one and the client allows it; else run `produce`. */
  private async cached(ctx: RequestContext, db: DatabaseRecord, produce: (lease: Lease) => Promise<Buffer | undefined>): Promise<void> {
    const maxAgeMs = (db.cacheMaxAgeSeconds ?? 0) * 1000;
    const noCache = /no-cache|no-store|max-age=0/i.test(String(ctx.req.headers['cache-control'] ?? '')) || /no-cache/i.test(String(ctx.req.headers.pragma ?? ''));
    // The configuration is part of the key: a response made under an older startup SQL is never served.
    const key = `${db.name.toLowerCase()}\u0000${fingerprintOf(db)}\u0000${ctx.req.url}\u0000${ctx.req.headers.prefer ?? ''}`;
    if (maxAgeMs > 0 && !noCache) {
      const hit = this.cache.get(key, maxAgeMs, this.clock.now());
      if (hit) {
        ctx.rows = hit.rows;
        const age = String(Math.floor((this.clock.now() - hit.storedAt) / 1000));
        if (etagMatches(ctx.req.headers['if-none-match'], hit.etag)) {
          ctx.status = 304;
          ctx.res.writeHead(304, { ETag: hit.etag, Age: age, ...hit.extraHeaders });
          ctx.res.end();
          return;
        }
        ctx.res.writeHead(hit.status, { 'Content-Type': hit.contentType, 'Content-Length': String(hit.body.length), ETag: hit.etag, Age: age, ...hit.extraHeaders });
        ctx.res.end(hit.body);
        return;
      }
    }
    // Parked cursors hold sessions; a request that would wait for one frees the oldest instead.
    if (this.pool.saturated(db)) this.cursors.evictOldest(db.name);
    const lease = await this.pool.acquire(db, ctx.abort.signal);
    let reusable = false;
    try {
      const body = await produce(lease);
      reusable = true;
      if (body && maxAgeMs > 0 && ctx.status === 200) {
        const contentType = String(ctx.res.getHeader('content-type') ?? ODATA_JSON);
        const extra: Record<string, string> = {};
        const pa = ctx.res.getHeader('preference-applied');
        if (pa) extra['Preference-Applied'] = String(pa);
        this.cache.put(key, { status: 200, contentType, body, etag: etagOf(body), storedAt: this.clock.now(), rows: ctx.rows, extraHeaders: extra });
      }
    } finally {
      if (!ctx.cursorParked) lease.release(reusable && !ctx.abort.signal.aborted);
    }
  }

  private base(ctx: RequestContext, db: string): string {
    if (this.options.publicUrl) return `${this.options.publicUrl.replace(/\/$/, '')}/${encodeURIComponent(db)}/odata4/`;
    const host = String(ctx.req.headers.host ?? 'localhost').replace(/[^A-Za-z0-9.:[\]-]/g, '');
    const proto = String(ctx.req.headers['x-forwarded-proto'] ?? '') === 'https' ? 'https' : 'http';
    return `${proto}://${host}/${encodeURIComponent(db)}/odata4/`;
  }

  private async serviceDocument(ctx: RequestContext, lease: Lease): Promise<Buffer | undefined> {
    const w = new BodyWriter(ctx, ODATA_JSON, this.etagBuffer, { 'Cache-Control': 'no-cache' });
    await w.write(serviceDocument(lease.model, this.base(ctx, ctx.database as string)));
    return w.end();
  }

  private async metadata(ctx: RequestContext, lease: Lease): Promise<Buffer | undefined> {
    const w = new BodyWriter(ctx, 'application/xml;charset=utf-8', 64 * 1024 * 1024, { 'Cache-Control': 'no-cache' });
    await w.write(metadataXml(lease.model));
    return w.end();
  }

  private entitySet(lease: Lease, name: string): EntitySet {
    const set = lease.model.find(name);
    if (!set) throw httpError(404, 'SRV405', `There is no entity set "${name.slice(0, 80)}".`, 'The service document (/{database}/odata4/) lists them.');
    return set;
  }

  private pageSizeFor(ctx: RequestContext, db: DatabaseRecord): { size: number; applied?: string } {
    const prefer = String(ctx.req.headers.prefer ?? '');
    const m = /odata\.maxpagesize\s*=\s*(\d{1,12})/i.exec(prefer);
    const base = Math.min(db.pageSize ?? this.pageSize, this.maxPageSize);
    if (!m) return { size: base };
    const size = Math.max(1, Math.min(Number(m[1]), this.maxPageSize));
    return { size, applied: `odata.maxpagesize=${size}` };
  }

  private async scalar(ctx: RequestContext, lease: Lease, statement: Parameters<Lease['session']['executeStatement']>[0]): Promise<number> {
    const result = await lease.session.executeStatement(statement, { signal: ctx.abort.signal });
    let value: Value = null;
    if (result.kind === 'rows') {
      for await (const batch of result.batches) if (batch.rows.length > 0 && value === null) value = batch.rows[0][0];
    }
    const n = typeof value === 'bigint' ? Number(value) : typeof value === 'number' ? value : Number(value);
    if (!Number.isFinite(n)) throw new SluiceError('SRV501', 'The count query returned no number.');
    return n;
  }

  private async feed(ctx: RequestContext, lease: Lease, setName: string, countOnly: boolean): Promise<Buffer | undefined> {
    const set = this.entitySet(lease, setName);
    const options = parseFeedOptions(set, ctx.url.searchParams);
    const db = ctx.database as string;
    if (countOnly) {
      const n = await this.scalar(ctx, lease, countStatement(set, options));
      const w = new BodyWriter(ctx, 'text/plain;charset=utf-8', this.etagBuffer, { 'Cache-Control': 'no-cache' });
      await w.write(String(n));
      return w.end();
    }
    const dbRecord = (await this.options.store.read()).databases.find((d) => d.name === db);
    const page = this.pageSizeFor(ctx, dbRecord ?? { name: db, containers: [], createdAt: '' });
    if (page.applied) ctx.res.setHeader('Preference-Applied', page.applied);

    const count = options.count ? await this.scalar(ctx, lease, countStatement(set, options)) : undefined;
    // The stream stays open past the page (bounded only by $top) so following pages can continue it.
    const plan = pageStatement(set, options, page.size, true);
    const abort = new AbortController();
    // A remote table whose provider does filter, order and limit exactly streams straight through inside the engine (engine/direct.ts).
    const result: StatementResult = await lease.session.executeStatement(plan.statement, { signal: abort.signal });
    if (result.kind !== 'rows') throw new SluiceError('SRV502', 'The engine did not return rows for a feed query.');
    const batches = result.batches;
    const cursor: Cursor = {
      database: db,
      set,
      queryHash: options.queryHash,
      lease,
      reader: new RowReader(batches[Symbol.asyncIterator]()),
      abort,
      slots: plan.slots,
      keyIndexes: plan.keyIndexes,
      mode: plan.mode,
      pageRows: plan.pageRows,
      ...(count !== undefined ? { count } : {}),
      position: plan.position,
      ...(plan.remaining !== undefined ? { remaining: plan.remaining } : {}),
    };
    return this.writePage(ctx, cursor, options.carried, page.applied);
  }

  /** Continue a parked cursor: the request's token was the one it was parked under. */
  private async resumeFeed(ctx: RequestContext, cursor: Cursor): Promise<void> {
    let parked = false;
    let ok = false;
    try {
      const options = parseFeedOptions(cursor.set, ctx.url.searchParams);
      if (options.queryHash !== cursor.queryHash) throw new SluiceError('ODATA030', 'The $skiptoken is not valid for this request.', { status: 400 });
      const page = this.pageSizeFor(ctx, { name: cursor.database, containers: [], createdAt: '' });
      if (page.applied) ctx.res.setHeader('Preference-Applied', page.applied);
      await this.writePage(ctx, cursor, options.carried, page.applied);
      parked = ctx.cursorParked === true;
      ok = true;
    } finally {
      if (!parked) {
        if (ctx.abort.signal.aborted) {
          cursor.abort.abort(ctx.abort.signal.reason);
          cursor.lease.release(false);
        } else {
          await cursor.reader.close().catch(() => undefined);
          cursor.lease.release(ok);
        }
      }
    }
  }

  /** Write one page from a cursor; park the cursor when more rows follow, else close its stream. */
  private async writePage(ctx: RequestContext, cursor: Cursor, carried: readonly [string, string][], applied?: string): Promise<Buffer | undefined> {
    const { set } = cursor;
    const base = this.base(ctx, cursor.database);
    const onAbort = () => cursor.abort.abort(ctx.abort.signal.reason);
    ctx.abort.signal.addEventListener('abort', onAbort, { once: true });
    try {
      const pageRows = Math.min(cursor.pageRows, cursor.remaining ?? Number.MAX_SAFE_INTEGER);
      const selectList = carried.some(([k]) => k === '$select') ? `(${cursor.slots.map((p) => p.name).join(',')})` : '';
      const headers: Record<string, string> = { 'Cache-Control': 'no-cache' };
      if (applied) headers['Preference-Applied'] = applied;
      const w = new BodyWriter(ctx, ODATA_JSON, this.etagBuffer, headers);
      await w.write(`{"@odata.context":${JSON.stringify(`${base}$metadata#${set.name}${selectList}`)}${cursor.count !== undefined ? `,"@odata.count":${cursor.count}` : ''},"value":[`);

      const write = rowWriter(cursor.slots);
      const reader = cursor.reader;
      let sent = 0;
      let last: readonly Value[] | undefined;
      while (sent < pageRows && (await reader.fill())) {
        let chunk = '';
        while (reader.available() > 0 && sent < pageRows) {
          const row = reader.take();
          chunk += (sent > 0 ? ',' : '') + write(row, cursor.position + sent + 1);
          last = row;
          sent++;
        }
        ctx.rows = sent;
        await w.write(chunk);
      }
      cursor.position += sent;
      if (cursor.remaining !== undefined) cursor.remaining -= sent;
      const more = sent === pageRows && pageRows > 0 && (cursor.remaining === undefined || cursor.remaining > 0) && (await reader.fill());

      let next: string | undefined;
      let token: string | undefined;
      if (more && last) {
        const remaining = cursor.remaining;
        let position: PageToken = { mode: 'offset', offset: cursor.position, ...(remaining !== undefined ? { remaining } : {}) };
        if (cursor.mode === 'keyset') {
          const keyProps = set.key.map((k) => set.properties.find((p) => p.name === k));
          const values = cursor.keyIndexes.map((i) => last?.[i]);
          if (values.every((v) => v !== null && v !== undefined)) {
            position = { mode: 'keyset', key: values.map((v, i) => keyText(v as Value, keyProps[i]?.type ?? 'varchar')), offset: cursor.position, ...(remaining !== undefined ? { remaining } : {}) };
          }
        }
        token = encodeToken(position, cursor.queryHash);
        const params = new URLSearchParams(carried);
        params.set('$skiptoken', token);
        next = `${base}${set.name}?${params.toString().replace(/\+/g, '%20')}`;
      }
      await w.write(`]${next ? `,"@odata.nextLink":${JSON.stringify(next)}` : ''}}`);
      const body = w.end();
      if (token && !ctx.abort.signal.aborted) {
        ctx.cursorParked = true;
        this.cursors.park(token, cursor);
      } else {
        await cursor.reader.close();
      }
      return body;
    } catch (e) {
      // The page failed or the client left: stop the statement and let the engine's stream unwind.
      cursor.abort.abort(e);
      void cursor.reader.close().catch(() => undefined);
      throw e;
    } finally {
      ctx.abort.signal.removeEventListener('abort', onAbort);
    }
  }

  // -------------------------------------------------------------------------
  // SQL endpoint and downloads

  private async readBody(ctx: RequestContext, limit: number): Promise<string> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of ctx.req) {
      const b = chunk as Buffer;
      size += b.length;
      if (size > limit) throw httpError(413, 'SRV410', `The request body is larger than ${limit} bytes.`);
      chunks.push(b);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  private async sql(ctx: RequestContext, db: DatabaseRecord, grant: GrantRecord): Promise<void> {
    const text = await this.readBody(ctx, 1024 * 1024);
    let sql = text;
    if (/json/i.test(String(ctx.req.headers['content-type'] ?? ''))) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw httpError(400, 'SRV411', 'The body is not valid JSON; send {"sql": "…"} or plain SQL text.');
      }
      const s = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>).sql : undefined;
      if (typeof s !== 'string') throw httpError(400, 'SRV411', 'The JSON body needs a "sql" text field.');
      sql = s;
    }
    if (sql.trim() === '') throw httpError(400, 'SRV412', 'No SQL was sent.');
    const accept = String(ctx.req.headers.accept ?? '');
    const format: 'json' | 'csv' | 'ndjson' = /text\/csv/i.test(accept) ? 'csv' : /ndjson|x-ndjson|jsonl/i.test(accept) ? 'ndjson' : 'json';
    // Parsed here to check it before anything runs; a syntax error is the same 400 the engine would give.
    const script = parseScript(sql);
    const queries = script.statements.filter((st) => st.kind === 'QueryStatement').length;
    if (format === 'csv' && queries > 1) {
      throw httpError(400, 'SRV413', `CSV holds one result, and the script has ${queries} queries.`, 'Send them one request each, or ask for JSON (results one after another) or NDJSON.');
    }
    const lease = await this.pool.acquire(db, ctx.abort.signal);
    try {
      // The database's scope: what its startup SQL selected. /sql may narrow it, never widen it.
      const scope = lease.scope;
      checkSqlScript(script.statements, { write: grant.write === true, containers: lease.session.containers(), scope });
      const contentType = format === 'csv' ? 'text/csv;charset=utf-8' : format === 'ndjson' ? 'application/x-ndjson;charset=utf-8' : 'application/json;charset=utf-8';
      const sink = responseSink(ctx);
      let started = false;
      /** Inside a JSON result's "rows" array (the JSON writer stops between rows). */
      let inRows = false;
      const start = async () => {
        if (started) return;
        started = true;
        const headers: Record<string, string> = { 'Content-Type': contentType, 'Cache-Control': 'no-store' };
        // A failure after the first bytes is told in the body and in this trailer (see docs/server.md).
        if (format !== 'csv') headers.Trailer = 'Sluice-Error';
        ctx.res.writeHead(200, headers);
        if (format === 'json') await writeChunk(sink, '{"results":[');
      };
      let first = true;
      try {
        for await (const result of lease.session.execute(sql, { signal: ctx.abort.signal })) {
          if (result.statement.kind === 'Use' && !withinScope(await selectedPartitions(lease.session, ctx.abort.signal), scope)) throw outsideScope();
          await start();
          if (result.kind === 'rows') {
            if (format === 'json') {
              await writeChunk(sink, `${first ? '' : ','}{"columns":${JSON.stringify(result.columns)},"rows":`);
              inRows = true;
              await writeResult('json', result.columns, countRows(result.batches, ctx), sink);
              inRows = false;
              await writeChunk(sink, '}');
            } else {
              await writeResult(format, result.columns, countRows(result.batches, ctx), sink);
            }
          } else if (format === 'json') {
            const message = result.kind === 'done' ? result.message : result.lines.join('\n');
            await writeChunk(sink, `${first ? '' : ','}${JSON.stringify({ message, ...(result.kind === 'done' && result.rowsAffected !== undefined ? { rowsAffected: result.rowsAffected } : {}) })}`);
          }
          first = false;
        }
      } catch (e) {
        // Before any output, or for CSV (which has no way to say it), the usual error answer / a cut connection.
        if (!started || format === 'csv' || ctx.abort.signal.aborted) throw e;
        const err = e instanceof SluiceError ? e : new SluiceError('SRV500', 'Internal server error.');
        ctx.errorCode = err.code;
        const error = JSON.stringify({ code: err.code, message: err.message });
        const tail = format === 'json' ? `${inRows ? '\n]}' : ''}],"error":${error}}` : `{"error":${error}}\n`;
        ctx.res.addTrailers({ 'Sluice-Error': err.code });
        ctx.res.end(tail);
        return;
      }
      await start();
      if (format === 'json') await writeChunk(sink, ']}');
      ctx.res.end();
    } finally {
      // User SQL may `use` or `set`: never hand this session to the next request.
      lease.release(false);
    }
  }

  private async download(ctx: RequestContext, db: DatabaseRecord, setName: string, format: FileFormat): Promise<void> {
    const lease = await this.pool.acquire(db, ctx.abort.signal);
    let reusable = false;
    try {
      const set = this.entitySet(lease, setName);
      const params = new URLSearchParams(ctx.url.searchParams);
      params.delete('$skiptoken');
      const options = parseFeedOptions(set, params);
      const plan = pageStatement(set, { ...options, token: undefined }, Number.MAX_SAFE_INTEGER - 1);
      const result = await lease.session.executeStatement(plan.statement, { signal: ctx.abort.signal });
      if (result.kind !== 'rows') throw new SluiceError('SRV502', 'The engine did not return rows for a download.');
      const columns = plan.slots.filter((s) => s.index >= 0).map((s) => ({ name: s.name, type: s.type }));
      const indexes = plan.slots.filter((s) => s.index >= 0).map((s) => s.index);
      const types: Record<FileFormat, string> = {
        csv: 'text/csv;charset=utf-8',
        json: 'application/json;charset=utf-8',
        ndjson: 'application/x-ndjson;charset=utf-8',
        xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      };
      // Buffered up to the ETag limit (then an ETag and 304 as for feeds), streamed beyond it.
      const body = new BodyWriter(ctx, types[format], this.etagBuffer, {
        'Content-Disposition': `attachment; filename="${set.name}.${format}"`,
        'Cache-Control': 'no-cache',
      });
      const sink = new Writable({
        write: (chunk: Buffer, _encoding, done) => {
          body.write(chunk).then(() => done(), done);
        },
      });
      // A failed write (the client left) destroys the sink; writeResult sees it closed and rejects.
      sink.on('error', () => undefined);
      const projected = (async function* (batches: AsyncIterable<{ readonly columns: readonly string[]; readonly rows: readonly (readonly Value[])[] }>) {
        for await (const b of batches) {
          ctx.rows += b.rows.length;
          yield { columns: columns.map((c) => c.name), rows: b.rows.map((r) => indexes.map((i) => r[i])) };
        }
      })(result.batches);
      await writeResult(format, columns, projected, sink);
      await new Promise<void>((resolve, reject) => {
        sink.once('error', reject);
        sink.end(() => resolve());
      });
      body.end();
      reusable = true;
    } finally {
      lease.release(reusable && !ctx.abort.signal.aborted);
    }
  }
}

async function* countRows<T extends { readonly rows: readonly unknown[] }>(batches: AsyncIterable<T>, ctx: RequestContext): AsyncIterable<T> {
  for await (const b of batches) {
    ctx.rows += b.rows.length;
    yield b;
  }
}

/** `SLUICE_TRUST_PROXY`: a number of proxies, `true`/`yes` for one; anything else none. */
export function trustProxyFromEnvironment(value: string | undefined): number {
  if (value === undefined) return 0;
  const v = value.trim().toLowerCase();
  if (v === 'true' || v === 'yes') return 1;
  const n = Number(v);
  return Number.isInteger(n) && n > 0 && n < 100 ? n : 0;
}

/** Start a server; resolves once it listens. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  return new SluiceServer(options).listen();
}

export { httpError, toSluiceError };

/**
 * The one place Exact Online is called from. Every request goes through
 * `call`: rate governor slot, bearer token (refreshed by the TokenManager),
 * `Accept: application/json`, a keep-alive undici pool, a log line per call
 * (url redacted, partition, status, ms, rows, bytes), cancellation, and the
 * retry rules: GETs are retried on 5xx, resets and truncated bodies with
 * backoff and jitter; 429 waits for the window's reset; 401 re-reads the
 * token store; a POST/PUT/DELETE is never blindly retried — an unclear
 * outcome (connection lost, timeout, 502/503/504 or a 500 without Exact's
 * error body, a 2xx whose body is not JSON) is reported as UnclearOutcome so
 * the writer can look the row up first.
 */
import { Agent, request } from 'undici';
import type { RemoteCallLog } from '../../provider/types.js';
import type { Clock } from '../../util/clock.js';
import { SluiceError } from '../../util/errors.js';
import { redact } from '../../util/secrets.js';
import type { RateGovernor } from './governor.js';
import type { TokenManager } from './oauth.js';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type Entity = Record<string, Json>;

export interface CallOptions {
  /** Division the call spends budget of ('current' for calls without one). */
  readonly division: string;
  /** Endpoint path for error counting (e.g. `crm/Accounts`). */
  readonly endpoint: string;
  readonly signal?: AbortSignal;
  readonly table?: string;
  /** Called once per remote call actually made. */
  readonly onCall?: () => void;
}

export interface CallResult {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  readonly json: Json | undefined;
}

/** A write whose outcome is unknown (connection lost after sending): look before retrying. */
export class UnclearOutcome extends Error {
  constructor(readonly causeMessage: string) {
    super(`unclear outcome: ${causeMessage}`);
  }
}

const RETRYABLE_NET = /ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|UND_ERR_SOCKET|UND_ERR_CLOSED|other side closed|UND_ERR_HEADERS_TIMEOUT|UND_ERR_BODY_TIMEOUT|terminated/i;

/**
 * A 5xx to a write that does not say whether the write happened: a gateway
 * or availability error (502/503/504), or a 500 without Exact's error body.
 * A 500 with Exact's message ("Mandatory: …") is a clear refusal.
 */
function unclearStatus(status: number, json: Json | undefined): boolean {
  if (status === 502 || status === 503 || status === 504) return true;
  if (status !== 500) return false;
  const err = json && typeof json === 'object' && !Array.isArray(json) ? json['error'] : undefined;
  return err === undefined || err === null;
}

/** Exact's error body in words: `{"error":{"message":{"value":…}}}`, OAuth errors, or HTML. */
export function exactMessage(text: string, json: Json | undefined): string {
  if (json && typeof json === 'object' && !Array.isArray(json)) {
    const err = json['error'];
    if (err && typeof err === 'object' && !Array.isArray(err)) {
      const msg = err['message'];
      if (msg && typeof msg === 'object' && !Array.isArray(msg) && typeof msg['value'] === 'string') return msg['value'];
      if (typeof msg === 'string') return msg;
    }
    if (typeof json['error_description'] === 'string') return json['error_description'];
    if (typeof err === 'string') return err;
  }
  return text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 300);
}

function countRows(json: Json | undefined): number {
  if (!json || typeof json !== 'object' || Array.isArray(json)) return 0;
  const d = json['d'];
  if (Array.isArray(d)) return d.length;
  if (d && typeof d === 'object') {
    const r = (d as Record<string, Json>)['results'];
    return Array.isArray(r) ? r.length : 1;
  }
  return 0;
}

export interface HttpDeps {
  readonly alias: string;
  readonly clock: Clock;
  readonly log: RemoteCallLog;
  readonly tokens: TokenManager;
  readonly governor: RateGovernor;
  /** Bounded retries for GETs (default 4 attempts in all). */
  readonly maxAttempts?: number;
  /** Requests in flight at once for this container (the connection string's `parallelism`, default 8). */
  readonly maxConcurrent?: number;
}

export class ExactHttp {
  private readonly agent: Agent;
  private readonly waiting: (() => void)[] = [];
  /** Requests in flight now, and the most seen at once (bounded by `maxConcurrent`). */
  readonly concurrency = { inFlight: 0, maxInFlight: 0 };

  constructor(private readonly deps: HttpDeps) {
    this.agent = new Agent({ keepAliveTimeout: 30_000, connections: 64, headersTimeout: 120_000, bodyTimeout: 120_000 });
  }

  /** Wait for one of the container's `maxConcurrent` request slots. */
  private async enter(): Promise<void> {
    const limit = Math.max(1, this.deps.maxConcurrent ?? 8);
    if (this.concurrency.inFlight >= limit) await new Promise<void>((r) => this.waiting.push(r));
    else this.concurrency.inFlight++;
    this.concurrency.maxInFlight = Math.max(this.concurrency.maxInFlight, this.concurrency.inFlight);
  }

  /** Hand the slot to the next waiter (it keeps the count), or free it. */
  private leave(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.concurrency.inFlight--;
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  private fail(message: string, opts: CallOptions, status?: number, hint?: string, cause?: unknown): SluiceError {
    return new SluiceError('EOL050', message, {
      container: this.deps.alias,
      table: opts.table,
      partition: opts.division === 'current' ? undefined : opts.division,
      status,
      hint,
      cause,
    });
  }

  /**
   * One logical call. `body` undefined: a GET (safe to retry). Otherwise a
   * write: retried only where the server certainly did not act (401, 429).
   */
  async call(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, opts: CallOptions, body?: unknown, extraHeaders?: Record<string, string>): Promise<CallResult> {
    const { clock, governor, tokens } = this.deps;
    const idempotent = method === 'GET';
    const maxAttempts = this.deps.maxAttempts ?? 4;
    let attempt = 0;
    let throttles = 0;
    let reauth = false;
    for (;;) {
      if (opts.signal?.aborted) throw opts.signal.reason;
      // May refuse (budget share spent) before anything is spent.
      opts.onCall?.();
      const token = await tokens.accessToken(opts.signal);
      const release = await governor.acquire(opts.division, { endpoint: opts.endpoint, signal: opts.signal });
      await this.enter();
      const started = Date.now();
      let status = 0;
      let headers: Record<string, string | string[] | undefined> = {};
      let text = '';
      let netError: unknown;
      try {
        const res = await request(url, {
          method,
          dispatcher: this.agent,
          signal: opts.signal,
          headers: {
            accept: 'application/json',
            authorization: `Bearer ${token}`,
            ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
            ...extraHeaders,
          },
          body: body !== undefined ? JSON.stringify(body) : undefined,
        });
        status = res.statusCode;
        headers = res.headers;
        text = await res.body.text();
      } catch (e) {
        netError = e;
      } finally {
        this.leave();
      }
      release(status, netError ? undefined : headers);
      let json: Json | undefined;
      let truncated = false;
      if (!netError && text.length > 0) {
        try {
          json = JSON.parse(text) as Json;
        } catch {
          const ct = String(headers['content-type'] ?? '');
          truncated = status >= 200 && status < 300 && ct.includes('json');
        }
      }
      const ms = Date.now() - started;
      this.deps.log.record({
        at: clock.now(),
        container: this.deps.alias,
        partition: opts.division === 'current' ? undefined : opts.division,
        method,
        url: redact(url),
        status,
        ms,
        rows: countRows(json),
        bytes: Buffer.byteLength(text),
        error: netError ? (netError instanceof Error ? netError.message : String(netError)) : truncated ? 'truncated body' : undefined,
      });
      if (netError) {
        if (opts.signal?.aborted) throw opts.signal.reason;
        const msg = netError instanceof Error ? `${netError.message} ${(netError as { code?: string }).code ?? ''}` : String(netError);
        if (!idempotent) throw new UnclearOutcome(msg);
        if (++attempt < maxAttempts && RETRYABLE_NET.test(msg)) {
          await this.backoff(attempt, opts.signal);
          continue;
        }
        throw this.fail(`Exact Online could not be reached: ${msg.trim()}.`, opts, undefined, undefined, netError);
      }
      if (!idempotent && status >= 200 && status < 300 && text.length > 0 && json === undefined) {
        // The write was accepted, but its answer is cut off or not JSON: whether it
        // holds what we think is unknown, so the writer looks the row up.
        throw new UnclearOutcome(`Exact Online answered ${status} with a body that is not valid JSON`);
      }
      if (!idempotent && unclearStatus(status, json)) {
        throw new UnclearOutcome(`Exact Online answered ${status} without saying why`);
      }
      if (truncated) {
        if (idempotent && ++attempt < maxAttempts) {
          await this.backoff(attempt, opts.signal);
          continue;
        }
        throw this.fail('Exact Online sent an incomplete answer.', opts, status);
      }
      if (status === 429) {
        if (++throttles > 20) throw this.fail('Exact Online kept answering 429 Too Many Requests.', opts, 429);
        await clock.sleep(governor.after429(opts.division, headers), opts.signal);
        continue;
      }
      if (status === 401 && !reauth) {
        reauth = true;
        await tokens.onUnauthorized(token, opts.signal);
        continue;
      }
      if (status >= 500 && status !== 501 && idempotent && ++attempt < maxAttempts) {
        await this.backoff(attempt, opts.signal);
        continue;
      }
      if (status >= 200 && status < 300) return { status, headers, text, json };
      const reason = headers['reason'];
      const reasonText = Array.isArray(reason) ? reason[0] : reason;
      const message = exactMessage(text, json) || `HTTP ${status}`;
      throw this.fail(
        `Exact Online answered ${status}${reasonText ? ` (${reasonText})` : ''}: ${message}`,
        opts,
        status,
        reasonText === 'NoDivisionAccess' || reasonText === 'DivisionBlocked'
          ? `The user cannot reach division ${opts.division}; leave it out of \`use\`.`
          : status === 401
            ? `Run \`sluice login ${this.deps.alias}\`.`
            : undefined,
      );
    }
  }

  private async backoff(attempt: number, signal?: AbortSignal): Promise<void> {
    const base = 200 * 2 ** (attempt - 1);
    await this.deps.clock.sleep(base + Math.floor(Math.random() * base), signal);
  }

  /** GET a collection, following `__next`, yielding each page's entities. */
  async *pages(url: string, opts: CallOptions): AsyncIterable<Entity[]> {
    let next: string | undefined = url;
    while (next) {
      const res = await this.call('GET', next, opts);
      const { rows, nextUrl } = parseCollection(res.json);
      next = nextUrl;
      yield rows;
    }
  }
}

/** `{"d":{"results":[…],"__next":…}}`, a bare `{"d":[…]}`, or a single `{"d":{…}}`. */
export function parseCollection(json: Json | undefined): { rows: Entity[]; nextUrl?: string } {
  if (!json || typeof json !== 'object' || Array.isArray(json)) return { rows: [] };
  const d = json['d'];
  if (Array.isArray(d)) return { rows: d.filter(isEntity) };
  if (isEntity(d)) {
    const results = d['results'];
    if (Array.isArray(results)) {
      const next = d['__next'];
      return { rows: results.filter(isEntity), nextUrl: typeof next === 'string' && next ? next : undefined };
    }
    return { rows: [d] };
  }
  return { rows: [] };
}

function isEntity(v: Json | undefined): v is Entity {
  return v !== null && v !== undefined && typeof v === 'object' && !Array.isArray(v);
}

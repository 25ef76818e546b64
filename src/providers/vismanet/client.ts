/**
 * The one place the VismaNet provider talks HTTP. Per company it keeps a
 * Visma Connect client-credentials token (cached for its lifetime minus a
 * margin, fetched once even when many calls need it at the same moment) and
 * a rate governor. Every call carries `Authorization: Bearer`,
 * `ipp-company-id` and `ipp-application-type`, is logged (URL redacted),
 * honours 429 Retry-After, retries what is safe to retry, and is
 * cancellable. Visma's error body becomes a SluiceError naming the company.
 */
import type { Clock } from '../../util/clock.js';
import { SluiceError } from '../../util/errors.js';
import { redact } from '../../util/secrets.js';
import type { RemoteCallLog } from '../../provider/types.js';
import { RateGovernor, retryAfterMs } from './governor.js';
import type { VismaOptions } from './options.js';

/** Refresh a token this long before Visma says it expires. */
const TOKEN_MARGIN_MS = 120_000;

export interface VismaResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: unknown;
  readonly bytes: number;
}

export interface VismaRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path after `/v1` (`/customer`, `/customer/10001`). */
  readonly path: string;
  readonly query?: Readonly<Record<string, string>>;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  /** Statuses the caller handles itself instead of getting an error (e.g. 404, 412). */
  readonly accept?: readonly number[];
  readonly signal: AbortSignal;
  /** Rows the answer carries, for the call log. */
  readonly countRows?: (body: unknown) => number;
}

interface CachedToken {
  readonly token: string;
  readonly expiresAt: number;
}

/** Visma's error body, in whatever casing it arrives. */
export function vismaMessage(body: unknown): { message: string; faultCode?: string } | undefined {
  if (typeof body !== 'object' || body === null) return typeof body === 'string' && body.trim() ? { message: body.trim().slice(0, 500) } : undefined;
  const b = body as Record<string, unknown>;
  const text = (k: string): string | undefined => {
    const v = b[k] ?? b[k.charAt(0).toLowerCase() + k.slice(1)];
    return typeof v === 'string' && v.trim() ? v.trim() : undefined;
  };
  const message = text('ExceptionMessage') ?? text('Message') ?? text('error_description') ?? text('Error');
  if (!message) return undefined;
  const faultCode = text('ExceptionFaultCode');
  return faultCode ? { message, faultCode } : { message };
}

/** Wait for a shared promise, but give up (without cancelling it) when this caller's signal aborts. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

export class VismaClient {
  private readonly tokens = new Map<string, CachedToken>();
  private readonly pendingTokens = new Map<string, Promise<CachedToken>>();
  private readonly governors = new Map<string, RateGovernor>();
  tokenRequests = 0;

  constructor(
    private readonly alias: string,
    readonly options: VismaOptions,
    private readonly clock: Clock,
    private readonly log: RemoteCallLog,
  ) {}

  governor(company: string): RateGovernor {
    let g = this.governors.get(company);
    if (!g) {
      g = new RateGovernor(this.clock, this.options.callsPerHour);
      this.governors.set(company, g);
    }
    return g;
  }

  setCallsPerHour(n: number): void {
    this.options.callsPerHour = n;
    for (const g of this.governors.values()) g.setBudget(n);
  }

  private tenantFor(company: string): string {
    const { tenantIds, companyIds } = this.options;
    if (tenantIds.length <= 1) return tenantIds[0] ?? '';
    const i = companyIds.indexOf(company);
    return tenantIds[i >= 0 && i < tenantIds.length ? i : 0];
  }

  /** A valid token for the company: cached, or fetched once for all concurrent callers. */
  async token(company: string, signal: AbortSignal): Promise<string> {
    const cached = this.tokens.get(company);
    if (cached && cached.expiresAt > this.clock.now()) return cached.token;
    let pending = this.pendingTokens.get(company);
    if (!pending) {
      // Shared by every caller waiting for it, so one caller's abort must not fail the others: it has its own time limit.
      pending = this.fetchToken(company, AbortSignal.timeout(60_000)).finally(() => this.pendingTokens.delete(company));
      this.pendingTokens.set(company, pending);
    }
    const token = await abortable(pending, signal);
    return token.token;
  }

  forgetToken(company: string): void {
    this.tokens.delete(company);
  }

  private async fetchToken(company: string, signal: AbortSignal): Promise<CachedToken> {
    const { clientId, clientSecret, scope, tokenUrl } = this.options;
    if (!clientId || !clientSecret) {
      throw new SluiceError('VNT001', `Container ${this.alias} has no client-id or client-secret for Visma Connect.`, {
        container: this.alias,
        partition: company,
        hint: 'Add client-id=…;client-secret=…;tenant-id=… to the connection string (the secret may be sealed).',
      });
    }
    const form = new URLSearchParams({ grant_type: 'client_credentials', scope, client_id: clientId, client_secret: clientSecret, tenant_id: this.tenantFor(company) });
    const started = this.clock.now();
    this.tokenRequests++;
    let status = 0;
    let text = '';
    try {
      const res = await fetch(tokenUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
        body: form.toString(),
        signal,
      });
      status = res.status;
      text = await res.text();
    } catch (e) {
      throw new SluiceError('VNT003', `Visma Connect could not be reached at ${redact(tokenUrl)}: ${e instanceof Error ? e.message : String(e)}.`, {
        container: this.alias,
        partition: company,
        cause: e,
      });
    } finally {
      this.log.record({ at: started, container: this.alias, partition: company, method: 'POST', url: redact(tokenUrl), status, ms: this.clock.now() - started, rows: 0, bytes: text.length });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
    const body = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as { access_token?: unknown; expires_in?: unknown; error?: unknown };
    if (status !== 200 || typeof body.access_token !== 'string') {
      const reason = typeof body.error === 'string' ? body.error : `HTTP ${status}`;
      throw new SluiceError('VNT001', `Visma Connect refused the client credentials of container ${this.alias} (${reason}).`, {
        container: this.alias,
        partition: company,
        status,
        hint: 'Check client-id, client-secret, tenant-id and scope; the application needs access to this company.',
      });
    }
    const lifetime = Number(body.expires_in ?? 3600) * 1000;
    const token = { token: body.access_token, expiresAt: started + Math.max(lifetime - TOKEN_MARGIN_MS, lifetime / 2) };
    this.tokens.set(company, token);
    return token;
  }

  url(path: string, query?: Readonly<Record<string, string>>): string {
    const qs = query && Object.keys(query).length > 0 ? `?${new URLSearchParams(query).toString()}` : '';
    return `${this.options.apiUrl}/v1${path}${qs}`;
  }

  /** One API call with governor, token, retries and logging. */
  async call(company: string, req: VismaRequest): Promise<VismaResponse> {
    const url = this.url(req.path, req.query);
    const governor = this.governor(company);
    const safe = req.method === 'GET' || req.method === 'PUT' || req.method === 'DELETE';
    let authRetried = false;
    for (let attempt = 0; ; attempt++) {
      const token = await this.token(company, req.signal);
      await governor.acquire(req.signal);
      const started = this.clock.now();
      let status = 0;
      let bytes = 0;
      let body: unknown;
      let headers = new Headers();
      let error: string | undefined;
      try {
        const res = await fetch(url, {
          method: req.method,
          headers: {
            Authorization: `Bearer ${token}`,
            'ipp-company-id': company,
            'ipp-application-type': 'Visma.net Financials',
            Accept: 'application/json',
            ...(req.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
            ...(req.headers ?? {}),
          },
          ...(req.body !== undefined ? { body: JSON.stringify(req.body) } : {}),
          signal: req.signal,
        });
        status = res.status;
        headers = res.headers;
        const text = await res.text();
        bytes = text.length;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          body = text;
        }
      } catch (e) {
        if (req.signal.aborted) throw req.signal.reason;
        error = e instanceof Error ? e.message : String(e);
      } finally {
        governor.done();
      }
      governor.observe(status, headers);
      const ok = status >= 200 && status < 300;
      if (!ok && status !== 0) error = vismaMessage(body)?.message ?? `HTTP ${status}`;
      this.log.record({
        at: started,
        container: this.alias,
        partition: company,
        method: req.method,
        url: redact(url),
        status,
        ms: this.clock.now() - started,
        rows: ok && req.countRows ? req.countRows(body) : 0,
        bytes,
        ...(error ? { error: redact(error) } : {}),
      });
      if (ok || req.accept?.includes(status)) return { status, headers, body, bytes };
      if (status === 401 && !authRetried) {
        authRetried = true;
        this.forgetToken(company);
        continue;
      }
      const retryable = status === 429 || (safe && (status === 0 || status === 502 || status === 503 || status === 504 || status === 500));
      if (retryable && attempt < this.options.maxRetries) {
        if (status !== 429) {
          // 429s already hold the governor; other failures back off here.
          const wait = retryAfterMs(headers.get('retry-after'), this.clock.now()) ?? Math.min(8000, 250 * 2 ** attempt);
          await this.clock.sleep(wait, req.signal);
        }
        continue;
      }
      throw this.error(company, req, status, body, error);
    }
  }

  error(company: string, req: VismaRequest, status: number, body: unknown, transport?: string): SluiceError {
    const where = `${req.method} ${req.path}`;
    if (status === 0) {
      return new SluiceError('VNT003', `Visma.net could not be reached (${where}): ${transport ?? 'no answer'}.`, { container: this.alias, partition: company });
    }
    const visma = vismaMessage(body);
    const detail = visma ? `${visma.message}${visma.faultCode ? ` (fault code ${visma.faultCode})` : ''}` : `HTTP ${status}`;
    const hints: Record<number, string> = {
      401: 'The token was refused; check the client credentials and that the application may use this company.',
      403: `Check that the application has access to company ${company} (ipp-company-id).`,
      429: 'The rate limit was still exceeded after retries; lower calls-per-hour or try later.',
    };
    return new SluiceError(`VNT${status}`, `Visma.net answered ${status} to ${where} for company ${company}: ${detail}`, {
      container: this.alias,
      partition: company,
      status,
      ...(hints[status] ? { hint: hints[status] } : {}),
    });
  }
}

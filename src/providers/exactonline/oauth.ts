/**
 * OAuth 2 for Exact Online: the authorization-code flow behind `sluice login`
 * and the refresh discipline every scan relies on.
 *
 * Exact rotates the refresh token on every refresh, rejects an older one
 * ("Old refresh token used"), answers a refresh before 570 s with
 * TooEarlyToRefreshTokens, and counts both as errors. So the TokenManager:
 * - uses the stored access token until it is 570 s old (never refreshes sooner);
 * - refreshes single-flight inside a process (one promise per store file);
 * - refreshes under the store's cross-process lock, re-reading the store first
 *   (another process may already have refreshed);
 * - writes the new refresh token to the store before the new access token is
 *   used by anyone;
 * - after a 401 re-reads the store before anything else.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { request } from 'undici';
import type { Clock } from '../../util/clock.js';
import { SluiceError } from '../../util/errors.js';
import { redact } from '../../util/secrets.js';
import type { ExactConfig } from './config.js';
import type { TokenState, TokenStore } from './token-store.js';

/** Exact refuses refreshes of an access token younger than this. */
export const MIN_REFRESH_AGE_MS = 570_000;

export interface TokenCallLog {
  (call: { method: string; url: string; status: number; ms: number; bytes: number; error?: string }): void;
}

interface TokenResponse {
  readonly status: number;
  readonly reason?: string;
  readonly body: Record<string, unknown> | undefined;
  readonly text: string;
}

/**
 * Token calls give up after this long: a refresh runs inside the store lock,
 * which waiters take over after STALE_LOCK_MS (60 s), so the call must end
 * well before — else a stuck call and the process that took over would both
 * spend the same refresh token.
 */
export const TOKEN_CALL_TIMEOUT_MS = 30_000;

async function postForm(url: string, form: Record<string, string>, log: TokenCallLog | undefined, signal?: AbortSignal, timeoutMs = TOKEN_CALL_TIMEOUT_MS): Promise<TokenResponse> {
  const started = Date.now();
  let status = 0;
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    const res = await request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams(form).toString(),
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    status = res.statusCode;
    const text = await res.body.text();
    log?.({ method: 'POST', url: redact(url), status, ms: Date.now() - started, bytes: Buffer.byteLength(text) });
    let body: Record<string, unknown> | undefined;
    try {
      const parsed: unknown = JSON.parse(text);
      body = parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : undefined;
    } catch {
      body = undefined;
    }
    const reason = res.headers['reason'];
    return { status, reason: Array.isArray(reason) ? reason[0] : reason, body, text };
  } catch (e) {
    log?.({ method: 'POST', url: redact(url), status, ms: Date.now() - started, bytes: 0, error: e instanceof Error ? e.message : String(e) });
    if (signal?.aborted) throw signal.reason;
    if (timeout.aborted) {
      throw new SluiceError('EOL030', `The Exact Online token endpoint did not answer within ${Math.round(timeoutMs / 1000)} s.`, {
        cause: e,
        hint: 'Retry; if the refresh reached Exact, the stored refresh token may be spent and `sluice login` is needed.',
      });
    }
    throw new SluiceError('EOL030', `The Exact Online token endpoint could not be reached: ${e instanceof Error ? e.message : String(e)}.`, { cause: e });
  }
}

function describe(res: TokenResponse): string {
  const b = res.body;
  if (b) {
    const desc = b['error_description'] ?? b['error'];
    if (typeof desc === 'string' && desc) return desc;
    const err = b['error'];
    if (err && typeof err === 'object') {
      const msg = (err as { message?: { value?: unknown } }).message?.value;
      if (typeof msg === 'string') return msg;
    }
  }
  return res.text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 200) || `HTTP ${res.status}`;
}

export function tokenUrl(cfg: ExactConfig): string {
  return `${cfg.apiUrl}/api/oauth2/token`;
}

/** The URL the user opens in a browser to grant access. */
export function authorizeUrl(cfg: ExactConfig, state: string, forceLogin = false): string {
  const q = new URLSearchParams({ client_id: cfg.clientId, redirect_uri: cfg.redirectUrl, response_type: 'code', state });
  if (forceLogin) q.set('force_login', '1');
  return `${cfg.apiUrl}/api/oauth2/auth?${q.toString()}`;
}

function parseGrant(res: TokenResponse, now: number): Omit<TokenState, 'generation'> {
  const b = res.body ?? {};
  const access = b['access_token'];
  const refresh = b['refresh_token'];
  if (typeof access !== 'string' || typeof refresh !== 'string') {
    throw new SluiceError('EOL031', `The Exact Online token endpoint answered without tokens: ${describe(res)}.`, { status: res.status });
  }
  // expires_in arrives as a string ("600").
  const expires = Number(b['expires_in'] ?? 600);
  return {
    accessToken: access,
    refreshToken: refresh,
    accessObtainedAt: now,
    expiresIn: Number.isFinite(expires) && expires > 0 ? expires : 600,
    refreshObtainedAt: now,
  };
}

/** Exchange an authorization code (single use, valid 3 minutes) for tokens. */
export async function exchangeCode(cfg: ExactConfig, code: string, clock: Clock, log?: TokenCallLog, signal?: AbortSignal): Promise<Omit<TokenState, 'generation'>> {
  const res = await postForm(
    tokenUrl(cfg),
    { grant_type: 'authorization_code', code, redirect_uri: cfg.redirectUrl, client_id: cfg.clientId, client_secret: cfg.clientSecret },
    log,
    signal,
  );
  if (res.status !== 200) {
    throw new SluiceError('EOL032', `Exact Online refused the authorization code: ${describe(res)}.`, {
      status: res.status,
      hint: 'Codes are single use and valid 3 minutes; run `sluice login` again.',
    });
  }
  return parseGrant(res, clock.now());
}

/** When a stored access token must be replaced: never before 570 s of age. */
function refreshDue(state: TokenState): number {
  if (!state.accessToken || state.accessObtainedAt === undefined) return -Infinity;
  const lifeMs = (state.expiresIn ?? 600) * 1000;
  return state.accessObtainedAt + Math.max(MIN_REFRESH_AGE_MS, lifeMs - 30_000);
}

/** One refresh at a time per store file within this process. */
const inflight = new Map<string, Promise<TokenState>>();

export class TokenManager {
  private state: TokenState | undefined;
  /** Set after TooEarlyToRefreshTokens: keep using the current token until then. */
  private notBefore = 0;

  constructor(
    readonly store: TokenStore,
    private readonly cfg: ExactConfig,
    private readonly clock: Clock,
    private readonly log?: TokenCallLog,
  ) {}

  private usable(s: TokenState | undefined): s is TokenState & { accessToken: string } {
    if (!s?.accessToken) return false;
    return this.clock.now() < refreshDue(s) || this.clock.now() < this.notBefore;
  }

  private needLogin(why: string): SluiceError {
    return new SluiceError('EOL020', `${why} for container ${this.cfg.alias}.`, {
      container: this.cfg.alias,
      hint: `Run \`sluice login ${this.cfg.alias}\`.`,
    });
  }

  /** Store the connection string's refresh token when the store is still empty. */
  async seed(refreshToken: string | undefined): Promise<void> {
    if (!refreshToken) return;
    await this.store.withLock(async () => {
      const existing = await this.store.read();
      if (existing?.refreshToken) return;
      await this.store.write({ refreshToken, refreshObtainedAt: this.clock.now() }, existing?.generation ?? 0);
    });
  }

  /** Save tokens obtained by `sluice login`. */
  async saveGrant(grant: Omit<TokenState, 'generation'>): Promise<void> {
    this.state = await this.store.withLock(async () => {
      const existing = await this.store.read().catch(() => undefined);
      return this.store.write(grant, existing?.generation ?? 0);
    });
  }

  /** A valid access token: the stored one until it is 570 s old, then a refreshed one. */
  async accessToken(signal?: AbortSignal): Promise<string> {
    if (this.usable(this.state)) return this.state.accessToken;
    this.state = await this.store.read();
    if (this.usable(this.state)) return this.state.accessToken;
    const s = await this.refresh(signal);
    return s.accessToken as string;
  }

  /**
   * The API answered 401 to `usedToken`. Re-read the store first: another
   * process may hold newer tokens. Refresh only when the token is old enough.
   */
  async onUnauthorized(usedToken: string, signal?: AbortSignal): Promise<string> {
    const stored = await this.store.read();
    this.state = stored;
    if (stored?.accessToken && stored.accessToken !== usedToken && this.usable(stored)) return stored.accessToken;
    if (stored?.accessToken === usedToken && stored.accessObtainedAt !== undefined && this.clock.now() - stored.accessObtainedAt < MIN_REFRESH_AGE_MS) {
      throw this.needLogin('Exact Online refused a fresh access token (401): the tokens were probably revoked');
    }
    // Force a refresh: the token is refused and old enough.
    this.state = stored ? { ...stored, accessToken: undefined } : undefined;
    const s = await this.refresh(signal, usedToken);
    return s.accessToken as string;
  }

  /** Refresh when the refresh token has been idle longer than `maxIdleMs` (keepalive from cron). */
  async keepAlive(maxIdleMs: number, signal?: AbortSignal): Promise<{ refreshed: boolean; idleMs?: number }> {
    const s = await this.store.read();
    if (!s?.refreshToken) throw this.needLogin('There are no stored tokens');
    const idle = this.clock.now() - (s.refreshObtainedAt ?? 0);
    if (idle <= maxIdleMs) return { refreshed: false, idleMs: idle };
    // Refreshed by someone less than 570 s ago: a refresh now would be refused (TooEarlyToRefreshTokens).
    if (s.accessObtainedAt !== undefined && this.clock.now() - s.accessObtainedAt < MIN_REFRESH_AGE_MS) return { refreshed: false, idleMs: idle };
    this.state = { ...s, accessToken: undefined };
    const after = await this.refresh(signal, s.accessToken ?? '', true);
    return { refreshed: after.generation !== s.generation, idleMs: idle };
  }

  private refresh(signal?: AbortSignal, refusedToken?: string, force = false): Promise<TokenState> {
    const key = this.store.file;
    let p = inflight.get(key);
    if (!p) {
      p = this.store
        .withLock(() => this.refreshLocked(refusedToken, force, signal), signal)
        .finally(() => inflight.delete(key));
      inflight.set(key, p);
    }
    return p.then((s) => {
      this.state = s;
      return s;
    });
  }

  private async refreshLocked(refusedToken: string | undefined, force: boolean, signal?: AbortSignal): Promise<TokenState> {
    // Inside the lock, the store is the truth: someone may have refreshed while we waited.
    const fresh = await this.store.read();
    if (!fresh?.refreshToken) throw this.needLogin('There are no stored tokens');
    if (!force && fresh.accessToken !== refusedToken && this.usable(fresh)) return fresh;
    if (fresh.accessToken && fresh.accessObtainedAt !== undefined && this.clock.now() - fresh.accessObtainedAt < MIN_REFRESH_AGE_MS && fresh.accessToken !== refusedToken) {
      return fresh;
    }
    const res = await postForm(
      tokenUrl(this.cfg),
      { grant_type: 'refresh_token', refresh_token: fresh.refreshToken, client_id: this.cfg.clientId, client_secret: this.cfg.clientSecret },
      this.log,
      signal,
      // Ends before the lock can be taken over (half the stale limit at most).
      Math.min(TOKEN_CALL_TIMEOUT_MS, Math.floor(this.store.staleLockMs / 2)),
    );
    if (res.status === 200) {
      const grant = parseGrant(res, this.clock.now());
      // Durable before use: losing this refresh token would lock the user out.
      return this.store.write(grant, fresh.generation);
    }
    const why = describe(res);
    if (res.reason === 'TooEarlyToRefreshTokens' || /access_token not expired/i.test(why)) {
      if (fresh.accessToken) {
        this.notBefore = this.clock.now() + 30_000;
        return fresh;
      }
    }
    if (/old refresh token/i.test(why)) {
      const again = await this.store.read();
      if (again && again.generation !== fresh.generation && again.accessToken) return again;
      throw this.needLogin('Exact Online says the stored refresh token was already used by another client ("Old refresh token used")');
    }
    throw new SluiceError('EOL021', `Exact Online refused to refresh the tokens of container ${this.cfg.alias}: ${why}.`, {
      container: this.cfg.alias,
      status: res.status,
      hint: `Run \`sluice login ${this.cfg.alias}\` to sign in again.`,
    });
  }
}

export interface LoginOptions {
  /** Shows the authorize URL to the user. */
  readonly onUrl: (url: string) => void;
  readonly signal?: AbortSignal;
  /** How long to wait for the browser to come back (default 5 minutes). */
  readonly timeoutMs?: number;
  readonly log?: TokenCallLog;
  /** Called once the listener is ready (tests drive the browser side from here). */
  readonly onListening?: (authorizeUrl: string) => void;
}

/**
 * The authorization-code flow: print the authorize URL, listen on the
 * redirect URL's port and path, check `state`, exchange the code, store the
 * tokens. The redirect URL must be an http URL on this machine.
 */
export async function login(cfg: ExactConfig, manager: TokenManager, clock: Clock, opts: LoginOptions): Promise<void> {
  const redirect = new URL(cfg.redirectUrl);
  if (redirect.protocol !== 'http:') {
    throw new SluiceError('EOL033', `The redirect URL ${cfg.redirectUrl} is not an http URL sluice can listen on.`, {
      container: cfg.alias,
      hint: 'Register a redirect URL like http://localhost:8765/callback for your app and put it in api-redirect-url.',
    });
  }
  const state = randomBytes(16).toString('hex');
  const url = authorizeUrl(cfg, state);
  const code = await new Promise<string>((resolve, reject) => {
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const got = new URL(req.url ?? '/', cfg.redirectUrl);
      if (got.pathname !== redirect.pathname) {
        res.writeHead(404).end();
        return;
      }
      const error = got.searchParams.get('error');
      const gotCode = got.searchParams.get('code');
      if (got.searchParams.get('state') !== state) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end('State mismatch: this answer belongs to another login attempt.');
        return;
      }
      if (error || !gotCode) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end(`Login failed: ${error ?? 'no code'}.`);
        done(new SluiceError('EOL034', `Exact Online did not grant access: ${error ?? 'no code returned'}.`, { container: cfg.alias }));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain' }).end('Signed in to Exact Online. You can close this window.');
      done(undefined, gotCode);
    });
    const timer = setTimeout(() => done(new SluiceError('EOL035', 'Timed out waiting for the browser to return from Exact Online.', { container: cfg.alias })), opts.timeoutMs ?? 300_000);
    const onAbort = () => done(opts.signal?.reason instanceof Error ? opts.signal.reason : new SluiceError('EOL036', 'Login cancelled.'));
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    function done(err: Error | undefined, value?: string) {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      server.close();
      server.closeAllConnections();
      if (err) reject(err);
      else resolve(value as string);
    }
    server.on('error', (e) => done(new SluiceError('EOL037', `Cannot listen on ${cfg.redirectUrl}: ${e.message}.`, { container: cfg.alias })));
    const port = Number(redirect.port || '80');
    const host = redirect.hostname === 'localhost' ? '127.0.0.1' : redirect.hostname.replace(/^\[|\]$/g, '');
    server.listen(port, host, () => {
      opts.onUrl(url);
      opts.onListening?.(url);
    });
  });
  const grant = await exchangeCode(cfg, code, clock, opts.log, opts.signal);
  await manager.saveGrant(grant);
}

/**
 * Exact Online's OAuth2 as the platform facts describe it: single-use
 * authorization codes valid 3 minutes, 600-second access tokens with
 * `expires_in` as a string, refresh tokens that rotate on every use (an older
 * one fails "Old refresh token used"), refresh refused before 570 s
 * (TooEarlyToRefreshTokens, counted as an error), 30-day idle expiry, 200
 * token calls a day per app and user (both thresholds configurable). Time comes from the injectable clock.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../../util/clock.js';

export const ACCESS_TOKEN_SECONDS = 600;
export const TOO_EARLY_SECONDS = 570;
export const CODE_SECONDS = 180;
export const REFRESH_IDLE_MS = 30 * 86_400_000;
export const TOKEN_CALLS_PER_DAY = 200;

/** The token rules that differ per app or licence (or are unsure): all configurable. */
export interface OAuthLimits {
  /** A refresh before this many seconds after the last one answers TooEarlyToRefreshTokens (570). */
  tooEarlySeconds: number;
  /** Token calls per app and user per UTC day (200). */
  tokenCallsPerDay: number;
}

export const DEFAULT_OAUTH_LIMITS: OAuthLimits = { tooEarlySeconds: TOO_EARLY_SECONDS, tokenCallsPerDay: TOKEN_CALLS_PER_DAY };

export interface AccessGrant {
  readonly userId: string;
  readonly clientId: string;
  readonly expiresAt: number;
}

interface RefreshState {
  readonly userId: string;
  readonly clientId: string;
  /** Family: all refresh tokens of one chain; only the newest is current. */
  readonly family: string;
  current: boolean;
  lastUsed: number;
  /** When the access token issued with it was issued; undefined: refresh at once. */
  readonly issuedAt: number | undefined;
}

export interface TokenResult {
  readonly status: number;
  readonly body: string;
  readonly headers?: Record<string, string>;
  /** The app and user an error answer is charged to (the error allowance counts it), when known. */
  readonly errorFor?: { readonly clientId: string; readonly userId: string };
}

function token(prefix: string): string {
  return `${prefix}${randomBytes(24).toString('base64url')}`;
}

/** Codes always carry characters that must be URL-encoded (`+`, often `/` and `=`), as Exact's do. */
function authCode(): string {
  return `stampNL001.${randomBytes(6).toString('base64')}!IAAAA+${randomBytes(17).toString('base64')}`;
}

export class OAuthServer {
  private readonly clock: Clock;
  private readonly codes = new Map<string, { userId: string; clientId: string; redirectUri: string; expiresAt: number }>();
  private readonly access = new Map<string, AccessGrant>();
  private readonly refresh = new Map<string, RefreshState>();
  private readonly familyCurrent = new Map<string, string>();
  private readonly dayCalls = new Map<string, { day: number; n: number }>();
  /** Bumped by revokeAll(): every token issued before is dead. */
  private revokedBefore = new Set<string>();
  readonly clientId: string;
  readonly clientSecret: string;
  readonly redirectUri: string;
  limits: OAuthLimits;

  constructor(clock: Clock, clientId: string, clientSecret: string, redirectUri: string, limits: OAuthLimits = DEFAULT_OAUTH_LIMITS) {
    this.clock = clock;
    this.limits = limits;
    this.clientId = clientId;
    this.clientSecret = clientSecret;
    this.redirectUri = redirectUri;
  }

  issueCode(userId: string, clientId: string, redirectUri: string): string {
    const code = authCode();
    this.codes.set(code, { userId, clientId, redirectUri, expiresAt: this.clock.now() + CODE_SECONDS * 1000 });
    return code;
  }

  /** A refresh token usable at once (no access token issued yet). */
  issueRefreshToken(userId: string): string {
    const rt = token('sim-rt-');
    const family = token('fam-');
    this.refresh.set(rt, { userId, clientId: this.clientId, family, current: true, lastUsed: this.clock.now(), issuedAt: undefined });
    this.familyCurrent.set(family, rt);
    return rt;
  }

  /** Who an access token belongs to; undefined when unknown, revoked or expired. */
  check(accessToken: string): AccessGrant | undefined {
    const g = this.access.get(accessToken);
    if (!g) return undefined;
    if (g.expiresAt <= this.clock.now()) return undefined;
    return g;
  }

  /** Who an access token was issued to, even when it has expired (undefined when unknown or revoked). */
  owner(accessToken: string): AccessGrant | undefined {
    return this.access.get(accessToken);
  }

  /** The app and user a refresh token belongs to, when it is known. */
  refreshOwner(refreshToken: string): { clientId: string; userId: string } | undefined {
    const r = this.refresh.get(refreshToken);
    return r ? { clientId: r.clientId, userId: r.userId } : undefined;
  }

  revokeAll(): void {
    this.access.clear();
    for (const k of this.refresh.keys()) this.revokedBefore.add(k);
    this.refresh.clear();
    this.familyCurrent.clear();
  }

  private grant(userId: string, clientId: string, family: string): TokenResult {
    const now = this.clock.now();
    const at = token('sim-at-');
    const rt = token('sim-rt-');
    this.access.set(at, { userId, clientId, expiresAt: now + ACCESS_TOKEN_SECONDS * 1000 });
    const prev = this.familyCurrent.get(family);
    if (prev) {
      const p = this.refresh.get(prev);
      if (p) p.current = false;
    }
    this.refresh.set(rt, { userId, clientId, family, current: true, lastUsed: now, issuedAt: now });
    this.familyCurrent.set(family, rt);
    return {
      status: 200,
      body: JSON.stringify({ access_token: at, token_type: 'bearer', expires_in: String(ACCESS_TOKEN_SECONDS), refresh_token: rt }),
    };
  }

  private countCall(clientId: string, userId: string): boolean {
    const day = Math.floor(this.clock.now() / 86_400_000);
    const k = `${clientId}|${userId}`;
    const c = this.dayCalls.get(k);
    if (!c || c.day !== day) {
      this.dayCalls.set(k, { day, n: 1 });
      return true;
    }
    c.n++;
    return c.n <= this.limits.tokenCallsPerDay;
  }

  /** POST /api/oauth2/token with a form-encoded body. */
  token(form: URLSearchParams): TokenResult {
    const err = (status: number, error: string, description: string, headers?: Record<string, string>, errorFor?: { clientId: string; userId: string }): TokenResult => ({
      status,
      body: JSON.stringify({ error, error_description: description }),
      ...(headers ? { headers } : {}),
      ...(errorFor ? { errorFor } : {}),
    });
    const grantType = form.get('grant_type');
    const clientId = form.get('client_id') ?? '';
    if (clientId.toLowerCase() !== this.clientId.toLowerCase() || form.get('client_secret') !== this.clientSecret) {
      return err(400, 'invalid_client', 'Invalid client credentials.');
    }
    const now = this.clock.now();
    if (grantType === 'authorization_code') {
      const code = form.get('code') ?? '';
      const c = this.codes.get(code);
      if (!c) return err(400, 'invalid_grant', 'The authorization code is invalid or has already been used.');
      this.codes.delete(code);
      if (c.expiresAt <= now) return err(400, 'invalid_grant', 'The authorization code has expired.');
      if ((form.get('redirect_uri') ?? '') !== c.redirectUri) return err(400, 'invalid_grant', 'The redirect_uri does not match.');
      if (!this.countCall(clientId, c.userId)) return err(400, 'access_denied', 'Rate limit exceeded: too many token requests today.');
      return this.grant(c.userId, this.clientId, token('fam-'));
    }
    if (grantType === 'refresh_token') {
      const rt = form.get('refresh_token') ?? '';
      const r = this.refresh.get(rt);
      if (!r) return err(400, 'invalid_grant', 'The refresh token is invalid.');
      if (!r.current) return err(401, 'invalid_grant', 'Old refresh token used.');
      if (now - r.lastUsed > REFRESH_IDLE_MS) {
        return err(400, 'invalid_request', `The refresh token expired at ${new Date(r.lastUsed + REFRESH_IDLE_MS).toISOString()}.`);
      }
      if (!this.countCall(clientId, r.userId)) return err(400, 'access_denied', 'Rate limit exceeded: too many token requests today.');
      if (r.issuedAt !== undefined && now - r.issuedAt < this.limits.tooEarlySeconds * 1000) {
        // Counts as an error (platform facts): charged to the app and user.
        return err(400, 'access_denied', 'Rate limit exceeded: access_token not expired', { Reason: 'TooEarlyToRefreshTokens' }, { clientId: r.clientId, userId: r.userId });
      }
      return this.grant(r.userId, r.clientId, r.family);
    }
    return err(400, 'unsupported_grant_type', `The grant type '${grantType ?? ''}' is not supported.`);
  }
}

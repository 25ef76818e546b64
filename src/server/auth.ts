/**
 * Credentials: password hashing (scrypt, per-user salt, constant-time
 * compare), API tokens (random, shown once, stored as sha256), the
 * authentication of a request (HTTP Basic as Power BI sends it, or a Bearer
 * token), and the throttle that slows down password guessing per user + IP
 * with exponential backoff, under a ceiling per IP (answered with 429 and
 * Retry-After).
 */
import { createHash, createHmac, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../util/clock.js';
import type { GrantRecord, StateDocument, TokenRecord, UserRecord } from './state/types.js';

const N = 16384;
const R = 8;
const P = 1;
const KEYLEN = 32;

function scryptAsync(password: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, KEYLEN, { N: n, r, p, maxmem: 64 * 1024 * 1024 }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, N, R, P);
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [, n, r, p, salt, hash] = parts;
  const expected = Buffer.from(hash, 'base64url');
  const key = await scryptAsync(password, Buffer.from(salt, 'base64url'), Number(n), Number(r), Number(p));
  return key.length === expected.length && timingSafeEqual(key, expected);
}

export const TOKEN_PREFIX = 'slu_';

/** A new API token: the text to show once, and the record to store (hash only). */
export function newToken(user: string, now: Date, description?: string): { readonly token: string; readonly record: TokenRecord } {
  const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
  const id = randomBytes(6).toString('hex');
  return { token, record: { id, user, hash: tokenHash(token), createdAt: now.toISOString(), ...(description ? { description } : {}) } };
}

export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

function findToken(state: StateDocument, token: string): TokenRecord | undefined {
  const h = Buffer.from(tokenHash(token));
  // Compare every record in constant time so lookup time says nothing about near-misses.
  let found: TokenRecord | undefined;
  for (const t of state.tokens) {
    const other = Buffer.from(t.hash);
    if (other.length === h.length && timingSafeEqual(other, h)) found = t;
  }
  return found;
}

export type AuthOutcome =
  | { readonly ok: true; readonly user: UserRecord; readonly via: 'password' | 'token' }
  | { readonly ok: false; readonly reason: 'missing' | 'invalid' | 'throttled'; readonly retryAfterSeconds?: number; readonly user?: string };

/**
 * Failed logins, counted twice: per user (or per token attempt) + client
 * address, and per client address alone. After `free` failures of a user from
 * an address each further attempt for that user from there must wait
 * base·2^(n−free) ms (capped); after `ipFree` failures of any users from one
 * address, everything from that address waits the same way (the ceiling for
 * one address trying many names). A success resets the user's count.
 */
export class LoginThrottle {
  private readonly failures = new Map<string, { count: number; until: number; last: number }>();

  constructor(
    private readonly clock: Clock,
    private readonly free = 3,
    private readonly baseMs = 1000,
    private readonly maxMs = 15 * 60_000,
    private readonly ipFree = 50,
  ) {}

  private key(user: string, ip: string): string {
    return `${user.toLowerCase()}\u0000${ip}`;
  }

  private static ipKey(ip: string): string {
    return `\u0001${ip}`;
  }

  private wait(key: string): number {
    const f = this.failures.get(key);
    if (!f) return 0;
    const left = f.until - this.clock.now();
    return left > 0 ? Math.ceil(left / 1000) : 0;
  }

  /** Seconds before this user may try again from this address, 0 when allowed now (the address's ceiling included). */
  blockedFor(user: string, ip: string): number {
    return Math.max(this.wait(this.key(user, ip)), this.addressBlockedFor(ip));
  }

  /** Seconds before anything from this address is allowed again (the per-address ceiling). */
  addressBlockedFor(ip: string): number {
    return this.wait(LoginThrottle.ipKey(ip));
  }

  private count(key: string, free: number): void {
    const now = this.clock.now();
    const f = this.failures.get(key) ?? { count: 0, until: 0, last: now };
    // Failures older than the longest wait are forgotten: an office behind one address is not punished for last week's typos.
    if (now - f.last > this.maxMs) f.count = 0;
    f.last = now;
    f.count++;
    if (f.count >= free) f.until = now + Math.min(this.maxMs, this.baseMs * 2 ** (f.count - free));
    this.failures.delete(key);
    this.failures.set(key, f);
    if (this.failures.size > 100_000) this.failures.delete(this.failures.keys().next().value as string);
  }

  fail(user: string, ip: string): void {
    this.count(this.key(user, ip), this.free);
    this.count(LoginThrottle.ipKey(ip), this.ipFree);
  }

  succeed(user: string, ip: string): void {
    this.failures.delete(this.key(user, ip));
  }
}

/**
 * Verified Basic credentials are remembered for a few minutes (keyed by an
 * HMAC with a per-process key, never the password) so Power BI's one request
 * per page does not pay for scrypt every time.
 *
 * Someone else's failures never lock out valid credentials: a valid API token
 * (256 random bits: guessing it is hopeless, so checking it first gives
 * nothing away) and credentials verified in the last minutes are accepted
 * even while the user + address, or the whole address (its ceiling), is
 * throttled — clients behind one proxy or NAT share an address. Only a
 * password that still has to be verified, or a wrong token, waits.
 */
export class Authenticator {
  private readonly verified = new Map<string, { readonly until: number; readonly passwordHash: string }>();
  private readonly hmacKey = randomBytes(32);

  constructor(
    private readonly clock: Clock,
    readonly throttle: LoginThrottle = new LoginThrottle(clock),
    private readonly rememberMs = 5 * 60_000,
  ) {}

  async authenticate(header: string | undefined, ip: string, state: StateDocument): Promise<AuthOutcome> {
    if (!header) return { ok: false, reason: 'missing' };
    const space = header.indexOf(' ');
    const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
    const value = space < 0 ? '' : header.slice(space + 1).trim();
    if (scheme === 'bearer') return this.byToken(value, ip, state);
    if (scheme !== 'basic') return { ok: false, reason: 'invalid' };
    let decoded: string;
    try {
      decoded = Buffer.from(value, 'base64').toString('utf8');
    } catch {
      return { ok: false, reason: 'invalid' };
    }
    const colon = decoded.indexOf(':');
    if (colon < 0) return { ok: false, reason: 'invalid' };
    const name = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);

    // A token may be given as the password (Power BI's Basic dialog), for the account it belongs to.
    if (password.startsWith(TOKEN_PREFIX)) {
      const t = findToken(state, password);
      const user = t && t.user.toLowerCase() === name.toLowerCase() ? state.users.find((u) => u.name === t.user) : undefined;
      if (user) return { ok: true, user, via: 'token' };
      const wait = this.throttle.blockedFor(name, ip);
      if (wait > 0) return { ok: false, reason: 'throttled', retryAfterSeconds: wait, user: name };
      this.throttle.fail(name, ip);
      return { ok: false, reason: 'invalid', user: name };
    }

    const user = state.users.find((u) => u.name.toLowerCase() === name.toLowerCase());
    const cacheKey = createHmac('sha256', this.hmacKey).update(decoded).digest('base64url');
    const remembered = this.verified.get(cacheKey);
    if (user?.passwordHash && remembered && remembered.until > this.clock.now() && remembered.passwordHash === user.passwordHash) {
      return { ok: true, user, via: 'password' };
    }
    const wait = this.throttle.blockedFor(name, ip);
    if (wait > 0) return { ok: false, reason: 'throttled', retryAfterSeconds: wait, user: name };
    // Hash even for unknown users so the answer takes as long either way.
    const ok = await verifyPassword(password, user?.passwordHash ?? DUMMY_HASH);
    if (!ok || !user || user.kind !== 'person' || !user.passwordHash) {
      this.throttle.fail(name, ip);
      return { ok: false, reason: 'invalid', user: name };
    }
    this.throttle.succeed(name, ip);
    if (this.verified.size > 10_000) this.verified.clear();
    this.verified.set(cacheKey, { until: this.clock.now() + this.rememberMs, passwordHash: user.passwordHash });
    return { ok: true, user, via: 'password' };
  }

  private byToken(token: string, ip: string, state: StateDocument): AuthOutcome {
    const t = token.startsWith(TOKEN_PREFIX) ? findToken(state, token) : undefined;
    const user = t ? state.users.find((u) => u.name === t.user) : undefined;
    if (user) return { ok: true, user, via: 'token' };
    const wait = this.throttle.blockedFor('(token)', ip);
    if (wait > 0) return { ok: false, reason: 'throttled', retryAfterSeconds: wait };
    this.throttle.fail('(token)', ip);
    return { ok: false, reason: 'invalid' };
  }
}

const DUMMY_HASH = `scrypt$${N}$${R}$${P}$${Buffer.alloc(16).toString('base64url')}$${Buffer.alloc(KEYLEN).toString('base64url')}`;

/** The grant that lets `user` use `database`, if any. */
export function grantOf(state: StateDocument, user: string, database: string): GrantRecord | undefined {
  return state.grants.find((g) => g.user.toLowerCase() === user.toLowerCase() && g.database.toLowerCase() === database.toLowerCase());
}

/** Whether `user` may use `database`. */
export function isGranted(state: StateDocument, user: string, database: string): boolean {
  return grantOf(state, user, database) !== undefined;
}

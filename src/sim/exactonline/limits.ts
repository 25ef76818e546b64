/**
 * Exact Online's API limits per app and division: a minutely window aligned
 * to the clock minute (or, as an option, starting at the first call) and a daily window resetting at 00:00 UTC, reported in
 * X-RateLimit-* headers (resets in epoch ms); a 429 carries only the headers
 * of the window that was exceeded. Also the error block: more than N errors
 * (400/401/403/404) per app, user, division and endpoint within an hour
 * block that combination for an hour — longer if errors go on, as a call
 * while blocked is another error and restarts the hour.
 */
import type { Clock } from '../../util/clock.js';

export interface LimitConfig {
  minutely: number;
  daily: number;
  errorsPerHour: number;
  /**
   * Whether the minute window is aligned to the clock minute (default, as
   * the facts suggest, unsure); false: a window starts at the first call
   * after the previous one ended and lasts 60 s.
   */
  alignMinute?: boolean;
}

export type LimitDecision =
  | { ok: true; headers: Record<string, string> }
  | { ok: false; headers: Record<string, string>; window: 'minutely' | 'daily' };

const HOUR = 3_600_000;

function errorKey(app: string, user: string, division: number | string, endpoint: string): string {
  return `${app.toLowerCase()}|${user.toLowerCase()}|${division}|${endpoint.toLowerCase()}`;
}

export class RateLimiter {
  private readonly clock: Clock;
  config: LimitConfig | false;
  /** Per (app, division): when the current minute window started (epoch ms) and the calls in it. */
  private readonly minute = new Map<string, { start: number; used: number }>();
  private readonly day = new Map<string, { window: number; used: number }>();
  private readonly errors = new Map<string, number[]>();
  private readonly blocked = new Map<string, number>();

  constructor(clock: Clock, config: LimitConfig | false) {
    this.clock = clock;
    this.config = config;
  }

  /** Count one call for (app, division); decide whether it may proceed. */
  take(app: string, division: number): LimitDecision {
    if (this.config === false) return { ok: true, headers: {} };
    const now = this.clock.now();
    const k = `${app}|${division}`;
    const aligned = this.config.alignMinute !== false;
    const dWin = Math.floor(now / 86_400_000);
    let m = this.minute.get(k);
    if (!m || now >= m.start + 60_000) this.minute.set(k, (m = { start: aligned ? Math.floor(now / 60_000) * 60_000 : now, used: 0 }));
    let d = this.day.get(k);
    if (!d || d.window !== dWin) this.day.set(k, (d = { window: dWin, used: 0 }));
    const mReset = String(m.start + 60_000);
    const dReset = String((dWin + 1) * 86_400_000);
    const c = this.config;
    if (d.used >= c.daily) {
      return { ok: false, window: 'daily', headers: { 'X-RateLimit-Limit': String(c.daily), 'X-RateLimit-Remaining': '0', 'X-RateLimit-Reset': dReset } };
    }
    if (m.used >= c.minutely) {
      return {
        ok: false,
        window: 'minutely',
        headers: { 'X-RateLimit-Minutely-Limit': String(c.minutely), 'X-RateLimit-Minutely-Remaining': '0', 'X-RateLimit-Minutely-Reset': mReset },
      };
    }
    m.used++;
    d.used++;
    return {
      ok: true,
      headers: {
        'X-RateLimit-Limit': String(c.daily),
        'X-RateLimit-Remaining': String(c.daily - d.used),
        'X-RateLimit-Reset': dReset,
        'X-RateLimit-Minutely-Limit': String(c.minutely),
        'X-RateLimit-Minutely-Remaining': String(c.minutely - m.used),
        'X-RateLimit-Minutely-Reset': mReset,
      },
    };
  }

  /** The minutely headers of a forced 429 (fault injection: a 429 storm). */
  stormHeaders(): Record<string, string> {
    const now = this.clock.now();
    const minutely = this.config === false ? 60 : this.config.minutely;
    // Real 429s have been seen with Remaining > 0; a storm reproduces that.
    return {
      'X-RateLimit-Minutely-Limit': String(minutely),
      'X-RateLimit-Minutely-Remaining': String(Math.max(0, minutely - 1)),
      'X-RateLimit-Minutely-Reset': String((Math.floor(now / 60_000) + 1) * 60_000),
    };
  }

  /** Epoch ms until which (app, user, division, endpoint) is blocked, or undefined. */
  blockedUntil(app: string, user: string, division: number | string, endpoint: string): number | undefined {
    const k = errorKey(app, user, division, endpoint);
    const until = this.blocked.get(k);
    if (until === undefined) return undefined;
    if (until <= this.clock.now()) {
      this.blocked.delete(k);
      return undefined;
    }
    return until;
  }

  /**
   * Record an error answer for (app, user, division, endpoint); past the
   * hourly allowance the combination is blocked for an hour from now, so
   * errors that go on (calls while blocked included) extend the block.
   */
  recordError(app: string, user: string, division: number | string, endpoint: string): void {
    if (this.config === false) return;
    const now = this.clock.now();
    const k = errorKey(app, user, division, endpoint);
    const list = (this.errors.get(k) ?? []).filter((t) => t > now - HOUR);
    list.push(now);
    // Only the allowance plus one matter: keep the list from growing while a client hammers.
    if (list.length > this.config.errorsPerHour + 1) list.splice(0, list.length - this.config.errorsPerHour - 1);
    this.errors.set(k, list);
    if (list.length > this.config.errorsPerHour) this.blocked.set(k, now + HOUR);
  }

  reset(): void {
    this.minute.clear();
    this.day.clear();
    this.errors.clear();
    this.blocked.clear();
  }
}

/**
 * Exact Online's API limits per app and division: a minutely window aligned
 * to the clock minute and a daily window resetting at 00:00 UTC, reported in
 * X-RateLimit-* headers (resets in epoch ms); a 429 carries only the headers
 * of the window that was exceeded. Also the error block: more than N errors
 * (400/401/403/404) per app, division and endpoint within an hour blocks that
 * combination for an hour.
 */
import type { Clock } from '../../util/clock.js';

export interface LimitConfig {
  minutely: number;
  daily: number;
  errorsPerHour: number;
}

export type LimitDecision =
  | { ok: true; headers: Record<string, string> }
  | { ok: false; headers: Record<string, string>; window: 'minutely' | 'daily' };

const HOUR = 3_600_000;

export class RateLimiter {
  private readonly clock: Clock;
  config: LimitConfig | false;
  private readonly minute = new Map<string, { window: number; used: number }>();
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
    const mWin = Math.floor(now / 60_000);
    const dWin = Math.floor(now / 86_400_000);
    let m = this.minute.get(k);
    if (!m || m.window !== mWin) this.minute.set(k, (m = { window: mWin, used: 0 }));
    let d = this.day.get(k);
    if (!d || d.window !== dWin) this.day.set(k, (d = { window: dWin, used: 0 }));
    const mReset = String((mWin + 1) * 60_000);
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

  /** Epoch ms until which (app, division, endpoint) is blocked, or undefined. */
  blockedUntil(app: string, division: number, endpoint: string): number | undefined {
    const until = this.blocked.get(`${app}|${division}|${endpoint.toLowerCase()}`);
    if (until === undefined) return undefined;
    if (until <= this.clock.now()) {
      this.blocked.delete(`${app}|${division}|${endpoint.toLowerCase()}`);
      return undefined;
    }
    return until;
  }

  /** Record an error answer; blocks the combination once past the hourly allowance. */
  recordError(app: string, division: number, endpoint: string): void {
    if (this.config === false) return;
    const now = this.clock.now();
    const k = `${app}|${division}|${endpoint.toLowerCase()}`;
    const list = (this.errors.get(k) ?? []).filter((t) => t > now - HOUR);
    list.push(now);
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

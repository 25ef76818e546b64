/**
 * The rate governor of one Visma.net company: every API call waits here
 * first. It paces calls to a configured budget (calls per hour, spread
 * evenly), stops before the platform's window runs out according to the
 * last X-RateLimit-Limit/-Remaining/-Reset headers, and holds all calls
 * after a 429 until its Retry-After has passed — so a steady run sees no
 * 429 at all, and a burst that meets one waits instead of failing.
 */
import type { Clock } from '../../util/clock.js';

export class RateGovernor {
  private nextSlot = 0;
  private remaining: number | undefined;
  private resetAt = 0;
  private blockedUntil = 0;
  private inFlight = 0;
  /** Calls answered 429 (for tests and explain). */
  throttled = 0;
  calls = 0;

  constructor(
    private readonly clock: Clock,
    private callsPerHour: number,
  ) {}

  setBudget(callsPerHour: number): void {
    this.callsPerHour = callsPerHour;
  }

  /** Wait until a call may start; the caller must call `done()` after it. */
  async acquire(signal: AbortSignal): Promise<void> {
    for (;;) {
      signal.throwIfAborted();
      const now = this.clock.now();
      let wait = Math.max(0, this.blockedUntil - now);
      if (this.remaining !== undefined && this.resetAt > now && this.remaining - this.inFlight <= 0) {
        wait = Math.max(wait, this.resetAt - now + 25);
      }
      if (wait === 0 && this.callsPerHour > 0) {
        const interval = 3_600_000 / this.callsPerHour;
        const slot = Math.max(this.nextSlot, now);
        this.nextSlot = slot + interval;
        wait = slot - now;
        if (wait > 0) await this.clock.sleep(wait, signal);
        break;
      }
      if (wait === 0) break;
      await this.clock.sleep(wait, signal);
    }
    this.inFlight++;
    this.calls++;
  }

  done(): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
  }

  /** Learn from a response's headers (any status). */
  observe(status: number, headers: Headers): void {
    const now = this.clock.now();
    const remaining = Number(headers.get('x-ratelimit-remaining') ?? NaN);
    const reset = Number(headers.get('x-ratelimit-reset') ?? NaN);
    if (Number.isFinite(reset)) this.resetAt = toEpochMs(reset, now);
    if (Number.isFinite(remaining)) {
      // A later window's fresh count must not be undercut by a stale reply that arrives late.
      this.remaining = remaining;
    }
    if (status === 429) {
      this.throttled++;
      const after = retryAfterMs(headers.get('retry-after'), now);
      this.blockedUntil = Math.max(this.blockedUntil, now + (after ?? Math.max(1000, this.resetAt - now)));
    }
  }
}

/** X-RateLimit-Reset as epoch ms: epoch ms, epoch seconds, or seconds from now. */
export function toEpochMs(value: number, now: number): number {
  if (value > 1e12) return value;
  if (value > 1e9) return value * 1000;
  return now + value * 1000;
}

/** Retry-After in ms: delta seconds or an HTTP date. */
export function retryAfterMs(value: string | null, now: number): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

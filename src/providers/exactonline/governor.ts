/**
 * The rate-limit governor: one budget per (app, division), shared by every
 * scan and write of that division in this process.
 *
 * Exact allows (commonly) 60 calls a minute and 5,000 a day per app per
 * division, and blocks an app for an hour after 10 errors (400/401/403/404)
 * per endpoint per hour. The governor reads the limits from the X-RateLimit
 * headers (never hard-coded), reserves a slot before each call so concurrent
 * scans of one division share the minute, spreads calls when the minute runs
 * low, waits for the reset after a 429, refuses statements that would spend
 * too much of the day, and stops calling an endpoint before the error block.
 */
import type { Clock } from '../../util/clock.js';
import { SluiceError } from '../../util/errors.js';

export interface RateSnapshot {
  readonly division: string;
  readonly minutelyLimit?: number;
  readonly minutelyRemaining?: number;
  readonly minutelyReset?: number;
  readonly dailyLimit?: number;
  readonly dailyRemaining?: number;
  readonly dailyReset?: number;
  readonly lastSeen?: number;
  readonly calls: number;
  readonly throttled: number;
  readonly errorsThisHour: number;
}

type Headers = Record<string, string | string[] | undefined>;

function header(h: Headers, name: string): number | undefined {
  const v = h[name] ?? h[name.toLowerCase()];
  const s = Array.isArray(v) ? v[0] : v;
  if (s === undefined || s === '') return undefined;
  const n = Number(s);
  return Number.isFinite(n) ? n : undefined;
}

/** Errors Exact counts towards its hourly block. */
export function countsAsError(status: number): boolean {
  return status === 400 || status === 401 || status === 403 || status === 404;
}

/** Exact blocks after 10 errors per hour; we stop one short. */
const ERROR_STOP = 9;
const HOUR = 3_600_000;

class DivisionBudget {
  minutelyLimit?: number;
  minutelyRemaining?: number;
  minutelyReset?: number;
  dailyLimit?: number;
  dailyRemaining?: number;
  dailyReset?: number;
  lastSeen?: number;
  /** Calls started but not answered: already spent from the window. */
  inFlight = 0;
  /** Calls started since the last header we saw (header values lag behind them). */
  sinceHeader = 0;
  calls = 0;
  throttled = 0;
  lastStart = 0;
  errors = new Map<string, number[]>();
  /** Serialises waiters so the window is handed out in order. */
  queue: Promise<void> = Promise.resolve();

  constructor(readonly division: string) {}
}

export interface AcquireOptions {
  readonly endpoint: string;
  readonly signal?: AbortSignal;
}

export class RateGovernor {
  private readonly budgets = new Map<string, DivisionBudget>();

  constructor(private readonly clock: Clock) {}

  private budget(division: string): DivisionBudget {
    let b = this.budgets.get(division);
    if (!b) {
      b = new DivisionBudget(division);
      this.budgets.set(division, b);
    }
    return b;
  }

  snapshot(): readonly RateSnapshot[] {
    const now = this.clock.now();
    return [...this.budgets.values()].map((b) => ({
      division: b.division,
      minutelyLimit: b.minutelyLimit,
      minutelyRemaining: b.minutelyRemaining,
      minutelyReset: b.minutelyReset,
      dailyLimit: b.dailyLimit,
      dailyRemaining: b.dailyRemaining,
      dailyReset: b.dailyReset,
      lastSeen: b.lastSeen,
      calls: b.calls,
      throttled: b.throttled,
      errorsThisHour: [...b.errors.values()].reduce((n, list) => n + list.filter((t) => now - t < HOUR).length, 0),
    }));
  }

  /** The last seen remaining daily budget of a division (undefined: not seen yet). */
  dailyRemaining(division: string): number | undefined {
    const b = this.budgets.get(division);
    if (!b || b.dailyRemaining === undefined) return undefined;
    if (b.dailyReset !== undefined && this.clock.now() >= b.dailyReset) return b.dailyLimit;
    return Math.max(0, b.dailyRemaining - b.sinceHeader);
  }

  /** Whether one more call to this endpoint risks the hourly error block. */
  private checkErrors(b: DivisionBudget, endpoint: string): void {
    const now = this.clock.now();
    const list = (b.errors.get(endpoint) ?? []).filter((t) => now - t < HOUR);
    b.errors.set(endpoint, list);
    if (list.length >= ERROR_STOP) {
      throw new SluiceError('EOL040', `Stopped calling ${endpoint} for division ${b.division}: ${list.length} errors in the last hour; Exact Online blocks the app after 10.`, {
        partition: b.division,
        hint: `Retry after ${new Date(list[0] + HOUR).toISOString()}; fix the cause of the errors first.`,
      });
    }
  }

  private minuteRemaining(b: DivisionBudget, now: number): number | undefined {
    if (b.minutelyLimit === undefined) return undefined;
    if (b.minutelyReset !== undefined && now >= b.minutelyReset) {
      // A new window: the header values are stale, only our own new calls count.
      return b.minutelyLimit - b.inFlight;
    }
    return (b.minutelyRemaining ?? b.minutelyLimit) - b.sinceHeader - b.inFlight;
  }

  /**
   * Wait for a slot in the division's window and reserve it. Returns a
   * release function to call with the response headers (or none on failure).
   */
  async acquire(division: string, opts: AcquireOptions): Promise<(status: number, headers?: Headers) => void> {
    const b = this.budget(division);
    this.checkErrors(b, opts.endpoint);
    const turn = b.queue.then(() => this.waitForSlot(b, opts.signal));
    b.queue = turn.catch(() => undefined);
    await turn;
    b.inFlight++;
    b.calls++;
    b.lastStart = this.clock.now();
    let released = false;
    return (status, headers) => {
      if (released) return;
      released = true;
      b.inFlight--;
      if (headers && this.observe(b, headers)) b.sinceHeader = 0;
      else b.sinceHeader++;
      if (countsAsError(status)) {
        const list = b.errors.get(opts.endpoint) ?? [];
        list.push(this.clock.now());
        b.errors.set(opts.endpoint, list);
      }
    };
  }

  private async waitForSlot(b: DivisionBudget, signal?: AbortSignal): Promise<void> {
    for (let i = 0; i < 1000; i++) {
      const now = this.clock.now();
      if (b.dailyRemaining !== undefined && (b.dailyReset === undefined || now < b.dailyReset) && b.dailyRemaining - b.sinceHeader - b.inFlight <= 0) {
        throw new SluiceError('EOL041', `The daily Exact Online budget of division ${b.division} is spent (limit ${b.dailyLimit ?? '?'}).`, {
          partition: b.division,
          hint: b.dailyReset ? `It resets at ${new Date(b.dailyReset).toISOString()}.` : undefined,
        });
      }
      const left = this.minuteRemaining(b, now);
      if (left === undefined) return;
      if (left <= 0) {
        const reset = b.minutelyReset !== undefined && b.minutelyReset > now ? b.minutelyReset : now + 1_000;
        // Wait for the window to turn (plus a little, as clocks differ).
        await this.clock.sleep(reset - now + 50, signal);
        if (b.minutelyReset !== undefined && this.clock.now() >= b.minutelyReset) {
          b.minutelyRemaining = b.minutelyLimit;
          b.minutelyReset = b.minutelyReset + 60_000;
          b.sinceHeader = 0;
        }
        continue;
      }
      // Low on the minute: spread what is left over the rest of the window
      // instead of bursting into a 429.
      const limit = b.minutelyLimit ?? 60;
      if (left < Math.max(2, limit * 0.1) && b.minutelyReset !== undefined && b.minutelyReset > now) {
        const spacing = (b.minutelyReset - now) / (left + 1);
        const wait = b.lastStart + spacing - now;
        if (wait > 0) await this.clock.sleep(wait, signal);
      }
      return;
    }
  }

  /** Take the limits from a response. Returns whether the headers said anything. */
  private observe(b: DivisionBudget, h: Headers): boolean {
    let seen = false;
    const ml = header(h, 'x-ratelimit-minutely-limit');
    const mr = header(h, 'x-ratelimit-minutely-remaining');
    const mreset = header(h, 'x-ratelimit-minutely-reset');
    if (mr !== undefined) {
      b.minutelyLimit = ml ?? b.minutelyLimit;
      b.minutelyRemaining = mr;
      b.minutelyReset = mreset ?? b.minutelyReset;
      seen = true;
    }
    const dl = header(h, 'x-ratelimit-limit');
    const dr = header(h, 'x-ratelimit-remaining');
    const dreset = header(h, 'x-ratelimit-reset');
    if (dr !== undefined) {
      b.dailyLimit = dl ?? b.dailyLimit;
      b.dailyRemaining = dr;
      b.dailyReset = dreset ?? b.dailyReset;
      seen = true;
    }
    if (seen) b.lastSeen = this.clock.now();
    return seen;
  }

  /**
   * After a 429: how long to wait before the retry, from the headers of the
   * exceeded window. Throws when the daily window was exceeded (hours away).
   */
  after429(division: string, headers: Headers): number {
    const b = this.budget(division);
    b.throttled++;
    const now = this.clock.now();
    const dr = header(headers, 'x-ratelimit-remaining');
    const dreset = header(headers, 'x-ratelimit-reset');
    const mreset = header(headers, 'x-ratelimit-minutely-reset');
    if (mreset === undefined && dr !== undefined && dr <= 0) {
      b.dailyRemaining = 0;
      b.dailyReset = dreset ?? b.dailyReset;
      throw new SluiceError('EOL041', `The daily Exact Online budget of division ${division} is spent.`, {
        partition: division,
        status: 429,
        hint: dreset ? `It resets at ${new Date(dreset).toISOString()}.` : undefined,
      });
    }
    if (mreset !== undefined) {
      b.minutelyRemaining = 0;
      b.minutelyReset = mreset;
      b.sinceHeader = 0;
      return Math.max(0, mreset - now) + 50;
    }
    return 2_000;
  }
}

/** One governor per (api-url, client id): the budget belongs to the app, shared by all containers of this process. */
const governors = new Map<string, RateGovernor>();

export function governorFor(apiUrl: string, clientId: string, clock: Clock): RateGovernor {
  const key = `${apiUrl}\n${clientId}`;
  let g = governors.get(key);
  if (!g) {
    g = new RateGovernor(clock);
    governors.set(key, g);
  }
  return g;
}

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
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, promises as fs } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Clock } from '../../util/clock.js';
import { SluiceError } from '../../util/errors.js';

/** A division's daily budget as persisted between processes (budget file). */
export interface SavedBudget {
  readonly division: string;
  readonly dailyLimit?: number;
  readonly dailyRemaining: number;
  readonly dailyReset?: number;
  /** When it was saved (epoch ms). */
  readonly seenAt: number;
}

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

  /**
   * The daily budgets seen (remaining less the calls made since), to persist
   * so that a new process knows them before its first response.
   */
  saved(): SavedBudget[] {
    const out: SavedBudget[] = [];
    for (const b of this.budgets.values()) {
      if (b.dailyRemaining === undefined || b.lastSeen === undefined) continue;
      out.push({
        division: b.division,
        dailyRemaining: Math.max(0, b.dailyRemaining - b.sinceHeader - b.inFlight),
        // When the headers told it (not when saved): a merge keeps the freshest knowledge of the budget.
        seenAt: b.lastSeen,
        ...(b.dailyLimit !== undefined ? { dailyLimit: b.dailyLimit } : {}),
        ...(b.dailyReset !== undefined ? { dailyReset: b.dailyReset } : {}),
      });
    }
    return out;
  }

  /**
   * Take daily budgets persisted by an earlier process, for divisions whose
   * headers this process has not seen yet. A budget of an earlier day (its
   * reset passed, or seen before today's 00:00 UTC) is ignored.
   */
  restore(list: readonly SavedBudget[]): void {
    const now = this.clock.now();
    const today = now - (now % 86_400_000);
    for (const s of list) {
      if (typeof s.division !== 'string' || typeof s.dailyRemaining !== 'number' || typeof s.seenAt !== 'number') continue;
      if (s.dailyReset !== undefined ? s.dailyReset <= now : s.seenAt < today) continue;
      const b = this.budget(s.division);
      if (b.lastSeen !== undefined) continue;
      b.dailyRemaining = s.dailyRemaining;
      b.dailyLimit = s.dailyLimit;
      b.dailyReset = s.dailyReset;
    }
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

/** The budget file of an app: `<data dir>/exactonline/ratelimits-<hash>.json`. */
export function budgetFile(dataDir: string, apiUrl: string, clientId: string): string {
  const id = createHash('sha256').update(`${apiUrl}\n${clientId}`).digest('hex').slice(0, 24);
  return join(dataDir, 'exactonline', `ratelimits-${id}.json`);
}

function parseSaved(text: string): SavedBudget[] {
  try {
    const v = JSON.parse(text) as unknown;
    return Array.isArray(v) ? (v as SavedBudget[]) : [];
  } catch {
    return [];
  }
}

/** Read the budgets an earlier process saved (none when the file is absent or unreadable). */
export function loadBudgets(file: string): SavedBudget[] {
  try {
    return parseSaved(readFileSync(file, 'utf8'));
  } catch {
    return [];
  }
}

/**
 * Save the governor's budgets, merged with what other processes saved (per
 * division the latest wins). Written to a temp file and renamed over, so a
 * reader never sees half a file. Failing to save loses knowledge, not data:
 * it is not an error.
 */
export async function saveBudgets(file: string, governor: RateGovernor): Promise<void> {
  const mine = governor.saved();
  if (mine.length === 0) return;
  try {
    await fs.mkdir(dirname(file), { recursive: true, mode: 0o700 });
    let theirs: SavedBudget[] = [];
    try {
      theirs = parseSaved(await fs.readFile(file, 'utf8'));
    } catch {
      theirs = [];
    }
    const merged = new Map<string, SavedBudget>();
    for (const b of [...theirs, ...mine]) {
      const had = merged.get(b.division);
      if (!had || b.seenAt >= had.seenAt) merged.set(b.division, b);
    }
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    await fs.writeFile(tmp, JSON.stringify([...merged.values()]), { mode: 0o600 });
    await fs.rename(tmp, file);
  } catch {
    // Knowledge only; the next statement learns the budget from the headers again.
  }
}

/**
 * Small HTTP helpers shared by the simulators: body reading, sending with
 * fault injection (latency, connection resets, truncated bodies), and a
 * mutable fault profile that an admin endpoint can change at run time.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Rng } from './prng.js';

export interface FaultProfile {
  /** Share of calls answered with a 5xx. */
  errorRate: number;
  /** Share of calls whose connection is reset before an answer. */
  resetRate: number;
  /** Share of calls whose body is cut off halfway. */
  truncateRate: number;
  /** Share of calls answered 429 regardless of the real limits. */
  status429Rate: number;
}

export const NO_FAULTS: FaultProfile = { errorRate: 0, resetRate: 0, truncateRate: 0, status429Rate: 0 };

/**
 * The latency of one call, in ms: a fixed value, uniform between min and
 * max, normal (mean, sd; clipped at 0), or lognormal given by its median and
 * 95th percentile (the long right tail real APIs show). `max` caps the
 * normal and lognormal draws.
 */
export type Latency =
  | number
  | { readonly min: number; readonly max: number }
  | { readonly dist: 'normal'; readonly mean: number; readonly sd: number; readonly max?: number }
  | { readonly dist: 'lognormal'; readonly p50: number; readonly p95: number; readonly max?: number }
  | undefined;

/** z of the 95th percentile of the standard normal distribution. */
const Z95 = 1.6448536269514722;

/** A standard normal draw (Box–Muller; one uniform pair per draw, so the sequence is plain to replay). */
function gauss(rng: Rng): number {
  const u = 1 - rng.next();
  const v = rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** The latency for one call, drawn from the configured distribution with `rng` (deterministic for its seed). */
export function drawLatency(latency: Latency, rng: Rng): number {
  if (latency === undefined) return 0;
  if (typeof latency === 'number') return latency;
  if (!('dist' in latency)) return latency.min + rng.next() * Math.max(0, latency.max - latency.min);
  const cap = latency.max ?? Infinity;
  if (latency.dist === 'normal') return Math.min(cap, Math.max(0, latency.mean + latency.sd * gauss(rng)));
  if (latency.p50 <= 0) return 0;
  const sigma = Math.log(Math.max(latency.p95, latency.p50) / latency.p50) / Z95;
  return Math.min(cap, latency.p50 * Math.exp(sigma * gauss(rng)));
}

const NUM = '(\\d+(?:\\.\\d+)?)';

/**
 * Parse a latency: `50` (fixed), `20-80` (uniform), `normal:MEAN,SD`, or
 * `lognormal:P50,P95` (median and 95th percentile); the last two take an
 * optional `,MAX` cap. Milliseconds throughout.
 */
export function parseLatency(text: string): Latency {
  const t = text.trim();
  const fixed = new RegExp(`^${NUM}(?:-${NUM})?$`).exec(t);
  if (fixed) {
    const l: Latency = fixed[2] === undefined ? Number(fixed[1]) : { min: Number(fixed[1]), max: Number(fixed[2]) };
    return checkLatency(l);
  }
  const d = new RegExp(`^(normal|lognormal):${NUM},${NUM}(?:,${NUM})?$`, 'i').exec(t);
  if (!d) throw new Error(`latency must be MS, MIN-MAX, normal:MEAN,SD or lognormal:P50,P95 (each with an optional ,MAX), not "${text}"`);
  const max = d[4] !== undefined ? { max: Number(d[4]) } : {};
  return checkLatency(d[1].toLowerCase() === 'normal' ? { dist: 'normal', mean: Number(d[2]), sd: Number(d[3]), ...max } : { dist: 'lognormal', p50: Number(d[2]), p95: Number(d[3]), ...max });
}

/** Validate a latency given as JSON (admin endpoint) or parsed; throws a message saying what is wrong. */
export function checkLatency(value: unknown): Latency {
  const ok = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n) && n >= 0 && n <= 600_000;
  if (value === undefined || value === null || value === 0) return undefined;
  if (typeof value === 'string') return parseLatency(value);
  if (ok(value)) return value;
  if (typeof value !== 'object') throw new Error('latency must be a number of ms, a string such as "lognormal:40,200", or an object');
  const o = value as Record<string, unknown>;
  const capOk = o.max === undefined || ok(o.max);
  if (o.dist === undefined && ok(o.min) && ok(o.max) && o.min <= o.max) return { min: o.min, max: o.max };
  if (o.dist === 'normal' && ok(o.mean) && ok(o.sd) && capOk) return { dist: 'normal', mean: o.mean, sd: o.sd, ...(ok(o.max) ? { max: o.max } : {}) };
  if (o.dist === 'lognormal' && ok(o.p50) && ok(o.p95) && o.p95 >= o.p50 && capOk) return { dist: 'lognormal', p50: o.p50, p95: o.p95, ...(ok(o.max) ? { max: o.max } : {}) };
  throw new Error('latency must be {min,max} (min ≤ max), {dist:"normal",mean,sd}, or {dist:"lognormal",p50,p95} (p50 ≤ p95), in ms between 0 and 600000, each with an optional max');
}

/** Parse `error=0.01,reset=0.001,truncate=0.001,429=0.05` into a fault profile. */
export function parseFaults(text: string): FaultProfile {
  const f: FaultProfile = { ...NO_FAULTS };
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const [k, v] = part.split('=');
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0 || n > 1) throw new Error(`fault rate must be between 0 and 1: "${part}"`);
    if (k === 'error' || k === 'errorRate') f.errorRate = n;
    else if (k === 'reset' || k === 'resetRate') f.resetRate = n;
    else if (k === 'truncate' || k === 'truncateRate') f.truncateRate = n;
    else if (k === '429' || k === 'status429Rate') f.status429Rate = n;
    else throw new Error(`unknown fault "${k}" (use error, reset, truncate, 429)`);
  }
  return f;
}

export function readBody(req: IncomingMessage, limit = 10 * 1024 * 1024): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new Error('request body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** When each held answer may leave (performance.now() time). */
const holds = new WeakMap<ServerResponse, number>();

/**
 * Hold `res`'s answer until `due`: `send` then waits for whatever is left
 * of the latency instead of the handler waiting before it starts work.
 */
export function holdUntil(res: ServerResponse, due: number): void {
  holds.set(res, due);
}

/** Send a complete answer; `truncate` sends half the body then drops the connection. */
export function send(
  res: ServerResponse,
  status: number,
  headers: Record<string, string | number>,
  body: string | Buffer,
  truncate = false,
): void {
  const due = holds.get(res);
  if (due !== undefined) {
    holds.delete(res);
    const wait = due - performance.now();
    if (wait >= 1) {
      setTimeout(() => {
        if (!res.destroyed && !res.writableEnded) send(res, status, headers, body, truncate);
      }, wait);
      return;
    }
  }
  const buf = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  if (truncate && buf.length > 1) {
    res.writeHead(status, { ...headers, 'Content-Length': buf.length });
    res.write(buf.subarray(0, Math.floor(buf.length / 2)), () => res.destroy());
    return;
  }
  res.writeHead(status, { ...headers, 'Content-Length': buf.length });
  res.end(buf);
}

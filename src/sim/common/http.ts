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

export type Latency = number | { readonly min: number; readonly max: number } | undefined;

/** The latency for one call, drawn from the configured distribution. */
export function drawLatency(latency: Latency, rng: Rng): number {
  if (latency === undefined) return 0;
  if (typeof latency === 'number') return latency;
  return latency.min + rng.next() * Math.max(0, latency.max - latency.min);
}

/** Parse `50` or `20-80` (milliseconds). */
export function parseLatency(text: string): Latency {
  const m = /^(\d+)(?:-(\d+))?$/.exec(text.trim());
  if (!m) throw new Error(`latency must be MS or MIN-MAX, not "${text}"`);
  return m[2] === undefined ? Number(m[1]) : { min: Number(m[1]), max: Number(m[2]) };
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

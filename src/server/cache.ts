/**
 * The response cache and ETags. Small responses (up to the buffer limit) are
 * buffered before their headers go out, so they carry a strong ETag (sha256
 * of the body) and can be answered with 304 Not Modified; with a max age set
 * on the database they are also kept here and served without touching the
 * platforms until they expire or a client sends `Cache-Control: no-cache`.
 * Bounded by total bytes, oldest first out.
 */
import { createHash } from 'node:crypto';

export interface CachedResponse {
  readonly status: number;
  readonly contentType: string;
  readonly body: Buffer;
  readonly etag: string;
  readonly storedAt: number;
  readonly rows: number;
  readonly extraHeaders: Readonly<Record<string, string>>;
}

export function etagOf(body: Buffer): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`;
}

/** Whether an If-None-Match header matches the ETag (weak comparison, as RFC 9110 asks for GET). */
export function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  const bare = etag.replace(/^W\//, '');
  return header.split(',').some((t) => t.trim().replace(/^W\//, '') === bare);
}

export class ResponseCache {
  private readonly entries = new Map<string, CachedResponse>();
  private bytes = 0;

  constructor(private readonly maxBytes = 64 * 1024 * 1024) {}

  get(key: string, maxAgeMs: number, now: number): CachedResponse | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (now - e.storedAt > maxAgeMs) {
      this.delete(key);
      return undefined;
    }
    return e;
  }

  put(key: string, entry: CachedResponse): void {
    if (entry.body.length > this.maxBytes / 4) return;
    this.delete(key);
    this.entries.set(key, entry);
    this.bytes += entry.body.length;
    while (this.bytes > this.maxBytes) {
      const oldest = this.entries.keys().next().value as string;
      this.delete(oldest);
    }
  }

  /** Forget everything of one database (its configuration changed). */
  dropDatabase(database: string): void {
    const prefix = `${database.toLowerCase()}\u0000`;
    for (const k of [...this.entries.keys()]) if (k.startsWith(prefix)) this.delete(k);
  }

  private delete(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    this.bytes -= e.body.length;
    this.entries.delete(key);
  }
}

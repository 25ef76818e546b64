/**
 * The Exact Online token store: one file per (api-url, client id, user) under
 * the data directory, the tokens sealed with the SecretBox (AES-256-GCM), the
 * ages in clear so `sluice token status` can show them without the tokens.
 *
 * Exact hands out a new refresh token on every refresh and rejects the old
 * one ("Old refresh token used"), so every process sharing credentials must
 * share this file and take turns: `withLock` is an exclusive lock file
 * (O_EXCL, holding pid and time) with stale-lock takeover, and `write` is
 * fsync + rename so a crash never leaves a half-written store.
 */
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs, constants as fsConstants } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../../util/clock.js';
import { SluiceError } from '../../util/errors.js';
import type { SecretBox } from '../../util/secrets.js';

/** What the store holds, tokens in plain text (only ever in memory). */
/** Default age after which a lock is taken over (the token call inside it times out well before). */
export const STALE_LOCK_MS = 60_000;

export interface TokenState {
  readonly accessToken?: string;
  /** When the access token was obtained (epoch ms). */
  readonly accessObtainedAt?: number;
  /** Seconds the access token lives, as the server said (`expires_in`, a string on the wire). */
  readonly expiresIn?: number;
  readonly refreshToken?: string;
  /** When the refresh token was issued (epoch ms); its 30-day idle clock starts here. */
  readonly refreshObtainedAt?: number;
  /** Increases on every write: lets a reader see someone else refreshed. */
  readonly generation: number;
}

interface StoreFile {
  readonly version: 1;
  readonly apiUrl: string;
  readonly clientId: string;
  readonly user: string;
  readonly generation: number;
  readonly accessObtainedAt?: number;
  readonly expiresIn?: number;
  readonly refreshObtainedAt?: number;
  readonly updatedAt: number;
  readonly updatedByPid: number;
  /** Sealed JSON `{accessToken, refreshToken}`. */
  readonly sealed: string;
}

export interface TokenStoreOptions {
  readonly dataDir: string;
  readonly apiUrl: string;
  readonly clientId: string;
  readonly user: string;
  readonly secrets: SecretBox;
  readonly clock: Clock;
  /** A lock older than this is taken over even when its owner looks alive (default 60 s). */
  readonly staleLockMs?: number;
  /** How long to wait for the lock before giving up (default 60 s). */
  readonly lockTimeoutMs?: number;
}

/** Time-independent waits for the lock: real time, because other processes run in real time. */
function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class TokenStore {
  readonly file: string;
  readonly lockFile: string;
  private readonly opts: TokenStoreOptions;

  /** A lock older than this is taken over by a waiter (its holder is presumed stuck). */
  get staleLockMs(): number {
    return this.opts.staleLockMs ?? STALE_LOCK_MS;
  }

  constructor(opts: TokenStoreOptions) {
    this.opts = opts;
    const id = createHash('sha256').update(`${opts.apiUrl}\n${opts.clientId}\n${opts.user}`).digest('hex').slice(0, 24);
    this.file = join(opts.dataDir, 'exactonline', `tokens-${id}.json`);
    this.lockFile = `${this.file}.lock`;
  }

  /** The stored state, or undefined when nothing was ever stored. */
  async read(): Promise<TokenState | undefined> {
    let text: string;
    try {
      text = await fs.readFile(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    let parsed: StoreFile;
    try {
      parsed = JSON.parse(text) as StoreFile;
    } catch {
      throw new SluiceError('EOL010', `The token store ${this.file} is damaged.`, {
        hint: 'Remove it and run `sluice login <alias>` again.',
      });
    }
    const secret = JSON.parse(this.opts.secrets.open(parsed.sealed)) as { accessToken?: string; refreshToken?: string };
    return {
      accessToken: secret.accessToken,
      refreshToken: secret.refreshToken,
      accessObtainedAt: parsed.accessObtainedAt,
      expiresIn: parsed.expiresIn,
      refreshObtainedAt: parsed.refreshObtainedAt,
      generation: parsed.generation,
    };
  }

  /** Ages without the tokens, for `sluice token status` (no master key needed). */
  async status(): Promise<{ exists: boolean; generation?: number; accessObtainedAt?: number; expiresIn?: number; refreshObtainedAt?: number; updatedAt?: number }> {
    try {
      const parsed = JSON.parse(await fs.readFile(this.file, 'utf8')) as StoreFile;
      return {
        exists: true,
        generation: parsed.generation,
        accessObtainedAt: parsed.accessObtainedAt,
        expiresIn: parsed.expiresIn,
        refreshObtainedAt: parsed.refreshObtainedAt,
        updatedAt: parsed.updatedAt,
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { exists: false };
      throw e;
    }
  }

  /** Durably replace the store: write a temp file, fsync it, rename over, fsync the directory. */
  async write(state: Omit<TokenState, 'generation'>, previousGeneration: number): Promise<TokenState> {
    const dir = join(this.opts.dataDir, 'exactonline');
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    const generation = previousGeneration + 1;
    const body: StoreFile = {
      version: 1,
      apiUrl: this.opts.apiUrl,
      clientId: this.opts.clientId,
      user: this.opts.user,
      generation,
      accessObtainedAt: state.accessObtainedAt,
      expiresIn: state.expiresIn,
      refreshObtainedAt: state.refreshObtainedAt,
      updatedAt: this.opts.clock.now(),
      updatedByPid: process.pid,
      sealed: this.opts.secrets.seal(JSON.stringify({ accessToken: state.accessToken, refreshToken: state.refreshToken })),
    };
    const tmp = `${this.file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    const handle = await fs.open(tmp, 'w', 0o600);
    try {
      await handle.writeFile(JSON.stringify(body, null, 1));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(tmp, this.file);
    try {
      const dh = await fs.open(dir, fsConstants.O_RDONLY);
      try {
        await dh.sync();
      } finally {
        await dh.close();
      }
    } catch {
      // Some filesystems refuse fsync on a directory; the rename is still atomic.
    }
    return { ...state, generation };
  }

  /**
   * Run `fn` holding the store's exclusive lock. Waits (bounded) for another
   * holder; takes over a lock whose owner died or that is older than the
   * stale limit, through a second O_EXCL file so two waiters never both
   * take it over.
   */
  async withLock<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await fs.mkdir(join(this.opts.dataDir, 'exactonline'), { recursive: true, mode: 0o700 });
    const staleMs = this.staleLockMs;
    const deadline = Date.now() + (this.opts.lockTimeoutMs ?? 60_000);
    const nonce = randomBytes(8).toString('hex');
    let wait = 10;
    for (;;) {
      if (signal?.aborted) throw signal.reason;
      try {
        const h = await fs.open(this.lockFile, fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_WRONLY, 0o600);
        try {
          await h.writeFile(JSON.stringify({ pid: process.pid, at: Date.now(), nonce }));
        } finally {
          await h.close();
        }
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      await this.takeOverIfStale(staleMs);
      if (Date.now() > deadline) {
        throw new SluiceError('EOL011', `Timed out waiting for the token store lock ${this.lockFile}.`, {
          hint: 'Another sluice process holds it; if none runs, remove the lock file.',
        });
      }
      await pause(wait + Math.floor(Math.random() * wait));
      wait = Math.min(wait * 2, 200);
    }
    try {
      return await fn();
    } finally {
      await this.releaseLock(nonce);
    }
  }

  private async releaseLock(nonce: string): Promise<void> {
    try {
      const held = JSON.parse(await fs.readFile(this.lockFile, 'utf8')) as { nonce?: string };
      // Only remove our own lock: after a takeover the file may be someone else's.
      if (held.nonce === nonce) await fs.unlink(this.lockFile);
    } catch {
      // Already gone.
    }
  }

  private async takeOverIfStale(staleMs: number): Promise<void> {
    let content: string;
    try {
      content = await fs.readFile(this.lockFile, 'utf8');
    } catch {
      return;
    }
    let holder: { pid?: number; at?: number };
    try {
      holder = JSON.parse(content) as { pid?: number; at?: number };
    } catch {
      // Being written right now, or torn by a crash: judge it by its age.
      const st = await fs.stat(this.lockFile).catch(() => undefined);
      if (!st || Date.now() - st.mtimeMs < 2_000) return;
      holder = {};
    }
    const stale = !pidAlive(holder.pid ?? -1) || Date.now() - (holder.at ?? 0) > staleMs;
    if (!stale) return;
    const guard = `${this.lockFile}.takeover`;
    try {
      const h = await fs.open(guard, fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_WRONLY, 0o600);
      await h.close();
    } catch {
      const st = await fs.stat(guard).catch(() => undefined);
      // A takeover guard left by a crashed process is itself removed after a while.
      if (st && Date.now() - st.mtimeMs > 10_000) await fs.unlink(guard).catch(() => undefined);
      return;
    }
    try {
      const again = await fs.readFile(this.lockFile, 'utf8').catch(() => undefined);
      if (again === content) await fs.unlink(this.lockFile).catch(() => undefined);
    } finally {
      await fs.unlink(guard).catch(() => undefined);
    }
  }
}

/**
 * The embedded state store: one JSON file in the data directory
 * (`server-state.json`, mode 0600). Writes go to a temporary file that is
 * renamed over the old one, so a crash never leaves half a file; a lock file
 * (`.lock`, created exclusively) serialises writers across processes — the
 * admin CLI may change the state while the server runs. Reads are cached and
 * re-read only when the file's mtime or size changed.
 */
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { SluiceError } from '../../util/errors.js';
import { emptyState, normaliseState } from './types.js';
import type { MutableState, StateDocument, StateStore } from './types.js';

const STALE_LOCK_MS = 15_000;

export class FileStateStore implements StateStore {
  private cached?: { readonly stamp: string; readonly doc: StateDocument };

  constructor(private readonly file: string) {}

  static inDirectory(dataDir: string): FileStateStore {
    return new FileStateStore(join(dataDir, 'server-state.json'));
  }

  describe(): string {
    return this.file;
  }

  private async stamp(): Promise<string | undefined> {
    try {
      const s = await stat(this.file);
      return `${s.mtimeMs}:${s.size}:${s.ino}`;
    } catch {
      return undefined;
    }
  }

  private async load(): Promise<MutableState> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return emptyState();
      throw e;
    }
    try {
      return normaliseState(JSON.parse(text));
    } catch {
      throw new SluiceError('SRV100', `The server state file ${this.file} is not valid JSON.`, { hint: 'Restore it from a backup or remove it to start empty.' });
    }
  }

  async read(): Promise<StateDocument> {
    const stamp = await this.stamp();
    if (stamp !== undefined && this.cached?.stamp === stamp) return this.cached.doc;
    const doc = await this.load();
    if (stamp !== undefined) this.cached = { stamp, doc };
    return doc;
  }

  private async lock(): Promise<() => Promise<void>> {
    const lockFile = `${this.file}.lock`;
    await mkdir(dirname(this.file), { recursive: true, mode: 0o700 });
    for (let attempt = 0; ; attempt++) {
      try {
        const handle = await open(lockFile, 'wx', 0o600);
        await handle.writeFile(String(process.pid));
        await handle.close();
        return () => rm(lockFile, { force: true });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        try {
          const s = await stat(lockFile);
          if (Date.now() - s.mtimeMs > STALE_LOCK_MS) await rm(lockFile, { force: true });
        } catch {
          // The holder released it between our attempts.
        }
        if (attempt > 400) throw new SluiceError('SRV101', `The server state file ${this.file} stays locked.`, { hint: `Remove ${lockFile} if no sluice process is running.` });
        await new Promise((r) => setTimeout(r, 10 + Math.min(attempt, 20) * 5));
      }
    }
  }

  async update<T>(change: (state: MutableState) => T): Promise<T> {
    const release = await this.lock();
    try {
      const state = await this.load();
      const result = change(state);
      const tmp = `${this.file}.${process.pid}.${Date.now()}.tmp`;
      await writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
      await rename(tmp, this.file);
      this.cached = undefined;
      return result;
    } finally {
      await release();
    }
  }

  async close(): Promise<void> {
    this.cached = undefined;
  }
}

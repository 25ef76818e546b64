/**
 * The shell's persistent history: one entry per line in
 * sluiceHome()/history, oldest first, capped so the file stays small.
 * node:readline keeps its history newest first; these convert.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export const HISTORY_SIZE = 1000;

/** Entries for readline's `history` option (newest first); [] when there is no file yet. */
export function loadHistory(file: string): string[] {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.trim().length > 0)
      .slice(-HISTORY_SIZE)
      .reverse();
  } catch {
    return [];
  }
}

/** Save readline's history (newest first) to `file`, creating its directory. */
export function saveHistory(file: string, newestFirst: readonly string[]): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const lines = newestFirst.slice(0, HISTORY_SIZE).reverse();
  writeFileSync(file, lines.length > 0 ? `${lines.join('\n')}\n` : '', { mode: 0o600 });
}

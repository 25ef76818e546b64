/**
 * Where things live: the package root (for the generated catalogs shipped in
 * `catalogs/`) and the user's data directory (`~/.sluice`, or SLUICE_HOME).
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/** The directory holding sluice's package.json, found from this module's location (src/ or dist/). */
export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'catalogs'))) {
      root = dir;
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('sluice: cannot find the package root (catalogs/ missing)');
    dir = parent;
  }
}

/** A generated catalog file, e.g. catalogPath('exactonline.json'). */
export function catalogPath(file: string): string {
  return join(packageRoot(), 'catalogs', file);
}

/** The user's sluice directory: $SLUICE_HOME or ~/.sluice. */
export function sluiceHome(): string {
  return process.env.SLUICE_HOME ?? join(homedir(), '.sluice');
}

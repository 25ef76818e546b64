/**
 * The production SessionFactory: real engine sessions over a database's own
 * containers only. The user's settings.xml (or $SLUICE_SETTINGS) must never
 * leak into a tenant's database, so sessions are pointed at an empty settings
 * file kept in the server's data directory.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openSession } from '../engine/index.js';
import type { SecretBox } from '../util/secrets.js';
import type { SessionFactory } from './sessions.js';

export function engineSessionFactory(dataDir: string, secrets: SecretBox): SessionFactory {
  const empty = join(dataDir, 'server-no-settings.json');
  if (!existsSync(empty)) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    writeFileSync(empty, '{"containers": []}\n', { mode: 0o600 });
  }
  return (containers) => openSession({ settingsPath: empty, containers, secrets, dataDir });
}

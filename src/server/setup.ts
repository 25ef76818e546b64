/**
 * Where a server's state and keys come from, shared by `sluice serve` and
 * `sluice admin`: the state store (PostgreSQL when SLUICE_STATE_URL is set,
 * else the JSON file in the sluice home), the SecretBox (SLUICE_MASTER_KEY or
 * the key file), and the demo tenancy (`serve --demo`).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { demoScript } from '../cli/demo.js';
import { sluiceHome } from '../util/paths.js';
import { SecretBox } from '../util/secrets.js';
import { FileStateStore } from './state/file.js';
import { PostgresStateStore } from './state/postgres.js';
import type { StateStore } from './state/types.js';
import { Tenancy } from './tenancy.js';

export interface ServerSetup {
  readonly dataDir: string;
  readonly store: StateStore;
  readonly secrets: SecretBox;
  readonly tenancy: Tenancy;
}

export function openSetup(env: NodeJS.ProcessEnv = process.env, dataDir: string = sluiceHome()): ServerSetup {
  const url = env.SLUICE_STATE_URL;
  const store = url && /^postgres(ql)?:\/\//i.test(url) ? PostgresStateStore.fromUrl(url) : FileStateStore.inDirectory(dataDir);
  const secrets = SecretBox.fromEnvironment(dataDir);
  return { dataDir, store, secrets, tenancy: new Tenancy(store, secrets) };
}

export const DEMO_DATABASE = 'demo';
export const DEMO_USER = 'demo';
export const DEMO_PASSWORD = 'demo';

/**
 * A throw-away setup for `serve --demo`: state in a temporary directory (the
 * user's own state is left alone), database `demo` whose startup SQL creates
 * the demo tables in in-memory storage, and user demo / demo granted on it.
 */
export async function demoSetup(): Promise<ServerSetup> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sluice-serve-demo-'));
  const store = FileStateStore.inDirectory(dataDir);
  const secrets = SecretBox.fromPassphrase(`demo-${process.pid}-${Date.now()}`);
  const tenancy = new Tenancy(store, secrets);
  await tenancy.addDatabase(DEMO_DATABASE, { startupSql: demoScript() });
  await tenancy.addUser(DEMO_USER, { password: DEMO_PASSWORD });
  await tenancy.grant(DEMO_USER, DEMO_DATABASE);
  return { dataDir, store, secrets, tenancy };
}

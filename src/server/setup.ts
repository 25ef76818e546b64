/**
 * Where a server's state and keys come from, shared by `sluice serve` and
 * `sluice admin`: the state store (PostgreSQL when SLUICE_STATE_URL is set,
 * else the JSON file in the sluice home), the SecretBox (SLUICE_MASTER_KEY or
 * the key file), and the demo tenancy (`serve --demo`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { demoScript } from '../cli/demo.js';
import { loadSettings } from '../engine/index.js';
import { startExactSimulator } from '../sim/exactonline/index.js';
import type { ExactSimulator } from '../sim/exactonline/index.js';
import { startVismaSimulator } from '../sim/vismanet/index.js';
import type { VismaSimulator } from '../sim/vismanet/index.js';
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
  /** What else was started for this setup (the demo's simulators), to stop on shutdown. */
  readonly stop?: () => Promise<void>;
  /** Lines describing the setup for the start-up banner. */
  readonly notes?: readonly string[];
  /** The demo's simulators, when it runs them (tests read their request statistics). */
  readonly simulators?: { readonly exact: ExactSimulator; readonly visma: VismaSimulator };
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
 * With `simulatedPlatforms` (what `sluice serve --demo` uses) the Exact Online
 * and Visma.net simulators run in-process and the database gets an authorised
 * `eol` and a `vismanet` container on them.
 */
export async function demoSetup(options: { readonly simulatedPlatforms?: boolean } = {}): Promise<ServerSetup> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sluice-serve-demo-'));
  const store = FileStateStore.inDirectory(dataDir);
  const secrets = SecretBox.fromPassphrase(`demo-${process.pid}-${Date.now()}`);
  const tenancy = new Tenancy(store, secrets);
  await tenancy.addDatabase(DEMO_DATABASE, { startupSql: demoScript() });
  await tenancy.addUser(DEMO_USER, { password: DEMO_PASSWORD });
  await tenancy.grant(DEMO_USER, DEMO_DATABASE);
  if (!options.simulatedPlatforms) return { dataDir, store, secrets, tenancy };

  const simulator = await startExactSimulator({ divisions: 4, subscriptions: 2, accountsPerDivision: 40, transactionLinesPerDivision: 200, rateLimits: false });
  const visma = await startVismaSimulator({ customersPerCompany: 60, rateLimit: false }).catch(async (e: unknown) => {
    await simulator.close();
    throw e;
  });
  const stop = async () => {
    await simulator.close();
    await visma.close();
  };
  try {
    // One settings file with both platforms, read the way `sluice` reads any settings.xml.
    const file = join(dataDir, 'demo-platforms-settings.xml');
    await simulator.writeSettings(file, 'eol');
    await visma.writeSettings(file, 'vismanet');
    for (const c of loadSettings(file)) await tenancy.addContainerConfig(DEMO_DATABASE, c);
    // Every division and company, as an accountant's startup SQL would select them.
    await tenancy.setStartupSql(DEMO_DATABASE, `${demoScript()}use all`);
    rmSync(file, { force: true });
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    dataDir,
    store,
    secrets,
    tenancy,
    stop,
    simulators: { exact: simulator, visma },
    notes: [
      `Exact Online simulator on ${simulator.baseUrl}: container eol (divisions ${simulator.divisions().join(', ')}), e.g. ExactOnlineREST_CRM_Accounts`,
      `Visma.net simulator on ${visma.baseUrl}: container vismanet (companies ${visma.companies().map((c) => c.id).join(', ')}), e.g. the customer_getall table`,
    ],
  };
}

/**
 * The moving parts behind `sluice demo` (what `npm start` runs): the Exact
 * Online and Visma.net simulators in this process, a settings.xml holding
 * exactly the demo's containers (`eol`, `vismanet`), and the OData server
 * with the server engineer's demo tenancy (database `demo`, user demo/demo)
 * over the same simulated platforms. Everything the demo writes — settings,
 * token stores, server state — lives in one temporary directory that
 * `close()` removes, so the user's ~/.sluice is never touched.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SessionOptions } from '../../engine/api.js';
import { loadSettings } from '../../engine/index.js';
import { engineSessionFactory } from '../../server/engine-sessions.js';
import { startServer, type RunningServer } from '../../server/server.js';
import { DEMO_DATABASE, DEMO_PASSWORD, DEMO_USER, demoSetup, type ServerSetup } from '../../server/setup.js';
import { startExactSimulator, type ExactSimulator } from '../../sim/exactonline/index.js';
import { startVismaSimulator, type VismaSimulator } from '../../sim/vismanet/index.js';
import { SecretBox } from '../../util/secrets.js';
import { demoScript, EXACT_ALIAS, VISMA_ALIAS } from './data.js';

export interface DemoPlatforms {
  readonly exact: ExactSimulator;
  readonly visma: VismaSimulator;
  /** The OData feed base, e.g. http://127.0.0.1:41234/demo/odata4/ */
  readonly feedUrl: string;
  readonly serverUrl: string;
  readonly user: string;
  readonly password: string;
  /** Options for the shell's session: only the demo's containers, state in the temporary directory. */
  readonly sessionOptions: SessionOptions;
  /** Idempotent: stops the server and simulators and removes the temporary directory. */
  close(): Promise<void>;
  /** Synchronous last resort (a signal while closing): remove the temporary directory. */
  removeFiles(): void;
}

export interface DemoPlatformOptions {
  /** OData server port (default 0: an ephemeral port). */
  readonly port?: number;
}

/**
 * Start the simulators and the server. Exact's refresh tokens are single-use,
 * so the shell and the server each get their own (two settings files, two
 * token stores); sharing one would make whichever refreshes second fail.
 */
export async function startDemoPlatforms(options: DemoPlatformOptions = {}): Promise<DemoPlatforms> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-demo-'));
  const stops: (() => Promise<void>)[] = [];
  let serverSetup: ServerSetup | undefined;
  let closed: Promise<void> | undefined;
  const removeFiles = (): void => {
    rmSync(dir, { recursive: true, force: true });
    if (serverSetup) rmSync(serverSetup.dataDir, { recursive: true, force: true });
  };
  const close = (): Promise<void> =>
    (closed ??= (async () => {
      // Last started, first stopped: the server's sessions still talk to the simulators.
      for (const stop of stops.reverse()) await stop().catch(() => undefined);
      removeFiles();
    })());

  try {
    // Small worlds: they start in well under a second and every query answers at once.
    const exact = await startExactSimulator({ divisions: 6, subscriptions: 3, accountsPerDivision: 60, transactionLinesPerDivision: 400, rateLimits: false });
    stops.push(() => exact.close());
    const visma = await startVismaSimulator({ customersPerCompany: 40, suppliersPerCompany: 10, rateLimit: false });
    stops.push(() => visma.close());

    const shellSettings = join(dir, 'settings.xml');
    await exact.writeSettings(shellSettings, EXACT_ALIAS);
    visma.writeSettings(shellSettings, VISMA_ALIAS);

    // The server engineer's demo tenancy, plus the simulated platforms as containers of database `demo`.
    serverSetup = await demoSetup({ simulatedPlatforms: false });
    const setup = serverSetup;
    stops.push(() => setup.store.close());
    const serverSettings = join(dir, 'server-settings.xml');
    await exact.writeSettings(serverSettings, EXACT_ALIAS);
    visma.writeSettings(serverSettings, VISMA_ALIAS);
    for (const c of loadSettings(serverSettings)) await setup.tenancy.addContainerConfig(DEMO_DATABASE, c);
    rmSync(serverSettings, { force: true });
    await setup.tenancy.setStartupSql(DEMO_DATABASE, `${demoScript()}use all`);
    const server: RunningServer = await startServer({
      store: setup.store,
      secrets: setup.secrets,
      sessionFactory: engineSessionFactory(setup.dataDir, setup.secrets),
      host: '127.0.0.1',
      port: options.port ?? 0,
      // Request logs would interleave with the shell's prompt and results.
      log: () => undefined,
    });
    stops.push(() => server.close());

    return {
      exact,
      visma,
      serverUrl: server.url,
      feedUrl: `${server.url}/${DEMO_DATABASE}/odata4/`,
      user: DEMO_USER,
      password: DEMO_PASSWORD,
      sessionOptions: {
        settingsPath: shellSettings,
        dataDir: join(dir, 'shell'),
        secrets: SecretBox.fromPassphrase(`sluice-demo-${process.pid}-${Date.now()}`),
      },
      close,
      removeFiles,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

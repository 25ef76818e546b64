/**
 * `sluice serve [--demo] [--port P] [--host H]`: run the OData / SQL server
 * (src/server) until interrupted. With --demo it serves a throw-away database
 * `demo` with user demo / demo and prints what to paste into Power BI.
 */
import type { Command } from 'commander';
import { engineSessionFactory } from '../../server/engine-sessions.js';
import { startServer } from '../../server/server.js';
import { DEMO_DATABASE, DEMO_PASSWORD, DEMO_USER, demoSetup, openSetup } from '../../server/setup.js';
import { SluiceError } from '../../util/errors.js';

interface ServeFlags {
  readonly demo?: boolean;
  readonly port?: string;
  readonly host?: string;
  readonly pageSize?: string;
  readonly publicUrl?: string;
  readonly quiet?: boolean;
  readonly sessions?: string;
  readonly trustProxy?: string;
}

function intFlag(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text)) throw new SluiceError('CLI001', `${name} must be a whole number, not "${text}".`);
  return Number(text);
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve databases as OData v4 feeds (Power BI, Excel) and a SQL endpoint')
    .option('--demo', 'serve a demo database (user demo, password demo)')
    .option('--port <port>', 'TCP port (default 5480)')
    .option('--host <host>', 'address to listen on (default 127.0.0.1; 0.0.0.0 for all)')
    .option('--page-size <rows>', 'rows per OData page (default 5000)')
    .option('--public-url <url>', 'the URL clients use, when behind a proxy')
    .option('--sessions <n>', 'engine sessions per database, i.e. concurrent requests per database (default 4)')
    .option('--quiet', 'no request log lines on stdout')
    .option('--trust-proxy <n>', 'number of reverse proxies in front whose X-Forwarded-For is trusted (default $SLUICE_TRUST_PROXY, else 0)')
    .action(async (flags: ServeFlags) => {
      const setup = flags.demo ? await demoSetup({ simulatedPlatforms: true }) : openSetup();
      const server = await startServer({
        store: setup.store,
        secrets: setup.secrets,
        sessionFactory: engineSessionFactory(setup.dataDir, setup.secrets),
        port: intFlag('--port', flags.port, 5480),
        host: flags.host ?? '127.0.0.1',
        pageSize: intFlag('--page-size', flags.pageSize, 5000),
        maxSessionsPerDatabase: Math.max(1, intFlag('--sessions', flags.sessions, 4)),
        ...(flags.publicUrl ? { publicUrl: flags.publicUrl } : {}),
        ...(flags.quiet ? { log: () => undefined } : {}),
        ...(flags.trustProxy !== undefined ? { trustProxy: intFlag('--trust-proxy', flags.trustProxy, 0) } : {}),
      });
      const base = flags.publicUrl ?? server.url;
      const lines = [`Sluice server listening on ${server.url} (state: ${setup.store.describe()})`];
      if (flags.demo) {
        lines.push(
          '',
          'Power BI / Excel: Get Data → OData feed, then paste:',
          `  ${base}/${DEMO_DATABASE}/odata4/`,
          `  Authentication: Basic — user name "${DEMO_USER}", password "${DEMO_PASSWORD}"`,
          '',
          ...(setup.notes ?? []),
          `Try: curl -u ${DEMO_USER}:${DEMO_PASSWORD} '${base}/${DEMO_DATABASE}/odata4/InMemoryStorage_Memory_accounts?$top=3'`,
        );
      } else {
        lines.push(`Feeds: ${base}/{database}/odata4/  (set up databases and users with \`sluice admin\`)`);
      }
      process.stderr.write(`${lines.join('\n')}\n`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await server.close();
      await setup.store.close();
      await setup.stop?.();
    });
}

/**
 * `sluice login <alias>`, `sluice token status [alias]` and
 * `sluice token keepalive [alias]`: the Exact Online sign-in and the care of
 * its token store (see docs/exactonline.md). Containers come from the same
 * settings the engine reads; only `ExactOnlineAll` containers are touched.
 * Never prints a token.
 */
import type { Command } from 'commander';
import { loadSettings } from '../../engine/index.js';
import type { ContainerConfig } from '../../provider/types.js';
import { login, parseExactConfig, PROVIDER_NAME, TokenManager, TokenStore } from '../../providers/exactonline/index.js';
import { systemClock } from '../../util/clock.js';
import { SluiceError } from '../../util/errors.js';
import { sluiceHome } from '../../util/paths.js';
import { SecretBox } from '../../util/secrets.js';
import type { RegisterCommand } from './index.js';

const DAY = 86_400_000;

function exactContainers(cmd: Command, alias?: string): ContainerConfig[] {
  const settings = (cmd.optsWithGlobals() as { settings?: string }).settings;
  const all = loadSettings(settings).filter((c) => c.provider.toLowerCase() === PROVIDER_NAME.toLowerCase());
  const chosen = alias ? all.filter((c) => c.alias.toLowerCase() === alias.toLowerCase()) : all;
  if (chosen.length === 0) {
    throw new SluiceError('EOL090', alias ? `No ExactOnlineAll container "${alias}" in the settings.` : 'No ExactOnlineAll containers in the settings.', {
      hint: 'Add <database alias="eol" provider="ExactOnlineAll" connectionString="api-url=…;api-client-id=…;api-client-secret=…;api-redirect-url=…"/> to settings.xml.',
    });
  }
  return chosen;
}

function manager(config: ContainerConfig, secrets: SecretBox) {
  const cfg = parseExactConfig(config.alias, config.options, secrets);
  const store = new TokenStore({ dataDir: sluiceHome(), apiUrl: cfg.apiUrl, clientId: cfg.clientId, user: cfg.user, secrets, clock: systemClock });
  return { cfg, store, tokens: new TokenManager(store, cfg, systemClock) };
}

function age(ms: number | undefined, now: number): string {
  if (ms === undefined) return 'never';
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 2 * 86_400) return `${Math.round(s / 3600)} h`;
  return `${(s / 86_400).toFixed(1)} days`;
}

/** Errors propagate to runCli, which prints them (SluiceError.format) and sets the exit code. */
async function guarded(body: () => Promise<void>): Promise<void> {
  await body();
}

export const registerExactCommands: RegisterCommand = (program) => {
  program
    .command('login')
    .description('Sign in to Exact Online for a container (OAuth authorization code): prints the URL to open, waits for the browser')
    .argument('<alias>', 'the ExactOnlineAll container')
    .option('--settings <file>', 'settings file')
    .option('--timeout <seconds>', 'how long to wait for the browser', '300')
    .action(async (alias: string, opts: { timeout: string }, cmd: Command) =>
      guarded(async () => {
        const [config] = exactContainers(cmd, alias);
        const { cfg, tokens } = manager(config, SecretBox.fromEnvironment());
        await login(cfg, tokens, systemClock, {
          timeoutMs: Number(opts.timeout) * 1000,
          onUrl: (url) => process.stdout.write(`Open this URL in a browser and sign in to Exact Online:\n\n  ${url}\n\nWaiting for the redirect to ${cfg.redirectUrl} …\n`),
        });
        process.stdout.write(`Signed in; tokens stored for container ${cfg.alias}.\n`);
      }),
    );

  const token = program.command('token').description('Exact Online token store: status and keepalive');
  token
    .command('status')
    .description('Show the ages of the stored access and refresh tokens (never the tokens)')
    .argument('[alias]', 'an ExactOnlineAll container (default: all)')
    .option('--settings <file>', 'settings file')
    .action(async (alias: string | undefined, _opts: unknown, cmd: Command) =>
      guarded(async () => {
        const now = systemClock.now();
        for (const config of exactContainers(cmd, alias)) {
          const cfg = parseExactConfig(config.alias, { ...config.options, 'api-client-secret': 'unused' }, SecretBox.fromPassphrase('status'));
          const store = new TokenStore({ dataDir: sluiceHome(), apiUrl: cfg.apiUrl, clientId: cfg.clientId, user: cfg.user, secrets: SecretBox.fromPassphrase('status'), clock: systemClock });
          const s = await store.status();
          if (!s.exists) {
            process.stdout.write(`${cfg.alias}: no tokens stored (run \`sluice login ${cfg.alias}\`)\n`);
            continue;
          }
          const idle = s.refreshObtainedAt === undefined ? undefined : now - s.refreshObtainedAt;
          process.stdout.write(
            `${cfg.alias} (${cfg.apiUrl}, client ${cfg.clientId}): access token age ${age(s.accessObtainedAt, now)}` +
              `${s.accessObtainedAt !== undefined ? ` (lives ${s.expiresIn ?? 600} s)` : ''}; refresh token idle ${age(s.refreshObtainedAt, now)}` +
              `${idle !== undefined ? ` (expires after 30 days idle: ${((30 * DAY - idle) / DAY).toFixed(1)} days left)` : ''}; store ${store.file}\n`,
          );
        }
      }),
    );
  token
    .command('keepalive')
    .description('Refresh tokens whose refresh token has been idle too long (safe from cron; honours the store lock)')
    .argument('[alias]', 'an ExactOnlineAll container (default: all)')
    .option('--settings <file>', 'settings file')
    .option('--max-idle-days <days>', 'refresh when the refresh token is idle longer than this', '20')
    .action(async (alias: string | undefined, opts: { maxIdleDays: string }, cmd: Command) =>
      guarded(async () => {
        const secrets = SecretBox.fromEnvironment();
        for (const config of exactContainers(cmd, alias)) {
          const { cfg, tokens } = manager(config, secrets);
          const r = await tokens.keepAlive(Number(opts.maxIdleDays) * DAY);
          process.stdout.write(`${cfg.alias}: ${r.refreshed ? 'refreshed' : 'still fresh'} (refresh token was idle ${age(systemClock.now() - (r.idleMs ?? 0), systemClock.now())})\n`);
        }
      }),
    );
};

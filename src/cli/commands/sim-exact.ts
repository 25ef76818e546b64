/**
 * `sluice sim exact`: runs the Exact Online simulator in the foreground
 * (until Ctrl-C), optionally writing or extending a settings.xml with an
 * authorised `eol` (ExactOnlineAll) container that points at it. Shares the
 * `sim` command group with the other simulators.
 */
import type { Command } from 'commander';
import { parseFaults, parseLatency } from '../../sim/common/http.js';
import { startExactSimulator } from '../../sim/exactonline/index.js';
import { SluiceError } from '../../util/errors.js';
import type { RegisterCommand } from './index.js';

interface SimExactOptions {
  port: string;
  host: string;
  seed: string;
  divisions: string;
  subscriptions: string;
  accounts: string;
  transactionLines: string;
  latency?: string;
  faults?: string;
  rateLimit: string;
  errorsPerHour: string;
  tokenCallsPerDay: string;
  tooEarlySeconds: string;
  minuteWindow: string;
  divisionless?: string;
  dutchLocalTime?: boolean;
  mandatoryFiltering: boolean;
  lenientSyncFilter?: boolean;
  writeSettings?: string;
  alias: string;
}

function whole(name: string, value: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new SluiceError('SIM010', `--${name} must be a whole number between ${min} and ${max}, not "${value}".`);
  }
  return n;
}

function rateLimits(text: string): { minutely: number; daily: number } | false {
  if (/^(off|false|none)$/i.test(text)) return false;
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!m) throw new SluiceError('SIM011', `--rate-limit must be MINUTELY/DAILY (e.g. 60/5000) or off, not "${text}".`);
  return { minutely: Number(m[1]), daily: Number(m[2]) };
}

function withErrors(limits: { minutely: number; daily: number } | false, errorsPerHour: number, alignMinute: boolean): { minutely: number; daily: number; errorsPerHour: number; alignMinute: boolean } | false {
  return limits === false ? false : { ...limits, errorsPerHour, alignMinute };
}

function minuteWindow(text: string): boolean {
  if (text === 'clock') return true;
  if (text === 'first-call') return false;
  throw new SluiceError('SIM014', `--minute-window must be clock or first-call, not "${text}".`);
}

export const registerSimExact: RegisterCommand = (program) => {
  const sim = program.commands.find((c) => c.name() === 'sim') ?? program.command('sim').description('Run a local simulator of a platform');
  sim
    .command('exact')
    .description('Run the Exact Online simulator (division 102673 and others) until Ctrl-C')
    .option('--port <port>', 'port to listen on (0: any free port)', '0')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--seed <n>', 'seed of the generated world', '42')
    .option('--divisions <n>', 'divisions the accountant can open (1-1000)', '6')
    .option('--subscriptions <n>', 'Exact customers the divisions belong to', '3')
    .option('--accounts <n>', 'accounts per division', '150')
    .option('--transaction-lines <n>', 'transaction lines per division (up to 1000000)', '2000')
    .option('--latency <spec>', 'latency per call: MS, MIN-MAX, normal:MEAN,SD or lognormal:P50,P95 (each with an optional ,MAX cap)')
    .option('--faults <spec>', 'fault rates, e.g. error=0.01,reset=0.001,truncate=0.001,429=0.05')
    .option('--rate-limit <m/d|off>', 'calls per app and division: MINUTELY/DAILY', '60/5000')
    .option('--errors-per-hour <n>', 'errors (400/401/403/404) per app, user, division and endpoint an hour before a block', '10')
    .option('--token-calls-per-day <n>', 'token requests per app and user a day', '200')
    .option('--too-early-seconds <n>', 'seconds after a token refresh before the next is allowed (TooEarlyToRefreshTokens)', '570')
    .option('--minute-window <clock|first-call>', 'minute rate-limit window aligned to the clock minute, or starting at the first call', 'clock')
    .option('--divisionless <urls>', 'comma-separated endpoints answered without a division (default current/Me,system/Users)')
    .option('--dutch-local-time', 'dates as Amsterdam wall-clock time written as UTC (Created, Modified, …), not UTC instants')
    .option('--no-mandatory-filtering', 'do not demand a $filter on the heavy endpoints')
    .option('--lenient-sync-filter', 'sync endpoints also take Timestamp ge, no L suffix, or no $filter')
    .option('--write-settings <file>', 'write (or extend) a settings.xml with an authorised ExactOnlineAll container')
    .option('--alias <alias>', 'container alias for --write-settings', 'eol')
    .action(async (opts: SimExactOptions, _cmd: Command) => {
      try {
        let faults;
        let latencyMs;
        try {
          faults = opts.faults ? parseFaults(opts.faults) : undefined;
          latencyMs = opts.latency ? parseLatency(opts.latency) : undefined;
        } catch (e) {
          throw new SluiceError('SIM012', e instanceof Error ? e.message : String(e));
        }
        const started = Date.now();
        const simulator = await startExactSimulator({
          port: whole('port', opts.port, 0, 65535),
          host: opts.host,
          seed: whole('seed', opts.seed),
          divisions: whole('divisions', opts.divisions, 1, 1000),
          subscriptions: whole('subscriptions', opts.subscriptions, 1, 1000),
          accountsPerDivision: whole('accounts', opts.accounts, 3, 1_000_000),
          transactionLinesPerDivision: whole('transaction-lines', opts.transactionLines, 12, 1_000_000),
          ...(latencyMs !== undefined ? { latencyMs } : {}),
          ...(faults ? { faults } : {}),
          rateLimits: withErrors(rateLimits(opts.rateLimit), whole('errors-per-hour', opts.errorsPerHour, 0, 1_000_000), minuteWindow(opts.minuteWindow)),
          dutchLocalTime: opts.dutchLocalTime === true,
          ...(opts.divisionless ? { divisionlessUrls: opts.divisionless.split(',').map((u) => u.trim()).filter(Boolean) } : {}),
          oauth: {
            tokenCallsPerDay: whole('token-calls-per-day', opts.tokenCallsPerDay, 1, 1_000_000),
            tooEarlySeconds: whole('too-early-seconds', opts.tooEarlySeconds, 0, 600),
          },
          mandatoryFiltering: opts.mandatoryFiltering,
          strictSyncFilter: opts.lenientSyncFilter !== true,
        });
        if (opts.writeSettings) await simulator.writeSettings(opts.writeSettings, opts.alias);
        const divs = simulator.divisions();
        process.stdout.write(
          [
            `Exact Online simulator listening on ${simulator.baseUrl} (started in ${Date.now() - started} ms)`,
            `API ${simulator.baseUrl}/api/v1, OAuth ${simulator.baseUrl}/api/oauth2/auth and /api/oauth2/token, admin ${simulator.baseUrl}/__sim/stats`,
            `divisions: ${divs.slice(0, 10).join(', ')}${divs.length > 10 ? `, … (${divs.length})` : ''}; current division ${simulator.world.defaultUser.currentDivision}`,
            `client-id ${simulator.clientId}, redirect-uri ${simulator.redirectUri}`,
            opts.writeSettings ? `container "${opts.alias}" written to ${opts.writeSettings}` : 'use --write-settings FILE for an authorised settings.xml',
            'Ctrl-C to stop.',
            '',
          ].join('\n'),
        );
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        await simulator.close();
      } catch (e) {
        // runCli prints the error and sets the exit code.
        throw e instanceof SluiceError ? e : new SluiceError('SIM013', `The Exact Online simulator could not start: ${e instanceof Error ? e.message : String(e)}`);
      }
    });
};

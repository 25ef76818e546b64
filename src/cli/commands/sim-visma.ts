/**
 * `sluice sim visma`: runs the Visma.net Financials simulator in the
 * foreground (until Ctrl-C), optionally writing or extending a settings.xml
 * with an authorized `vismanet` container that points at it. Shares the
 * `sim` command group with the other simulators (whichever module registers
 * first creates it).
 */
import type { Command } from 'commander';
import { startVismaSimulator } from '../../sim/vismanet/index.js';
import { SluiceError } from '../../util/errors.js';
import type { RegisterCommand } from './index.js';

interface SimVismaOptions {
  port: string;
  seed: string;
  customers: string;
  suppliers: string;
  latency: string;
  writeLatency?: string;
  rateLimit: string;
  writeSettings?: string;
  alias: string;
}

function whole(name: string, value: string, min = 0): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new SluiceError('SIM010', `--${name} must be a whole number of at least ${min}, not "${value}".`);
  return n;
}

export const registerSimVisma: RegisterCommand = (program) => {
  const sim = program.commands.find((c) => c.name() === 'sim') ?? program.command('sim').description('Run a local simulator of a platform');
  sim
    .command('visma')
    .description('Run the Visma.net Financials simulator (companies 1896329 and 1896330) until Ctrl-C')
    .option('--port <port>', 'port to listen on (0: any free port)', '0')
    .option('--seed <n>', 'seed of the generated data', '1')
    .option('--customers <n>', 'customers per company', '300')
    .option('--suppliers <n>', 'suppliers per company', '50')
    .option('--latency <ms>', 'latency of each read call', '0')
    .option('--write-latency <ms>', 'latency of each write call (default: --latency)')
    .option('--rate-limit <perHour|off>', 'calls per company per hour, counted per minute', '15000')
    .option('--write-settings <file>', 'write (or extend) a settings.xml with a VismaNet container pointing here')
    .option('--alias <alias>', 'container alias for --write-settings', 'vismanet')
    .action(async (opts: SimVismaOptions, _cmd: Command) => {
      try {
        const latencyMs = whole('latency', opts.latency);
        const simulator = await startVismaSimulator({
          port: whole('port', opts.port),
          seed: whole('seed', opts.seed),
          customersPerCompany: whole('customers', opts.customers),
          suppliersPerCompany: whole('suppliers', opts.suppliers),
          latencyMs,
          writeLatencyMs: opts.writeLatency !== undefined ? whole('write-latency', opts.writeLatency) : latencyMs,
          rateLimit: /^(off|false|0|none)$/i.test(opts.rateLimit) ? false : { perHour: whole('rate-limit', opts.rateLimit, 1) },
        });
        if (opts.writeSettings) simulator.writeSettings(opts.writeSettings, opts.alias);
        process.stdout.write(
          [
            `Visma.net simulator listening on ${simulator.baseUrl} (API under /v1, token endpoint ${simulator.tokenUrl})`,
            `companies: ${simulator.companies().map((c) => `${c.id} (${c.name})`).join(', ')}`,
            `client-id ${simulator.clientId}, tenant-id ${simulator.tenantId}`,
            opts.writeSettings ? `container "${opts.alias}" written to ${opts.writeSettings}` : 'use --write-settings FILE to get a settings.xml with the client credentials',
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
        process.stderr.write(`${e instanceof SluiceError ? e.format() : e instanceof Error ? e.message : String(e)}\n`);
        process.exitCode = 1;
      }
    });
};

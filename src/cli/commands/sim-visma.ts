/**
 * `sluice sim visma`: runs the Visma.net Financials simulator in the
 * foreground (until Ctrl-C), optionally writing or extending a settings.xml
 * with an authorized `vismanet` container that points at it. Shares the
 * `sim` command group with the other simulators (whichever module registers
 * first creates it).
 */
import type { Command } from 'commander';
import { parseVismaFaults, startVismaSimulator, type VismaFaults } from '../../sim/vismanet/index.js';
import { SluiceError } from '../../util/errors.js';
import type { RegisterCommand } from './index.js';

interface SimVismaOptions {
  port: string;
  host: string;
  faults?: string;
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
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--seed <n>', 'seed of the generated data', '1')
    .option('--customers <n>', 'customers per company', '300')
    .option('--suppliers <n>', 'suppliers per company', '50')
    .option('--latency <ms>', 'latency of each read call', '0')
    .option('--write-latency <ms>', 'latency of each write call (default: --latency)')
    .option('--faults <spec>', 'injected faults, e.g. error=0.05,status=503,fail-next=2,latency=100,match=^POST,reject-names=^Bad')
    .option('--rate-limit <perHour|off>', 'calls per company per hour, counted per minute', '15000')
    .option('--write-settings <file>', 'write (or extend) a settings.xml with a VismaNet container pointing here')
    .option('--alias <alias>', 'container alias for --write-settings', 'vismanet')
    .action(async (opts: SimVismaOptions, _cmd: Command) => {
      try {
        const latencyMs = whole('latency', opts.latency);
        let faults: VismaFaults | undefined;
        try {
          faults = opts.faults !== undefined ? parseVismaFaults(opts.faults) : undefined;
        } catch (e) {
          throw new SluiceError('SIM012', `--faults: ${e instanceof Error ? e.message : String(e)}`);
        }
        const simulator = await startVismaSimulator({
          port: whole('port', opts.port),
          host: opts.host,
          ...(faults ? { faults } : {}),
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
            ...(opts.faults !== undefined ? [`faults: ${opts.faults.split(',').map((f) => f.trim()).filter(Boolean).join(', ')}`] : []),
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
        // runCli prints the error and sets the exit code.
        throw e instanceof SluiceError ? e : new SluiceError('SIM013', `The Visma.net simulator could not start: ${e instanceof Error ? e.message : String(e)}`);
      }
    });
};

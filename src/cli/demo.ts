/**
 * `sluice demo` (what `npm start` runs): the Exact Online and Visma.net
 * simulators, the OData server and the shell, all in this process and
 * without an account or network (demo/platforms.ts starts them), plus a
 * small deterministic data set in the in-memory container — company
 * administrations (divisions), relations (accounts) and sales invoices —
 * created with ordinary SQL. The same script is the startup SQL of the
 * server's demo database (src/server/setup.ts). program.ts calls runDemo.
 */
import type { Writable } from 'node:stream';
import type { Session, SessionOptions } from '../engine/api.js';
import { createDemoData, DEMO_CONTAINER, EXACT_ALIAS, SEED_COMPANY, SEED_DIVISION, VISMA_ALIAS } from './demo/data.js';
import type { DemoPlatforms } from './demo/platforms.js';

export { createDemoData, DEMO_CONTAINER, demoScript } from './demo/data.js';

/** The first query across every division: what an accountant does first. */
export const QUERY_ALL_DIVISIONS = `use all;
select division, count(*) accounts
from   exactonlinerest..accounts@${EXACT_ALIAS}
group  by division
order  by 1;`;

/** Seed 001: every Exact Online account of one division becomes a Visma.net customer, in one statement. */
export const SEED_001_SCRIPT = `use ${SEED_DIVISION}@${EXACT_ALIAS}, ${SEED_COMPANY}@${VISMA_ALIAS};
create or replace table exactaccounts@inmemorystorage as
select to_char(code) number, name, 'EOL-' || to_char(code) accountreference
from   exactonlinerest..accounts@${EXACT_ALIAS};
synchronize exactaccounts@inmemorystorage
to     customer_getall@${VISMA_ALIAS}
with   insert
identified by accountreference ignore nulls;`;

/** Exact and Visma.net in one query: which accounts are a Visma.net customer (all of them, after seed 001). */
export const QUERY_EXACT_JOIN_VISMA = `select a.code, a.name, c.number visma_customer
from   exactonlinerest..accounts@${EXACT_ALIAS} a
left   join customer_getall@${VISMA_ALIAS} c on c.accountreference = 'EOL-' || a.code
order  by a.code
limit  5;`;

const indent = (text: string): string => text.replace(/^/gm, '  ');

/** What is running, for both the banner and the piped note. */
function running(p: DemoPlatforms): string[] {
  const companies = p.visma.companies().map((c) => c.id);
  return [
    `  Exact Online simulator   ${p.exact.baseUrl}  as @${EXACT_ALIAS} (ExactOnlineAll), divisions ${p.exact.divisions().join(', ')}`,
    `  Visma.net simulator      ${p.visma.baseUrl}  as @${VISMA_ALIAS} (VismaNet), companies ${companies.join(', ')}`,
    `  In-memory demo tables    divisions, accounts, invoices in @${DEMO_CONTAINER}`,
    '',
    '  OData feed for Power BI / Excel (Get Data → OData feed), while this runs:',
    `    ${p.feedUrl}`,
    `    Authentication: Basic — user name "${p.user}", password "${p.password}"`,
  ];
}

/** What piped runs of the demo say instead of the banner (on stderr, so stdout stays data). */
export function demoNote(p: DemoPlatforms): string {
  return [`Sluice demo: tables divisions, accounts and invoices in @${DEMO_CONTAINER}, simulated Exact Online and Visma.net; running the SQL from stdin.`, ...running(p), ''].join('\n');
}

export function demoBanner(p: DemoPlatforms): string {
  return `Sluice demo — Exact Online and Visma.net Financials, simulated on this machine (no account, no network).

Running:
${running(p).join('\n')}

Try:
  -- 1. every division the accountant can open, in one query
${indent(QUERY_ALL_DIVISIONS)}

  -- 2. seed 001: every Exact account of division ${SEED_DIVISION} becomes a Visma.net customer
${indent(SEED_001_SCRIPT)}

  -- 3. Exact Online and Visma.net in one query
${indent(QUERY_EXACT_JOIN_VISMA)}

End a statement with ; or an empty line. Tab completes keywords, tables and columns.
Type \\help for shell commands, \\tables to list tables, \\quit to leave.

`;
}

export interface DemoIo {
  readonly stdout: Writable;
  readonly stderr: Writable;
  /** The shell (banner on stdout) rather than piped SQL (a short note on stderr). */
  readonly interactive: boolean;
}

/** Opens the session with the given options, calls `prepare` on it, then runs the shell or the piped SQL. */
export type DemoBody = (options: SessionOptions, prepare: (session: Session) => Promise<void>) => Promise<void>;

/**
 * Start the simulated platforms and the server, hand the demo's session
 * options to `body`, and stop everything when it returns or throws. SIGTERM
 * (and SIGINT, which reaches the process only when no shell reads the
 * terminal) stop the platforms and remove the temporary files before exiting.
 */
export async function runDemo(io: DemoIo, body: DemoBody): Promise<void> {
  // Loaded here, not at the top: the server's setup imports this module for demoScript.
  const { startDemoPlatforms } = await import('./demo/platforms.js');
  const platforms = await startDemoPlatforms();
  const onSignal = (signal: NodeJS.Signals): void => {
    const code = signal === 'SIGINT' ? 130 : 143;
    // Do not wait on a statement that may never finish: a bounded close, then leave.
    const timer = setTimeout(() => {
      platforms.removeFiles();
      process.exit(code);
    }, 2000);
    timer.unref();
    void platforms.close().finally(() => process.exit(code));
  };
  // Any other way out (the shell's forced quit after a stuck statement calls process.exit) still removes the files.
  const onExit = (): void => platforms.removeFiles();
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  process.once('exit', onExit);
  try {
    await body(platforms.sessionOptions, async (session) => {
      await createDemoData(session);
      if (io.interactive) io.stdout.write(demoBanner(platforms));
      else io.stderr.write(demoNote(platforms));
    });
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    await platforms.close();
    process.off('exit', onExit);
  }
}

/**
 * The `sluice` command line, built with commander: the shell (no command),
 * `query`, `run`, `demo`, and every command module listed in
 * commands/index.ts. `--settings FILE` is accepted on every command.
 * runCli takes its streams and the session factory as arguments, so tests
 * drive the real commands in-process; main.ts wires it to the process.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { Command, CommanderError, Option } from 'commander';
import type { Session, SessionOptions } from '../engine/api.js';
import { sluiceHome } from '../util/paths.js';
import { SluiceError } from '../util/errors.js';
import type { RegisterCommand } from './commands/index.js';
import { runDemo } from './demo.js';
import type { OpenSession } from './engine.js';
import { KEYWORDS } from './keywords.js';
import { closestKeyword } from '../sql/keywords.js';
import { checkOutputFile, createOutput, OUTPUT_FORMATS, parseFormat, type OutputFormat } from './output/index.js';
import { describeError, runScript } from './run.js';
import { Shell } from './shell.js';

type InStream = Readable & { readonly isTTY?: boolean };
type OutStream = Writable & { readonly isTTY?: boolean; readonly columns?: number };

export interface CliContext {
  readonly stdin: InStream;
  readonly stdout: OutStream;
  readonly stderr: OutStream;
  readonly env: NodeJS.ProcessEnv;
  readonly openSession: OpenSession;
}

/** Exit codes: 0 success, 1 a statement (or the session) failed, 2 the command line was wrong. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

interface OutputFlags {
  readonly format?: string;
  readonly output?: string;
}

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The command modules of other parts (serve, admin, simulators, …), loaded
 * at run time so that one that fails to load costs its own commands, said on
 * stderr, instead of taking `sluice query` down with it.
 */
async function loadCommandModules(stderr: Writable, env: NodeJS.ProcessEnv): Promise<readonly RegisterCommand[]> {
  try {
    return (await import('./commands/index.js')).commandModules;
  } catch (err) {
    stderr.write(`warning: some sluice commands could not be loaded: ${describeError(err, env)}\n`);
    return [];
  }
}

export async function runCli(argv: readonly string[], ctx: CliContext): Promise<number> {
  let exitCode = EXIT_OK;
  const { stdout, stderr } = ctx;

  /** Open a session, run `body`, always close; failures become exit code 1 with the error on stderr. */
  const withSession = async (options: SessionOptions, body: (session: Session) => Promise<boolean>): Promise<void> => {
    let session: Session | undefined;
    try {
      session = await ctx.openSession(options);
      if (!(await body(session))) exitCode = EXIT_FAILED;
    } catch (err) {
      stderr.write(`${describeError(err, ctx.env)}\n`);
      exitCode = EXIT_FAILED;
    } finally {
      await session?.close().catch((err: unknown) => stderr.write(`${describeError(err, ctx.env)}\n`));
    }
  };

  const runText = async (session: Session, script: string, flags: OutputFlags): Promise<boolean> => {
    const format: OutputFormat = flags.format ? parseFormat(flags.format) : 'table';
    const output = createOutput({
      format,
      stream: stdout,
      file: flags.output,
      table: { maxWidth: stdout.isTTY ? stdout.columns : undefined },
      notice: (t) => stderr.write(`${t}\n`),
    });
    try {
      return await runScript(session, script, { output, stdout, stderr, stderrIsTTY: stderr.isTTY ?? false, env: ctx.env });
    } finally {
      await output.close();
    }
  };

  /** Validate --format/--output before anything runs, so a typo costs nothing. */
  const checkFlags = (flags: OutputFlags): void => {
    const format = flags.format ? parseFormat(flags.format) : 'table';
    if (format === 'xlsx' && !flags.output) {
      throw new SluiceError('CLI002', 'The xlsx format writes a file, not the terminal.', { hint: 'Add --output FILE.xlsx.' });
    }
    if (flags.output) checkOutputFile(flags.output);
  };

  const shellOrPipe = async (session: Session, flags: OutputFlags, greeting?: string): Promise<boolean> => {
    if (!ctx.stdin.isTTY) return runText(session, await readAll(ctx.stdin), flags);
    if (greeting) stdout.write(greeting);
    const shell = new Shell({
      session,
      input: ctx.stdin,
      output: stdout,
      errorOutput: stderr,
      terminal: true,
      historyFile: join(sluiceHome(), 'history'),
      keywords: KEYWORDS,
      width: () => stdout.columns,
      env: ctx.env,
      onForceQuit: () => {
        stderr.write('Leaving sluice while the statement was still stopping.\n');
        process.exit(130);
      },
    });
    await shell.run();
    return true;
  };

  const program = new Command('sluice');
  const settingsOption = (): Option => new Option('--settings <file>', 'settings.xml (Invantive format), .yaml or .json with the data containers');
  const formatOption = (): Option => new Option('-f, --format <format>', `result format: ${OUTPUT_FORMATS.join(' | ')}`).default('table');
  const outputOption = (): Option => new Option('-o, --output <file>', 'write results to this file instead of stdout (required for xlsx)');
  // A settings.xml holds groups of connections (Invantive: often one connection per customer); without these the first is used.
  const groupOption = (): Option => new Option('--group <name>', 'settings.xml group to use (default: the first)');
  const connectionOption = (): Option => new Option('--connection <name>', 'settings.xml connection to use, e.g. one per customer (default: the first of the group)');
  const settingsOf = (cmd: Command): SessionOptions => {
    const o = cmd.optsWithGlobals() as { settings?: string; group?: string; connection?: string };
    return {
      // A "sluice run" from cron leaves its synchronize outcomes in ~/.sluice for a later "sluice query".
      persistSyncJournal: true,
      ...(o.settings ? { settingsPath: o.settings } : {}),
      ...(o.group ? { group: o.group } : {}),
      ...(o.connection ? { connection: o.connection } : {}),
    };
  };

  program
    .description('Query cloud accounting platforms (Exact Online, Visma.net, …) as one SQL database.\nWithout a command: the interactive SQL shell (or, with piped input, run the SQL read from stdin).')
    .addOption(settingsOption())
    .addOption(groupOption())
    .addOption(connectionOption())
    .showHelpAfterError('(run sluice --help for usage)')
    .exitOverride()
    .allowExcessArguments()
    .configureOutput({ writeOut: (s) => stdout.write(s), writeErr: (s) => stderr.write(s) })
    .action(async (_opts: unknown, cmd: Command) => {
      if (cmd.args.length > 0) {
        const commands = program.commands.map((c) => c.name());
        const meant = closestKeyword(cmd.args[0], commands);
        const hint = `${meant ? `Did you mean ${meant}? ` : ''}Commands: ${commands.join(', ')}; sluice --help explains them.`;
        throw new SluiceError('CLI005', `Unknown command "${cmd.args[0]}".`, { hint });
      }
      await withSession(settingsOf(cmd), (session) => {
        const aliases = session.containers().map((c) => c.alias).join(', ');
        return shellOrPipe(session, {}, `Sluice SQL shell. Data containers: ${aliases}.\nEnd a statement with ; or an empty line; \\help for help, \\quit to leave.\n\n`);
      });
    });

  program
    .command('query')
    .description('run SQL given on the command line; results to stdout, messages and errors to stderr')
    .argument('<sql>', 'one or more statements')
    .addOption(formatOption())
    .addOption(outputOption())
    .addOption(settingsOption())
    .addOption(groupOption())
    .addOption(connectionOption())
    .action(async (sql: string, flags: OutputFlags, cmd: Command) => {
      checkFlags(flags);
      await withSession(settingsOf(cmd), (session) => runText(session, sql, flags));
    });

  program
    .command('run')
    .description('run a SQL script file ("-" reads stdin); stops at the first failing statement')
    .argument('<file>', 'the script, or - for stdin')
    .addOption(formatOption())
    .addOption(outputOption())
    .addOption(settingsOption())
    .addOption(groupOption())
    .addOption(connectionOption())
    .action(async (file: string, flags: OutputFlags, cmd: Command) => {
      checkFlags(flags);
      let script: string;
      try {
        script = file === '-' ? await readAll(ctx.stdin) : await readFile(file, 'utf8');
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        throw new SluiceError('CLI004', code === 'ENOENT' ? `The script ${file} does not exist.` : `The script ${file} could not be read: ${(err as Error).message}`);
      }
      await withSession(settingsOf(cmd), (session) => runText(session, script, flags));
    });

  program
    .command('demo')
    .description('simulated Exact Online and Visma.net, the OData feed and the shell on them (what `npm start` runs); with piped input, run that SQL')
    .addOption(formatOption())
    .addOption(outputOption())
    .addOption(settingsOption())
    .action(async (flags: OutputFlags, cmd: Command) => {
      checkFlags(flags);
      // The demo's containers are exactly its own; the user's settings (and their tokens) stay out of it.
      if (settingsOf(cmd).settingsPath) stderr.write('note: the demo uses only its simulated containers; --settings is ignored.\n');
      await runDemo({ stdout, stderr, interactive: ctx.stdin.isTTY === true }, (options, prepare) =>
        withSession(options, async (session) => {
          await prepare(session);
          return shellOrPipe(session, flags);
        }),
      );
    });

  for (const register of await loadCommandModules(stderr, ctx.env)) register(program);
  // Commands built with `new Command()` and addCommand do not inherit these; every level gets them.
  const configure = (cmd: Command): void => {
    cmd.exitOverride();
    cmd.configureOutput({ writeOut: (s) => stdout.write(s), writeErr: (s) => stderr.write(s) });
    cmd.commands.forEach(configure);
  };
  program.commands.forEach(configure);

  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.help' || err.code === 'commander.version') return EXIT_OK;
      return EXIT_USAGE;
    }
    stderr.write(`${describeError(err, ctx.env)}\n`);
    return err instanceof SluiceError && err.code.startsWith('CLI00') ? EXIT_USAGE : EXIT_FAILED;
  }
  return exitCode;
}

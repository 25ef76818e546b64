/**
 * Running SQL text for the CLI: every statement of a script through the
 * session, rows to the chosen output, statement messages ("3 rows inserted
 * …"), failed partitions and warnings to stderr so stdout stays clean data.
 * Used by `sluice query`, `sluice run`, piped input, and the shell.
 */
import type { Writable } from 'node:stream';
import type { Session, StatementSummary } from '../engine/api.js';
import { SluiceError } from '../util/errors.js';
import { redact } from '../util/secrets.js';
import type { ResultOutput } from './output/index.js';
import { ProgressDisplay } from './progress.js';

export interface RunOptions {
  readonly output: ResultOutput;
  /** Where explain plans go (stdout). */
  readonly stdout: Writable;
  /** Messages, warnings, progress and errors. */
  readonly stderr: Writable;
  readonly stderrIsTTY?: boolean;
  readonly signal?: AbortSignal;
  readonly env?: NodeJS.ProcessEnv;
  /** Called after each statement with its summary (the shell shows timing). */
  readonly onStatement?: (summary: StatementSummary, kind: 'rows' | 'done' | 'explain') => void;
}

/** The text a user sees for a failure: SluiceError's own rendering, else one line (stack only with SLUICE_DEBUG=1). */
export function describeError(err: unknown, env: NodeJS.ProcessEnv = process.env): string {
  if (err instanceof SluiceError) return redact(err.format());
  const message = err instanceof Error ? err.message : String(err);
  const debug = env.SLUICE_DEBUG === '1' && err instanceof Error && err.stack ? `\n${err.stack}` : '';
  return `error: ${redact(message.split('\n')[0])}${debug}`;
}

function reportSummary(summary: StatementSummary, stderr: Writable): void {
  // The engine also words each failed partition as a warning (naming the table); say it once.
  const told = summary.warnings.map((w) => w.toLowerCase());
  for (const f of summary.failedPartitions) {
    if (told.some((w) => w.includes(`partition ${f.partition} of ${f.container} failed`.toLowerCase()))) continue;
    stderr.write(`warning: partition ${f.partition} of ${f.container} failed: ${redact(f.message)}\n`);
  }
  for (const w of summary.warnings) stderr.write(`warning: ${redact(w)}\n`);
}

/**
 * Run a script; returns true when every statement succeeded. On failure the
 * error is written to stderr and the remaining statements do not run.
 */
export async function runScript(session: Session, script: string, options: RunOptions): Promise<boolean> {
  const { output, stdout, stderr } = options;
  const progress = new ProgressDisplay(stderr, { isTTY: options.stderrIsTTY ?? false });
  try {
    for await (const result of session.execute(script, { signal: options.signal, onProgress: progress.update })) {
      if (result.kind === 'rows') {
        // The table starts once the first batch arrives; clear the progress line before it.
        await output.writeRows(result.columns, clearing(result.batches, progress));
      } else {
        progress.stop();
        if (result.kind === 'done') stderr.write(`${result.message}\n`);
        else stdout.write(result.lines.map((l) => `${l}\n`).join(''));
      }
      progress.resume();
      const summary = result.summary();
      reportSummary(summary, stderr);
      options.onStatement?.(summary, result.kind);
    }
    return true;
  } catch (err) {
    progress.stop();
    if (options.signal?.aborted) stderr.write('Cancelled.\n');
    // The reader went away (stdout closed early); main.ts ends the process quietly.
    else if ((err as { code?: unknown }).code === 'EPIPE') return false;
    else stderr.write(`${describeError(err, options.env)}\n`);
    return false;
  } finally {
    progress.stop();
  }
}

async function* clearing<T>(batches: AsyncIterable<T>, progress: ProgressDisplay): AsyncIterable<T> {
  for await (const batch of batches) {
    progress.stop();
    yield batch;
  }
}

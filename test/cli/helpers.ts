/**
 * Test plumbing for the CLI: in-memory stdin/stdout/stderr and a runCli call
 * with a fake session factory that records the options it was given.
 */
import { PassThrough, Writable } from 'node:stream';
import type { SessionOptions } from '../../src/engine/api.js';
import { runCli } from '../../src/cli/program.js';
import type { FakeSession } from './fake-session.js';

export class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.text += chunk.toString();
    done();
  }
}

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly options: SessionOptions[];
}

export async function cli(argv: string[], session: FakeSession | Error, stdinText?: string, env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  const stdin = new PassThrough();
  stdin.end(stdinText ?? '');
  const stdout = new Capture();
  const stderr = new Capture();
  const options: SessionOptions[] = [];
  const code = await runCli(argv, {
    stdin,
    stdout,
    stderr,
    env,
    openSession: async (o) => {
      options.push(o);
      if (session instanceof Error) throw session;
      return session;
    },
  });
  return { code, stdout: stdout.text, stderr: stderr.text, options };
}

/** Wait until `condition` holds; fail (rather than hang the suite) if it never does. */
export async function waitFor(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 3000; i++) {
    if (condition()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`gave up waiting: ${what}`);
}

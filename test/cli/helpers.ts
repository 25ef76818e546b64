/**
 * Test plumbing for the CLI: in-memory stdin/stdout/stderr and a runCli call
 * with a fake session factory that records the options it was given.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
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

export interface ProcessOutcome {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The real `sluice` command as a child process (sources through tsx) with SLUICE_HOME = home. */
export function sluiceProcess(home: string, args: readonly string[], stdin = ''): Promise<ProcessOutcome> {
  const root = join(import.meta.dirname, '..', '..');
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, SLUICE_HOME: home };
    delete env.SLUICE_SETTINGS;
    delete env.SLUICE_DEBUG;
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), ...args], { cwd: root, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

/** Plumbing for tests that run `sluice sim …` as a child process. */
import type { ChildProcess } from 'node:child_process';

/** Resolve with stdout once the simulator says it is listening (its Ctrl-C line); reject if it exits first. */
export function listening(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString('utf8');
      if (out.includes('Ctrl-C')) resolve(out);
    });
    child.stderr?.on('data', (c: Buffer) => (err += c.toString('utf8')));
    child.once('exit', (code) => reject(new Error(`exited early with ${code}: ${out}${err}`)));
  });
}

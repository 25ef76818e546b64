#!/usr/bin/env node
/**
 * The `sluice` executable: runs the command line (program.ts) on this
 * process's streams and exits with its code once output is flushed.
 */
import { openEngineSession } from './engine.js';
import { runCli } from './program.js';

// A reader that stops early (`sluice query … | head`) is not an error: stop quietly.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

const code = await runCli(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  openSession: openEngineSession,
});
// Exit explicitly once stdout/stderr have drained: a provider's lingering
// socket or timer must not keep a finished command alive.
process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));

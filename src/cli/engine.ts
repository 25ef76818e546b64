/**
 * The CLI's one door into the engine: open a Session with the options the
 * command line gave. Kept apart so tests can hand the commands a fake
 * session factory instead.
 */
import type { Session, SessionOptions } from '../engine/api.js';
import { SluiceError } from '../util/errors.js';

export type OpenSession = (options: SessionOptions) => Promise<Session>;

export const openEngineSession: OpenSession = async (options) => {
  // Loaded on demand: `sluice --help` should not start DuckDB.
  const specifier = '../engine/index.js';
  const engine = (await import(specifier)) as { openSession?: OpenSession };
  if (typeof engine.openSession !== 'function') throw new SluiceError('CLI010', 'The engine does not export openSession.');
  return engine.openSession(options);
};

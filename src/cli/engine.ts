/**
 * The CLI's one door into the engine: open a Session with the options the
 * command line gave. Kept apart so tests can hand the commands a fake
 * session factory instead.
 */
import type { Session, SessionOptions } from '../engine/api.js';

export type OpenSession = (options: SessionOptions) => Promise<Session>;

export const openEngineSession: OpenSession = async (options) => {
  // Loaded on demand: `sluice --help` and usage errors should not start DuckDB.
  const { openSession } = await import('../engine/index.js');
  return openSession(options);
};

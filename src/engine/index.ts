/**
 * The engine's entry point: `openSession` gives a Session (see api.ts) that
 * runs Sluice SQL over the configured data containers. The CLI and the server
 * import this module only; everything else in engine/ is internal.
 *
 * Inside: session.ts (statements, use/set, DML), binder.ts (names),
 * planner.ts (pushdown, partitions), executor.ts (parallel scans into DuckDB),
 * duckdb-printer.ts + functions.ts (AST → DuckDB SQL), local.ts (DuckDB),
 * settings.ts (settings.xml / YAML / JSON).
 */
import type { Session, SessionOptions } from './api.js';
import { SluiceSession } from './session.js';

export type * from './api.js';
export { parseConnectionString, loadSettings } from './settings.js';

export async function openSession(options: SessionOptions = {}): Promise<Session> {
  return SluiceSession.open(options);
}

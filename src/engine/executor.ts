/**
 * The executor's scan stage: runs the planned remote scans in parallel across
 * partitions (bounded by the `parallelism` setting), appending each batch into
 * a DuckDB temp table as it arrives. A partition whose scan fails is recorded
 * and left out (or fails the statement with `partition-failure = error`);
 * cancellation aborts every scan in flight.
 */
import type { Partition, Value } from '../provider/types.js';
import { SluiceError } from '../util/errors.js';
import type { LocalDb, TableLoader, TempColumn } from './local.js';
import type { TablePlan } from './planner.js';

export interface RunState {
  readonly signal: AbortSignal;
  readonly started: number;
  readonly onProgress?: (p: { partitionsDone: number; partitionsTotal: number; rows: number; remoteCalls: number; elapsedMs: number }) => void;
  readonly failedPartitions: { container: string; partition: string; message: string }[];
  readonly warnings: string[];
  readonly temps: string[];
  partitionsDone: number;
  partitionsTotal: number;
  scannedRows: number;
  reportedCalls: number;
  /** When the statement finished (its rows consumed), for the summary's elapsed time. */
  finishedAt?: number;
  now(): number;
  remoteCalls(): number;
}

export function cancelled(): SluiceError {
  return new SluiceError('ENG400', 'The statement was cancelled.');
}

/** Run `tasks` with at most `limit` in flight; the first rejection stops starting new ones and is rethrown. */
export async function runBounded(tasks: readonly (() => Promise<void>)[], limit: number): Promise<void> {
  let next = 0;
  let failure: { e: unknown } | undefined;
  const worker = async () => {
    while (!failure && next < tasks.length) {
      const i = next++;
      try {
        await tasks[i]();
      } catch (e) {
        failure ??= { e };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, tasks.length)) }, worker));
  if (failure) throw failure.e;
}

/** JSON that also carries dates, big integers and bytes, for comparing requests. */
function stableText(v: unknown): string {
  return JSON.stringify(v, (_key, x: unknown) => {
    if (typeof x === 'bigint') return `bigint:${x.toString()}`;
    if (x instanceof Uint8Array) return `bytes:${Buffer.from(x).toString('hex')}`;
    return x;
  });
}

/**
 * What makes two planned scans the same scan: container, table, partitions,
 * the request (columns, predicates, limit, order, arguments) and the
 * provider's answers to it. Dates serialise as ISO text through toJSON.
 */
export function scanIdentity(tp: TablePlan): string {
  const p = tp.plan;
  return stableText([
    tp.ref.container.alias.toLowerCase(),
    `${tp.ref.table.catalog}.${tp.ref.table.schema}.${tp.ref.table.name}`,
    tp.partitions.map((x) => x?.id ?? null),
    tp.columns,
    p.request,
    p.conjuncts,
    p.limitApplied,
    p.orderApplied,
  ]);
}

/**
 * A hidden column tagging each row with the scan (partition) it came from,
 * so the rows of a partition that fails halfway can be taken out again.
 */
const TAG = '__sluice_scan';

/**
 * Scan every planned table into its own temp table; returns the temp table
 * name per plan (same order).
 */
export async function scanAll(db: LocalDb, plans: readonly TablePlan[], state: RunState, settings: Readonly<Record<string, string>>): Promise<string[]> {
  const parallelism = Math.max(1, Number(settings['parallelism'] ?? '8') || 8);
  const failFast = (settings['partition-failure'] ?? 'skip').toLowerCase() === 'error';
  const names: string[] = [];
  const loaders: TableLoader[] = [];
  /** Per temp table with a tag column: the tags of scans that failed. */
  const failedTags = new Map<string, number[]>();
  /** Per scan: how many partitions it reads and the failures, to refuse a result built from none of them. */
  const outcomes: { tp: TablePlan; total: number; failed: { partition: string; message: string }[] }[] = [];
  const tasks: (() => Promise<void>)[] = [];
  const inner = new AbortController();
  const onOuterAbort = () => inner.abort(state.signal.reason);
  if (state.signal.aborted) throw cancelled();
  state.signal.addEventListener('abort', onOuterAbort, { once: true });

  // The same remote table asked the same thing twice in one statement (a self-join, a union of
  // the table with itself) is scanned once: both references read one temp table.
  const byScan = new Map<string, string>();
  for (const tp of plans) {
    const identity = scanIdentity(tp);
    const shared = byScan.get(identity);
    if (shared !== undefined) {
      names.push(shared);
      continue;
    }
    const name = db.newTempName();
    byScan.set(identity, name);
    names.push(name);
    state.temps.push(name);
    const infos = new Map(tp.ref.table.columns.map((c) => [c.name.toLowerCase(), c]));
    const tagged = tp.partitions.length > 1;
    const columns: TempColumn[] = tp.columns.map((c) => {
      const info = infos.get(c.toLowerCase());
      return { name: c, type: info?.type ?? 'varchar', precision: info?.precision, scale: info?.scale };
    });
    // count(*) needs no column, but a table needs one.
    if (columns.length === 0) columns.push({ name: '__sluice_none', type: 'integer' });
    if (tagged) {
      columns.push({ name: TAG, type: 'integer' });
      failedTags.set(name, []);
    }
    const loader = await db.createLoader(name, columns);
    loaders.push(loader);
    state.partitionsTotal += tp.partitions.length;
    const partitionColumn = tp.ref.table.partitionColumn?.toLowerCase();
    const outcome = { tp, total: tp.partitions.length, failed: [] as { partition: string; message: string }[] };
    outcomes.push(outcome);
    tp.partitions.forEach((partition, i) => {
      // Batches should carry the partition column; when one does not, the partition's id fills it.
      const constants = new Map<string, Value>();
      if (partitionColumn && partition) constants.set(partitionColumn, partition.id);
      if (tagged) constants.set(TAG, i);
      tasks.push(() =>
        scanOne(tp, partition, loader, constants, (message) => {
          failedTags.get(name)?.push(i);
          outcome.failed.push({ partition: partition?.id ?? '', message });
        }),
      );
    });
  }

  const report = () =>
    state.onProgress?.({
      partitionsDone: state.partitionsDone,
      partitionsTotal: state.partitionsTotal,
      rows: state.scannedRows,
      remoteCalls: state.remoteCalls(),
      elapsedMs: state.now() - state.started,
    });

  async function scanOne(tp: TablePlan, partition: Partition | undefined, loader: TableLoader, constants: ReadonlyMap<string, Value>, onFailed: (message: string) => void): Promise<void> {
    const container = tp.ref.container;
    try {
      const iterable = container.scan(tp.plan, partition, {
        signal: inner.signal,
        progress: (ev) => {
          if (ev.calls) state.reportedCalls += ev.calls;
          report();
        },
      });
      for await (const batch of iterable) {
        if (inner.signal.aborted) throw inner.signal.reason ?? cancelled();
        loader.append(batch, constants);
        state.scannedRows += batch.rows.length;
        report();
      }
      state.partitionsDone += 1;
      report();
    } catch (e) {
      if (state.signal.aborted) throw cancelled();
      if (inner.signal.aborted) throw e;
      const message = e instanceof Error ? e.message : String(e);
      if (partition === undefined || failFast) {
        const where = partition ? ` partition ${partition.id}` : '';
        const fatal = new SluiceError('ENG210', `Reading ${tp.ref.table.name} from ${container.alias}${where} failed: ${message}`, {
          container: container.alias,
          table: tp.ref.table.name,
          partition: partition?.id,
          cause: e,
          hint: partition ? 'Set partition-failure to skip to continue with the other partitions.' : undefined,
        });
        // Stop the other scans now rather than when they finish on their own.
        inner.abort(fatal);
        throw fatal;
      }
      onFailed(message);
      state.failedPartitions.push({ container: container.alias, partition: partition.id, message });
      state.warnings.push(`Partition ${partition.id} of ${container.alias} failed reading ${tp.ref.table.name}: ${message}`);
      state.partitionsDone += 1;
      report();
    }
  }

  try {
    await runBounded(tasks, parallelism);
  } catch (e) {
    inner.abort(e);
    throw e;
  } finally {
    state.signal.removeEventListener('abort', onOuterAbort);
    for (const l of loaders) l.close();
  }
  if (state.signal.aborted) throw cancelled();
  for (const o of outcomes) {
    // Skipping failed partitions is for keeping the others' rows; with none left the result would be silently empty.
    if (o.total === 0 || o.failed.length < o.total) continue;
    const c = o.tp.ref.container.alias;
    const first = o.failed[0];
    const others = o.failed.length > 1 ? ` (and ${o.failed.length - 1} more partition${o.failed.length === 2 ? '' : 's'})` : '';
    throw new SluiceError('ENG211', `Reading ${o.tp.ref.table.name} from ${c} failed in every partition: partition ${first.partition}: ${first.message}${others}`, {
      container: c,
      table: o.tp.ref.table.name,
      partition: first.partition,
      hint: o.failed.length > 1 ? `Failures: ${o.failed.map((f) => `${f.partition}: ${f.message}`).slice(0, 5).join('; ')}` : undefined,
    });
  }
  for (const [name, failed] of failedTags) {
    const table = `temp.main.${db.quote(name)}`;
    if (failed.length > 0) await db.run(`DELETE FROM ${table} WHERE ${db.quote(TAG)} IN (${failed.join(', ')})`);
    await db.run(`ALTER TABLE ${table} DROP COLUMN ${db.quote(TAG)}`);
  }
  return names;
}

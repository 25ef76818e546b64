/**
 * A small remote-like target for synchronize tests: one keyed table `things`
 * held in a Map, written row by row through `write()` (no local relation, so
 * the engine treats it like a platform). It counts write calls, can refuse
 * rows whose name matches a pattern, can crash (throw) after K rows, and can
 * store '' as NULL (as Oracle-like platforms do).
 */
import type { Container, ContainerConfig, Partition, Provider, RowBatch, RowResult, ScanPlan, ScanRequest, TableInfo, Value, WriteRequest } from '../../src/provider/types.js';

export const THINGS: TableInfo = {
  catalog: 'Store',
  schema: 'Test',
  name: 'things',
  columns: [
    { name: 'ID', type: 'integer', nullable: false },
    { name: 'Name', type: 'varchar', nullable: true },
    { name: 'Amount', type: 'decimal', nullable: true },
    { name: 'Seen', type: 'date', nullable: true },
    { name: 'Stamp', type: 'timestamp', nullable: true, readOnly: true },
    { name: 'Changed', type: 'timestamp', nullable: true },
  ],
  key: ['ID'],
  scope: 'system',
  writable: { insert: true, update: true, delete: false },
  writeRefusals: { delete: 'The test store has no API to delete things.' },
};

export class SyncStore implements Container {
  readonly providerName = 'SyncStore';
  readonly rows = new Map<number, Record<string, Value>>();
  writeCalls = 0;
  rowsWritten = 0;
  rejectNames?: RegExp;
  /** Throw (a whole-request failure) once this many rows were written in total. */
  crashAfter?: number;
  /** Store written '' as NULL. */
  emptyAsNull = false;

  constructor(readonly alias: string) {}

  tables(): readonly TableInfo[] {
    return [THINGS];
  }

  async partitions(): Promise<readonly Partition[]> {
    return [];
  }

  plan(table: TableInfo, request: ScanRequest): ScanPlan {
    return { table, request, conjuncts: request.conjuncts.map(() => 'unsupported'), limitApplied: false, orderApplied: false, estimatedCallsPerPartition: 1, explain: ['GET /things'] };
  }

  async *scan(plan: ScanPlan): AsyncIterable<RowBatch> {
    const columns = plan.table.columns.map((c) => c.name);
    yield { columns, rows: [...this.rows.values()].map((r) => columns.map((c) => r[c] ?? null)) };
  }

  async *write(_table: TableInfo, request: WriteRequest): AsyncIterable<RowResult> {
    this.writeCalls += 1;
    const cols = request.rows.columns;
    for (const [index, row] of request.rows.rows.entries()) {
      if (this.crashAfter !== undefined && this.rowsWritten >= this.crashAfter) throw new Error('connection reset by peer');
      const rec: Record<string, Value> = {};
      cols.forEach((c, j) => (rec[c] = this.emptyAsNull && row[j] === '' ? null : row[j]));
      const id = Number(rec.ID);
      const key = `ID=${id}`;
      if (this.rejectNames && typeof rec.Name === 'string' && this.rejectNames.test(rec.Name)) {
        yield { index, ok: false, key, message: `Name ${rec.Name} is not accepted` };
        continue;
      }
      if (request.op === 'insert') {
        if (this.rows.has(id)) {
          yield { index, ok: false, key, message: 'duplicate ID' };
          continue;
        }
        this.rows.set(id, { ...rec, Stamp: new Date(0) });
      } else {
        const cur = this.rows.get(id);
        if (!cur) {
          yield { index, ok: false, key, message: 'not found' };
          continue;
        }
        Object.assign(cur, rec);
      }
      this.rowsWritten += 1;
      yield { index, ok: true, key };
    }
  }

  async close(): Promise<void> {}
}

/** A provider handing out one shared SyncStore, so tests can inspect it. */
export function syncStoreProvider(store: SyncStore): Provider {
  return {
    name: 'SyncStore',
    async connect(_config: ContainerConfig) {
      return store;
    },
  };
}

/**
 * A data container whose connect failed when the session opened. It stands in
 * the session's list so one unreachable platform (a database on a dead port,
 * an expired token) does not stop queries on the others: it has no tables,
 * and using it — naming it with @alias, listing its partitions, scanning —
 * raises the connect failure then, saying the container failed to connect.
 */
import type { Container, Partition, RowBatch, ScanPlan, TableInfo } from '../provider/types.js';
import { SluiceError } from '../util/errors.js';

export class FailedContainer implements Container {
  constructor(
    readonly alias: string,
    readonly providerName: string,
    readonly error: SluiceError,
  ) {}

  tables(): readonly TableInfo[] {
    return [];
  }

  async partitions(): Promise<readonly Partition[]> {
    throw this.error;
  }

  plan(): ScanPlan {
    throw this.error;
  }

  // eslint-disable-next-line require-yield
  async *scan(): AsyncIterable<RowBatch> {
    throw this.error;
  }

  async close(): Promise<void> {}
}

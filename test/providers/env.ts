/**
 * A ProviderEnv for provider tests: a call log that keeps every call for
 * assertions, stubs for the local database and session, and a secret box
 * keyed from a fixed passphrase.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ProviderEnv, RemoteCall, RemoteCallLog } from '../../src/provider/types.js';
import { systemClock } from '../../src/util/clock.js';
import { SecretBox } from '../../src/util/secrets.js';

export class CollectingLog implements RemoteCallLog {
  readonly calls: RemoteCall[] = [];
  record(call: RemoteCall): void {
    this.calls.push(call);
  }
}

export function testEnv(): ProviderEnv & { readonly log: CollectingLog } {
  const log = new CollectingLog();
  return {
    clock: systemClock,
    log,
    secrets: SecretBox.fromPassphrase('test'),
    dataDir: mkdtempSync(join(tmpdir(), 'sluice-test-')),
    local: {
      run: async () => {
        throw new Error('no local database in provider tests');
      },
      quote: (name: string) => `"${name.replace(/"/g, '""')}"`,
    },
    session: {
      containers: () => [],
      selectedPartitions: () => undefined,
      callLog: () => log.calls,
      journals: () => [],
      settings: () => ({}),
    },
    settings: {},
  };
}

/** A table name no other test run uses. */
export function uniqueName(prefix = 'sluice_test'): string {
  return `${prefix}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
}

/** Collect every row of a scan. */
export async function collect<T>(batches: AsyncIterable<{ readonly rows: readonly T[] }>): Promise<T[]> {
  const out: T[] = [];
  for await (const b of batches) out.push(...b.rows);
  return out;
}

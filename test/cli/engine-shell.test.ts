/**
 * The shell over the real engine: a statement reading from a remote table
 * that never finishes is cancelled by Ctrl-C (the shell's interrupt), the
 * engine stops the scan, and the shell runs the next statement.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { openSession } from '../../src/engine/index.js';
import type { Container, Provider, ScanContext, ScanPlan, ScanRequest, TableInfo } from '../../src/provider/types.js';
import { Shell } from '../../src/cli/shell.js';
import { Capture, waitFor } from './helpers.js';

const TABLE: TableInfo = {
  catalog: 'Slow',
  schema: 'Remote',
  name: 'endless',
  columns: [{ name: 'n', type: 'integer', nullable: false }],
  key: ['n'],
  scope: 'system',
  writable: { insert: false, update: false, delete: false },
};

/** A remote table whose scan sends one batch and then waits until it is cancelled. */
function slowProvider(state: { scans: number; aborted: number }): Provider {
  return {
    name: 'SlowTest',
    async connect(config): Promise<Container> {
      return {
        alias: config.alias,
        providerName: 'SlowTest',
        tables: () => [TABLE],
        partitions: async () => [],
        plan: (table: TableInfo, request: ScanRequest): ScanPlan => ({
          table,
          request,
          conjuncts: request.conjuncts.map(() => 'unsupported'),
          limitApplied: false,
          orderApplied: false,
          estimatedCallsPerPartition: 1,
          explain: ['endless scan'],
        }),
        async *scan(_plan: ScanPlan, _partition, context: ScanContext) {
          state.scans++;
          context.progress?.({ rows: 1, calls: 1 });
          yield { columns: ['n'], rows: [[1]] };
          await new Promise<void>((resolve) => {
            if (context.signal.aborted) return resolve();
            context.signal.addEventListener('abort', () => resolve(), { once: true });
          });
          state.aborted++;
          throw new Error('aborted');
        },
        close: async () => undefined,
      };
    },
  };
}

test('Ctrl-C cancels a statement running on the engine and the shell carries on', async () => {
  const state = { scans: 0, aborted: 0 };
  const session = await openSession({ providers: [slowProvider(state)], containers: [{ alias: 'slow', provider: 'SlowTest', options: {} }] });
  try {
    const input = new PassThrough();
    const output = new Capture();
    const errorOutput = new Capture();
    const shell = new Shell({ session, input, output, errorOutput, terminal: false, keywords: [], env: {} });
    const done = shell.run();
    input.write('select count(*) from endless@slow;\n');
    await waitFor(() => state.scans > 0, 'the remote scan to start');
    shell.interrupt();
    input.end("select 'still here' answer;\n");
    await done;
    assert.equal(state.aborted, 1);
    assert.match(errorOutput.text, /Cancelled\./);
    assert.match(output.text, / answer\n-+\n still here\n\(1 row\)/);
  } finally {
    await session.close();
  }
});

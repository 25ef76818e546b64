/**
 * The worked example of docs/providers.md, kept compiling and true: a small
 * read-only provider over an in-process "API" of invoices per company.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openSession } from '../../src/engine/index.js';
import type { Container, Partition, Provider, RowBatch, ScanContext, ScanPlan, ScanRequest, TableInfo } from '../../src/provider/types.js';
import { rows, runAll } from './helpers.js';

// --- docs/providers.md example starts ---
const INVOICES: TableInfo = {
  catalog: 'Demo',
  schema: 'Billing',
  name: 'Invoices',
  columns: [
    { name: 'Company', type: 'varchar', nullable: false },
    { name: 'Number', type: 'integer', nullable: false, filterOperators: ['=', '>', '>='] },
    { name: 'Customer', type: 'varchar', nullable: false },
    { name: 'Amount', type: 'double', nullable: false },
  ],
  key: ['Number'],
  scope: 'partitioned',
  partitionColumn: 'Company',
  writable: { insert: false, update: false, delete: false },
};

/** Stand-in for the platform's HTTP API: invoices per company, filterable by number. */
const API: Record<string, { Number: number; Customer: string; Amount: number }[]> = {
  acme: [{ Number: 1, Customer: 'Bakker', Amount: 100 }, { Number: 2, Customer: 'Jansen', Amount: 250 }],
  globex: [{ Number: 7, Customer: 'Smit', Amount: 75 }],
};

class DemoContainer implements Container {
  readonly providerName = 'Demo';
  constructor(readonly alias: string) {}

  tables(): readonly TableInfo[] {
    return [INVOICES];
  }

  async partitions(): Promise<readonly Partition[]> {
    return [
      { id: 'acme', label: 'ACME BV', isDefault: true },
      { id: 'globex', label: 'Globex' },
    ];
  }

  plan(table: TableInfo, request: ScanRequest): ScanPlan {
    // Only "Number >= n" / "Number > n" / "Number = n" travel to the API; the rest stays with the engine.
    const conjuncts = request.conjuncts.map((p) =>
      p.kind === 'compare' && p.column === 'Number' && ['=', '>', '>='].includes(p.op) ? ('exact' as const) : ('unsupported' as const),
    );
    return { table, request, conjuncts, limitApplied: false, orderApplied: false, estimatedCallsPerPartition: 1, explain: ['GET /invoices'] };
  }

  async *scan(plan: ScanPlan, partition: Partition | undefined, context: ScanContext): AsyncIterable<RowBatch> {
    let list = API[partition!.id] ?? [];
    plan.request.conjuncts.forEach((p, i) => {
      if (plan.conjuncts[i] !== 'exact' || p.kind !== 'compare') return;
      const v = Number(p.value);
      list = list.filter((r) => (p.op === '=' ? r.Number === v : p.op === '>' ? r.Number > v : r.Number >= v));
    });
    context.progress?.({ calls: 1, rows: list.length });
    yield {
      columns: ['Company', 'Number', 'Customer', 'Amount'],
      rows: list.map((r) => [partition!.id, r.Number, r.Customer, r.Amount]),
    };
  }

  async close(): Promise<void> {}
}

export const demoProvider: Provider = {
  name: 'Demo',
  async connect(config) {
    return new DemoContainer(config.alias);
  },
};
// --- docs/providers.md example ends ---

describe('the providers.md worked example', () => {
  it('answers queries across its partitions', async () => {
    const s = await openSession({ providers: [demoProvider], containers: [{ alias: 'demo', provider: 'Demo', options: {} }] });
    try {
      assert.deepEqual(await rows(s, 'select Number, Customer from invoices order by Number'), [[1, 'Bakker'], [2, 'Jansen']]);
      const r = await runAll(s, "use all; select Company, sum(Amount) from invoices@demo where Number >= 2 and Customer <> 'x' group by Company order by 1");
      assert.deepEqual(r[1].rows, [['acme', 250], ['globex', 75]]);
      const explain = (await runAll(s, 'explain select * from invoices where Number >= 2'))[0].lines!.join('\n');
      assert.match(explain, /Number >= 2 — exact/);
    } finally {
      await s.close();
    }
  });
});

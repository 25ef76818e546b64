/**
 * Test helpers for the engine: run a script and collect every result, and a
 * fake remote provider (partitions, pushdown answers, a failing partition,
 * writes) that records what the engine asked of it.
 */
import { afterEach } from 'node:test';
import { openSession } from '../../src/engine/index.js';
import assert from 'node:assert/strict';
import { SluiceError } from '../../src/util/errors.js';
import type { Session, StatementResult } from '../../src/engine/api.js';
import type {
  Container,
  ContainerConfig,
  Partition,
  Predicate,
  Provider,
  ProviderEnv,
  PushdownSupport,
  RowBatch,
  RowResult,
  ScanContext,
  ScanPlan,
  ScanRequest,
  TableInfo,
  Value,
  WriteRequest,
} from '../../src/provider/types.js';

export interface Collected {
  kind: StatementResult['kind'];
  columns: string[];
  rows: Value[][];
  message?: string;
  lines?: string[];
  result: StatementResult;
}

export async function runAll(session: Session, script: string, options: Parameters<Session['execute']>[1] = {}): Promise<Collected[]> {
  const out: Collected[] = [];
  for await (const r of session.execute(script, options)) {
    if (r.kind === 'rows') {
      const rows: Value[][] = [];
      for await (const b of r.batches) rows.push(...b.rows.map((x) => [...x]));
      out.push({ kind: r.kind, columns: r.columns.map((c) => c.name), rows, result: r });
    } else if (r.kind === 'done') {
      out.push({ kind: r.kind, columns: [], rows: [], message: r.message, result: r });
    } else {
      out.push({ kind: r.kind, columns: [], rows: [], lines: [...r.lines], result: r });
    }
  }
  return out;
}

/** The rows of the last statement of a script. */
/** The SluiceError a script fails with (the test fails when it does not fail, or fails otherwise). */
export async function sluiceFailure(session: Session, script: string): Promise<SluiceError> {
  try {
    await runAll(session, script);
  } catch (e) {
    assert.ok(e instanceof SluiceError, `not a SluiceError: ${String(e)}`);
    return e;
  }
  assert.fail(`expected ${script} to fail`);
}

export async function rows(session: Session, script: string): Promise<Value[][]> {
  const all = await runAll(session, script);
  return all[all.length - 1].rows;
}

export async function one(session: Session, expr: string): Promise<Value> {
  const r = await rows(session, `select ${expr} v`);
  return r[0][0];
}

// ---------------------------------------------------------------------------
// The fake remote platform

export const PARTITIONS: Partition[] = [
  { id: '101', label: 'Amsterdam', group: 'subA', isDefault: true },
  { id: '102', label: 'Rotterdam', group: 'subA' },
  { id: '201', label: 'Zwolle', group: 'subB' },
  { id: '999', label: 'Broken', group: 'subC' },
];

const col = (name: string, type: TableInfo['columns'][number]['type']) => ({ name, type, nullable: true });

export const ORDERS: TableInfo = {
  catalog: 'Fake',
  schema: 'Sales',
  name: 'Orders',
  columns: [col('Division', 'integer'), col('OrderId', 'integer'), col('Customer', 'varchar'), col('Amount', 'double'), col('Status', 'varchar')],
  key: ['OrderId'],
  scope: 'partitioned',
  partitionColumn: 'Division',
  writable: { insert: true, update: true, delete: true },
  aliases: ['SalesOrders'],
};

export const CUSTOMERS: TableInfo = {
  catalog: 'Fake',
  schema: 'Sales',
  name: 'Customers',
  columns: [col('Division', 'integer'), col('Code', 'varchar'), col('Name', 'varchar')],
  key: ['Code'],
  scope: 'subscription',
  partitionColumn: 'Division',
  writable: { insert: false, update: false, delete: false },
};

export const ME: TableInfo = {
  catalog: 'Fake',
  schema: 'System',
  name: 'Me',
  columns: [col('UserName', 'varchar'), col('CurrentDivision', 'integer')],
  key: [],
  scope: 'system',
  writable: { insert: false, update: false, delete: false },
};

export const ENDLESS: TableInfo = {
  catalog: 'Fake',
  schema: 'System',
  name: 'Endless',
  columns: [col('N', 'integer')],
  key: [],
  scope: 'system',
  writable: { insert: false, update: false, delete: false },
};

/** Deterministic orders of one division: 10 per division, amounts 10..100, statuses alternating. */
export function ordersOf(division: string): Value[][] {
  const d = Number(division);
  return Array.from({ length: 10 }, (_, i) => [d, d * 100 + i, `C${i % 3}`, (i + 1) * 10, i % 2 === 0 ? 'open' : 'closed']);
}

export interface FakeLog {
  scans: { table: string; partition?: string; request: ScanRequest }[];
  writes: { op: string; partition?: string; columns: string[]; rows: Value[][] }[];
  inFlight: number;
  maxInFlight: number;
  endlessStopped: boolean;
}

function matchCompare(p: Predicate, row: Value[], columns: readonly string[]): boolean {
  if (p.kind !== 'compare') return true;
  const v = row[columns.indexOf(p.column)];
  if (v === null) return false;
  const a = v as number;
  const b = p.value as number;
  switch (p.op) {
    case '=':
      return a === b;
    case '<>':
      return a !== b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
  }
}

/**
 * The fake answers pushdown like a real platform would: comparisons on Amount
 * exactly, on Status inexactly (it ignores them but says so), everything else
 * unsupported. `pushdown: false` makes it refuse everything.
 */
export class FakeContainer implements Container {
  readonly providerName = 'Fake';
  readonly log: FakeLog = { scans: [], writes: [], inFlight: 0, maxInFlight: 0, endlessStopped: false };
  pushdown = true;
  /** When set, the fake sorts remotely and says so. */
  sortable = false;
  options: Record<string, string> = {};

  constructor(
    readonly alias: string,
    private readonly env?: ProviderEnv,
  ) {}

  tables(): readonly TableInfo[] {
    return [ORDERS, CUSTOMERS, ME, ENDLESS];
  }

  /** Set to make partitions() fail, like a misconfigured or offline platform. */
  partitionsError?: Error;

  async partitions(): Promise<readonly Partition[]> {
    if (this.partitionsError) throw this.partitionsError;
    return PARTITIONS;
  }

  plan(table: TableInfo, request: ScanRequest): ScanPlan {
    const conjuncts: PushdownSupport[] = request.conjuncts.map((p) => {
      if (!this.pushdown) return 'unsupported';
      if (p.kind === 'compare' && p.column === 'Amount') return 'exact';
      if (p.kind === 'compare' && p.column === 'Status') return 'inexact';
      return 'unsupported';
    });
    return {
      table,
      request,
      conjuncts,
      limitApplied: request.limit !== undefined,
      orderApplied: this.sortable && request.orderBy !== undefined,
      estimatedCallsPerPartition: 2,
      explain: [`GET /fake/${table.name}`],
    };
  }

  async *scan(plan: ScanPlan, partition: Partition | undefined, context: ScanContext): AsyncIterable<RowBatch> {
    const table = plan.table.name;
    this.log.scans.push({ table, partition: partition?.id, request: plan.request });
    this.log.inFlight += 1;
    this.log.maxInFlight = Math.max(this.log.maxInFlight, this.log.inFlight);
    try {
      await new Promise((r) => setTimeout(r, 5));
      this.env?.log.record({ at: 0, container: this.alias, partition: partition?.id, method: 'GET', url: `https://fake/${table}?password=secret`, status: 200, ms: 5, rows: 10, bytes: 100 });
      if (table === 'Endless') {
        try {
          for (let i = 0; ; i++) {
            if (context.signal.aborted) return;
            yield { columns: ['N'], rows: [[i]] };
            await new Promise((r) => setTimeout(r, 1));
          }
        } finally {
          this.log.endlessStopped = true;
        }
      }
      if (table === 'Me') {
        yield { columns: ['UserName', 'CurrentDivision'], rows: [['jan', 101]] };
        return;
      }
      if (table === 'Customers') {
        if (partition?.id === '999') throw new Error('HTTP 500 from the platform');
        yield { columns: ['Division', 'Code', 'Name'], rows: [[Number(partition!.id), `K-${partition!.group}`, `Customer of ${partition!.group}`]] };
        return;
      }
      const columns = ORDERS.columns.map((c) => c.name);
      let out = ordersOf(partition!.id);
      plan.request.conjuncts.forEach((p, i) => {
        if (plan.conjuncts[i] === 'exact') out = out.filter((r) => matchCompare(p, r, columns));
      });
      if (plan.orderApplied && plan.request.orderBy) {
        for (const o of [...plan.request.orderBy].reverse()) {
          const i = columns.indexOf(o.column);
          out = [...out].sort((a, b) => ((a[i] as number) < (b[i] as number) ? -1 : (a[i] as number) > (b[i] as number) ? 1 : 0) * (o.descending ? -1 : 1));
        }
      }
      if (plan.limitApplied && plan.request.limit !== undefined) out = out.slice(0, plan.request.limit);
      // Two batches, so appends interleave across partitions.
      yield { columns, rows: out.slice(0, 5) };
      await new Promise((r) => setTimeout(r, 2));
      // The broken division fails on its second page, after rows have already arrived.
      if (partition?.id === '999') throw new Error('HTTP 500 from the platform');
      yield { columns, rows: out.slice(5) };
    } finally {
      this.log.inFlight -= 1;
    }
  }

  async *write(table: TableInfo, request: WriteRequest): AsyncIterable<RowResult> {
    const rows = request.rows.rows.map((r) => [...r]);
    this.log.writes.push({ op: request.op, partition: request.partition?.id, columns: [...request.rows.columns], rows });
    const nameIdx = request.rows.columns.findIndex((c) => c.toLowerCase() === 'customer');
    const keyIdx = request.rows.columns.findIndex((c) => c.toLowerCase() === 'orderid');
    for (let i = 0; i < rows.length; i++) {
      const bad = nameIdx >= 0 && rows[i][nameIdx] === 'bad';
      yield { index: i, ok: !bad, key: keyIdx >= 0 ? `OrderId=${String(rows[i][keyIdx])}` : undefined, message: bad ? 'Customer "bad" is blocked' : undefined };
    }
  }

  setOption(name: string, value: string): boolean {
    if (name.toLowerCase() !== 'pushdown') return false;
    this.pushdown = value !== 'false';
    this.options[name] = value;
    return true;
  }

  async close(): Promise<void> {}
}

/** A provider handing out FakeContainers and remembering them for assertions. */
export function fakeProvider(): { provider: Provider; containers: FakeContainer[] } {
  const containers: FakeContainer[] = [];
  return {
    containers,
    provider: {
      name: 'Fake',
      async connect(config: ContainerConfig, env: ProviderEnv) {
        const c = new FakeContainer(config.alias, env);
        containers.push(c);
        return c;
      },
    },
  };
}

/**
 * A fresh session over one fake partitioned container (alias `eol`) per call,
 * closed after each test of the file that asked for it.
 */
export function fakeSessionPerTest(): () => Promise<{ s: Session; fake: FakeContainer }> {
  let session: Session | undefined;
  afterEach(async () => {
    await session?.close();
    session = undefined;
  });
  return async () => {
    const fp = fakeProvider();
    session = await openSession({ providers: [fp.provider], containers: [{ alias: 'eol', provider: 'Fake', options: {} }] });
    return { s: session, fake: fp.containers[0] };
  };
}

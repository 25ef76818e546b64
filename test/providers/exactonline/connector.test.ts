/**
 * The ExactOnlineAll container against the Exact Online simulator (in
 * process, port 0): catalog, partitions, pushdown, paging, tokens mid-scan,
 * 429 storms, many divisions, a failing division, write-back.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Predicate, Value } from '../../../src/provider/types.js';
import type { ExactContainer } from '../../../src/providers/exactonline/index.js';
import { startExactSimulator, type ExactSimulator } from '../../../src/sim/exactonline/index.js';
import { ManualClock } from '../../../src/util/clock.js';
import { SluiceError } from '../../../src/util/errors.js';
import { connectSim, readAll, table, testEnv, type TestEnv } from './helpers.js';

const signal = new AbortController().signal;

/** SQL semantics of a simple predicate on one row, to check pushdown against. */
function holds(p: Predicate, get: (col: string) => Value): boolean {
  const cmp = (a: Value, b: Value): number => (a instanceof Date ? a.getTime() : (a as number)) < (b instanceof Date ? b.getTime() : (b as number)) ? -1 : a === b || (a instanceof Date && b instanceof Date && a.getTime() === b.getTime()) ? 0 : 1;
  switch (p.kind) {
    case 'compare': {
      const v = get(p.column);
      if (v === null) return false;
      const c = cmp(v, p.value);
      return { '=': c === 0, '<>': c !== 0, '<': c < 0, '<=': c <= 0, '>': c > 0, '>=': c >= 0 }[p.op];
    }
    case 'in':
      return p.values.some((x) => get(p.column) === x) !== p.not;
    case 'isnull':
      return (get(p.column) === null) !== p.not;
    case 'like':
      return new RegExp(`^${p.pattern.replace(/%/g, '.*').replace(/_/g, '.')}$`, 's').test(String(get(p.column))) !== p.not;
    case 'and':
      return p.predicates.every((q) => holds(q, get));
    case 'or':
      return p.predicates.some((q) => holds(q, get));
  }
}

describe('ExactOnlineAll against the simulator', () => {
  let sim: ExactSimulator;
  let env: TestEnv;
  let c: ExactContainer;

  before(async () => {
    sim = await startExactSimulator({ port: 0, divisions: 4, accountsPerDivision: 150, transactionLinesPerDivision: 300 });
    env = testEnv();
    c = await connectSim(sim, env);
  });
  after(async () => {
    await c.close();
    await sim.close();
    env.cleanup();
  });

  test('tables come from the catalog, named and scoped as Invantive users know them', () => {
    const accounts = table(c, 'Accounts');
    assert.equal(accounts.catalog, 'ExactOnlineREST');
    assert.equal(accounts.schema, 'CRM');
    assert.equal(accounts.scope, 'partitioned');
    assert.equal(accounts.partitionColumn, 'Division');
    assert.deepEqual(accounts.key, ['ID']);
    assert.deepEqual(accounts.writable, { insert: true, update: true, delete: true });
    assert.equal(accounts.columns.find((x) => x.name === 'ID')?.type, 'guid');
    assert.ok(accounts.columns.find((x) => x.name === 'Code')?.filterOperators?.includes('='));
    assert.ok(table(c, 'AccountsBulk') && table(c, 'AccountsIncremental'));
    assert.equal(table(c, 'SystemDivisions').scope, 'system');
    // system/Users has no division in its URL: one read per connection.
    assert.equal(table(c, 'Users').scope, 'system');
    assert.equal(table(c, 'DivisionClasses').scope, 'subscription');
    assert.deepEqual(table(c, 'TransactionLines').writable, { insert: false, update: false, delete: false });
    assert.deepEqual(table(c, 'PrintedSalesInvoices').writable, { insert: true, update: false, delete: false });
    assert.equal(table(c, 'RateLimits').scope, 'system');
    // Every partitioned table carries the Division column, added where the endpoint lacks one.
    for (const t of c.tables().filter((x) => x.scope === 'partitioned')) assert.ok(t.columns.some((col) => col.name === t.partitionColumn), t.name);
  });

  test('partitions are the divisions the user can open, the current one as default, grouped by subscription', async () => {
    const parts = await c.partitions(signal);
    assert.deepEqual(parts.map((p) => Number(p.id)).sort(), [...sim.divisions()].sort());
    assert.equal(parts.filter((p) => p.isDefault).length, 1);
    assert.ok(parts.every((p) => typeof p.group === 'string' && p.label));
  });

  test('pushdown returns the same rows as filtering a full read', async () => {
    const parts = await c.partitions(signal);
    const cols = ['ID', 'Code', 'Name', 'Status', 'IsSupplier', 'Created', 'Country'];
    const full = await readAll(c, 'Accounts', { columns: cols }, parts);
    assert.equal(full.failures.length, 0);
    const idx = (name: string) => full.columns.indexOf(name);
    const some = full.rows[7];
    const cases: Predicate[][] = [
      [{ kind: 'compare', column: 'Code', op: '=', value: String(some[idx('Code')]) }],
      [{ kind: 'compare', column: 'Status', op: '=', value: 'C' }, { kind: 'compare', column: 'IsSupplier', op: '=', value: true }],
      [{ kind: 'in', column: 'Code', values: [String(full.rows[1][idx('Code')]), String(full.rows[2][idx('Code')])], not: false }],
      [{ kind: 'compare', column: 'Created', op: '>=', value: some[idx('Created')] }],
      [{ kind: 'isnull', column: 'Country', not: true }],
      [{ kind: 'or', predicates: [{ kind: 'compare', column: 'Code', op: '=', value: String(some[idx('Code')]) }, { kind: 'compare', column: 'Status', op: '=', value: 'S' }] }],
    ];
    for (const conjuncts of cases) {
      const plan = c.plan(table(c, 'Accounts'), { columns: cols, conjuncts });
      assert.ok(plan.conjuncts.every((s) => s !== 'unsupported'), JSON.stringify(conjuncts));
      const pushed = await readAll(c, 'Accounts', { columns: cols, conjuncts }, parts);
      assert.ok(pushed.rows.length <= full.rows.length);
      // What the engine does: re-apply the conjuncts that are not exact.
      const kept = pushed.rows.filter((r) => conjuncts.every((p, i) => plan.conjuncts[i] === 'exact' || holds(p, (col) => r[idx(col)])));
      const expected = full.rows.filter((r) => conjuncts.every((p) => holds(p, (col) => r[idx(col)])));
      assert.ok(expected.length > 0, `case has rows: ${JSON.stringify(conjuncts)}`);
      assert.deepEqual(kept.map((r) => r[0]).sort(), expected.map((r) => r[0]).sort(), JSON.stringify(conjuncts));
    }
    // Inexact: a superset the engine narrows down.
    const name = String(some[idx('Name')]);
    const likePlan = c.plan(table(c, 'Accounts'), { columns: cols, conjuncts: [{ kind: 'like', column: 'Name', pattern: `${name.slice(0, 4)}%`, not: false }] });
    assert.deepEqual(likePlan.conjuncts, ['inexact']);
    const liked = await readAll(c, 'Accounts', { columns: cols, conjuncts: [{ kind: 'like', column: 'Name', pattern: `${name.slice(0, 4)}%`, not: false }] }, parts);
    assert.ok(liked.rows.some((r) => r[0] === some[0]));
  });

  test("code = '255' matches the padded code and codes come back trimmed", async () => {
    const parts = await c.partitions(signal);
    const full = await readAll(c, 'Accounts', { columns: ['ID', 'Code', 'Country'] }, [parts[0]]);
    assert.ok(full.rows.every((r) => typeof r[1] === 'string' && r[1] === r[1].trim() && (r[2] === null || r[2] === String(r[2]).trim())));
    const code = String(full.rows[3][1]);
    const plan = c.plan(table(c, 'Accounts'), { columns: ['ID', 'Code'], conjuncts: [{ kind: 'compare', column: 'code', op: '=', value: code }] });
    assert.ok(plan.explain.some((l) => l.includes(`trim(Code) eq '${code}'`)));
    const hit = await readAll(c, 'Accounts', { columns: ['ID', 'Code'], conjuncts: [{ kind: 'compare', column: 'code', op: '=', value: code }] }, [parts[0]]);
    assert.deepEqual(hit.rows.map((r) => r[1]), [code]);
  });

  test("Division = X and ID = '…' is exactly one remote call", async () => {
    const parts = await c.partitions(signal);
    const target = parts[2];
    const some = await readAll(c, 'Accounts', { columns: ['ID', 'Name'] }, [target]);
    const id = String(some.rows[11][0]);
    sim.resetStats();
    const r = await readAll(
      c,
      'Accounts',
      { columns: ['ID', 'Name', 'Division'], conjuncts: [{ kind: 'compare', column: 'Division', op: '=', value: Number(target.id) }, { kind: 'compare', column: 'ID', op: '=', value: id }] },
      parts,
    );
    assert.deepEqual(r.rows, [[id, some.rows[11][1], Number(target.id)]]);
    assert.equal(sim.stats().calls, 1);
  });

  test('paging follows __next: an ordered LIMIT on the regular endpoint reads 60-row pages', async () => {
    const parts = await c.partitions(signal);
    const plan = c.plan(table(c, 'Accounts'), { columns: ['ID', 'Name'], conjuncts: [], limit: 130, orderBy: [{ column: 'Name', descending: false }] });
    assert.equal(plan.limitApplied, true);
    assert.equal(plan.orderApplied, true);
    assert.equal(plan.estimatedCallsPerPartition, 3);
    sim.resetStats();
    const r = await readAll(c, 'Accounts', { columns: ['ID', 'Name'], conjuncts: [], limit: 130, orderBy: [{ column: 'Name', descending: false }] }, [parts[0]]);
    assert.equal(r.rows.length, 130);
    assert.equal(sim.stats().calls, 3);
    const names = r.rows.map((x) => String(x[1]));
    assert.deepEqual(names, [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
  });

  test('mandatory filtering: a valid filter goes to the endpoint, a full read goes through the sync twin', async () => {
    const parts = await c.partitions(signal);
    const full = c.plan(table(c, 'TransactionLines'), { columns: ['ID', 'AmountDC'], conjuncts: [] });
    assert.ok(full.explain[0].includes('sync/Financial/TransactionLines'), full.explain[0]);
    const all = await readAll(c, 'TransactionLines', { columns: ['ID', 'AmountDC', 'FinancialYear'] }, [parts[0]]);
    assert.equal(all.failures.length, 0);
    const year = all.rows[0][2] as number;
    const filtered = c.plan(table(c, 'TransactionLines'), { columns: ['ID'], conjuncts: [{ kind: 'compare', column: 'FinancialYear', op: '=', value: year }] });
    assert.ok(filtered.explain.some((l) => l.includes(`FinancialYear eq ${year}`)));
    const r = await readAll(c, 'TransactionLines', { columns: ['ID'], conjuncts: [{ kind: 'compare', column: 'FinancialYear', op: '=', value: year }] }, [parts[0]]);
    assert.equal(r.failures.length, 0);
    assert.equal(r.rows.length, all.rows.filter((x) => x[2] === year).length);
  });

  test('mandatory filtering that neither a filter nor the sync twin satisfies gets a filter true for every row', async () => {
    // ShopOrder is not in the sync twin and nothing filters: the planner adds its own always-true mandatory filter.
    const plan = c.plan(table(c, 'TransactionLines'), { columns: ['ID', 'ShopOrder'], conjuncts: [] });
    assert.match(plan.explain.join('\n'), /mandatory filtering: added ID ne guid'00000000-0000-0000-0000-000000000000'/);
    const parts = await c.partitions(signal);
    const all = await readAll(c, 'TransactionLines', { columns: ['ID', 'ShopOrder'] }, [parts[0]]);
    assert.deepEqual(all.failures, []);
    const viaSync = await readAll(c, 'TransactionLines', { columns: ['ID'] }, [parts[0]]);
    assert.equal(all.rows.length, viaSync.rows.length, 'the added filter drops no row');
    // A filter on a listed column is used as it is, without the added one.
    const ok = c.plan(table(c, 'TransactionLines'), { columns: ['ID', 'ShopOrder'], conjuncts: [{ kind: 'compare', column: 'FinancialYear', op: '=', value: 2025 }] });
    assert.match(ok.explain.join('\n'), /FinancialYear eq 2025/);
    assert.doesNotMatch(ok.explain.join('\n'), /mandatory filtering: added/);
  });

  test('revoked tokens give a clear error that says to log in again', async () => {
    const sim2 = await startExactSimulator({ port: 0, divisions: 1, rateLimits: false });
    const env2 = testEnv();
    const c2 = await connectSim(sim2, env2);
    try {
      const [p] = await c2.partitions(signal);
      sim2.revokeTokens();
      const r = await readAll(c2, 'Accounts', { columns: ['ID'] }, [p]);
      assert.equal(r.failures.length, 1);
      const e = r.failures[0].error as SluiceError;
      assert.equal(e.code, 'EOL020');
      assert.match(e.format(), /sluice login eol/);
    } finally {
      await c2.close();
      await sim2.close();
      env2.cleanup();
    }
  });

  test('select * of a table with nested lines still reads through the bulk endpoint', async () => {
    const t = table(c, 'SalesInvoices');
    const plan = c.plan(t, { columns: t.columns.map((x) => x.name), conjuncts: [] });
    assert.match(plan.explain[0], /bulk\/SalesInvoice\/SalesInvoices/);
    const parts = await c.partitions(signal);
    const r = await readAll(c, 'SalesInvoices', { columns: t.columns.map((x) => x.name) }, [parts[0]]);
    assert.deepEqual(r.failures, []);
    assert.ok(r.rows.length > 0);
    assert.ok(r.rows.every((row) => row[r.columns.indexOf('SalesInvoiceLines')] === null));
  });

  test('explain names the endpoint, filter, page size and estimated calls; RateLimits shows the budgets seen', async () => {
    const parts = await c.partitions(signal);
    const lines = c.plan(table(c, 'Accounts'), { columns: ['ID'], conjuncts: [{ kind: 'compare', column: 'Status', op: '=', value: 'C' }] }).explain;
    assert.match(lines.join('\n'), /GET http:\/\/127\.0\.0\.1:\d+\/api\/v1\/\{division\}\/bulk\/CRM\/Accounts/);
    assert.match(lines.join('\n'), /\$filter=Status eq 'C'/);
    assert.match(lines.join('\n'), /page size 1000; est\. calls per division: \d+/);
    const limits = await readAll(c, 'RateLimits', { columns: ['Division', 'MinutelyLimit', 'DailyLimit', 'DailyRemaining'] }, [undefined]);
    const row = limits.rows.find((r) => r[0] === Number(parts[0].id));
    assert.ok(row, 'the division has a budget row');
    assert.equal(row[1], 60);
    assert.equal(row[2], 5000);
    assert.ok((row[3] as number) < 5000);
  });

  test('a division the user cannot open fails alone; the others return their rows', async () => {
    const parts = await c.partitions(signal);
    const foreign = { id: String(sim.world.foreignDivision) };
    const r = await readAll(c, 'Accounts', { columns: ['ID', 'Division'] }, [...parts, foreign]);
    assert.equal(r.failures.length, 1);
    assert.equal(r.failures[0].partition, foreign.id);
    assert.ok(r.failures[0].error instanceof SluiceError);
    assert.match(r.failures[0].error.message, /403.*NoDivisionAccess/);
    assert.equal((r.failures[0].error as SluiceError).details.partition, foreign.id);
    assert.deepEqual([...new Set(r.rows.map((x) => x[1]))].sort(), parts.map((p) => Number(p.id)).sort());
  });

  test('insert returns the generated ID; update and delete by key; the row round-trips', async () => {
    const parts = await c.partitions(signal);
    const p = parts[1];
    const t = table(c, 'Accounts');
    const inserted = [];
    for await (const r of c.write(t, { op: 'insert', rows: { columns: ['Code', 'Name'], rows: [['777001', 'Sluice Test B.V.']] }, partition: p, signal })) inserted.push(r);
    assert.equal(inserted.length, 1);
    assert.equal(inserted[0].ok, true, inserted[0].message);
    const id = String(inserted[0].returned?.ID);
    assert.match(id, /^[0-9a-f-]{36}$/);
    assert.equal(inserted[0].returned?.Code, '777001');
    const byId = (await readAll(c, 'Accounts', { columns: ['ID', 'Name'], conjuncts: [{ kind: 'compare', column: 'ID', op: '=', value: id }] }, [p])).rows;
    assert.deepEqual(byId, [[id, 'Sluice Test B.V.', Number(p.id)]]);
    for await (const r of c.write(t, { op: 'update', rows: { columns: ['ID', 'Name'], rows: [[id, 'Sluice Renamed B.V.']] }, partition: p, signal })) assert.equal(r.ok, true, r.message);
    const renamed = (await readAll(c, 'Accounts', { columns: ['Name'], conjuncts: [{ kind: 'compare', column: 'ID', op: '=', value: id }] }, [p])).rows;
    assert.equal(renamed[0][0], 'Sluice Renamed B.V.');
    for await (const r of c.write(t, { op: 'delete', rows: { columns: ['ID'], rows: [[id]] }, partition: p, signal })) assert.equal(r.ok, true, r.message);
    const gone = (await readAll(c, 'Accounts', { columns: ['Name'], conjuncts: [{ kind: 'compare', column: 'ID', op: '=', value: id }] }, [p])).rows;
    assert.deepEqual(gone, []);
  });

  test('bad writes fail before any call: unwritable table, missing mandatory fields, wrong types, unknown columns', async () => {
    const parts = await c.partitions(signal);
    const p = parts[0];
    sim.resetStats();
    const drain = async (it: AsyncIterable<unknown>) => {
      for await (const _ of it) void _;
    };
    await assert.rejects(drain(c.write(table(c, 'TransactionLines'), { op: 'insert', rows: { columns: ['AmountDC'], rows: [[1]] }, partition: p, signal })), (e: SluiceError) => e.code === 'EOL060' && /TransactionLines cannot be inserted into/.test(e.message));
    await assert.rejects(
      drain(c.write(table(c, 'Accounts'), { op: 'insert', rows: { columns: ['Code', 'Name'], rows: [['777002', 'Good B.V.'], ['777003', null]] }, partition: p, signal })),
      (e: SluiceError) => e.code === 'EOL062' && /row 2 \(Code=777003\): missing mandatory Name/.test(e.message) && /Nothing was written/.test(e.message),
    );
    await assert.rejects(
      drain(c.write(table(c, 'Accounts'), { op: 'insert', rows: { columns: ['Name', 'CreditLinePurchase'], rows: [['Typo B.V.', 'lots']] }, partition: p, signal })),
      (e: SluiceError) => e.code === 'EOL062' && /CreditLinePurchase expects Double/.test(e.message),
    );
    await assert.rejects(
      drain(c.write(table(c, 'Accounts'), { op: 'insert', rows: { columns: ['Name', 'Parent'], rows: [['Dochter B.V.', '1000']] }, partition: p, signal })),
      (e: SluiceError) => e.code === 'EOL062' && /Parent expects Guid, got '1000' \(the ID of the row it refers to, not its code\)/.test(e.message),
    );
    await assert.rejects(drain(c.write(table(c, 'Accounts'), { op: 'insert', rows: { columns: ['Name', 'Nonsense'], rows: [['X', 1]] }, partition: p, signal })), (e: SluiceError) => e.code === 'EOL061');
    await assert.rejects(
      drain(c.write(table(c, 'Accounts'), { op: 'update', rows: { columns: ['ID', 'Name'], rows: [['a60a83b7-0001-4019-8111-000000000000', null]] }, partition: p, signal })),
      (e: SluiceError) => e.code === 'EOL062' && /Name is mandatory and cannot be emptied/.test(e.message),
    );
    assert.equal(sim.stats().calls, 0);
    const codes = (await readAll(c, 'Accounts', { columns: ['Code'], conjuncts: [{ kind: 'compare', column: 'Code', op: '=', value: '777002' }] }, [p])).rows;
    assert.deepEqual(codes, [], 'the good row of the failed batch was not written');
  });

  test('a sales invoice is inserted with its lines as one unit, then processed through PrintedSalesInvoices', async () => {
    const parts = await c.partitions(signal);
    const p = parts[0];
    const account = (await readAll(c, 'Accounts', { columns: ['ID'], limit: 1 }, [p])).rows[0][0];
    const item = (await readAll(c, 'Items', { columns: ['ID'], limit: 1 }, [p])).rows[0][0];
    const lines = JSON.stringify([
      { Item: item, Quantity: 2, UnitPrice: 10 },
      { Item: item, Quantity: 1, UnitPrice: 5.5 },
    ]);
    const results = [];
    for await (const r of c.write(table(c, 'SalesInvoices'), { op: 'insert', rows: { columns: ['OrderedBy', 'Journal', 'SalesInvoiceLines'], rows: [[account, '70', lines]] }, partition: p, signal })) results.push(r);
    assert.equal(results[0].ok, true, results[0].message);
    const invoiceId = String(results[0].returned?.InvoiceID);
    const stored = await readAll(c, 'SalesInvoiceLines', { columns: ['ID', 'Quantity'], conjuncts: [{ kind: 'compare', column: 'InvoiceID', op: '=', value: invoiceId }] }, [p]);
    assert.equal(stored.rows.length, 2);
    // A line without its mandatory fields stops the whole invoice before any call.
    await assert.rejects(
      (async () => {
        for await (const _ of c.write(table(c, 'SalesInvoices'), { op: 'insert', rows: { columns: ['OrderedBy', 'Journal', 'SalesInvoiceLines'], rows: [[account, '70', '[{"Quantity":1}]']] }, partition: p, signal })) void _;
      })(),
      (e: SluiceError) => e.code === 'EOL062' && /line 1: missing mandatory/.test(e.message),
    );
    const printed = [];
    for await (const r of c.write(table(c, 'PrintedSalesInvoices'), { op: 'insert', rows: { columns: ['InvoiceID', 'SendEmailToCustomer'], rows: [[invoiceId, false]] }, partition: p, signal })) printed.push(r);
    assert.equal(printed[0].ok, true, printed[0].message);
    const status = await readAll(c, 'SalesInvoices', { columns: ['Status', 'InvoiceNumber'], conjuncts: [{ kind: 'compare', column: 'InvoiceID', op: '=', value: invoiceId }] }, [p]);
    assert.equal(status.rows[0][0], 50);
    assert.ok(status.rows[0][1]);
    // Exact's own message comes back with the row key and the division.
    const again = [];
    for await (const r of c.write(table(c, 'PrintedSalesInvoices'), { op: 'insert', rows: { columns: ['InvoiceID'], rows: [[invoiceId]] }, partition: p, signal })) again.push(r);
    assert.equal(again[0].ok, false);
    assert.match(String(again[0].message), /already been processed.*division \d+.*InvoiceID=/);
  });
});

describe('ExactOnlineAll under time pressure (manual clock)', () => {
  test('a token expiring mid-scan is refreshed once and the scan completes', async () => {
    const clock = new ManualClock();
    const sim = await startExactSimulator({ port: 0, divisions: 2, accountsPerDivision: 200, clock, rateLimits: false });
    const env = testEnv(clock);
    const c = await connectSim(sim, env);
    try {
      const [p] = await c.partitions(signal);
      const plan = c.plan(table(c, 'Accounts'), { columns: ['ID', 'Name'], conjuncts: [], limit: 200, orderBy: [{ column: 'Name', descending: false }] });
      let rows = 0;
      let batches = 0;
      for await (const b of c.scan(plan, p, { signal })) {
        rows += b.rows.length;
        if (++batches === 1) clock.advance(650_000);
      }
      assert.equal(rows, 200);
      const tokenCalls = env.calls.filter((x) => x.url.includes('/oauth2/token'));
      assert.equal(tokenCalls.length, 2, 'the first refresh plus one mid-scan');
      assert.ok(tokenCalls.every((x) => x.status === 200));
      assert.ok(!env.calls.some((x) => x.status === 401));
    } finally {
      await c.close();
      await sim.close();
      env.cleanup();
    }
  });

  test('a 429 storm is ridden out: every row arrives, waits follow the reset headers', async () => {
    const clock = new ManualClock();
    const sim = await startExactSimulator({ port: 0, divisions: 3, accountsPerDivision: 150, clock });
    const env = testEnv(clock);
    const c = await connectSim(sim, env);
    try {
      const parts = await c.partitions(signal);
      sim.setFaults({ status429Rate: 0.5 });
      const plan = c.plan(table(c, 'Accounts'), { columns: ['ID'], conjuncts: [], limit: 150, orderBy: [{ column: 'Code', descending: false }] });
      let rows = 0;
      for (const p of parts) for await (const b of c.scan(plan, p, { signal })) rows += b.rows.length;
      assert.equal(rows, 450);
      assert.ok(sim.stats().status429 > 0, 'the storm happened');
      assert.ok(c.governor.snapshot().some((s) => s.throttled > 0));
    } finally {
      sim.setFaults({ status429Rate: 0 });
      await c.close();
      await sim.close();
      env.cleanup();
    }
  });

  test('steady state stays under the minutely limit: no 429 when one division needs more calls than a minute allows', async () => {
    const clock = new ManualClock();
    const sim = await startExactSimulator({ port: 0, divisions: 1, accountsPerDivision: 1500, clock, rateLimits: { minutely: 10, daily: 5000 } });
    const env = testEnv(clock);
    const c = await connectSim(sim, env);
    try {
      const [p] = await c.partitions(signal);
      const plan = c.plan(table(c, 'Accounts'), { columns: ['ID'], conjuncts: [], limit: 1500, orderBy: [{ column: 'Code', descending: false }] });
      let rows = 0;
      for await (const b of c.scan(plan, p, { signal })) rows += b.rows.length;
      assert.equal(rows, 1500);
      assert.equal(sim.stats().status429, 0);
    } finally {
      await c.close();
      await sim.close();
      env.cleanup();
    }
  });

  test('concurrent scans of one division share its minute: no 429 in steady state', async () => {
    const clock = new ManualClock();
    const sim = await startExactSimulator({ port: 0, divisions: 1, accountsPerDivision: 600, clock, rateLimits: { minutely: 8, daily: 5000 } });
    const env = testEnv(clock);
    const c = await connectSim(sim, env);
    try {
      const [p] = await c.partitions(signal);
      const read = async (order: string) => {
        const plan = c.plan(table(c, 'Accounts'), { columns: ['ID'], conjuncts: [], limit: 600, orderBy: [{ column: order, descending: false }] });
        let rows = 0;
        for await (const b of c.scan(plan, p, { signal })) rows += b.rows.length;
        return rows;
      };
      assert.deepEqual(await Promise.all([read('Code'), read('Name'), read('ID')]), [600, 600, 600]);
      assert.equal(sim.stats().status429, 0);
    } finally {
      await c.close();
      await sim.close();
      env.cleanup();
    }
  });

  test('a statement that would spend more than the daily share is refused before its first call; explain warns', async () => {
    const sim = await startExactSimulator({ port: 0, divisions: 1, accountsPerDivision: 2000, rateLimits: { minutely: 1000, daily: 40 } });
    const env = testEnv();
    const c = await connectSim(sim, env);
    try {
      const [p] = await c.partitions(signal);
      await readAll(c, 'Accounts', { columns: ['ID'], limit: 1, orderBy: [{ column: 'Code', descending: false }] }, [p]);
      const remaining = c.governor.dailyRemaining(p.id) as number;
      assert.ok(remaining > 0 && remaining < 40);
      const request = { columns: ['ID'], conjuncts: [], limit: 2000, orderBy: [{ column: 'Code', descending: false }] };
      const plan = c.plan(table(c, 'Accounts'), request);
      assert.equal(plan.estimatedCallsPerPartition, 34);
      assert.ok(plan.explain.some((l) => l.includes(`division ${p.id} has ${remaining} calls left today`)), plan.explain.join('\n'));
      sim.resetStats();
      const r = await readAll(c, 'Accounts', request, [p]);
      assert.equal(r.failures.length, 1);
      assert.equal((r.failures[0].error as SluiceError).code, 'EOL042');
      assert.equal(sim.stats().calls, 0);
      // A smaller share-respecting read still runs.
      const small = await readAll(c, 'Accounts', { ...request, limit: 120 }, [p]);
      assert.equal(small.rows.length, 120);
    } finally {
      await c.close();
      await sim.close();
      env.cleanup();
    }
  });

  test('a scan that runs past the daily share stops before the next call', async () => {
    const sim = await startExactSimulator({ port: 0, divisions: 1, accountsPerDivision: 2500, rateLimits: { minutely: 1000, daily: 40 } });
    const env = testEnv();
    const c = await connectSim(sim, env);
    try {
      const [p] = await c.partitions(signal);
      await readAll(c, 'Accounts', { columns: ['ID'], limit: 1, orderBy: [{ column: 'Code', descending: false }] }, [p]);
      assert.equal(c.setOption('exact-daily-budget-share', '0.05'), true);
      const request = { columns: ['ID'], conjuncts: [{ kind: 'compare' as const, column: 'Code', op: '<>' as const, value: '0' }] };
      assert.equal(c.plan(table(c, 'Accounts'), request).estimatedCallsPerPartition, 1);
      sim.resetStats();
      const r = await readAll(c, 'Accounts', request, [p]);
      assert.equal(r.failures.length, 1);
      assert.equal((r.failures[0].error as SluiceError).code, 'EOL043');
      assert.equal(r.rows.length, 1000, 'the first page arrived');
      assert.equal(sim.stats().calls, 1, 'the second page was never requested');
    } finally {
      await c.close();
      await sim.close();
      env.cleanup();
    }
  });

  test('50 divisions in one go', async () => {
    const sim = await startExactSimulator({ port: 0, divisions: 50, subscriptions: 5, accountsPerDivision: 20, transactionLinesPerDivision: 12 });
    const env = testEnv();
    const c = await connectSim(sim, env);
    try {
      const parts = await c.partitions(signal);
      assert.equal(parts.length, 50);
      sim.resetStats();
      const r = await readAll(c, 'Accounts', { columns: ['ID', 'Code', 'Division'] }, parts, 8);
      assert.equal(r.failures.length, 0);
      assert.equal(r.rows.length, 50 * 20);
      assert.equal(new Set(r.rows.map((x) => x[2])).size, 50);
      assert.equal(sim.stats().calls, 50, 'one bulk call per division');
    } finally {
      await c.close();
      await sim.close();
      env.cleanup();
    }
  });
});

/**
 * Exact decimals: number(p, s) columns and provider 'decimal' columns are
 * DuckDB DECIMALs, so sums print as the accountant expects (0.3, not
 * 0.30000000000000004), and values a double cannot hold come back as text.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openSession } from '../../src/engine/index.js';
import type { Session } from '../../src/engine/api.js';
import { decimalTextToValue, parseScaled, plainNumberText, toScaledDecimal } from '../../src/engine/decimal.js';
import type { Container, Provider, RowBatch, ScanPlan, ScanRequest, TableInfo } from '../../src/provider/types.js';
import { SluiceError } from '../../src/util/errors.js';
import { rows, runAll } from './helpers.js';

const LINES: TableInfo = {
  catalog: 'Fake',
  schema: 'Ledger',
  name: 'Lines',
  columns: [
    { name: 'Id', type: 'integer', nullable: false },
    { name: 'Amount', type: 'decimal', nullable: true },
  ],
  key: ['Id'],
  scope: 'system',
  writable: { insert: false, update: false, delete: false },
};

/** A ledger whose amounts arrive as doubles and as exact strings, like OData Edm.Decimal. */
const ledgerProvider: Provider = {
  name: 'Ledger',
  async connect(config): Promise<Container> {
    return {
      alias: config.alias,
      providerName: 'Ledger',
      tables: () => [LINES],
      partitions: async () => [],
      plan: (table: TableInfo, request: ScanRequest): ScanPlan => ({
        table,
        request,
        conjuncts: request.conjuncts.map(() => 'unsupported'),
        limitApplied: false,
        orderApplied: false,
        estimatedCallsPerPartition: 1,
        explain: [],
      }),
      async *scan(): AsyncIterable<RowBatch> {
        yield {
          columns: ['Id', 'Amount'],
          rows: [
            [1, 0.1],
            [2, 0.2],
            [3, '12345678901234567.89'],
            [4, null],
          ],
        };
      },
      close: async () => {},
    };
  },
};

describe('decimal conversions', () => {
  it('parses decimal text to scaled integers, rounding half away from zero', () => {
    assert.equal(parseScaled('211915.15', 2), 21191515n);
    assert.equal(parseScaled('-0.005', 2), -1n);
    assert.equal(parseScaled('1.5e3', 2), 150000n);
    assert.equal(parseScaled('abc', 2), undefined);
    assert.equal(toScaledDecimal(0.1 + 0.2, 38, 10), 3000000000n);
    assert.equal(toScaledDecimal(1e20, 38, 10), 10n ** 30n);
    assert.throws(() => toScaledDecimal(1000, 4, 2), (e: unknown) => e instanceof SluiceError && e.code === 'ENG501');
  });

  it('returns numbers that print as stored, else the exact digits', () => {
    assert.equal(decimalTextToValue('211915.1500000000'), 211915.15);
    assert.equal(decimalTextToValue('0.0000001000'), 1e-7);
    assert.equal(decimalTextToValue('-0.00'), 0);
    assert.equal(decimalTextToValue('12345678901234567.89'), '12345678901234567.89');
    assert.equal(plainNumberText(1.5e22), '15000000000000000000000');
  });
});

describe('exact decimals in queries', () => {
  let s: Session;
  before(async () => {
    s = await openSession({ providers: [ledgerProvider], containers: [{ alias: 'led', provider: 'Ledger', options: {} }] });
    await runAll(
      s,
      `create table pay@inmemorystorage (id int, amount number(10,2), rate numeric(12,6));
       insert into pay@inmemorystorage values (1, 0.1, 1.1), (2, 0.2, 2.2), (3, 211914.85, 3.3)`,
    );
  });
  after(async () => {
    await s.close();
  });

  it('sums and averages number(p, s) columns exactly and types them decimal', async () => {
    const all = await runAll(s, 'select sum(amount) total, avg(amount) mean, sum(rate) r, min(amount) lo from pay');
    assert.deepEqual(all[0].rows, [[211915.15, 70638.3833333333, 6.6, 0.1]]);
    const r = all[0].result;
    assert.ok(r.kind === 'rows');
    assert.deepEqual(
      r.columns.map((c) => c.type),
      ['decimal', 'decimal', 'decimal', 'decimal'],
    );
    assert.deepEqual(await rows(s, 'select sum(amount) from pay where id < 3'), [[0.3]]);
  });

  it('keeps declared precision and scale in the catalog and through create table as select', async () => {
    const t = await rows(s, "select amount from pay where id = 1");
    assert.deepEqual(t, [[0.1]]);
    await runAll(s, 'create table pay2@inmemorystorage as select id, amount * 2 amount2 from pay');
    assert.deepEqual(await rows(s, 'select sum(amount2) from pay2'), [[423830.3]]);
    const all = await runAll(s, 'select amount2 from pay2 where id = 1');
    const r = all[0].result;
    assert.ok(r.kind === 'rows');
    assert.equal(r.columns[0].type, 'decimal');
  });

  it('rounds inserted values to the declared scale and refuses values that do not fit', async () => {
    await runAll(s, 'create table small@inmemorystorage (v number(4,2)); insert into small@inmemorystorage values (1.005)');
    assert.deepEqual(await rows(s, 'select v from small'), [[1.01]]);
    await assert.rejects(runAll(s, 'insert into small@inmemorystorage values (1000)'), SluiceError);
  });

  it('loads provider decimals exactly: doubles and strings; beyond a double comes back as text', async () => {
    const all = await runAll(s, 'select sum(Amount) total, count(Amount) n from Lines@led');
    assert.deepEqual(all[0].rows, [['12345678901234568.19', 3]]);
    assert.deepEqual(await rows(s, 'select sum(Amount) from Lines@led where Id < 3'), [[0.3]]);
    assert.deepEqual(await rows(s, 'select Amount from Lines@led order by Id'), [[0.1], [0.2], ['12345678901234567.89'], [null]]);
  });
});

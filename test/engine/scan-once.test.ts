/**
 * One scan per remote table per statement: a table referenced twice with the
 * same request (self-join, union with itself) is fetched once and read twice;
 * different requests still get their own scans.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fakeSessionPerTest, rows, runAll } from './helpers.js';

const open = fakeSessionPerTest();

describe('one scan per remote table per statement', () => {
  it('scans a self-joined table once when both sides ask the same', async () => {
    const { s, fake } = await open();
    const r = await rows(s, 'select count(*) from orders a join orders b on a.OrderId = b.OrderId');
    assert.deepEqual(r, [[10]]);
    assert.equal(fake.log.scans.length, 1);
  });

  it('scans a union of a table with itself once, per partition', async () => {
    const { s, fake } = await open();
    await runAll(s, 'use 101, 102');
    const r = await rows(s, 'select OrderId from orders union all select OrderId from orders');
    assert.equal(r.length, 40);
    assert.deepEqual(fake.log.scans.map((x) => x.partition).sort(), ['101', '102']);
  });

  it('keeps separate scans when the requests differ', async () => {
    const { s, fake } = await open();
    const r = await rows(s, 'select count(*) from orders a join orders b on a.OrderId = b.OrderId where b.Amount > 50');
    assert.deepEqual(r, [[5]]);
    assert.equal(fake.log.scans.length, 2);
    const fake2 = fake;
    fake2.log.scans.length = 0;
    await rows(s, 'select OrderId from orders union all select OrderId from orders@eol where Amount > 50');
    assert.equal(fake2.log.scans.length, 2);
  });

  it('scans again for the next statement', async () => {
    const { s, fake } = await open();
    await runAll(s, 'select count(*) from orders; select count(*) from orders');
    assert.equal(fake.log.scans.length, 2);
  });
});

describe('explain of a shared scan', () => {
  it('says the second reference shares the first one\'s scan', async () => {
    const { s } = await open();
    const all = await runAll(s, 'explain select count(*) from orders a join orders b on a.OrderId = b.OrderId');
    const lines = all[0].lines ?? [];
    assert.ok(lines.some((l) => /scan: shared with a/.test(l)), lines.join('\n'));
  });
});

/**
 * Writes stay inside the partitions the session selected with `use`: an
 * insert naming another partition of the container is refused before any
 * write (ENG305), rows without a partition value need exactly one selected
 * partition (ENG304), and update/delete only reach rows read from the
 * selected partitions.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fakeSessionPerTest, runAll, sluiceFailure } from './helpers.js';

const open = fakeSessionPerTest();

describe('inserts respect the use selection', () => {
  it('refuses a VALUES row naming a partition that is not selected, naming row, partition and container; nothing is written', async () => {
    const { s, fake } = await open();
    await runAll(s, 'use 101@eol');
    const e = await sluiceFailure(s, "insert into orders@eol (division, orderid, customer) values (101, 1, 'A'), (201, 2, 'B')");
    assert.equal(e.code, 'ENG305');
    assert.equal(e.message, 'Row 2: Division 201 is not selected for eol (the session uses 101), so Orders@eol does not take rows for it; nothing was inserted.');
    assert.equal(e.details.container, 'eol');
    assert.equal(e.details.table, 'Orders');
    assert.equal(e.details.partition, '201');
    assert.equal(e.details.hint, 'Select it first: use 201@eol (or add it to the use list).');
    assert.equal(e.details.location?.column, 77);
    assert.equal(fake.log.writes.length, 0);
  });

  it('refuses the same through insert … select, before any write', async () => {
    const { s, fake } = await open();
    await runAll(s, 'use 101, 102');
    const e = await sluiceFailure(s, "insert into orders@eol (division, orderid, customer) select 102, 5, 'x' from dual union all select 201, 6, 'y' from dual");
    assert.equal(e.code, 'ENG305');
    assert.match(e.message, /Division 201 is not selected for eol \(the session uses 101, 102\)/);
    assert.equal(fake.log.writes.length, 0);
  });

  it('applies before any use too: the default selection is the selection', async () => {
    const { s, fake } = await open();
    const e = await sluiceFailure(s, "insert into orders@eol (division, orderid, customer) values (102, 1, 'A')");
    assert.equal(e.code, 'ENG305');
    assert.equal(fake.log.writes.length, 0);
  });

  it('a partition the container does not have is still ENG028, ahead of the selection check', async () => {
    const { s, fake } = await open();
    await runAll(s, 'use 101');
    const e = await sluiceFailure(s, "insert into orders@eol (division, orderid, customer) values (555, 1, 'A')");
    assert.equal(e.code, 'ENG028');
    assert.equal(fake.log.writes.length, 0);
  });

  it('writes after use of that partition, and under use all', async () => {
    const { s, fake } = await open();
    await runAll(s, "use 101, 201@eol; insert into orders@eol (division, orderid, customer) values (101, 1, 'A'), (201, 2, 'B')");
    assert.deepEqual(Object.fromEntries(fake.log.writes.map((w) => [w.partition, w.rows.length])), { '101': 1, '201': 1 });
    await runAll(s, "use all; insert into orders@eol (division, orderid, customer) values (102, 3, 'C')");
    assert.equal(fake.log.writes.at(-1)?.partition, '102');
  });

  it('rows without a partition value go to the one selected partition', async () => {
    const { s, fake } = await open();
    await runAll(s, "use 201; insert into orders@eol (orderid, customer) values (1, 'A'); insert into orders@eol (division, orderid, customer) values (null, 2, 'B')");
    assert.deepEqual(
      fake.log.writes.map((w) => w.partition),
      ['201', '201'],
    );
  });

  it('with several partitions selected, a row without a partition value is refused before any row is written', async () => {
    const { s, fake } = await open();
    await runAll(s, 'use 101, 102');
    const e = await sluiceFailure(s, "insert into orders@eol (division, orderid, customer) values (101, 1, 'A'), (null, 2, 'B')");
    assert.equal(e.code, 'ENG304');
    assert.match(e.message, /^Row 2 has no Division, and 2 partitions of eol are selected/);
    assert.equal(e.details.location?.column, 77);
    const missing = await sluiceFailure(s, "insert into orders@eol (orderid, customer) values (3, 'C')");
    assert.equal(missing.code, 'ENG304');
    assert.equal(fake.log.writes.length, 0);
  });
});

describe('update and delete respect the use selection', () => {
  it('only touch rows read from the selected partitions', async () => {
    const { s, fake } = await open();
    await runAll(s, 'use 101');
    // 20101 lives in 201, which is not selected: nothing is read from it, so nothing is written there.
    const u = await runAll(s, "update orders@eol set status = 'x' where orderid in (10101, 20101)");
    assert.equal(u[0].result.kind === 'done' && u[0].result.rowsAffected, 1);
    const d = await runAll(s, 'delete from orders@eol where division = 201');
    assert.equal(d[0].result.kind === 'done' && d[0].result.rowsAffected, 0);
    assert.ok(d[0].result.kind === 'done' && d[0].result.summary().warnings.some((w) => /Division 201 is not selected/.test(w)));
    assert.deepEqual(
      fake.log.writes.map((w) => [w.op, w.partition, w.rows]),
      [['update', '101', [[10101, 'x']]]],
    );
    assert.ok(fake.log.scans.every((x) => x.partition === '101'));
  });
});

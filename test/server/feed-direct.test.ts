/**
 * OData feeds over a remote PostgreSQL table. A feed whose filter, order and
 * $top PostgreSQL applies exactly streams straight from the provider inside
 * the engine (src/engine/direct.ts); one with a function the provider cannot
 * take runs through DuckDB. Both must give the same rows, value by value and
 * page by page.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { pgFeedFixture, readAll } from './helpers.js';
import type { Fixture } from './helpers.js';

describe('feeds over PostgreSQL: the direct engine path gives the same rows as the DuckDB path', () => {
  const name = `sluice_feed_direct_test_${randomBytes(4).toString('hex')}`;
  const entity = `test_public_${name}`;
  let f: Fixture;
  before(async () => {
    f = await pgFeedFixture(name, [
      `create table ${name} (id integer primary key, division integer not null, code varchar(10), amount numeric(12,2), created date, stamp timestamp, big bigint, flag boolean)`,
      `insert into ${name} select g, 102673 + g % 3, case when g % 7 = 0 then null else 'C' || lpad(g::text, 4, '0') end, g * 1.25, date '2024-01-01' + g, timestamp '2024-01-01 10:00:00' + g * interval '1 hour', 9007199254740993 + g, g % 2 = 0 from generate_series(1, 53) g`,
    ]);
  });
  after(async () => {
    await f.close();
  });

  it('gives every value the same as the engine path, page by page', async () => {
    // The same filter twice: once simple (straight from PostgreSQL), once with a no-op function the provider cannot take (through DuckDB).
    const direct = await readAll(f, `/pgdb/odata4/${entity}?$filter=${encodeURIComponent('division ne 102674 and id le 50')}`);
    const engine = await readAll(f, `/pgdb/odata4/${entity}?$filter=${encodeURIComponent('division ne 102674 and id le 50 and length(concat(\'x\', tolower(\'Y\'))) eq 2')}`);
    assert.equal(direct.rows.length, 33);
    assert.deepEqual(direct.rows, engine.rows);
    assert.equal(direct.pages, engine.pages);
    const row = direct.rows.find((r) => r.id === 2);
    const { big, ...rest } = row ?? {};
    assert.deepEqual(rest, { id: 2, division: 102675, code: 'C0002', amount: 2.5, created: '2024-01-03', stamp: '2024-01-01T12:00:00.000Z', flag: true });
    assert.equal(typeof big, 'number', 'a bigint beyond 2^53 is still a JSON number');
    assert.equal(direct.rows.find((r) => r.id === 14)?.code, null);
  });

  it('honours $top and $orderby the same way', async () => {
    const q = `$orderby=amount desc&$top=12&$select=id,code`;
    const direct = await readAll(f, `/pgdb/odata4/${entity}?${q}`);
    const engine = await readAll(f, `/pgdb/odata4/${entity}?${q}&$filter=${encodeURIComponent("length('ab') eq 2")}`);
    assert.equal(direct.rows.length, 12);
    assert.deepEqual(direct.rows, engine.rows);
    assert.deepEqual(direct.rows.slice(0, 2), [{ id: 53, code: 'C0053' }, { id: 52, code: 'C0052' }]);
  });
});

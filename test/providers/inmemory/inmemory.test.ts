/**
 * The InMemoryStorage provider on its own: tables in a DuckDB schema,
 * create / write (insert, update, delete) / drop, and the local relation the
 * engine reads in place.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LocalDb } from '../../../src/engine/local.js';
import { InMemoryContainer, sqlLiteral } from '../../../src/providers/inmemory/index.js';
import type { RowResult, TableInfo } from '../../../src/provider/types.js';
import { SluiceError } from '../../../src/util/errors.js';

async function collect(it: AsyncIterable<RowResult>): Promise<RowResult[]> {
  const out: RowResult[] = [];
  for await (const r of it) out.push(r);
  return out;
}

describe('InMemoryStorage provider', () => {
  let db: LocalDb;
  let c: InMemoryContainer;
  let table: TableInfo;
  const signal = new AbortController().signal;

  before(async () => {
    db = await LocalDb.open();
    c = new InMemoryContainer('mem', db);
    await c.init();
    table = await c.createTable('People', [
      { name: 'id', type: 'integer', nullable: false },
      { name: 'name', type: 'varchar', nullable: true },
      { name: 'born', type: 'date', nullable: true },
    ], { orReplace: false, ifNotExists: false, key: ['ID'] });
  });
  after(() => db.close());

  it('lists created tables with their columns', () => {
    assert.deepEqual(c.tables().map((t) => [t.name, t.columns.map((x) => `${x.name}:${x.type}`)]), [['People', ['id:integer', 'name:varchar', 'born:date']]]);
    assert.equal(c.localRelation(table), '"mem_mem"."People"');
  });

  it('reports the declared key, as declared', () => {
    assert.deepEqual(table.key, ['id']);
  });

  it('updates and deletes by every column of a two-column key', async () => {
    const t = await c.createTable('Lines', [
      { name: 'doc', type: 'integer', nullable: false },
      { name: 'line', type: 'integer', nullable: false },
      { name: 'amount', type: 'decimal', nullable: true, precision: 10, scale: 2 },
    ], { orReplace: false, ifNotExists: false, key: ['doc', 'line'] });
    assert.deepEqual(t.key, ['doc', 'line']);
    await collect(c.write(t, { op: 'insert', signal, rows: { columns: ['doc', 'line', 'amount'], rows: [[1, 1, 10], [1, 2, 20], [2, 1, 30]] } }));
    const up = await collect(c.write(t, { op: 'update', signal, rows: { columns: ['doc', 'line', 'amount'], rows: [[1, 2, 25.5]] } }));
    assert.deepEqual(up.map((r) => r.ok), [true]);
    await collect(c.write(t, { op: 'delete', signal, rows: { columns: ['doc', 'line'], rows: [[2, 1]] } }));
    const r = await db.all(`select doc, line, amount from ${c.localRelation(t)} order by doc, line`);
    assert.deepEqual(r.rows, [[1, 1, 10], [1, 2, 25.5]]);
    await assert.rejects(collect(c.write(t, { op: 'delete', signal, rows: { columns: ['doc'], rows: [[1]] } })), (e: SluiceError) => e.code === 'MEM007');
  });

  it('refuses row-by-row update and delete on a table without a key', async () => {
    const t = await c.createTable('Loose', [{ name: 'a', type: 'integer', nullable: true }, { name: 'b', type: 'varchar', nullable: true }], { orReplace: false, ifNotExists: false });
    assert.deepEqual(t.key, []);
    for (const op of ['update', 'delete'] as const) {
      await assert.rejects(collect(c.write(t, { op, signal, rows: { columns: ['a', 'b'], rows: [[1, 'x']] } })), (e: SluiceError) => e.code === 'MEM006' && /no key/.test(e.message));
    }
  });

  it('refuses to create an existing table unless asked to replace it', async () => {
    await assert.rejects(c.createTable('people', [{ name: 'x', type: 'integer', nullable: true }], { orReplace: false, ifNotExists: false }), (e: SluiceError) => e.code === 'MEM001');
  });

  it('inserts, updates and deletes rows through write', async () => {
    const ins = await collect(c.write(table, { op: 'insert', signal, rows: { columns: ['id', 'name', 'born'], rows: [[1, "O'Brien", new Date('1980-02-03T00:00:00Z')], [2, 'Ann', null]] } }));
    assert.deepEqual(ins.map((r) => r.ok), [true, true]);
    await collect(c.write(table, { op: 'update', signal, rows: { columns: ['id', 'name'], rows: [[2, 'Anne']] } }));
    await collect(c.write(table, { op: 'delete', signal, rows: { columns: ['id', 'name', 'born'], rows: [[1, "O'Brien", new Date('1980-02-03T00:00:00Z')]] } }));
    const r = await db.all(`select id, name from ${c.localRelation(table)} order by id`);
    assert.deepEqual(r.rows, [[2, 'Anne']]);
  });

  it('reports a failing row without failing the others', async () => {
    const res = await collect(c.write(table, { op: 'insert', signal, rows: { columns: ['id', 'name'], rows: [['not a number', 'x'], [3, 'y']] } }));
    assert.deepEqual(res.map((r) => r.ok), [false, true]);
    assert.ok(res[0].message);
  });

  it('drops tables, and says so when one is missing', async () => {
    await c.dropTable('PEOPLE', { ifExists: false });
    assert.deepEqual(c.tables().map((t) => t.name), ['Lines', 'Loose']);
    await c.dropTable('people', { ifExists: true });
    await assert.rejects(c.dropTable('people', { ifExists: false }), (e: SluiceError) => e.code === 'MEM004');
  });

  it('renders constants as DuckDB literals', () => {
    assert.equal(sqlLiteral("it's"), "'it''s'");
    assert.equal(sqlLiteral(null), 'NULL');
    assert.equal(sqlLiteral(12n), '12');
    assert.equal(sqlLiteral(new Date('2024-01-02T03:04:05.000Z')), "TIMESTAMP '2024-01-02 03:04:05.000'");
  });
});

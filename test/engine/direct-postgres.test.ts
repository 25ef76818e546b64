/**
 * Direct streaming against a real PostgreSQL table (src/engine/direct.ts):
 * the queries a feed or export sends go straight to the provider, and give
 * exactly the rows, types and column names the DuckDB path gives — numeric,
 * date, timestamp, bigint beyond 2^53, boolean, NULLs.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { openSession } from '../../src/engine/index.js';
import type { Session } from '../../src/engine/api.js';
import { runAll, type Collected } from './helpers.js';

const PG = 'postgres://root@127.0.0.1:5432/test';

describe('direct streaming from PostgreSQL', () => {
  const name = `sluice_direct_test_${randomBytes(4).toString('hex')}`;
  let s: Session;
  before(async () => {
    const client = new pg.Client({ connectionString: PG });
    await client.connect();
    await client.query(
      `create table ${name} (id integer primary key, division integer not null, code varchar(10), amount numeric(12,2), created date, stamp timestamp, big bigint, flag boolean)`,
    );
    await client.query(
      `insert into ${name} select g, 102673 + g % 3, case when g % 7 = 0 then null else 'C' || lpad(g::text, 4, '0') end, g * 1.25, date '2024-01-01' + g, timestamp '2024-01-01 10:00:00' + g * interval '1 hour', 9007199254740993 + g, g % 2 = 0 from generate_series(1, 53) g`,
    );
    await client.end();
    s = await openSession({ containers: [{ alias: 'pg', provider: 'PostgreSQL', options: { host: '127.0.0.1', port: '5432', user: 'root', database: 'test' } }] });
  });
  after(async () => {
    await s?.close();
    const client = new pg.Client({ connectionString: PG });
    await client.connect();
    await client.query(`drop table if exists ${name}`);
    await client.end();
  });

  async function last(sql: string): Promise<Collected> {
    return (await runAll(s, sql)).at(-1)!;
  }

  const queries = [
    `select * from ${name}@pg where division <> 102674 and id <= 50 order by id`,
    `select id, code c, amount, created, stamp, big, flag from ${name}@pg order by amount desc limit 12`,
    `select code, id from ${name}@pg where code is null order by id`,
  ];

  it('streams the feed-shaped queries directly', async () => {
    for (const sql of queries) {
      const lines = (await last(`explain ${sql}`)).lines ?? [];
      assert.ok(lines.includes('streams directly from the provider (no local processing)'), `${sql}\n${lines.join('\n')}`);
    }
  });

  it('gives the same columns, types and values as through DuckDB', async () => {
    for (const sql of queries) {
      const direct = await last(sql);
      await runAll(s, 'set direct-scan off');
      const normal = await last(sql);
      await runAll(s, 'set direct-scan on');
      assert.ok(direct.result.kind === 'rows' && normal.result.kind === 'rows');
      assert.deepEqual(direct.result.columns, normal.result.columns, sql);
      assert.deepEqual(direct.rows, normal.rows, sql);
      assert.ok(direct.rows.length > 0, sql);
    }
    const r = await last(queries[0]);
    assert.equal(r.rows.length, 33);
    assert.deepEqual(r.rows.find((x) => x[0] === 2)?.slice(0, 4), [2, 102675, 'C0002', 2.5]);
    assert.equal((await last(queries[1])).rows.length, 12);
  });
});

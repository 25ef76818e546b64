/**
 * Oracle's rownum: `where rownum <= n` returns n rows numbered 1..n, and
 * `rownum` in the select list numbers rows as they pass the where clause.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openSession } from '../../src/engine/index.js';
import type { Session } from '../../src/engine/api.js';
import { SluiceError } from '../../src/util/errors.js';
import { rows, runAll } from './helpers.js';

describe('rownum', () => {
  let s: Session;
  before(async () => {
    s = await openSession({ settingsPath: undefined, containers: [] });
    await runAll(
      s,
      `create table t@inmemorystorage (id int, name varchar(10));
       insert into t@inmemorystorage values (1, 'a'), (2, 'b'), (3, 'c'), (4, 'd'), (5, 'e');
       create table r@inmemorystorage (rownum int, x int);
       insert into r@inmemorystorage values (7, 1)`,
    );
  });
  after(async () => {
    await s.close();
  });

  it('limits with rownum <= n, rownum < n and rownum = 1', async () => {
    assert.equal((await rows(s, 'select id from t where rownum <= 3')).length, 3);
    assert.equal((await rows(s, 'select id from t where id > 1 and rownum < 3')).length, 2);
    assert.equal((await rows(s, 'select id from t where 2 >= rownum')).length, 2);
    assert.equal((await rows(s, 'select id from t where rownum = 1')).length, 1);
    const r = await rows(s, 'select id from t where id >= 4 and rownum <= 10 order by id');
    assert.deepEqual(r, [[4], [5]]);
  });

  it('numbers the rows that pass the where clause 1..n in the select list', async () => {
    const all = await runAll(s, 'select rownum, name from t where id > 2 and rownum <= 2');
    assert.deepEqual(all[0].columns, ['rownum', 'name']);
    assert.deepEqual(all[0].rows.map((x) => x[0]).sort(), [1, 2]);
    const every = await rows(s, 'select rownum n from t');
    assert.deepEqual(every.map((x) => x[0]).sort(), [1, 2, 3, 4, 5]);
  });

  it('lets a real column named rownum win', async () => {
    assert.deepEqual(await rows(s, 'select rownum, x from r where rownum = 7'), [[7, 1]]);
  });

  it('refuses rownum uses Oracle would answer differently', async () => {
    await assert.rejects(runAll(s, 'select id from t where rownum > 2'), (e: unknown) => e instanceof SluiceError && e.code === 'ENG140');
    await assert.rejects(runAll(s, 'select count(*) from t where rownum <= 2'), (e: unknown) => e instanceof SluiceError && e.code === 'ENG141');
    assert.deepEqual(await rows(s, 'select count(*) from (select * from t where rownum <= 2)'), [[2]]);
  });
});

/**
 * In-memory tables keep the key declared with `primary key`: the catalog (and
 * so the data dictionary and the OData server) reports it, DuckDB enforces
 * it, and the engine's own update/delete keep working with or without one.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openSession } from '../../src/engine/index.js';
import type { Session } from '../../src/engine/api.js';
import { SluiceError } from '../../src/util/errors.js';
import { rows, runAll } from './helpers.js';

describe('in-memory table keys', () => {
  let s: Session;
  before(async () => {
    s = await openSession({ settingsPath: undefined, containers: [] });
    await runAll(
      s,
      `create table lines@inmemorystorage (doc int primary key, line int primary key, amount number(10,2));
       insert into lines@inmemorystorage values (1, 1, 10), (1, 2, 20), (2, 1, 30);
       create table loose@inmemorystorage (a int, b varchar(5));
       insert into loose@inmemorystorage values (1, 'x'), (2, 'y');
       create table copy@inmemorystorage as select * from lines`,
    );
  });
  after(async () => {
    await s.close();
  });

  it('reports the declared primary key columns as the key, and none for others', async () => {
    const r = await rows(
      s,
      "select table_name, name from SystemColumns@datadictionary where container = 'inmemorystorage' and is_key order by table_name, position",
    );
    assert.deepEqual(r, [['lines', 'doc'], ['lines', 'line']]);
  });

  it('enforces the key', async () => {
    await assert.rejects(runAll(s, 'insert into lines@inmemorystorage values (1, 1, 99)'), (e: unknown) => e instanceof SluiceError && /primary key|duplicate/i.test(e.message));
  });

  it('runs update and delete statements on tables with and without a key', async () => {
    await runAll(s, 'update lines@inmemorystorage set amount = amount + 0.5 where doc = 1 and line = 2; delete from lines@inmemorystorage where doc = 2');
    assert.deepEqual(await rows(s, 'select doc, line, amount from lines order by doc, line'), [[1, 1, 10], [1, 2, 20.5]]);
    await runAll(s, "update loose@inmemorystorage set b = 'z' where a = 2; delete from loose@inmemorystorage where a = 1");
    assert.deepEqual(await rows(s, 'select a, b from loose'), [[2, 'z']]);
    await runAll(s, 'delete from copy@inmemorystorage where line = 2');
    assert.deepEqual(await rows(s, 'select count(*) from copy'), [[2]]);
  });
});

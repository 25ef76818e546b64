/**
 * The engine through SQL over real containers: a folder of files (tables and
 * the csv()/json()/ndjson()/xlsx() table functions, read and write), the
 * MariaDB server, and PostgreSQL and MariaDB together (create table … as
 * select across containers, a join with filters pushed to both servers,
 * visible in explain and in the call log of the datadictionary).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import mariadb from 'mariadb';
import pg from 'pg';
import { openSession } from '../../src/engine/index.js';
import type { Session } from '../../src/engine/api.js';
import { SluiceError } from '../../src/util/errors.js';
import { rows, runAll } from './helpers.js';

const PG = { alias: 'pg', provider: 'PostgreSQL', options: { host: '127.0.0.1', port: '5432', user: 'root', database: 'test' } };
const MARIA = { alias: 'maria', provider: 'MariaDB', options: { host: '127.0.0.1', port: '3306', user: 'root', database: 'test' } };
const suffix = randomBytes(4).toString('hex');

async function failure(p: Promise<unknown>): Promise<SluiceError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof SluiceError, `not a SluiceError: ${String(e)}`);
    return e;
  }
  assert.fail('expected an error');
}

describe('files through SQL', () => {
  const root = mkdtempSync(join(tmpdir(), 'sluice-engine-files-'));
  let s: Session;
  before(async () => {
    writeFileSync(join(root, 'people.csv'), 'id;name;born;score\r\n1;Anna;1990-04-01;7.5\r\n2;Bert;1985-12-31;\r\n3;Cees;;9\r\n');
    writeFileSync(join(root, 'orders.json'), JSON.stringify([{ nr: 10, person: 1, total: 12.5 }, { nr: 11, person: 3, total: 100 }, { nr: 12, person: 1, total: 0.5 }]));
    writeFileSync(join(root, 'events.ndjson'), '{"person":2,"kind":"login","at":"2024-05-01T10:00:00Z"}\n{"person":1,"kind":"logout","at":"2024-05-02T11:30:00Z"}\n');
    s = await openSession({
      containers: [
        { alias: 'files', provider: 'Files', options: { root } },
        { alias: 'sheets', provider: 'Files', options: { root, format: 'xlsx' } },
        { alias: 'jsonfiles', provider: 'Files', options: { root, format: 'json' } },
        { alias: 'ndjsonfiles', provider: 'Files', options: { root, format: 'ndjson' } },
      ],
    });
  });
  after(async () => {
    await s.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('reads files as tables, with inferred types, and joins them', async () => {
    const r = await rows(
      s,
      `select p.name, p.born, sum(o.total) total from people@files p join orders@files o on o.person = p.id
       group by p.name, p.born order by p.name`,
    );
    assert.deepEqual(r, [['Anna', new Date('1990-04-01T00:00:00Z'), 13], ['Cees', null, 100]]);
    const types = await rows(s, "select name, type from systemcolumns where container = 'files' and table_name = 'people' order by position");
    assert.deepEqual(types, [['id', 'integer'], ['name', 'varchar'], ['born', 'date'], ['score', 'decimal']]);
  });

  it('reads through the csv(), json() and ndjson() table functions', async () => {
    assert.deepEqual(await rows(s, "select count(*) n, max(score) m from csv('people.csv')@files"), [[3, 9]]);
    assert.deepEqual(await rows(s, "select nr from json('orders.json')@files where total > 10 order by nr"), [[10], [11]]);
    assert.deepEqual(await rows(s, "select e.kind from ndjson('events.ndjson')@files e where e.person = 2"), [['login']]);
    assert.deepEqual(await rows(s, "select id, name from csv('people.csv', ';')@files where id = 2"), [[2, 'Bert']]);
  });

  it('writes: create table … as select to csv, xlsx, json and ndjson, insert appends, and the xlsx() function reads it back', async () => {
    await runAll(s, "create table big_orders@files as select o.nr, p.name, o.total from orders@files o join people@files p on p.id = o.person where o.total >= 1");
    assert.ok(existsSync(join(root, 'big_orders.csv')));
    await runAll(s, "insert into big_orders@files (nr, name, total) values (99, 'Dirk', 1.25)");
    assert.deepEqual(await rows(s, 'select nr, name, total from big_orders@files order by nr'), [[10, 'Anna', 12.5], [11, 'Cees', 100], [99, 'Dirk', 1.25]]);
    assert.match(readFileSync(join(root, 'big_orders.csv'), 'utf8'), /^nr,name,total\r?\n/);

    await runAll(s, 'create table ledger@sheets as select nr, total from orders@files order by nr');
    assert.deepEqual(await rows(s, "select nr, total from xlsx('ledger.xlsx')@files order by nr"), [[10, 12.5], [11, 100], [12, 0.5]]);
    await runAll(s, 'drop table ledger@sheets');
    assert.equal(existsSync(join(root, 'ledger.xlsx')), false);

    // JSON and NDJSON too, read back through their functions with the same types.
    await runAll(s, "create table people_json@jsonfiles as select id, name, born, score from people@files");
    await runAll(s, "create table people_lines@ndjsonfiles as select id, name, born, score from people@files where id <> 2");
    assert.deepEqual(await rows(s, "select id, name, born, score from json('people_json.json')@files order by id"), [
      [1, 'Anna', new Date('1990-04-01T00:00:00Z'), 7.5],
      [2, 'Bert', new Date('1985-12-31T00:00:00Z'), null],
      [3, 'Cees', null, 9],
    ]);
    await runAll(s, "insert into people_lines@ndjsonfiles (id, name) values (4, 'Door')");
    assert.deepEqual(await rows(s, "select id, name from ndjson('people_lines.ndjson')@files order by id"), [[1, 'Anna'], [3, 'Cees'], [4, 'Door']]);
  });

  it('says what is wrong with a missing file or a bad argument, with a code', async () => {
    const missing = await failure(rows(s, "select 1 from dual;\nselect * from people@files, csv('nope.csv')@files"));
    assert.equal(missing.code, 'FMT031');
    assert.match(missing.message, /nope\.csv does not exist/);
    // Located at the call, with the line and a caret.
    assert.deepEqual([missing.details.location?.line, missing.details.location?.column], [2, 29]);
    assert.match(missing.format(), /\n {30}\^/);
    const outside = await failure(rows(s, "select * from csv('../../etc/passwd')@files"));
    assert.equal(outside.code, 'FIL002');
    assert.match(outside.message, /outside the container's root/);
    assert.equal((await failure(rows(s, 'select * from csv()@files'))).code, 'FIL001');
  });
});

describe('MariaDB and PostgreSQL through SQL', () => {
  const mTable = `sl_eng_cust_${suffix}`;
  const pTable = `sl_eng_inv_${suffix}`;
  const copy = `sl_eng_copy_${suffix}`;
  const made = `sl_eng_made_${suffix}`;
  let s: Session;

  before(async () => {
    const m = await mariadb.createConnection({ host: '127.0.0.1', port: 3306, database: 'test', user: 'root' });
    await m.query(`create table ${mTable} (code varchar(10) primary key, name varchar(50), city varchar(30), credit decimal(12,2))`);
    const values = Array.from({ length: 200 }, (_, i) => `('C${String(i).padStart(3, '0')}', 'Customer ${i}', '${i % 4 === 0 ? 'Zwolle' : 'Assen'}', ${i * 10}.5)`);
    await m.query(`insert into ${mTable} values ${values.join(', ')}`);
    await m.end();
    const p = new pg.Client({ connectionString: 'postgres://root@127.0.0.1:5432/test' });
    await p.connect();
    await p.query(`create table ${pTable} (nr integer primary key, customer varchar(10), amount numeric(12,2), booked date)`);
    await p.query(`insert into ${pTable} select g, 'C' || lpad((g % 200)::text, 3, '0'), g * 1.5, date '2024-01-01' + g from generate_series(1, 1000) g`);
    await p.end();
    s = await openSession({ containers: [PG, MARIA] });
  });

  after(async () => {
    await s?.close();
    const m = await mariadb.createConnection({ host: '127.0.0.1', port: 3306, database: 'test', user: 'root' });
    await m.query(`drop table if exists ${mTable}, ${made}`);
    await m.end();
    const p = new pg.Client({ connectionString: 'postgres://root@127.0.0.1:5432/test' });
    await p.connect();
    await p.query(`drop table if exists ${pTable}, ${copy}`);
    await p.end();
  });

  it('queries, inserts into, updates and deletes from a MariaDB table', async () => {
    assert.deepEqual(await rows(s, `select count(*) n, sum(credit) c from ${mTable}@maria where city = 'Zwolle'`), [[50, 49025]]);
    await runAll(s, `insert into ${mTable}@maria (code, name, city, credit) values ('X1', 'Nieuw', 'Emmen', 1.25)`);
    await runAll(s, `update ${mTable}@maria set credit = 2.5 where code = 'X1'`);
    assert.deepEqual(await rows(s, `select name, credit from ${mTable}@maria where code = 'X1'`), [['Nieuw', 2.5]]);
    await runAll(s, `delete from ${mTable}@maria where code = 'X1'`);
    assert.deepEqual(await rows(s, `select count(*) from ${mTable}@maria`), [[200]]);
    await runAll(s, `create table ${made}@maria as select code, credit from ${mTable}@maria where credit < 30`);
    assert.deepEqual(await rows(s, `select code, credit from ${made}@maria order by code`), [['C000', 0.5], ['C001', 10.5], ['C002', 20.5]]);
  });

  it('copies across containers: create table x@pg as select … from y@maria', async () => {
    const [done] = await runAll(s, `create table ${copy}@pg as select code, name, credit from ${mTable}@maria where city = 'Zwolle'`);
    assert.equal(done.kind, 'done');
    assert.deepEqual(await rows(s, `select count(*), min(code), max(credit) from ${copy}@pg`), [[50, 'C000', 1960.5]]);
    const p = new pg.Client({ connectionString: 'postgres://root@127.0.0.1:5432/test' });
    await p.connect();
    const direct = await p.query(`select count(*)::int n from ${copy} where name like 'Customer %'`);
    await p.end();
    assert.equal(direct.rows[0].n, 50);
  });

  it('joins pg with mariadb, pushing each side\'s filter to its server (explain and call log)', async () => {
    const sql = `select c.city, count(*) n, sum(i.amount) total
      from ${pTable}@pg i join ${mTable}@maria c on c.code = i.customer
      where i.nr <= 100 and c.city = 'Zwolle'
      group by c.city`;
    const [plan] = await runAll(s, `explain ${sql}`);
    const text = plan.lines!.join('\n');
    assert.match(text, /filter: nr <= 100 — exact \(done remotely\)/, text);
    assert.match(text, /SQL: SELECT [^\n]* WHERE "nr" <= \$1/, text);
    // MariaDB compares text case-insensitively, so DuckDB re-applies the filter; the server still filters.
    assert.match(text, /filter: city = 'Zwolle' — inexact/, text);
    assert.match(text, /SQL: SELECT [^\n]* WHERE `city` = \?/, text);

    await runAll(s, 'select 1 from dual');
    const before = (await rows(s, 'select count(*) from sessionios'))[0][0] as number;
    // nr 4, 8, …, 100 have a customer whose number is a multiple of 4 (Zwolle): 25 invoices, amounts 1.5 × nr.
    assert.deepEqual(await rows(s, sql), [['Zwolle', 25, 1.5 * (25 * 26 * 2)]]);
    const calls = await rows(s, `select container, method, url, rows from sessionios order by at`);
    const mine = calls.slice(before);
    const pgCalls = mine.filter((c) => c[0] === 'pg');
    const mariaCalls = mine.filter((c) => c[0] === 'maria');
    assert.ok(pgCalls.length > 0 && mariaCalls.length > 0, JSON.stringify(mine));
    // Only the filtered rows crossed the wire: 100 invoices of 1,000, 50 customers of 200.
    assert.equal(pgCalls.reduce((n, c) => n + Number(c[3]), 0), 100);
    assert.equal(mariaCalls.reduce((n, c) => n + Number(c[3]), 0), 50);
    for (const c of mine) assert.doesNotMatch(String(c[2]), /password|secret/i);
  });
});

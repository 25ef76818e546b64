/**
 * Golden tests: every statement form in the dialect design parses into the
 * tree it means.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseScript, parseStatement } from '../../src/sql/index.js';
import { DIALECT_EXAMPLES } from './corpus.js';
import { col, num, query, select, str, strip } from './helpers.js';

const stmt = (text: string): unknown => strip(parseStatement(text));
const tn = (name: string, extra: Record<string, string> = {}): unknown => ({ kind: 'TableName', ...extra, name });

test('every example in the dialect design parses into the statement its first word names', () => {
  const kindOf: Record<string, string> = {
    select: 'QueryStatement', with: 'QueryStatement', use: 'Use', set: 'Set', create: 'CreateTable', drop: 'DropTable',
    insert: 'Insert', update: 'Update', delete: 'Delete', explain: 'Explain', synchronize: 'Synchronize',
  };
  for (const sql of DIALECT_EXAMPLES) {
    const first = sql.split(' ')[0].toLowerCase();
    assert.equal(parseStatement(sql).kind, kindOf[first], sql);
  }
});

test('use: all, default, codes per container, codes alone, queries', () => {
  assert.deepEqual(stmt('use all'), { kind: 'Use', items: [{ kind: 'all' }] });
  assert.deepEqual(stmt('USE DEFAULT'), { kind: 'Use', items: [{ kind: 'default' }] });
  assert.deepEqual(stmt('use all@eol, default@vismanet'), {
    kind: 'Use',
    items: [{ kind: 'all', container: 'eol' }, { kind: 'default', container: 'vismanet' }],
  });
  assert.deepEqual(stmt('use 23423, 345345'), {
    kind: 'Use',
    items: [{ kind: 'code', code: '23423' }, { kind: 'code', code: '345345' }],
  });
  const u = parseStatement("use select code, 'eol' from systemdivisions@eol where description like '%Drenthe%'");
  assert.equal(u.kind, 'Use');
  if (u.kind !== 'Use') return;
  assert.equal(u.items[0].kind, 'query');
  const mixed = parseStatement('use 102673@eolnl, select code from systemdivisions@vismanet');
  assert.deepEqual(
    mixed.kind === 'Use' ? mixed.items.map((i) => i.kind) : [],
    ['code', 'query'],
  );
});

test('set: name value, name@container value, string and number values', () => {
  assert.deepEqual(stmt('set name value'), { kind: 'Set', name: 'name', value: 'value' });
  assert.deepEqual(stmt('set name@container value'), { kind: 'Set', name: 'name', container: 'container', value: 'value' });
  assert.deepEqual(stmt("set label 'hello world'"), { kind: 'Set', name: 'label', value: 'hello world' });
  assert.deepEqual(stmt('set use-http-disk-cache@eol false'), { kind: 'Set', name: 'use-http-disk-cache', container: 'eol', value: 'false' });
  assert.deepEqual(stmt('set offset -3'), { kind: 'Set', name: 'offset', value: '-3' });
});

test('create table as select, with column definitions, or replace, if not exists', () => {
  const c = parseStatement('create or replace table t@inmemorystorage as select * from accounts');
  assert.equal(c.kind, 'CreateTable');
  if (c.kind !== 'CreateTable') return;
  assert.equal(c.orReplace, true);
  assert.equal(c.ifNotExists, false);
  assert.deepEqual(strip(c.name), tn('t', { container: 'inmemorystorage' }));
  assert.ok(c.query);
  assert.deepEqual(stmt('create table if not exists t@c (id int not null primary key, name varchar(50), amount number(10, 2))'), {
    kind: 'CreateTable',
    orReplace: false,
    ifNotExists: true,
    name: tn('t', { container: 'c' }),
    columns: [
      { name: 'id', type: { kind: 'TypeName', name: 'int', args: [] }, notNull: true, primaryKey: true },
      { name: 'name', type: { kind: 'TypeName', name: 'varchar', args: [50] }, notNull: false, primaryKey: false },
      { name: 'amount', type: { kind: 'TypeName', name: 'number', args: [10, 2] }, notNull: false, primaryKey: false },
    ],
  });
});

test('drop table [if exists]', () => {
  assert.deepEqual(stmt('drop table t@c'), { kind: 'DropTable', ifExists: false, name: tn('t', { container: 'c' }) });
  assert.deepEqual(stmt('drop table if exists s.t'), { kind: 'DropTable', ifExists: true, name: tn('t', { schema: 's' }) });
});

test('insert values and insert select', () => {
  assert.deepEqual(stmt("insert into t@c (a, b) values (1, 'x'), (2, 'y')"), {
    kind: 'Insert',
    table: tn('t', { container: 'c' }),
    columns: ['a', 'b'],
    source: { kind: 'Values', rows: [[num('1'), str('x')], [num('2'), str('y')]] },
  });
  const s = parseStatement('insert into t@c select a, b from u');
  assert.equal(s.kind === 'Insert' && s.source.kind, 'Query');
  assert.deepEqual(s.kind === 'Insert' ? s.columns : null, []);
  const p = parseStatement('insert into t@c (select a from u)');
  assert.equal(p.kind === 'Insert' && p.source.kind, 'Query');
});

test('update with alias and several assignments; delete with and without from', () => {
  assert.deepEqual(stmt("update t@c x set a = 1, x.b = 'y' where id = 3"), {
    kind: 'Update',
    table: tn('t', { container: 'c' }),
    alias: 'x',
    assignments: [{ column: 'a', value: num('1') }, { column: 'b', value: str('y') }],
    where: { kind: 'Binary', op: '=', left: col('id'), right: num('3') },
  });
  assert.deepEqual(stmt('delete from t@c where id = 3'), {
    kind: 'Delete',
    table: tn('t', { container: 'c' }),
    where: { kind: 'Binary', op: '=', left: col('id'), right: num('3') },
  });
  assert.deepEqual(stmt('delete t d'), { kind: 'Delete', table: tn('t'), alias: 'd' });
});

test('explain wraps any statement', () => {
  const e = parseStatement('explain select * from accounts');
  assert.equal(e.kind, 'Explain');
  assert.equal(e.kind === 'Explain' && e.statement.kind, 'QueryStatement');
});

test('synchronize: to and from normalise to source and target, with direction', () => {
  const to = parseStatement('synchronize a@x to b@y with insert or update or delete identified by code');
  const from = parseStatement('synchronize b@y from a@x with insert or update or delete identified by code');
  assert.equal(to.kind, 'Synchronize');
  assert.equal(from.kind, 'Synchronize');
  if (to.kind !== 'Synchronize' || from.kind !== 'Synchronize') return;
  assert.deepEqual(strip(to.source), tn('a', { container: 'x' }));
  assert.deepEqual(strip(to.target), tn('b', { container: 'y' }));
  assert.deepEqual(strip(from.source), strip(to.source));
  assert.deepEqual(strip(from.target), strip(to.target));
  assert.equal(to.direction, 'to');
  assert.equal(from.direction, 'from');
  assert.deepEqual(strip(to.actions), [{ action: 'insert' }, { action: 'update' }, { action: 'delete' }]);
});

test('synchronize: per-action caps, ignore changes, ignore nulls, continue on errors', () => {
  assert.deepEqual(
    stmt(
      'synchronize a to b with insert exit after 100 rows or update error after 10 rows or delete exit after 0 rows ' +
        'identified by id, code ignore changes to modified, creator ignore nulls continue on first 5 errors',
    ),
    {
      kind: 'Synchronize',
      source: tn('a'),
      target: tn('b'),
      direction: 'to',
      actions: [
        { action: 'insert', cap: { mode: 'exit', rows: 100 } },
        { action: 'update', cap: { mode: 'error', rows: 10 } },
        { action: 'delete', cap: { mode: 'exit', rows: 0 } },
      ],
      identifiedBy: ['id', 'code'],
      ignoreChanges: ['modified', 'creator'],
      ignoreNulls: true,
      continueOnErrors: 5,
    },
  );
});

test('synchronize: optional clauses in any order', () => {
  const a = stmt('synchronize a to b with insert identified by id ignore nulls ignore changes to x');
  const b = stmt('synchronize a to b ignore nulls identified by id ignore changes to x with insert');
  assert.deepEqual(a, b);
});

test('table names: schema, catalog.schema, catalog..name, containers, quoted parts', () => {
  const from = (sql: string): unknown => strip(select(sql).from);
  assert.deepEqual(from('select * from crm.accounts'), [{ kind: 'TableRef', name: tn('accounts', { schema: 'crm' }) }]);
  assert.deepEqual(from('select * from exactonlinerest.crm.accounts a'), [
    { kind: 'TableRef', name: tn('accounts', { catalog: 'exactonlinerest', schema: 'crm' }), alias: 'a' },
  ]);
  assert.deepEqual(from('select * from exactonlinerest..accounts@eolnl'), [
    { kind: 'TableRef', name: tn('accounts', { catalog: 'exactonlinerest', container: 'eolnl' }) },
  ]);
  assert.deepEqual(from('select * from "my table"@[in memory]'), [
    { kind: 'TableRef', name: tn('my table', { container: 'in memory' }) },
  ]);
});

test('statements separated by semicolons, by statement keywords, and empty statements', () => {
  const s = parseScript(';;select 1 from t;; select 2 from u\nupdate t set a = 1\n;');
  assert.deepEqual(
    s.statements.map((x) => x.kind),
    ['QueryStatement', 'QueryStatement', 'Update'],
  );
  assert.deepEqual(parseScript('  -- nothing\n;;').statements, []);
});

test('with: several CTEs with column lists', () => {
  const q = query('with x(a, b) as (select 1, 2), y as (select a from x) select * from x, y');
  assert.deepEqual(
    q.with.map((c) => [c.name, c.columns]),
    [['x', ['a', 'b']], ['y', []]],
  );
  assert.equal(select('select a from t').from.length, 1);
});

test('a WITH query right after a synchronize starts a new statement', () => {
  const script = parseScript('synchronize a to b with insert identified by id\nwith x as (select 1 as v) select v from x');
  assert.deepEqual(
    script.statements.map((s) => s.kind),
    ['Synchronize', 'QueryStatement'],
  );
});

/**
 * The files provider over a real folder: files and sheets as tables, table
 * functions, create/insert/drop with atomic writes, and refusal of paths
 * outside the root.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { filesProvider } from '../../../src/providers/files/index.js';
import type { Container, ScanRequest, TableInfo } from '../../../src/provider/types.js';
import { SluiceError } from '../../../src/util/errors.js';
import { collect, testEnv } from '../env.js';

async function folder(): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), 'sluice-files-'));
  writeFileSync(join(root, 'accounts.csv'), 'code;name;balance\n0100;Kas;1.234,50\n0200;Bank;-10,00\n');
  writeFileSync(join(root, 'items.json'), '[{"id":1,"name":"Stoel"},{"id":2,"name":"Tafel"}]');
  mkdirSync(join(root, 'sub'));
  writeFileSync(join(root, 'sub', 'events.ndjson'), '{"n":1}\n{"n":2}\n{"n":3}\n');
  writeFileSync(join(root, 'notes.txt.bak'), 'ignored');
  const wb = new ExcelJS.Workbook();
  wb.addWorksheet('Jan').addRows([['day', 'sales'], [1, 10], [2, 20]]);
  wb.addWorksheet('Feb').addRows([['day', 'sales'], [1, 30]]);
  await wb.xlsx.writeFile(join(root, 'sales.xlsx'));
  return root;
}

async function connect(root: string, extra: Record<string, string> = {}): Promise<Container> {
  return filesProvider.connect({ alias: 'files', provider: 'Files', options: { root, ...extra } }, testEnv());
}

function table(c: Container, name: string): TableInfo {
  const t = c.tables().find((x) => x.name === name);
  assert.ok(t, `table ${name} exists; have ${c.tables().map((x) => x.name).join(', ')}`);
  return t;
}

async function rows(c: Container, t: TableInfo, request: Partial<ScanRequest> = {}) {
  const plan = c.plan(t, { columns: t.columns.map((x) => x.name), conjuncts: [], ...request });
  return collect(c.scan(plan, undefined, { signal: new AbortController().signal }));
}

test('every data file under root is a table, workbooks also per sheet', async () => {
  const c = await connect(await folder());
  const names = c.tables().filter((t) => t.parameters === undefined).map((t) => `${t.schema}.${t.name}`);
  assert.deepEqual(names.sort(), ['files.accounts', 'files.items', 'files.sales', 'files.sales.Feb', 'files.sales.Jan', 'sub.events'].sort());
  const accounts = table(c, 'accounts');
  assert.equal(accounts.scope, 'system');
  assert.deepEqual(
    accounts.columns.map((x) => [x.name, x.type]),
    [
      ['code', 'varchar'],
      ['name', 'varchar'],
      ['balance', 'decimal'],
    ],
  );
  assert.deepEqual(await rows(c, accounts), [
    ['0100', 'Kas', 1234.5],
    ['0200', 'Bank', -10],
  ]);
  assert.deepEqual(await rows(c, table(c, 'sales.Feb')), [[1, 30]]);
  assert.deepEqual(await rows(c, table(c, 'sales')), [
    [1, 10],
    [2, 20],
  ]);
  assert.deepEqual(await rows(c, table(c, 'events'), { columns: ['n'], limit: 2 }), [[1], [2]]);
  await c.close();
});

test('predicates are left to the engine and a limit is honoured only without them', async () => {
  const c = await connect(await folder());
  const t = table(c, 'events');
  const plan = c.plan(t, { columns: ['n'], conjuncts: [{ kind: 'compare', column: 'n', op: '>', value: 1 }], limit: 1 });
  assert.deepEqual(plan.conjuncts, ['unsupported']);
  assert.equal(plan.limitApplied, false);
  assert.equal(plan.estimatedCallsPerPartition, 0);
});

test('table functions read a file given as argument, with columns from describe()', async () => {
  const root = await folder();
  const c = await connect(root);
  const csv = table(c, 'csv');
  assert.deepEqual(csv.parameters?.map((p) => p.name), ['path', 'delimiter']);
  const described = await c.describe!(csv, ['accounts.csv']);
  assert.deepEqual(described.columns.map((x) => x.name), ['code', 'name', 'balance']);
  const plan = c.plan(described, { columns: ['name'], conjuncts: [], arguments: ['accounts.csv'] });
  assert.deepEqual(await collect(c.scan(plan, undefined, { signal: new AbortController().signal })), [['Kas'], ['Bank']]);

  const xlsx = table(c, 'xlsx');
  const feb = c.plan(xlsx, { columns: ['sales'], conjuncts: [], arguments: [join(root, 'sales.xlsx'), 'Feb'] });
  assert.deepEqual(await collect(c.scan(feb, undefined, { signal: new AbortController().signal })), [[30]]);

  assert.throws(
    () => c.plan(csv, { columns: [], conjuncts: [], arguments: ['../../etc/passwd'] }),
    (e: unknown) => e instanceof SluiceError && e.code === 'FIL002',
  );
  assert.throws(() => c.plan(csv, { columns: [], conjuncts: [], arguments: [] }), (e: unknown) => e instanceof SluiceError && e.code === 'FIL001');
});

for (const format of ['csv', 'json', 'ndjson', 'xlsx'] as const) {
  test(`${format}: create table, insert twice, read back typed rows, drop`, async () => {
    const root = mkdtempSync(join(tmpdir(), 'sluice-files-'));
    const c = await connect(root, { format });
    const created = await c.createTable!(
      'journal',
      [
        { name: 'id', type: 'integer', nullable: false },
        { name: 'text', type: 'varchar', nullable: true },
        { name: 'day', type: 'date', nullable: true },
      ],
      { orReplace: false, ifNotExists: false },
    );
    assert.ok(existsSync(join(root, `journal.${format}`)));
    assert.deepEqual(created.columns.map((x) => x.type), ['integer', 'varchar', 'date']);
    const signal = new AbortController().signal;
    for await (const r of c.write!(created, {
      op: 'insert',
      rows: { columns: ['id', 'text', 'day'], rows: [[1, 'één, "twee"\ndrie', new Date(Date.UTC(2024, 0, 31))], [2, null, null]] },
      signal,
    })) {
      assert.equal(r.ok, true);
    }
    const results = [];
    for await (const r of c.write!(table(c, 'journal'), { op: 'insert', rows: { columns: ['text', 'id'], rows: [['x', 3], ['bad', 'not a number']] }, signal })) {
      results.push(r);
    }
    assert.deepEqual(
      results.map((r) => [r.index, r.ok]),
      [
        [0, true],
        [1, false],
      ],
    );
    assert.match(results[1].message ?? '', /id is not a integer/);
    const t = table(c, 'journal');
    assert.deepEqual(await rows(c, t), [
      [1, 'één, "twee"\ndrie', new Date(Date.UTC(2024, 0, 31))],
      [2, null, null],
      [3, 'x', null],
    ]);
    assert.deepEqual(readdirSync(root).filter((f) => f.endsWith('.tmp')), [], 'no temporary files left');
    await assert.rejects(c.createTable!('journal', [{ name: 'a', type: 'integer', nullable: true }], { orReplace: false, ifNotExists: false }), /already exists/);
    await c.dropTable!('journal', { ifExists: false });
    assert.ok(!existsSync(join(root, `journal.${format}`)));
    assert.equal(c.tables().some((x) => x.name === 'journal'), false);
    await c.dropTable!('journal', { ifExists: true });
  });
}

test('inserts into a semicolon CSV keep its delimiter', async () => {
  const root = await folder();
  const c = await connect(root);
  const t = table(c, 'accounts');
  for await (const r of c.write!(t, { op: 'insert', rows: { columns: ['code', 'name'], rows: [['0300', 'Debiteuren']] }, signal: new AbortController().signal })) {
    assert.equal(r.ok, true);
  }
  const text = readFileSync(join(root, 'accounts.csv'), 'utf8');
  assert.ok(text.endsWith('0300;Debiteuren;\r\n'), text);
  assert.equal((await rows(c, table(c, 'accounts'))).length, 3);
});

test('inserts into a Dutch CSV write its decimal comma and day-first dates, so the columns keep their types', async () => {
  const root = mkdtempSync(join(tmpdir(), 'sluice-files-'));
  writeFileSync(join(root, 'bank.csv'), 'datum;omschrijving;bedrag;geboekt\n31-12-2024;Huur;-1.234,56;31-12-2024 09:15\n02-01-2025;Rente;0,15;02-01-2025 10:00\n');
  const c = await connect(root);
  const before = table(c, 'bank').columns.map((x) => [x.name, x.type]);
  assert.deepEqual(before, [['datum', 'date'], ['omschrijving', 'varchar'], ['bedrag', 'decimal'], ['geboekt', 'timestamp']]);
  const row = [new Date(Date.UTC(2025, 1, 1)), 'Nieuw', 10.5, new Date(Date.UTC(2025, 1, 1, 8, 30))];
  for await (const r of c.write!(table(c, 'bank'), { op: 'insert', rows: { columns: ['datum', 'omschrijving', 'bedrag', 'geboekt'], rows: [row] }, signal: new AbortController().signal })) {
    assert.equal(r.ok, true);
  }
  const text = readFileSync(join(root, 'bank.csv'), 'utf8');
  assert.ok(text.endsWith('01-02-2025;Nieuw;10,5;01-02-2025 08:30:00\r\n'), text);
  const t = table(c, 'bank');
  assert.deepEqual(t.columns.map((x) => [x.name, x.type]), before);
  const all = await rows(c, t);
  assert.deepEqual(all.map((r) => r[2]), [-1234.56, 0.15, 10.5]);
});

test('an unreadable file is listed and its error is reported when scanned', async () => {
  const root = mkdtempSync(join(tmpdir(), 'sluice-files-'));
  writeFileSync(join(root, 'broken.json'), '[{"a":1},');
  const c = await connect(root);
  const t = table(c, 'broken');
  await assert.rejects(rows(c, t), (e: unknown) => e instanceof SluiceError && e.code === 'FMT010' && /broken\.json/.test(e.message));
});

test('a root that is not a folder is refused', async () => {
  await assert.rejects(connect(join(tmpdir(), 'no-such-sluice-folder')), (e: unknown) => e instanceof SluiceError && e.code === 'FIL031');
});

test('recursive=false reads only the top folder; node_modules is never searched', async () => {
  const root = await folder();
  mkdirSync(join(root, 'node_modules', 'pkg'), { recursive: true });
  writeFileSync(join(root, 'node_modules', 'pkg', 'package.json'), '[{"a":1}]');
  const all = await connect(root);
  assert.equal(all.tables().some((t) => t.name === 'package'), false);
  assert.equal(all.tables().some((t) => t.name === 'events'), true);
  const top = await connect(root, { recursive: 'false' });
  assert.equal(top.tables().some((t) => t.name === 'events'), false);
  assert.equal(top.tables().some((t) => t.name === 'accounts'), true);
});

test('a workbook with several sheets takes no inserts (a rewrite would lose the other sheets)', async () => {
  const c = await connect(await folder());
  const sales = table(c, 'sales');
  assert.equal(sales.writable.insert, false);
  await assert.rejects(
    (async () => {
      for await (const _r of c.write!(sales, { op: 'insert', rows: { columns: ['day'], rows: [[3]] }, signal: new AbortController().signal })) {
        // consume
      }
    })(),
    (e: unknown) => e instanceof SluiceError && e.code === 'FIL010',
  );
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { SluiceError } from '../../src/util/errors.js';
import { FakeSession, type FakeAnswer } from './fake-session.js';
import { cli } from './helpers.js';

const ACCOUNTS: FakeAnswer = {
  columns: [
    { name: 'code', type: 'integer' },
    { name: 'name', type: 'varchar' },
    { name: 'since', type: 'date' },
  ],
  rows: [
    [1, 'Bakkerij De Vries', new Date(Date.UTC(2024, 2, 1))],
    [2, 'Jansen, "Smit" & Zn.', null],
    [3, 'Visser', new Date(Date.UTC(2025, 11, 31))],
  ],
};

function session(): FakeSession {
  return new FakeSession({
    'select * from accounts': ACCOUNTS,
    'insert into t@inmemorystorage (a) values (1)': { message: '1 row inserted into t@inmemorystorage' },
    'explain select * from accounts': { explain: ['scan accounts@eol: $filter Code eq 1', 'estimated remote calls: 1'] },
    'select * from broken': { error: new Error('socket hang up\n    at secret stack line') },
    'select * from partial': { columns: [{ name: 'x', type: 'integer' }], rows: [[1]], warnings: ['partition 2 of eol failed: 401'] },
    // What the engine reports for one failed partition: the structured failure and a warning naming the table.
    'select * from halfway': {
      columns: [{ name: 'x', type: 'integer' }],
      rows: [[1]],
      failedPartitions: [{ container: 'vismanet', partition: '1896329', message: 'invalid_client' }],
      warnings: ['Partition 1896329 of vismanet failed reading customer_getall: invalid_client'],
    },
    'select * from lost': { columns: [{ name: 'x', type: 'integer' }], rows: [], failedPartitions: [{ container: 'eol', partition: '7', message: 'timeout' }] },
  });
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'sluice-cli-'));
}

test('query prints a table on stdout and exits 0', async () => {
  const s = session();
  const r = await cli(['query', 'select * from accounts'], s);
  assert.equal(r.code, 0);
  assert.equal(r.stderr, '');
  assert.match(r.stdout, /^ code \| name {17}\| since\n/);
  assert.match(r.stdout, / {4}1 \| Bakkerij De Vries {4}\| 2024-03-01\n/);
  assert.match(r.stdout, /\(3 rows\)\n$/);
  assert.equal(s.closed, true);
});

test('query --format csv writes RFC 4180 CSV', async () => {
  const r = await cli(['query', '--format', 'csv', 'select * from accounts'], session());
  assert.equal(r.code, 0);
  assert.equal(r.stdout, 'code,name,since\r\n1,Bakkerij De Vries,2024-03-01\r\n2,"Jansen, ""Smit"" & Zn.",\r\n3,Visser,2025-12-31\r\n');
});

test('query --format json and ndjson write parseable JSON', async () => {
  const json = await cli(['query', '-f', 'json', 'select * from accounts'], session());
  assert.equal(json.code, 0);
  const rows = JSON.parse(json.stdout) as Record<string, unknown>[];
  assert.deepEqual(rows[1], { code: 2, name: 'Jansen, "Smit" & Zn.', since: null });
  assert.equal(rows[0].since, '2024-03-01');
  const nd = await cli(['query', '--format=ndjson', 'select * from accounts'], session());
  const lines = nd.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(lines.length, 3);
  assert.equal(lines[2].name, 'Visser');
});

test('--output writes the result to a file and keeps stdout empty', async () => {
  const dir = tempDir();
  try {
    const file = join(dir, 'accounts.csv');
    const r = await cli(['query', '--format', 'csv', '--output', file, 'select * from accounts'], session());
    assert.equal(r.code, 0);
    assert.equal(r.stdout, '');
    assert.match(readFileSync(file, 'utf8'), /^code,name,since\r\n1,Bakkerij De Vries/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('xlsx needs --output, and with it writes a workbook Excel can read', async () => {
  const refused = await cli(['query', '--format', 'xlsx', 'select * from accounts'], session());
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /CLI002: The xlsx format writes a file[^\n]*\n {2}hint: Add --output FILE\.xlsx\./);

  const dir = tempDir();
  try {
    const file = join(dir, 'accounts.xlsx');
    const r = await cli(['query', '--format', 'xlsx', '--output', file, 'select * from accounts'], session());
    assert.equal(r.code, 0, r.stderr);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(file);
    const sheet = wb.worksheets[0];
    assert.deepEqual((sheet.getRow(1).values as unknown[]).slice(1), ['code', 'name', 'since']);
    assert.equal(sheet.getRow(2).getCell(2).value, 'Bakkerij De Vries');
    assert.equal(sheet.getRow(4).getCell(1).value, 3);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a second result set in xlsx goes to NAME-2.xlsx and stderr says so', async () => {
  const dir = tempDir();
  try {
    const file = join(dir, 'out.xlsx');
    const r = await cli(['query', '-f', 'xlsx', '-o', file, 'select * from accounts; select * from accounts'], session());
    assert.equal(r.code, 0, r.stderr);
    assert.ok(existsSync(join(dir, 'out-2.xlsx')));
    assert.match(r.stderr, /Result set 2 written to .*out-2\.xlsx/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an unknown format is a usage error (exit 2) before anything runs', async () => {
  const s = session();
  const r = await cli(['query', '--format', 'yaml', 'select * from accounts'], s);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /Unknown output format "yaml"/);
  assert.deepEqual(s.executed, []);
});

test('statement messages go to stderr, so stdout holds only data', async () => {
  const r = await cli(['query', '-f', 'csv', 'insert into t@inmemorystorage (a) values (1); select * from accounts'], session());
  assert.equal(r.code, 0);
  assert.equal(r.stderr, '1 row inserted into t@inmemorystorage\n');
  assert.match(r.stdout, /^code,name,since\r\n/);
});

test('warnings from a statement summary go to stderr', async () => {
  const r = await cli(['query', 'select * from partial'], session());
  assert.equal(r.code, 0);
  assert.equal(r.stderr, 'warning: partition 2 of eol failed: 401\n');
});

test('a failed partition is reported once, not as a warning and again as a failure', async () => {
  const r = await cli(['query', 'select * from halfway'], session());
  assert.equal(r.code, 0);
  assert.equal(r.stderr, 'warning: Partition 1896329 of vismanet failed reading customer_getall: invalid_client\n');
  const bare = await cli(['query', 'select * from lost'], session());
  assert.equal(bare.stderr, 'warning: partition 7 of eol failed: timeout\n');
});

test('explain prints its plan lines on stdout', async () => {
  const r = await cli(['query', 'explain select * from accounts'], session());
  assert.equal(r.code, 0);
  assert.equal(r.stdout, 'scan accounts@eol: $filter Code eq 1\nestimated remote calls: 1\n');
});

test('a failing statement exits 1 with code, position and caret on stderr; later statements do not run', async () => {
  const s = session();
  const r = await cli(['query', 'select * from accounts; selct 1; select * from accounts'], s);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'SQL100: The fake does not know "selct 1".\n  at line 1, column 1\n  selct 1\n  ^\n');
  assert.deepEqual(s.executed, ['select * from accounts', 'selct 1']);
  // The statement before the failure still produced its rows.
  assert.match(r.stdout, /\(3 rows\)/);
});

test('other failures are one line without a stack trace, unless SLUICE_DEBUG=1', async () => {
  const r = await cli(['query', 'select * from broken'], session());
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'error: socket hang up\n');
  const debug = await cli(['query', 'select * from broken'], session(), undefined, { SLUICE_DEBUG: '1' });
  assert.match(debug.stderr, /^error: socket hang up\nError: socket hang up\n/);
});

test('a session that cannot open is reported and exits 1', async () => {
  const r = await cli(['query', 'select 1'], new SluiceError('ENG001', 'Settings file nope.xml does not exist.'));
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'ENG001: Settings file nope.xml does not exist.\n');
});

test('run executes a script file; run - reads stdin', async () => {
  const dir = tempDir();
  try {
    const file = join(dir, 'script.sql');
    writeFileSync(file, 'insert into t@inmemorystorage (a) values (1);\nselect * from accounts;\n');
    const r = await cli(['run', '-f', 'csv', file], session());
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^code,name,since/);
    const piped = await cli(['run', '-', '--format', 'ndjson'], session(), 'select * from accounts;');
    assert.equal(piped.code, 0);
    assert.equal(piped.stdout.trim().split('\n').length, 3);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('run names a missing script file and exits 2', async () => {
  const r = await cli(['run', '/nonexistent/x.sql'], session());
  assert.equal(r.code, 2);
  assert.match(r.stderr, /CLI004: The script \/nonexistent\/x\.sql does not exist\./);
});

test('--settings reaches the session, before or after the command', async () => {
  const before = await cli(['--settings', 'my.xml', 'query', 'select * from accounts'], session());
  assert.deepEqual(before.options, [{ persistSyncJournal: true, settingsPath: 'my.xml' }]);
  const after = await cli(['query', 'select * from accounts', '--settings', 'other.yaml'], session());
  assert.deepEqual(after.options, [{ persistSyncJournal: true, settingsPath: 'other.yaml' }]);
  const none = await cli(['query', 'select * from accounts'], session());
  // Synchronize outcomes outlive a CLI session (~/.sluice/synchronize/journal.ndjson).
  assert.deepEqual(none.options, [{ persistSyncJournal: true }]);
});

test('--group and --connection pick a settings.xml connection other than the first (one per customer)', async () => {
  const r = await cli(['--settings', 'my.xml', '--group', 'Klanten', 'query', 'select * from accounts', '--connection', 'Bakkerij De Vries'], session());
  assert.equal(r.code, 0);
  assert.deepEqual(r.options, [{ persistSyncJournal: true, settingsPath: 'my.xml', group: 'Klanten', connection: 'Bakkerij De Vries' }]);
  const piped = await cli(['run', '-', '--connection', 'Jansen'], session(), 'select * from accounts;');
  assert.deepEqual(piped.options, [{ persistSyncJournal: true, connection: 'Jansen' }]);
});

test('sluice without a command runs piped stdin as a script', async () => {
  const r = await cli([], session(), 'select * from accounts\n');
  assert.equal(r.code, 0);
  assert.match(r.stdout, /\(3 rows\)/);
  const failed = await cli([], session(), 'select * from nothing');
  assert.equal(failed.code, 1);
});

test('--help lists the commands and exits 0; an unknown command exits 2', async () => {
  const help = await cli(['--help'], session());
  assert.equal(help.code, 0);
  for (const c of ['query', 'run', 'demo', '--settings']) assert.ok(help.stdout.includes(c), c);
  const bad = await cli(['frobnicate'], session());
  assert.equal(bad.code, 2);
  const typo = await cli(['querry', 'select * from accounts'], session());
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /CLI005: Unknown command "querry"\.\n {2}hint: Did you mean query\?/);
});

test('--output into a folder that does not exist is a clear error before anything runs, not a crash', async () => {
  const dir = tempDir();
  try {
    const s = session();
    const file = join(dir, 'missing', 'out.csv');
    const r = await cli(['query', '--format', 'csv', '--output', file, 'select * from accounts'], s);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /CLI006: Cannot write the output file .*out\.csv: the folder .*missing does not exist\./);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    assert.deepEqual(s.executed, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--output naming a folder is a clear error before anything runs', async () => {
  const dir = tempDir();
  try {
    const s = session();
    const r = await cli(['run', '-', '--format', 'xlsx', '--output', dir], s, 'select * from accounts;');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /CLI006: Cannot write the output file .*: it is a folder\./);
    assert.deepEqual(s.executed, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

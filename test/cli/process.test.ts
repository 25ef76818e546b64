/**
 * The real `sluice` command as a child process over the real engine: what
 * scripts, cron jobs and CI see — stdout, stderr and the exit code.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sluiceProcess } from './helpers.js';
import ExcelJS from 'exceljs';

const home = mkdtempSync(join(tmpdir(), 'sluice-cli-home-'));
after(() => rmSync(home, { recursive: true, force: true }));


const sluice = (args: string[], stdin = '') => sluiceProcess(home, args, stdin);

test('query runs SQL on the engine and prints a table', async () => {
  const r = await sluice(['query', "select 1 a, 'Jansen' b union all select 22, 'De Vries'"]);
  assert.equal(r.stderr, '');
  assert.equal(r.code, 0);
  assert.equal(r.stdout, [' a  | b', '----+----------', '  1 | Jansen', ' 22 | De Vries', '(2 rows)', ''].join('\n'));
});

test('a syntax error exits 1 with the code, position and caret on stderr, and nothing on stdout', async () => {
  const r = await sluice(['query', 'select 1 a;\nselec 2']);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^SQL\d+: .*\n {2}at line 2, column 1\n {2}selec 2\n {2}\^\n/);
  assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/);
});

test('run executes a script: messages on stderr, csv on stdout; a failing statement stops it with exit 1', async () => {
  const dir = mkdtempSync(join(home, 'run-'));
  const file = join(dir, 'script.sql');
  writeFileSync(
    file,
    `create table relaties@inmemorystorage (code integer, naam varchar);
insert into relaties@inmemorystorage (code, naam) values (1, 'Bakkerij De Vries'), (2, 'Smit, "Jan"');
select code, naam from relaties@inmemorystorage order by code;
`,
  );
  const r = await sluice(['run', file, '--format', 'csv']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'code,naam\r\n1,Bakkerij De Vries\r\n2,"Smit, ""Jan"""\r\n');
  assert.match(r.stderr, /2 rows inserted into relaties@inmemorystorage/);

  writeFileSync(file, 'select 1 x;\nselect * from nosuchtable;\nselect 2 y;\n');
  const failed = await sluice(['run', file, '-f', 'ndjson']);
  assert.equal(failed.code, 1);
  assert.equal(failed.stdout, '{"x":1}\n');
  assert.match(failed.stderr, /nosuchtable/);
});

test('run - reads the script from stdin; --output writes json to a file', async () => {
  const out = join(home, 'out.json');
  const r = await sluice(['run', '-', '--format', 'json', '--output', out], "select 'a' k, 1 v union all select 'b', 2 order by k;");
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '');
  assert.deepEqual(JSON.parse(readFileSync(out, 'utf8')), [
    { k: 'a', v: 1 },
    { k: 'b', v: 2 },
  ]);
});

test('xlsx is written to --output and refused without it (exit 2)', async () => {
  const refused = await sluice(['query', '-f', 'xlsx', 'select 1 a']);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /--output/);
  const file = join(home, 'out.xlsx');
  const r = await sluice(['query', '-f', 'xlsx', '-o', file, "select 'Assen' city, 42 n"]);
  assert.equal(r.code, 0, r.stderr);
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.readFile(file);
  assert.deepEqual((wb.worksheets[0].getRow(2).values as unknown[]).slice(1), ['Assen', 42]);
});

test('piped into `sluice demo`, SQL runs on the demo data', async () => {
  const r = await sluice(['demo', '-f', 'csv'], 'select count(*) n from divisions;\nselect count(*) n from invoices where status = \'open\' or status = \'paid\';');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'n\r\n4\r\n\r\nn\r\n320\r\n');
  assert.match(r.stderr, /^Sluice demo: tables divisions, accounts and invoices/);
});

test('--settings names the settings file; a missing one is an error with exit 1', async () => {
  const file = join(home, 'settings.yaml');
  writeFileSync(file, 'containers:\n  - alias: extra\n    provider: InMemoryStorage\n');
  const r = await sluice(['--settings', file, 'query', 'create table t@extra (a integer); select count(*) n from t@extra']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, / n\n---\n 0\n/);
  const missing = await sluice(['query', '--settings', join(home, 'nope.xml'), 'select 1']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /nope\.xml does not exist/);
});

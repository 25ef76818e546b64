import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Shell } from '../../src/cli/shell.js';
import { endsWithTerminator } from '../../src/cli/statement-end.js';
import { loadHistory, saveHistory } from '../../src/cli/history.js';
import { FakeSession, fakeContainer, fakeTable } from './fake-session.js';
import { Capture, waitFor } from './helpers.js';

const ACCOUNTS = {
  columns: [
    { name: 'code', type: 'integer' as const },
    { name: 'name', type: 'varchar' as const },
  ],
  rows: [
    [1, 'Jansen'],
    [2, 'De Vries'],
  ],
};

function makeSession(): FakeSession {
  return new FakeSession(
    {
      'select code, name from accounts': ACCOUNTS,
      'select * from slow': { waitForAbort: true },
    },
    [
      fakeContainer('eol', [fakeTable('Accounts', ['code', 'name', 'city'], 'eol'), fakeTable('Invoices', ['code', 'amount'], 'eol')]),
      fakeContainer('inmemorystorage', [fakeTable('Accounts', ['code', 'name'], 'inmemorystorage'), fakeTable('demo_notes', ['note'], 'inmemorystorage')]),
    ],
  );
}

/** Start a shell on a PassThrough; returns the streams and the running promise. */
function startShell(session: FakeSession, historyFile?: string) {
  const input = new PassThrough();
  const output = new Capture();
  const errorOutput = new Capture();
  const shell = new Shell({ session, input, output, errorOutput, terminal: false, keywords: ['select', 'from', 'where'], historyFile, env: {} });
  const done = shell.run();
  return { input, output, errorOutput, shell, done };
}

async function drive(lines: string[], session = makeSession()) {
  const s = startShell(session);
  s.input.end(lines.map((l) => `${l}\n`).join(''));
  await s.done;
  return { ...s, session };
}

test('a statement may span lines and ends at ";"', async () => {
  const { output, session } = await drive(['\\timing off', 'select code,', '  name', 'from accounts;']);
  assert.deepEqual(session.executed, ['select code, name from accounts']);
  assert.match(output.text, / code \| name\n-+\+-+\n +1 \| Jansen\n +2 \| De Vries\n\(2 rows\)\n/);
  // The continuation prompt shows the statement is still open.
  assert.match(output.text, /sluice> {4}\.\.\.> {4}\.\.\.> /);
});

test('an empty line also ends a statement', async () => {
  const { session } = await drive(['select code, name', 'from accounts', '', 'select code, name from accounts']);
  assert.deepEqual(session.executed, ['select code, name from accounts', 'select code, name from accounts']);
});

test('a ";" inside a string or comment does not end the statement', () => {
  assert.equal(endsWithTerminator("select 'a;'"), false);
  assert.equal(endsWithTerminator('select 1 -- done;'), false);
  assert.equal(endsWithTerminator('select 1; -- done'), true);
  assert.equal(endsWithTerminator("select 'it''s';"), true);
  assert.equal(endsWithTerminator('select 1 /* ; */'), false);
  assert.equal(endsWithTerminator('select [a;b] from t'), false);
  assert.equal(endsWithTerminator('select "x;"'), false);
});

test('the shell reports each statement time when timing is on, and \\timing toggles it', async () => {
  const { output } = await drive(['select code, name from accounts;', '\\timing', 'select code, name from accounts;']);
  assert.equal(output.text.match(/Time: \d+ ms/g)?.length, 1);
  assert.match(output.text, /Timing is off\./);
});

test('errors are shown and the shell carries on', async () => {
  const { errorOutput, output, session } = await drive(['selec 1;', 'select code, name from accounts;']);
  assert.match(errorOutput.text, /SQL100: The fake does not know "selec 1"\.\n {2}at line 1, column 1\n {2}selec 1\n {2}\^\n/);
  assert.equal(session.executed.length, 2);
  assert.match(output.text, /\(2 rows\)/);
});

test('\\format switches the result format; xlsx is refused in the shell', async () => {
  const { output, errorOutput } = await drive(['\\format csv', 'select code, name from accounts;', '\\format xlsx', '\\format']);
  assert.match(output.text, /code,name\r\n1,Jansen\r\n2,De Vries\r\n/);
  assert.match(errorOutput.text, /xlsx writes a file/);
  assert.match(output.text, /Format is csv\.\n[^]*Format is csv\./);
});

test('\\tables lists tables of every container, filtered by a pattern', async () => {
  const { output } = await drive(['\\tables', '\\tables inv%']);
  const [all, filtered] = output.text.split('sluice> ').filter((t) => t.includes('container'));
  assert.match(all, /eol {7,}\| InMemoryStorage \| Memory \| Accounts/);
  assert.match(all, /demo_notes/);
  assert.match(all, /\(4 rows\)/);
  assert.match(filtered, /Invoices/);
  assert.match(filtered, /\(1 row\)/);
});

test('\\describe shows columns, key and filterable operators; ambiguity and unknown names are explained', async () => {
  const { output, errorOutput } = await drive(['\\describe invoices', '\\describe accounts', '\\describe accounts@inmemorystorage', '\\describe acounts']);
  assert.match(output.text, /InMemoryStorage\.Memory\.Invoices@eol \(partitioned, partition column Division; writable: insert, update, delete\)/);
  assert.match(output.text, / code {3}\| integer \| no {7}\| key \| = in/);
  assert.match(errorOutput.text, /accounts is in more than one container: InMemoryStorage\.Memory\.Accounts@eol, InMemoryStorage\.Memory\.Accounts@inmemorystorage\. Add @container\./);
  assert.match(output.text, /Accounts@inmemorystorage \(system-wide/);
  assert.match(errorOutput.text, /No table named acounts\./);
});

test('\\help lists the commands; unknown backslash commands say so', async () => {
  const { output, errorOutput } = await drive(['\\help', '\\frob']);
  for (const c of ['\\tables', '\\describe', '\\format', '\\timing', '\\quit']) assert.ok(output.text.includes(c), c);
  assert.match(errorOutput.text, /Unknown command \\frob\. Type \\help/);
});

test('\\quit ends the shell without reading further input', async () => {
  const { session } = await drive(['\\quit', 'select code, name from accounts;']);
  assert.deepEqual(session.executed, []);
});

test('input that ends inside a statement still runs it', async () => {
  const { session } = await drive(['select code, name', 'from accounts']);
  assert.deepEqual(session.executed, ['select code, name from accounts']);
});

test('Ctrl-C cancels a running statement and the shell keeps going', async () => {
  const session = makeSession();
  const s = startShell(session);
  s.input.write('select * from slow;\n');
  await waitFor(() => session.executed.length > 0, 'the statement to start');
  s.shell.interrupt();
  assert.match(s.errorOutput.text, /Cancelling… \(Ctrl-C again leaves sluice\)/);
  s.input.end('select code, name from accounts;\n');
  await s.done;
  assert.match(s.errorOutput.text, /Cancelled\./);
  assert.deepEqual(session.executed, ['select * from slow', 'select code, name from accounts']);
  assert.match(s.output.text, /\(2 rows\)/);
});

test('a second Ctrl-C while a cancelled statement has not stopped lets the user out', async () => {
  let release!: () => void;
  const hang = new Promise<void>((r) => (release = r));
  const session = new FakeSession({ 'select * from stuck': { hang } });
  const input = new PassThrough();
  const errorOutput = new Capture();
  let forced = 0;
  const shell = new Shell({ session, input, output: new Capture(), errorOutput, terminal: false, keywords: [], env: {}, onForceQuit: () => forced++ });
  const done = shell.run();
  input.write('select * from stuck;\n');
  await waitFor(() => session.executed.length > 0, 'the statement to start');
  shell.interrupt();
  assert.equal(forced, 0);
  shell.interrupt();
  assert.equal(forced, 1);
  release();
  input.end();
  await done;
});

test('Ctrl-C drops a half-typed statement; twice on an empty prompt leaves', async () => {
  const session = makeSession();
  const s = startShell(session);
  s.input.write('select code, name\n');
  await waitFor(() => s.output.text.includes('...>'), 'the continuation prompt');
  s.shell.interrupt();
  s.shell.interrupt();
  assert.match(s.output.text, /To leave, press Ctrl-C again/);
  s.shell.interrupt();
  await s.done;
  assert.deepEqual(session.executed, []);
});

test('history is saved oldest first and loaded newest first', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-history-'));
  try {
    const file = join(dir, 'nested', 'history');
    assert.deepEqual(loadHistory(file), []);
    saveHistory(file, ['select 2;', 'select 1;']);
    assert.ok(existsSync(file));
    assert.equal(readFileSync(file, 'utf8'), 'select 1;\nselect 2;\n');
    assert.deepEqual(loadHistory(file), ['select 2;', 'select 1;']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('in a terminal the shell records typed lines in the history file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-history-'));
  try {
    const file = join(dir, 'history');
    const session = makeSession();
    const input = new PassThrough();
    const output = new Capture();
    const shell = new Shell({ session, input, output, errorOutput: new Capture(), terminal: true, keywords: [], historyFile: file, env: {} });
    const done = shell.run();
    input.write('select code, name from accounts;\r');
    await waitFor(() => session.executed.length > 0, 'the statement to start');
    input.write('\\quit\r');
    await done;
    assert.deepEqual(readFileSync(file, 'utf8').split('\n').filter(Boolean), ['select code, name from accounts;', '\\quit']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

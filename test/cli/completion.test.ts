import { test } from 'node:test';
import assert from 'node:assert/strict';
import { complete, tablesInStatement, type CompletionSource } from '../../src/cli/completion.js';
import { catalogEntries, findTables, matchesPattern } from '../../src/cli/catalog.js';
import { fakeContainer, fakeTable } from './fake-session.js';

const containers = [
  fakeContainer('eolnl', [fakeTable('Accounts', ['code', 'name', 'city'], 'eol'), fakeTable('AccountClassifications', ['code', 'description'], 'eol')]),
  fakeContainer('inmemorystorage', [fakeTable('exactaccounts', ['number', 'name', 'accountreference'])]),
];
const source: CompletionSource = {
  keywords: ['select', 'from', 'where', 'synchronize', 'identified'],
  catalog: () => catalogEntries(containers),
  containers: () => containers.map((c) => c.alias),
};

test('keywords complete in the case being typed', () => {
  assert.deepEqual(complete('sel', '', source), [['select'], 'sel']);
  assert.deepEqual(complete('SEL', '', source), [['SELECT'], 'SEL']);
  assert.deepEqual(complete('select 1 fr', '', source), [['from'], 'fr']);
});

test('table names complete, including Invantive-style qualified names', () => {
  assert.deepEqual(complete('select * from acc', '', source)[0], ['accountclassifications', 'accounts']);
  assert.deepEqual(complete('select * from exact', '', source)[0], ['exactaccounts']);
  assert.deepEqual(complete('select * from InMemoryStorage..exa', '', source), [['InMemoryStorage..exactaccounts'], 'InMemoryStorage..exa']);
});

test('after FROM with nothing typed, every table is offered; elsewhere nothing', () => {
  assert.equal(complete('select * from ', '', source)[0].length, 3);
  assert.deepEqual(complete('select ', '', source), [[], '']);
});

test('@ completes the containers that hold the table', () => {
  assert.deepEqual(complete('select * from accounts@', '', source), [['accounts@eolnl'], 'accounts@']);
  assert.deepEqual(complete('select * from foo@in', '', source), [['foo@inmemorystorage'], 'foo@in']);
});

test('columns of the tables in the statement complete, also across lines and after alias.', () => {
  // No table named yet: no columns to offer.
  assert.deepEqual(complete('select ci', '', source), [[], 'ci']);
  assert.deepEqual(complete('select a.ci', '', source), [[], 'a.ci']);
  // The FROM clause typed on an earlier line names the table and its alias.
  assert.deepEqual(complete('where a.ci', 'select *\nfrom accounts@eolnl a', source), [['a.city'], 'a.ci']);
  assert.deepEqual(complete('where ci', 'select *\nfrom accounts@eolnl a', source), [['city'], 'ci']);
  // A FROM earlier on the same line counts too.
  assert.deepEqual(complete('select x from exactaccounts e where e.acc', '', source), [['e.accountreference'], 'e.acc']);
  assert.deepEqual(complete('select accounts.na', 'from accounts', source), [['accounts.name'], 'accounts.na']);
  // The current line past the cursor is context too: `select ci| from accounts@eolnl`.
  assert.deepEqual(complete('select ci', 'select ci from accounts@eolnl', source), [['city'], 'ci']);
});

test('backslash commands, their table arguments and formats complete', () => {
  assert.deepEqual(complete('\\de', '', source), [['\\describe'], '\\de']);
  assert.deepEqual(complete('\\t', '', source)[0], ['\\tables', '\\timing']);
  assert.deepEqual(complete('\\describe exa', '', source), [['exactaccounts'], 'exa']);
  assert.deepEqual(complete('\\format n', '', source), [['ndjson'], 'n']);
  assert.deepEqual(complete('\\describe exa', '\\describe exa', source), [['exactaccounts'], 'exa']);
});

test('tables named in a statement are found by name and by alias', () => {
  const found = tablesInStatement('select * from accounts@eolnl a join exactaccounts on 1=1 where', catalogEntries(containers));
  assert.deepEqual([...found.keys()].sort(), ['a', 'accounts', 'exactaccounts']);
});

test('findTables understands name, schema.name, catalog..name and @container', () => {
  const entries = catalogEntries(containers);
  assert.equal(findTables(entries, 'ACCOUNTS').length, 1);
  assert.equal(findTables(entries, 'Memory.Accounts').length, 1);
  assert.equal(findTables(entries, 'inmemorystorage..accounts').length, 1);
  assert.equal(findTables(entries, 'accounts@inmemorystorage').length, 0);
  assert.equal(findTables(entries, 'exactaccounts@inmemorystorage').length, 1);
});

test('\\tables patterns: substring, % and _ wildcards, * and ?', () => {
  const entries = catalogEntries(containers);
  const names = (p: string) => entries.filter((e) => matchesPattern(e, p)).map((e) => e.table.name);
  assert.deepEqual(names('class'), ['AccountClassifications']);
  assert.deepEqual(names('acc%'), ['Accounts', 'AccountClassifications']);
  assert.deepEqual(names('*accounts'), ['Accounts', 'exactaccounts']);
  assert.deepEqual(names('accoun_s'), ['Accounts']);
});

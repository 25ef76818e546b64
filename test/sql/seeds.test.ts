/**
 * The seed scripts: what users really type must parse into the statements they mean.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseScript, parseStatement } from '../../src/sql/index.js';
import { SEED_001_SCRIPT, SEED_002_USE } from './corpus.js';
import { col, strip } from './helpers.js';

test('seed 001 script without separators parses into Use, CreateTable, Synchronize', () => {
  const script = parseScript(SEED_001_SCRIPT);
  assert.deepEqual(
    script.statements.map((s) => s.kind),
    ['Use', 'CreateTable', 'Synchronize'],
  );
  assert.equal(script.text, SEED_001_SCRIPT);
  const [use, create, sync] = script.statements;

  assert.deepEqual(strip(use), {
    kind: 'Use',
    items: [
      { kind: 'code', code: '102673', container: 'eolnl' },
      { kind: 'code', code: '1896329', container: 'vismanet' },
    ],
  });

  assert.equal(create.kind, 'CreateTable');
  if (create.kind !== 'CreateTable') return;
  assert.equal(create.orReplace, true);
  assert.deepEqual(strip(create.name), { kind: 'TableName', name: 'exactaccounts', container: 'inmemorystorage' });
  assert.ok(create.query);
  const body = create.query.body;
  assert.equal(body.kind, 'Select');
  if (body.kind !== 'Select') return;
  assert.deepEqual(
    body.items.map((i) => i.alias),
    ['number', undefined, 'accountreference'],
  );
  assert.deepEqual(strip(body.items[1].expr), col('name'));
  assert.deepEqual(strip(body.items[2].expr), {
    kind: 'Binary',
    op: '||',
    left: { kind: 'Literal', type: 'string', value: 'EOL-' },
    right: { kind: 'FunctionCall', name: 'to_char', args: [col('code')], distinct: false, star: false },
  });
  assert.deepEqual(strip(body.from), [
    { kind: 'TableRef', name: { kind: 'TableName', catalog: 'exactonlinerest', name: 'accounts', container: 'eolnl' } },
  ]);

  assert.deepEqual(strip(sync), {
    kind: 'Synchronize',
    source: { kind: 'TableName', name: 'exactaccounts', container: 'inmemorystorage' },
    target: { kind: 'TableName', name: 'customer_getall', container: 'vismanet' },
    direction: 'to',
    actions: [{ action: 'insert' }],
    identifiedBy: ['accountreference'],
    ignoreChanges: [],
    ignoreNulls: true,
  });
});

test('seed 001 statements carry their positions in the script', () => {
  const script = parseScript(SEED_001_SCRIPT);
  assert.deepEqual(script.statements[0].span?.start, { line: 1, column: 1, offset: 0 });
  assert.equal(script.statements[1].span?.start.line, 3);
  assert.equal(script.statements[2].span?.start.line, 10);
  assert.equal(script.statements[2].span?.end.line, 14);
});

test('seed 002 use-select with a comment inside parses to a query item', () => {
  const use = parseStatement(SEED_002_USE);
  assert.equal(use.kind, 'Use');
  if (use.kind !== 'Use') return;
  assert.equal(use.items.length, 1);
  const item = use.items[0];
  assert.equal(item.kind, 'query');
  if (item.kind !== 'query') return;
  const body = item.query.body;
  assert.equal(body.kind, 'Select');
  if (body.kind !== 'Select') return;
  assert.deepEqual(strip(body.items[0].expr), { kind: 'FunctionCall', name: 'min', args: [col('code')], distinct: false, star: false });
  assert.deepEqual(strip(body.groupBy), [col('customercode')]);
  assert.deepEqual(strip(body.where), { kind: 'Binary', op: '=', left: col('status'), right: { kind: 'Literal', type: 'number', value: '1' } });
});

test('seed 001 with semicolons and comments parses the same as without', () => {
  const withSeparators = SEED_001_SCRIPT.replace('\n\ncreate', ';\n-- make the mapping\ncreate').replace('\n\nsynchronize', ';\n/* and sync */ synchronize') + ';;';
  assert.deepEqual(strip(parseScript(withSeparators).statements), strip(parseScript(SEED_001_SCRIPT).statements));
});

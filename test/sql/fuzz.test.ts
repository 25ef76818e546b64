/**
 * Property tests: random text and mutated corpus statements never make the
 * parser throw anything but a SluiceError, and whatever parses also survives
 * a print → parse round trip. Runs are bounded (numRuns) so the suite stays
 * quick; a hang would show as the test never finishing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  parseExpression,
  parseScript,
  parseStatement,
  printExpr,
  printScript,
  printStatement,
  tokenize,
  type Expr,
  type Statement,
  type TableName,
  type UseItem,
} from '../../src/sql/index.js';
import { SluiceError } from '../../src/util/errors.js';
import { DIALECT_EXAMPLES, FEATURE_EXAMPLES, SEED_001_SCRIPT } from './corpus.js';
import { strip } from './helpers.js';

const CORPUS = [...DIALECT_EXAMPLES, ...FEATURE_EXAMPLES, SEED_001_SCRIPT];
const CORPUS_TOKENS = CORPUS.map((s) => tokenize(s).filter((t) => t.type !== 'eof').map((t) => t.raw));
const TOKEN_POOL = [...new Set(CORPUS_TOKENS.flat()), '(', ')', ',', ';', "'", '"', '[', ']', '/*', '*/', '--', '\n', '@', '..', '::'];

/** Parse; a SluiceError is a fine answer, anything else fails the property. Parsed text must round-trip. */
function parsesCleanly(text: string): boolean {
  let script;
  try {
    script = parseScript(text);
  } catch (e) {
    if (e instanceof SluiceError) {
      assert.match(e.code, /^SQL1\d\d$/);
      assert.ok(e.details.location && e.details.location.line >= 1 && e.details.location.column >= 1);
      return true;
    }
    throw e;
  }
  const printed = printScript(script);
  const again = parseScript(printed);
  assert.deepEqual(strip(again.statements), strip(script.statements), `${text}\n  printed: ${printed}`);
  return true;
}

type Mutation =
  | { kind: 'delete'; at: number }
  | { kind: 'insert'; at: number; token: string }
  | { kind: 'swap'; a: number; b: number }
  | { kind: 'duplicate'; at: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), token: fc.constantFrom(...TOKEN_POOL) }),
  fc.record({ kind: fc.constant('swap' as const), a: fc.nat(), b: fc.nat() }),
  fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat() }),
);

function mutateTokens(tokens: readonly string[], mutations: readonly Mutation[]): string {
  const out = [...tokens];
  for (const m of mutations) {
    const n = out.length;
    if (n === 0) break;
    switch (m.kind) {
      case 'delete': out.splice(m.at % n, 1); break;
      case 'insert': out.splice(m.at % (n + 1), 0, m.token); break;
      case 'swap': {
        const a = m.a % n;
        const b = m.b % n;
        [out[a], out[b]] = [out[b], out[a]];
        break;
      }
      case 'duplicate': out.splice(m.at % n, 0, out[m.at % n]); break;
    }
  }
  return out.join(' ');
}

test('random text only ever raises SluiceError', () => {
  fc.assert(fc.property(fc.string({ maxLength: 200, unit: 'binary' }), parsesCleanly), { numRuns: 500 });
});

test('random SQL-ish token soup only ever raises SluiceError', () => {
  fc.assert(
    fc.property(fc.array(fc.constantFrom(...TOKEN_POOL), { maxLength: 40 }), (tokens) => parsesCleanly(tokens.join(' '))),
    { numRuns: 500 },
  );
});

test('corpus statements with tokens deleted, inserted, swapped or duplicated only raise SluiceError', () => {
  fc.assert(
    fc.property(fc.nat({ max: CORPUS_TOKENS.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 4 }), (i, ms) =>
      parsesCleanly(mutateTokens(CORPUS_TOKENS[i], ms)),
    ),
    { numRuns: 500 },
  );
});

test('corpus statements with characters deleted, inserted or replaced only raise SluiceError', () => {
  const edit = fc.record({ at: fc.nat(), op: fc.constantFrom('delete', 'insert', 'replace'), ch: fc.string({ minLength: 1, maxLength: 1, unit: 'binary' }) });
  fc.assert(
    fc.property(fc.nat({ max: CORPUS.length - 1 }), fc.array(edit, { minLength: 1, maxLength: 3 }), (i, edits) => {
      let s = CORPUS[i];
      for (const e of edits) {
        const at = e.at % (s.length + 1);
        if (e.op === 'delete') s = s.slice(0, at) + s.slice(at + 1);
        else if (e.op === 'insert') s = s.slice(0, at) + e.ch + s.slice(at);
        else s = s.slice(0, at) + e.ch + s.slice(at + 1);
      }
      return parsesCleanly(s);
    }),
    { numRuns: 500 },
  );
});

// ---------------------------------------------------------------------------
// Trees built in code (as the server does) print to text that parses back to them.

const NAMES = ['a', 'Code', 'number', 'date', 'from', 'my col', 'x"y', 'select', 'sysdate', 'Division'];
const name = fc.constantFrom(...NAMES);
const leaf: fc.Arbitrary<Expr> = fc.oneof(
  fc.record({ kind: fc.constant('Literal' as const), type: fc.constant('number' as const), value: fc.constantFrom('0', '1', '12.50', '1e3') }),
  fc.record({ kind: fc.constant('Literal' as const), type: fc.constant('string' as const), value: fc.constantFrom('', "it's", 'x -- y', '/*') }),
  fc.record({ kind: fc.constant('Literal' as const), type: fc.constant('null' as const), value: fc.constant('') }),
  fc.record({ kind: fc.constant('Literal' as const), type: fc.constant('boolean' as const), value: fc.constantFrom('true', 'false') }),
  fc.record({ kind: fc.constant('Literal' as const), type: fc.constant('date' as const), value: fc.constant('2024-01-31') }),
  fc.record({ kind: fc.constant('IntervalLiteral' as const), value: fc.constant('3'), unit: fc.constantFrom('day' as const, 'year' as const) }),
  fc.record({ kind: fc.constant('ColumnRef' as const), qualifier: fc.array(name, { maxLength: 2 }), name }),
  fc.record({ kind: fc.constant('Parameter' as const), name: fc.constantFrom('p', 'id') }),
);

const { tree } = fc.letrec<{ tree: Expr }>((tie) => {
  const e = (): fc.Arbitrary<Expr> => tie('tree');
  return {
    tree: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leaf,
      fc.record({ kind: fc.constant('Unary' as const), op: fc.constantFrom('-' as const, '+' as const, 'not' as const), operand: e() }),
      fc.record({
        kind: fc.constant('Binary' as const),
        op: fc.constantFrom('=' as const, '<>' as const, '<' as const, '>=' as const, '+' as const, '-' as const, '*' as const, '/' as const, '%' as const, '||' as const, 'and' as const, 'or' as const),
        left: e(),
        right: e(),
      }),
      fc.record({ kind: fc.constant('Like' as const), expr: e(), pattern: e(), not: fc.boolean(), caseInsensitive: fc.boolean() }),
      fc.record({ kind: fc.constant('Between' as const), expr: e(), low: e(), high: e(), not: fc.boolean() }),
      fc.record({ kind: fc.constant('InList' as const), expr: e(), list: fc.array(e(), { minLength: 1, maxLength: 3 }), not: fc.boolean() }),
      fc.record({ kind: fc.constant('IsNull' as const), expr: e(), not: fc.boolean() }),
      fc.record({
        kind: fc.constant('FunctionCall' as const),
        name: fc.constantFrom('nvl', 'substr', 'left', 'count', 'to_char'),
        args: fc.array(e(), { maxLength: 3 }),
        distinct: fc.constant(false),
        star: fc.constant(false),
      }),
      fc.record(
        { kind: fc.constant('Case' as const), operand: e(), whens: fc.array(fc.record({ when: e(), then: e() }), { minLength: 1, maxLength: 2 }), else: e() },
        { requiredKeys: ['kind', 'whens'] },
      ),
      fc.record({ kind: fc.constant('Cast' as const), expr: e(), type: fc.constant({ kind: 'TypeName' as const, name: 'varchar', args: [10] }) }),
    ),
  };
});

test('expression trees built in code print to text that parses back to the same tree', () => {
  fc.assert(
    fc.property(tree, (e) => {
      const printed = printExpr(e);
      assert.deepEqual(strip(parseExpression(printed)), strip(e), printed);
    }),
    { numRuns: 500 },
  );
});

// Statements built in code print to text that parses back to them.
const opt = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(a, { nil: undefined });
const tableName: fc.Arbitrary<TableName> = fc
  .record({ catalog: opt(name), schema: opt(name), name, container: opt(name) })
  .map((t) => strip({ kind: 'TableName', ...t }) as TableName);
const useItem: fc.Arbitrary<UseItem> = fc.oneof(
  fc.record({ kind: fc.constant('code' as const), code: fc.constantFrom('123', 'abc', 'all', 'default', "x'y", ''), container: opt(name) }),
  fc.record({ kind: fc.constantFrom('all' as const, 'default' as const), container: opt(name) }),
);
const statementTree: fc.Arbitrary<Statement> = fc.oneof(
  fc.record({ kind: fc.constant('Use' as const), items: fc.array(useItem, { minLength: 1, maxLength: 3 }) }),
  fc.record({
    kind: fc.constant('Set' as const),
    name: fc.constantFrom('x', 'use-http-disk-cache', 'a b', 'select', 'a.b'),
    container: opt(name),
    value: fc.constantFrom('1', '-3', '2.50', 'true', 'select', "it's", '', 'two words'),
  }),
  fc.record({ kind: fc.constant('DropTable' as const), ifExists: fc.boolean(), name: tableName }),
  fc.record({ kind: fc.constant('Delete' as const), table: tableName, alias: opt(name), where: opt(tree) }),
  fc.record({
    kind: fc.constant('Update' as const),
    table: tableName,
    alias: opt(name),
    assignments: fc.array(fc.record({ column: name, value: tree }), { minLength: 1, maxLength: 2 }),
    where: opt(tree),
  }),
  fc.record({
    kind: fc.constant('Insert' as const),
    table: tableName,
    columns: fc.array(name, { maxLength: 2 }),
    source: fc.record({ kind: fc.constant('Values' as const), rows: fc.array(fc.array(tree, { minLength: 1, maxLength: 2 }), { minLength: 1, maxLength: 2 }) }),
  }),
  fc.record({
    kind: fc.constant('Synchronize' as const),
    source: tableName,
    target: tableName,
    direction: fc.constantFrom('to' as const, 'from' as const),
    actions: fc.array(
      fc.record({
        action: fc.constantFrom('insert' as const, 'update' as const, 'delete' as const),
        cap: opt(fc.record({ mode: fc.constantFrom('exit' as const, 'error' as const), rows: fc.nat(1000) })),
      }),
      { maxLength: 3 },
    ),
    identifiedBy: fc.array(name, { maxLength: 2 }),
    ignoreChanges: fc.array(name, { maxLength: 2 }),
    ignoreNulls: fc.boolean(),
    continueOnErrors: opt(fc.nat(100)),
  }),
);

test('statements built in code print to text that parses back to the same statement', () => {
  fc.assert(
    fc.property(statementTree, (s) => {
      const printed = printStatement(s);
      assert.deepEqual(strip(parseStatement(printed)), strip(s), printed);
    }),
    { numRuns: 500 },
  );
});

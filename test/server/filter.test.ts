/**
 * The OData $filter parser: each operator, function and literal form becomes
 * the AST the engine expects, and malformed input is a positioned ODATA010.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Expr } from '../../src/sql/ast.js';
import { parseFilter } from '../../src/server/odata/filter.js';
import { SluiceError } from '../../src/util/errors.js';

const props: Record<string, string> = { Name: 'name', Code: 'code', Division: 'Division', Created: 'created', Amount: 'amount', ID: 'id', Blocked: 'blocked' };
const resolve = (n: string) => props[n];
const p = (text: string) => parseFilter(text, resolve);
const col = (name: string): Expr => ({ kind: 'ColumnRef', qualifier: [], name });
const lit = (type: 'number' | 'string' | 'boolean' | 'null' | 'date' | 'timestamp', value: string): Expr => ({ kind: 'Literal', type, value });
const fn = (name: string, ...args: Expr[]): Expr => ({ kind: 'FunctionCall', name, args, distinct: false, star: false });

function fails(text: string, pattern: RegExp): void {
  assert.throws(
    () => p(text),
    (e: unknown) => e instanceof SluiceError && e.code === 'ODATA010' && pattern.test(e.message),
  );
}

describe('$filter comparisons and logic', () => {
  it('maps eq ne gt ge lt le to SQL comparison operators', () => {
    const ops: [string, string][] = [['eq', '='], ['ne', '<>'], ['gt', '>'], ['ge', '>='], ['lt', '<'], ['le', '<=']];
    for (const [o, sql] of ops) assert.deepEqual(p(`Code ${o} 5`), { kind: 'Binary', op: sql, left: col('code'), right: lit('number', '5') });
  });
  it('gives and precedence over or, and honours parentheses and not', () => {
    assert.deepEqual(p("Code eq 1 or Code eq 2 and Name eq 'x'"), {
      kind: 'Binary', op: 'or', left: { kind: 'Binary', op: '=', left: col('code'), right: lit('number', '1') },
      right: { kind: 'Binary', op: 'and', left: { kind: 'Binary', op: '=', left: col('code'), right: lit('number', '2') }, right: { kind: 'Binary', op: '=', left: col('name'), right: lit('string', 'x') } },
    });
    assert.deepEqual(p('not (Code eq 1 or Code eq 2)'), {
      kind: 'Unary', op: 'not', operand: { kind: 'Binary', op: 'or', left: { kind: 'Binary', op: '=', left: col('code'), right: lit('number', '1') }, right: { kind: 'Binary', op: '=', left: col('code'), right: lit('number', '2') } },
    });
  });
  it('turns eq null / ne null into IS [NOT] NULL', () => {
    assert.deepEqual(p('Name eq null'), { kind: 'IsNull', expr: col('name'), not: false });
    assert.deepEqual(p('null ne Name'), { kind: 'IsNull', expr: col('name'), not: true });
  });
  it('parses in lists, the partition column included', () => {
    assert.deepEqual(p('Division in (102673, 102674)'), { kind: 'InList', expr: col('Division'), list: [lit('number', '102673'), lit('number', '102674')], not: false });
  });
  it('parses arithmetic with mul/div/mod binding tighter than add/sub', () => {
    assert.deepEqual(p('Amount add 2 mul 3 gt 10'), {
      kind: 'Binary', op: '>', left: { kind: 'Binary', op: '+', left: col('amount'), right: { kind: 'Binary', op: '*', left: lit('number', '2'), right: lit('number', '3') } }, right: lit('number', '10'),
    });
    assert.equal((p('Amount mod 2 eq 1') as { left: { op: string } }).left.op, '%');
    assert.equal((p('Amount div 2 eq 1') as { left: { op: string } }).left.op, '/');
    assert.equal((p('Amount sub -2.5 eq 1') as { left: { op: string; right: Expr } }).left.right.kind, 'Literal');
  });
});

describe('$filter negation', () => {
  it('negates properties and parenthesised expressions, and folds a negated number into the literal', () => {
    assert.deepEqual(p('-Amount lt 1'), { kind: 'Binary', op: '<', left: { kind: 'Unary', op: '-', operand: col('amount') }, right: lit('number', '1') });
    assert.deepEqual(p('Amount eq -(Code add 1)'), {
      kind: 'Binary', op: '=', left: col('amount'), right: { kind: 'Unary', op: '-', operand: { kind: 'Binary', op: '+', left: col('code'), right: lit('number', '1') } },
    });
    assert.deepEqual(p('-Amount mul 2 gt 1'), { kind: 'Binary', op: '>', left: { kind: 'Binary', op: '*', left: { kind: 'Unary', op: '-', operand: col('amount') }, right: lit('number', '2') }, right: lit('number', '1') });
    assert.deepEqual(p('Amount eq - 1'), { kind: 'Binary', op: '=', left: col('amount'), right: lit('number', '-1') });
    assert.deepEqual(p('Amount eq --1'), { kind: 'Binary', op: '=', left: col('amount'), right: lit('number', '1') });
    assert.deepEqual(p('Amount eq -1'), { kind: 'Binary', op: '=', left: col('amount'), right: lit('number', '-1') });
  });
  it('still refuses a dangling minus', () => {
    fails('Amount eq -', /ends too early/);
    fails('Amount - 1 eq 0', /unexpected/);
  });
});

describe('$filter literals', () => {
  it("unescapes '' in strings and keeps injection attempts as one string value", () => {
    assert.deepEqual(p("Name eq 'x'' or 1 eq 1'"), { kind: 'Binary', op: '=', left: col('name'), right: lit('string', "x' or 1 eq 1") });
  });
  it('reads dates, date-times with offsets (normalised to UTC) and guids', () => {
    assert.deepEqual(p('Created ge 2024-01-31'), { kind: 'Binary', op: '>=', left: col('created'), right: lit('date', '2024-01-31') });
    assert.deepEqual((p('Created lt 2024-01-31T10:15:00+02:00') as { right: Expr }).right, lit('timestamp', '2024-01-31 08:15:00'));
    assert.deepEqual((p('Created lt 2024-01-31T10:15:00.250Z') as { right: Expr }).right, lit('timestamp', '2024-01-31 10:15:00.250'));
    assert.deepEqual((p('ID eq 0A1B2C3D-4E5F-6789-ABCD-EF0123456789') as { right: Expr }).right, lit('string', '0a1b2c3d-4e5f-6789-abcd-ef0123456789'));
  });
  it('reads booleans, a bare boolean property and numbers with exponents', () => {
    assert.deepEqual(p('Blocked eq true'), { kind: 'Binary', op: '=', left: col('blocked'), right: lit('boolean', 'true') });
    assert.deepEqual(p('Blocked'), col('blocked'));
    assert.deepEqual((p('Amount gt 1.5e3') as { right: Expr }).right, lit('number', '1.5e3'));
  });
});

describe('$filter functions', () => {
  it('turns contains/startswith/endswith with a literal into LIKE, escaping wildcards', () => {
    assert.deepEqual(p("contains(Name,'Bak')"), { kind: 'Like', expr: col('name'), pattern: lit('string', '%Bak%'), not: false, caseInsensitive: false });
    assert.deepEqual(p("startswith(Name,'100%')"), { kind: 'Like', expr: col('name'), pattern: lit('string', '100\\%%'), escape: lit('string', '\\'), not: false, caseInsensitive: false });
    assert.deepEqual(p("endswith(Name,'_x')"), { kind: 'Like', expr: col('name'), pattern: lit('string', '%\\_x'), escape: lit('string', '\\'), not: false, caseInsensitive: false });
  });
  it('maps string functions to the dialect, shifting OData 0-based positions', () => {
    assert.deepEqual(p("tolower(Name) eq 'a'"), { kind: 'Binary', op: '=', left: fn('lower', col('name')), right: lit('string', 'a') });
    assert.deepEqual((p("toupper(trim(Name)) eq 'A'") as { left: Expr }).left, fn('upper', fn('trim', col('name'))));
    assert.deepEqual((p('length(Name) gt 3') as { left: Expr }).left, fn('length', col('name')));
    assert.deepEqual((p("indexof(Name,'a') eq 0") as { left: Expr }).left, { kind: 'Binary', op: '-', left: fn('instr', col('name'), lit('string', 'a')), right: lit('number', '1') });
    assert.deepEqual((p("substring(Name,1,2) eq 'el'") as { left: Expr }).left, fn('substr', col('name'), { kind: 'Binary', op: '+', left: lit('number', '1'), right: lit('number', '1') }, lit('number', '2')));
    assert.deepEqual((p("concat(Name,'!') eq 'a!'") as { left: Expr }).left, { kind: 'Binary', op: '||', left: col('name'), right: lit('string', '!') });
  });
  it('maps date parts to extract and date() to a cast', () => {
    for (const part of ['year', 'month', 'day', 'hour', 'minute', 'second']) {
      assert.deepEqual((p(`${part}(Created) eq 1`) as { left: Expr }).left, fn('extract', lit('string', part), col('created')));
    }
    assert.deepEqual((p('date(Created) eq 2024-01-01') as { left: Expr }).left, { kind: 'Cast', expr: col('created'), type: { kind: 'TypeName', name: 'date', args: [] } });
  });
});

describe('$filter errors', () => {
  it('reports unknown properties, functions and operators with a position', () => {
    fails("Nope eq 'x'", /position 1: unknown property "Nope"/);
    fails("Name eq 'x' and frobnicate(Name)", /position 17: function "frobnicate" is not supported/);
    fails('Code has 1', /operator "has" is not supported/);
  });
  it('rejects unclosed strings, stray tokens, empty input, bad dates and SQL', () => {
    fails("Name eq 'x", /string literal is not closed/);
    fails('Code eq 1)', /unexpected "\)"/);
    fails('', /ends too early/);
    fails('Created eq 2024-02-30', /not a valid date/);
    fails('Code = 1; drop table x', /unexpected character "="/);
    fails('Code eq 1 --', /unexpected "-"/);
    fails('Code gt null', /null can only be compared with eq or ne/);
    fails('contains(Name)', /contains takes 2 arguments, not 1/);
    fails('Account/Name eq 1', /navigation/);
  });
  it('limits nesting depth instead of overflowing the stack', () => {
    fails(`${'('.repeat(500)}Code eq 1${')'.repeat(500)}`, /nested more than 100 deep/);
    fails(`${'not '.repeat(500)}Blocked`, /nested more than 100 deep/);
  });
});

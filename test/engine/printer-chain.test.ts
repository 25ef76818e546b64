/**
 * The DuckDB printer prints each subexpression once: a long chain of `+` / `-`
 * (what an OData `$filter=Id add 1 add 1 … gt 0` becomes) costs time linear in
 * its length, not 2^n, and prints the same SQL as before.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { printExpr } from '../../src/engine/duckdb-printer.js';
import type { PrintContext } from '../../src/engine/duckdb-printer.js';
import type { ExprKind } from '../../src/engine/functions.js';
import type { Expr } from '../../src/sql/ast.js';

const one: Expr = { kind: 'Literal', type: 'number', value: '1' };
const id: Expr = { kind: 'ColumnRef', qualifier: [], name: 'id' };

/** `id + 1 + 1 … (n times)`, left-deep as parsers build it, optionally compared `> 0`. */
function chain(n: number, op: '+' | '-' = '+'): Expr {
  let e: Expr = id;
  for (let i = 0; i < n; i++) e = { kind: 'Binary', op, left: e, right: one };
  return e;
}

/** A context like the executor's: kinds known, every kindOf call counted. */
function context(): { ctx: PrintContext; calls: () => number } {
  let calls = 0;
  const kind = (e: Expr): ExprKind => (e.kind === 'Literal' || e.kind === 'ColumnRef' || e.kind === 'Binary' ? 'number' : 'unknown');
  const ctx: PrintContext = {
    relation: () => '"t"',
    kindOf: (e) => {
      calls++;
      return kind(e);
    },
    isColumn: () => true,
    now: () => 0,
  };
  return { ctx, calls: () => calls };
}

describe('printing arithmetic chains', () => {
  it('looks at each node of a 20-term chain a constant number of times', () => {
    const { ctx, calls } = context();
    const sql = printExpr({ kind: 'Binary', op: '>', left: chain(20), right: { kind: 'Literal', type: 'number', value: '0' } }, ctx);
    // Two kind checks per `+` and two for the comparison; printing each side twice made this 2^21.
    assert.equal(calls(), 2 * 20 + 2);
    assert.equal(sql, `(${'('.repeat(20)}"id"${' + 1)'.repeat(20)} > 0)`);
  });

  it('prints a 2,000-term chain of + and - correctly', () => {
    const { ctx } = context();
    let e: Expr = id;
    for (let i = 0; i < 2000; i++) e = { kind: 'Binary', op: i % 2 === 0 ? '+' : '-', left: e, right: one };
    const sql = printExpr(e, ctx);
    assert.equal(sql, `${'('.repeat(2000)}"id"${Array.from({ length: 2000 }, (_, i) => (i % 2 === 0 ? ' + 1)' : ' - 1)')).join('')}`);
  });

  it('keeps date arithmetic and || concatenation as they were', () => {
    const { ctx } = context();
    const d: Expr = { kind: 'Literal', type: 'date', value: '2024-01-31' };
    const dateCtx: PrintContext = { ...ctx, kindOf: (e) => (e.kind === 'Literal' && e.type === 'date' ? 'date' : 'number') };
    assert.equal(
      printExpr({ kind: 'Binary', op: '+', left: d, right: one }, dateCtx),
      "(CAST(DATE '2024-01-31' AS TIMESTAMP) + to_microseconds(CAST(round((1) * 86400000000) AS BIGINT)))",
    );
    assert.equal(printExpr({ kind: 'Binary', op: '||', left: id, right: one }, ctx), `nullif(concat("id", 1), '')`);
    assert.equal(printExpr(chain(3, '-'), ctx), '((("id" - 1) - 1) - 1)');
  });
});

describe('printing concatenation chains', () => {
  it('prints a || b || c as one flat concat with Oracle NULL semantics', () => {
    const { ctx } = context();
    const col = (name: string): Expr => ({ kind: 'ColumnRef', qualifier: [], name });
    const abc: Expr = { kind: 'Binary', op: '||', left: { kind: 'Binary', op: '||', left: col('a'), right: col('b') }, right: col('c') };
    assert.equal(printExpr(abc, ctx), `nullif(concat("a", "b", "c"), '')`);
  });
});

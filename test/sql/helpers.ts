/**
 * Test helpers for the SQL front end: compare trees without positions, and
 * catch the SluiceError a bad statement must raise.
 */
import assert from 'node:assert/strict';
import { parseExpression, parseStatement, type Expr, type Query, type SelectCore, type Statement } from '../../src/sql/index.js';
import { SluiceError } from '../../src/util/errors.js';

/** The tree as plain data without `span`, so trees from different texts compare equal. */
export function strip<T>(x: T): unknown {
  return JSON.parse(JSON.stringify(x, (k, v: unknown) => (k === 'span' ? undefined : v)));
}

export function expr(text: string): unknown {
  return strip(parseExpression(text));
}

export function query(text: string): Query {
  const s = parseStatement(text);
  assert.equal(s.kind, 'QueryStatement');
  return (s as Statement & { kind: 'QueryStatement' }).query;
}

export function select(text: string): SelectCore {
  const q = query(text);
  assert.equal(q.body.kind, 'Select');
  return q.body as SelectCore;
}

/** Run `fn`, which must throw a SluiceError; return it. */
export function sqlError(fn: () => unknown): SluiceError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof SluiceError, `expected a SluiceError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a SluiceError, but nothing was thrown');
}

export const col = (name: string, ...qualifier: string[]): unknown => ({ kind: 'ColumnRef', qualifier, name });
export const num = (value: string): unknown => ({ kind: 'Literal', type: 'number', value });
export const str = (value: string): unknown => ({ kind: 'Literal', type: 'string', value });
export const bin = (op: string, left: unknown, right: unknown): unknown => ({ kind: 'Binary', op, left, right });
export type { Expr };

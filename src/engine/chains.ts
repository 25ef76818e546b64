/**
 * Long operator chains, made shallow before the engine walks them.
 *
 * Tools generate filters like `a = 1 or a = 2 or … or a = 20000`. The parser
 * reads such a chain in a loop, but it yields a left-deep tree as deep as the
 * chain is long, and every later pass (binder, planner, the DuckDB printer,
 * DuckDB's own parser, which refuses expressions deeper than 1,000 levels)
 * would have to walk it that deep. Before a statement is bound, every chain
 * of one associative operator (`and`, `or`, `+`, `||`) longer than
 * CHAIN_LIMIT operands is rebuilt as a balanced tree of the same operands in
 * the same order: 20,000 terms become 15 levels. Shorter chains, which is
 * what people write by hand, are left exactly as parsed, so `explain` and
 * error messages show them unchanged.
 *
 * Within such a long chain, `col = literal` terms of `or` on one column
 * become one `col in (…)`, and `col <> literal` terms of `and` one
 * `col not in (…)` (the same truth value, NULL included): one list is what
 * a provider can take as a pushed-down filter, and DuckDB evaluates it far
 * faster than thousands of separate comparisons.
 *
 * The walk itself follows a chain's spine in a loop, never by recursion.
 */
import type { Binary, BinaryOp, ColumnRef, Expr, Literal, Span } from '../sql/ast.js';

/** Chains with more operands than this are balanced. */
export const CHAIN_LIMIT = 64;

/** Operators whose chains may be regrouped without changing the result. */
const ASSOCIATIVE: ReadonlySet<BinaryOp> = new Set<BinaryOp>(['and', 'or', '+', '||']);

function isBinary(x: unknown): x is Binary {
  return typeof x === 'object' && x !== null && (x as { kind?: unknown }).kind === 'Binary';
}

/**
 * The operands of the left-deep chain of `op` starting at `e`, in order:
 * `a op b op c` gives [a, b, c]. Follows the left spine in a loop.
 */
export function chainOperands(e: Expr, op: BinaryOp): Expr[] {
  const rights: Expr[] = [];
  let left: Expr = e;
  while (left.kind === 'Binary' && left.op === op) {
    rights.push(left.right);
    left = left.left;
  }
  rights.push(left);
  return rights.reverse();
}

/**
 * The operands of `e` under any grouping of `op`, left to right:
 * `(a or b) or (c or d)` and `a or b or c or d` both give [a, b, c, d].
 * Uses an explicit stack, so depth does not matter.
 */
export function flattenOp(e: Expr, op: BinaryOp): Expr[] {
  const out: Expr[] = [];
  const stack: Expr[] = [e];
  while (stack.length > 0) {
    const x = stack.pop()!;
    if (x.kind === 'Binary' && x.op === op) stack.push(x.right, x.left);
    else out.push(x);
  }
  return out;
}

function spanOf(first: Expr, last: Expr): Span | undefined {
  return first.span && last.span ? { start: first.span.start, end: last.span.end } : undefined;
}

/** A balanced tree of `op` over operands (in order), without recursion deeper than log2 of their count. */
function balanced(operands: readonly Expr[], op: BinaryOp): Expr {
  let level: Expr[] = [...operands];
  while (level.length > 1) {
    const next: Expr[] = [];
    for (let i = 0; i < level.length; i += 2) {
      if (i + 1 === level.length) {
        next.push(level[i]);
        continue;
      }
      const left = level[i];
      const right = level[i + 1];
      const span = spanOf(left, right);
      next.push(span ? { kind: 'Binary', op, left, right, span } : { kind: 'Binary', op, left, right });
    }
    level = next;
  }
  return level[0];
}

/** `col = lit` / `lit = col` (or `<>`), as column and literal. */
function columnLiteral(e: Expr, op: '=' | '<>'): { column: ColumnRef; literal: Literal } | undefined {
  if (e.kind !== 'Binary' || e.op !== op) return undefined;
  const pair = e.left.kind === 'ColumnRef' && e.right.kind === 'Literal' ? { column: e.left, literal: e.right } : e.right.kind === 'ColumnRef' && e.left.kind === 'Literal' ? { column: e.right, literal: e.left } : undefined;
  return pair && pair.literal.type !== 'null' ? pair : undefined;
}

/**
 * The operands of a long `or` (`and`) chain with its `col = lit` (`col <> lit`)
 * terms on one column and of one literal type merged into `col [not] in (…)`.
 */
function mergeLists(operands: readonly Expr[], op: BinaryOp): Expr[] {
  if (op !== 'or' && op !== 'and') return [...operands];
  const compare = op === 'or' ? '=' : '<>';
  const groups = new Map<string, { column: ColumnRef; literals: Literal[]; first: Expr; last: Expr }>();
  const out: (Expr | string)[] = [];
  for (const e of operands) {
    const pair = columnLiteral(e, compare);
    if (!pair) {
      out.push(e);
      continue;
    }
    const key = JSON.stringify([...pair.column.qualifier, pair.column.name].map((x) => x.toLowerCase()).concat(pair.literal.type));
    const g = groups.get(key);
    if (g) {
      g.literals.push(pair.literal);
      g.last = e;
    } else {
      groups.set(key, { column: pair.column, literals: [pair.literal], first: e, last: e });
      out.push(key);
    }
  }
  return out.map((x) => {
    if (typeof x !== 'string') return x;
    const g = groups.get(x)!;
    if (g.literals.length === 1) return g.first;
    const span = spanOf(g.first, g.last);
    const list: Expr = { kind: 'InList', expr: g.column, list: g.literals, not: op === 'and' };
    return span ? { ...list, span } : list;
  });
}

function rewrite(node: unknown): unknown {
  if (Array.isArray(node)) {
    let changed = false;
    const out = node.map((x: unknown) => {
      const y = rewrite(x);
      if (y !== x) changed = true;
      return y;
    });
    return changed ? out : node;
  }
  if (typeof node !== 'object' || node === null) return node;
  if (isBinary(node) && ASSOCIATIVE.has(node.op)) {
    const operands = chainOperands(node, node.op);
    if (operands.length > CHAIN_LIMIT) return balanced(mergeLists(operands, node.op).map((x) => rewrite(x) as Expr), node.op);
    // A short chain: walk it as it is (at most CHAIN_LIMIT levels down this spine).
  }
  let copy: Record<string, unknown> | undefined;
  for (const [key, value] of Object.entries(node)) {
    if (key === 'span' || typeof value !== 'object' || value === null) continue;
    const next = rewrite(value);
    if (next !== value) {
      copy ??= { ...(node as Record<string, unknown>) };
      copy[key] = next;
    }
  }
  return copy ?? node;
}

/**
 * The statement (or any AST part) with every long associative chain
 * balanced; the same object when it has none.
 */
export function balanceChains<T extends object>(root: T): T {
  return rewrite(root) as T;
}

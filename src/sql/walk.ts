/**
 * Finding nodes in an AST without recursion: generated SQL (a `where` of
 * thousands of `or` terms) makes trees thousands of levels deep, deeper than
 * the JavaScript stack allows a recursive walk.
 */

/**
 * Every node under `root` (depth first, in source order) that `accept` takes.
 * The AST is a tree of plain objects and arrays; `span` members are skipped.
 */
export function findNodes<T>(root: unknown, accept: (node: { readonly kind?: unknown }) => boolean): T[] {
  const out: T[] = [];
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const x = stack.pop();
    if (Array.isArray(x)) {
      for (let i = x.length - 1; i >= 0; i--) stack.push(x[i]);
    } else if (x !== null && typeof x === 'object') {
      if (typeof (x as { kind?: unknown }).kind === 'string' && accept(x as { kind?: unknown })) out.push(x as T);
      const children = Object.entries(x).filter(([k, v]) => k !== 'span' && v !== null && typeof v === 'object');
      for (let i = children.length - 1; i >= 0; i--) stack.push(children[i][1]);
    }
  }
  return out;
}

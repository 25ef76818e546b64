/**
 * The keywords of the Sluice SQL dialect, and which of them are reserved.
 *
 * Reserved words cannot be bare column names, table names or aliases (quote
 * them: "order", [order]); every other keyword may be used as a name, so
 * seed SQL such as `select to_char(code) number from …` keeps working. The
 * reserved set is kept small on purpose: it is the words that start or end a
 * clause or a statement, because those are what the parser needs to tell a
 * bare alias from the next clause, and what lets scripts separate statements
 * by nothing but the next statement keyword. The CLI uses KEYWORDS for tab
 * completion; the parser uses closestKeyword for "did you mean …?" hints.
 */

/** Words that cannot be used as bare identifiers or aliases. */
const RESERVED: ReadonlySet<string> = new Set([
  'all', 'and', 'as', 'between', 'by', 'case', 'create', 'cross', 'delete', 'distinct', 'drop',
  'else', 'end', 'except', 'exists', 'explain', 'false', 'fetch', 'from', 'full', 'group', 'having',
  'ilike', 'in', 'inner', 'insert', 'intersect', 'into', 'is', 'join', 'left', 'like', 'limit', 'minus',
  'not', 'null', 'offset', 'on', 'or', 'order', 'outer', 'right', 'select', 'set', 'synchronize', 'then',
  'true', 'union', 'update', 'use', 'using', 'values', 'when', 'where', 'with',
]);

/** Words with a meaning somewhere in the dialect that may still be used as names. */
const UNRESERVED = [
  'action', 'after', 'asc', 'cast', 'changes', 'continue', 'current', 'date', 'default', 'desc',
  'error', 'errors', 'escape', 'exit', 'extract', 'filter', 'first', 'following', 'identified', 'if',
  'ignore', 'interval', 'key', 'last', 'next', 'nulls', 'only', 'over', 'partition', 'preceding',
  'primary', 'range', 'replace', 'row', 'rows', 'table', 'timestamp', 'to', 'top', 'unbounded',
  'day', 'hour', 'minute', 'month', 'second', 'year', 'sysdate', 'sysdateutc',
];

/** Every keyword, lower case and sorted (for completion and suggestions). */
export const KEYWORDS: readonly string[] = [...new Set([...RESERVED, ...UNRESERVED])].sort();

/** True when `word` (any case) cannot be used unquoted as a name. */
export function isReservedKeyword(word: string): boolean {
  return RESERVED.has(word.toLowerCase());
}

/** Words that start a statement; one of them on its own ends the previous statement. */
export const STATEMENT_KEYWORDS: ReadonlySet<string> = new Set([
  'select', 'with', 'use', 'set', 'create', 'drop', 'insert', 'update', 'delete', 'explain', 'synchronize',
]);

/** Levenshtein distance, bounded: returns limit + 1 as soon as it is certain to exceed it. */
export function editDistance(a: string, b: string, limit = 3): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let prevPrev: number[] | undefined;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1;
      let v = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
      // A swap of two neighbours ("form" for "from") counts as one edit.
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, (prevPrev?.[j - 2] ?? v) + 1);
      cur.push(v);
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > limit) return limit + 1;
    prevPrev = prev;
    prev = cur;
  }
  return prev[b.length];
}

/**
 * The candidate keyword a mistyped word was most likely meant to be, if any:
 * one edit away for short words, two for words of six letters or more.
 */
export function closestKeyword(word: string, candidates: Iterable<string>): string | undefined {
  const w = word.toLowerCase();
  if (w.length < 3) return undefined;
  const limit = w.length >= 6 ? 2 : 1;
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const c of candidates) {
    if (c === w) continue;
    const d = editDistance(w, c, limit);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

/**
 * The SQL keywords the shell completes. A local list until the dialect's own
 * KEYWORDS is exported from src/sql/index.ts.
 */
export const KEYWORDS: readonly string[] = [
  'all', 'and', 'as', 'asc', 'between', 'by', 'case', 'cast', 'create', 'cross', 'default', 'delete', 'desc',
  'distinct', 'drop', 'else', 'end', 'exists', 'explain', 'false', 'from', 'full', 'group', 'having', 'identified',
  'ignore', 'in', 'inner', 'insert', 'intersect', 'into', 'is', 'join', 'left', 'like', 'limit', 'minus', 'not',
  'null', 'nulls', 'on', 'or', 'order', 'outer', 'replace', 'right', 'select', 'set', 'synchronize', 'table',
  'then', 'to', 'top', 'true', 'union', 'update', 'use', 'values', 'when', 'where', 'with',
];

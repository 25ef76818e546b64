/**
 * Tab completion for the shell: backslash commands, keywords, table names
 * (plain, qualified, `@container`) and the columns of the tables the
 * statement being typed mentions (also after `alias.`). Pure: it sees the
 * text before the cursor, the statement's earlier lines and the catalog.
 */
import type { CatalogEntry } from './catalog.js';
import { findTables, namesOf } from './catalog.js';
import { OUTPUT_FORMATS } from './output/index.js';

export const BACKSLASH_COMMANDS = ['\\help', '\\tables', '\\describe', '\\format', '\\timing', '\\quit'] as const;

export interface CompletionSource {
  readonly keywords: readonly string[];
  readonly catalog: () => readonly CatalogEntry[];
  readonly containers: () => readonly string[];
}

const TABLE_CONTEXT = /\b(from|join|into|update|table|describe|synchronize|to)\s*$/i;

function startsWithCi(candidate: string, prefix: string): boolean {
  return candidate.toLowerCase().startsWith(prefix.toLowerCase());
}

/** Show candidates in the case the user types in: lower stays lower, UPPER makes keywords upper. */
function inCase(candidate: string, typed: string, isKeyword: boolean): string {
  if (typed.length > 0 && typed === typed.toLowerCase()) return candidate.toLowerCase();
  if (isKeyword && /[A-Z]/.test(typed) && typed === typed.toUpperCase()) return candidate.toUpperCase();
  return candidate;
}

function unique(items: readonly string[]): string[] {
  return [...new Set(items)].sort((a, b) => a.localeCompare(b));
}

/** Tables named after FROM/JOIN/INTO/UPDATE in the statement, keyed by their alias (and name). */
export function tablesInStatement(statement: string, catalog: readonly CatalogEntry[]): Map<string, CatalogEntry[]> {
  const found = new Map<string, CatalogEntry[]>();
  const re = /\b(?:from|join|into|update|synchronize|to)\s+([\w$#.@"[\]]+)(?:\s+(?:as\s+)?([A-Za-z_][\w$#]*))?/gi;
  const notAlias = /^(where|on|join|inner|left|right|full|cross|group|order|having|limit|union|minus|intersect|set|values|select|with|as|identified|natural|using)$/i;
  for (const m of statement.matchAll(re)) {
    const tables = findTables(catalog, m[1]);
    if (tables.length === 0) continue;
    const bare = m[1].split('@')[0].split('.').pop() ?? m[1];
    found.set(bare.toLowerCase(), tables);
    if (m[2] && !notAlias.test(m[2])) found.set(m[2].toLowerCase(), tables);
  }
  return found;
}

/**
 * Completions for the text before the cursor: [candidates, the text they replace],
 * as node:readline's completer returns them. `context` is the rest of the
 * statement being typed (earlier lines, and the current line past the cursor),
 * where the tables whose columns to offer are named.
 */
export function complete(beforeCursor: string, context: string, source: CompletionSource): [string[], string] {
  const trimmed = beforeCursor.trimStart();
  // Backslash commands only at the start of a statement (the context then is just this line, or nothing).
  if (trimmed.startsWith('\\') && (context.trim() === '' || context.trimStart().startsWith('\\'))) {
    const cmd = /^\\(\w*)$/.exec(trimmed);
    if (cmd) return [BACKSLASH_COMMANDS.filter((c) => c.startsWith(trimmed)), trimmed];
    const arg = /^\\(\w+)\s+(\S*)$/.exec(trimmed);
    if (!arg) return [[], ''];
    if (arg[1] === 'format') return [OUTPUT_FORMATS.filter((f) => f !== 'xlsx' && f.startsWith(arg[2].toLowerCase())), arg[2]];
    if (arg[1] === 'describe' || arg[1] === 'tables') {
      const names = source.catalog().map((e) => e.table.name);
      return [unique(names.filter((n) => startsWithCi(n, arg[2])).map((n) => inCase(n, arg[2], false))), arg[2]];
    }
    return [[], ''];
  }

  const token = /[\w$#.@]*$/.exec(beforeCursor)?.[0] ?? '';
  const catalog = source.catalog();

  const at = token.lastIndexOf('@');
  if (at >= 0) {
    const typedAlias = token.slice(at + 1);
    const table = token.slice(0, at);
    const holders = table ? new Set(findTables(catalog, table).map((e) => e.container.toLowerCase())) : undefined;
    const aliases = source.containers().filter((a) => (!holders || holders.size === 0 || holders.has(a.toLowerCase())) && startsWithCi(a, typedAlias));
    return [unique(aliases.map((a) => `${table}@${a}`)), token];
  }

  const statement = `${context}\n${beforeCursor}`;
  const dot = token.lastIndexOf('.');
  if (dot >= 0) {
    const qualifier = token.slice(0, dot);
    const partial = token.slice(dot + 1);
    const hits: string[] = [];
    // alias.column or table.column
    const inStatement = tablesInStatement(statement, catalog).get(qualifier.toLowerCase()) ?? findTables(catalog, qualifier);
    for (const e of inStatement) {
      for (const c of e.table.columns) if (startsWithCi(c.name, partial)) hits.push(`${qualifier}.${inCase(c.name, partial, false)}`);
    }
    // schema.table, catalog..table, catalog.schema.table
    for (const e of catalog) for (const n of namesOf(e.table)) if (n.includes('.') && startsWithCi(n, token)) hits.push(inCase(n, token, false));
    return [unique(hits), token];
  }

  if (token === '') {
    if (!TABLE_CONTEXT.test(beforeCursor)) return [[], ''];
    return [unique(catalog.map((e) => e.table.name)), ''];
  }

  const hits: string[] = [];
  for (const k of source.keywords) if (startsWithCi(k, token)) hits.push(inCase(k, token, true));
  for (const e of catalog) {
    for (const n of [e.table.name, ...(e.table.aliases ?? [])]) if (startsWithCi(n, token)) hits.push(inCase(n, token, false));
  }
  for (const tables of tablesInStatement(statement, catalog).values()) {
    for (const e of tables) for (const c of e.table.columns) if (startsWithCi(c.name, token)) hits.push(inCase(c.name, token, false));
  }
  return [unique(hits), token];
}

/**
 * Turns a failure of the embedded DuckDB (ENG500 from local.ts) into an error
 * in the user's terms: a stable code per kind of failure, the user's table and
 * function names instead of the printed SQL's temp relations, and the place in
 * the statement the failure is about. The session calls this for every
 * statement that fails; the SQL the engine generated never reaches the user.
 */
import { findNodes as findNodesIn } from '../sql/walk.js';
import type { Expr, FunctionCall, Statement } from '../sql/ast.js';
import { SluiceError, type SqlLocation } from '../util/errors.js';
import { locationOf, suggestions } from './binder.js';

export interface DuckErrorContext {
  readonly statement: Statement;
  readonly text: string | undefined;
  /** Temp relation name (as DuckDB knows it) → the name the user wrote. */
  readonly relations: ReadonlyMap<string, string>;
  /** The function names a user may call, for did-you-mean. */
  readonly functionNames: () => readonly string[];
  /** How many arguments a DuckDB function takes (fixed counts of its overloads; varargs: that many or more), when known. */
  readonly functionArity?: (name: string) => FunctionArity | undefined;
}

export interface FunctionArity {
  readonly counts: readonly number[];
  readonly varargs: boolean;
}

/** The name and argument types of DuckDB's "No function matches … 'upper(STRING_LITERAL, STRING_LITERAL)'". */
export function unmatchedCall(message: string): { name: string; types: string[] } | undefined {
  const m = /No function matches the given name and argument types '([\w.]+)\((.*)\)'/.exec(message);
  if (!m) return undefined;
  const types: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of m[2]) {
    if (ch === '(' || ch === '[') depth++;
    if (ch === ')' || ch === ']') depth--;
    if (ch === ',' && depth === 0) {
      types.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim() !== '') types.push(cur.trim());
  return { name: m[1], types };
}

/** Functions DuckDB's grammar handles itself (not listed in duckdb_functions()). */
const GRAMMAR_FUNCTIONS: Readonly<Record<string, FunctionArity>> = {
  coalesce: { counts: [1], varargs: true },
  nullif: { counts: [2], varargs: false },
  ifnull: { counts: [2], varargs: false },
};

/** "1", "1 to 3", "2 or 4", "at least 1": the argument counts a function accepts. */
export function describeCounts(a: FunctionArity): string {
  const counts = [...new Set(a.counts)].sort((x, y) => x - y);
  if (counts.length === 0) return a.varargs ? 'any number of' : '0';
  if (a.varargs) return `at least ${counts[0]}`;
  if (counts.length === 1) return String(counts[0]);
  if (counts[counts.length - 1] - counts[0] === counts.length - 1) return `${counts[0]} to ${counts[counts.length - 1]}`;
  return `${counts.slice(0, -1).join(', ')} or ${counts[counts.length - 1]}`;
}

function typeWord(duckType: string): string {
  const t = duckType.replace(/_LITERAL$/i, '').toUpperCase();
  if (t === 'STRING' || t.startsWith('VARCHAR')) return 'text';
  if (t === 'NULL') return 'null';
  return kindWord(t).replace(/^an? /, '').replace(/^type /, '');
}

type Node = { kind?: unknown; span?: Expr['span'] };

/** Every AST node under `root` (depth first, source order) that `pred` accepts. */
function findNodes<T>(root: unknown, pred: (n: Node) => n is Node & T): T[] {
  return findNodesIn<T>(root, (n) => pred(n as Node));
}

const isCall = (n: Node): n is Node & FunctionCall => n.kind === 'FunctionCall';

function callsIn(statement: Statement): FunctionCall[] {
  return findNodes<FunctionCall>(statement, isCall);
}

function hasStringLiteral(e: unknown, value: string): boolean {
  return findNodes<Expr>(e, (n): n is Node & Expr => n.kind === 'Literal' && (n as { value?: unknown }).value === value).length > 0;
}

function kindWord(duckType: string): string {
  const t = duckType.toUpperCase();
  if (/^(DOUBLE|FLOAT|REAL|DECIMAL|INTEGER|BIGINT|SMALLINT|TINYINT|HUGEINT|UBIGINT|UINTEGER|INT)/.test(t)) return 'a number';
  if (/^(DATE|TIMESTAMP)/.test(t)) return 'a date';
  if (t.startsWith('BOOLEAN')) return 'a boolean';
  if (t.startsWith('UUID')) return 'a guid';
  return `type ${duckType.toLowerCase()}`;
}

/** Replace the engine's relation names by the user's, and drop DuckDB's class prefix. */
function userText(message: string, relations: ReadonlyMap<string, string>): string {
  let m = message.split('\n')[0].replace(/^[A-Za-z ]+ Error:\s*/, '');
  m = m.replace(/"?(__sluice_[a-z]+_\d+)"?/g, (whole, name: string) => relations.get(name) ?? 'a scanned table');
  m = m.replace(/"mem_[^"]*"\."([^"]*)"/g, '$1');
  return m;
}

function where(span: Expr['span'], text: string | undefined): { location?: SqlLocation } {
  const location = locationOf(span, text);
  return location ? { location } : {};
}

/** The DuckDB failure `e` (an ENG500 SluiceError) as the user should see it; other errors pass unchanged. */
export function translateDuckError(e: SluiceError, c: DuckErrorContext): SluiceError {
  if (e.code !== 'ENG500') return e;
  const raw = e.details.cause instanceof Error ? e.details.cause.message : e.message.replace(/^The local query engine failed:\s*/, '');
  const message = raw.split('\n')[0];
  const text = userText(message, c.relations);

  // The function library raises its own coded errors inside DuckDB (error('ENG1xx: name: …')): keep them, and locate the call.
  let m = /\b(ENG\d{3}): (.*)$/.exec(message);
  if (m) {
    const [, code, said] = m;
    const fn = /^([\w.]+):/.exec(said)?.[1]?.toLowerCase();
    const call = fn ? callsIn(c.statement).find((f) => f.name.toLowerCase() === fn) : undefined;
    return new SluiceError(code, userText(said, c.relations), where(call?.span ?? c.statement.span, c.text));
  }

  m = /column "([^"]+)" must appear in the GROUP BY clause/i.exec(message);
  if (m) {
    const name = m[1];
    const refs = findNodes<Expr & { name: string }>(c.statement, (n): n is Node & Expr & { name: string } => n.kind === 'ColumnRef' && String((n as { name?: unknown }).name).toLowerCase() === name.toLowerCase());
    return new SluiceError('ENG510', `${name} must appear in GROUP BY or be used in an aggregate function.`, {
      ...where(refs[0]?.span, c.text),
      hint: `Add ${name} to the group by, or aggregate it, for example max(${name}).`,
    });
  }

  m = /(?:Scalar|Aggregate|Table|Window)? ?Function with name "?([\w.]+)"? does not exist/i.exec(message);
  if (m) {
    const name = m[1];
    const call = callsIn(c.statement).find((f) => f.name.toLowerCase() === name.toLowerCase());
    const hint = suggestions(name, c.functionNames());
    return new SluiceError('ENG511', `Unknown function ${name}.`, {
      ...where(call?.span, c.text),
      ...(hint.length ? { hint: `Did you mean ${hint.join(', ')}?` } : {}),
    });
  }

  if (/Parser Error/i.test(message)) {
    // DuckDB parses these as grammar, not functions, so a wrong argument count is a syntax error in its SQL.
    const call = callsIn(c.statement).find((f) => {
      const a = GRAMMAR_FUNCTIONS[f.name.toLowerCase()];
      return a !== undefined && !(a.counts.includes(f.args.length) || (a.varargs && f.args.length >= a.counts[0]));
    });
    if (call) {
      const a = GRAMMAR_FUNCTIONS[call.name.toLowerCase()];
      return new SluiceError('ENG120', `Function ${call.name} takes ${describeCounts(a)} argument(s), got ${call.args.length}.`, where(call.span, c.text));
    }
  }

  const unmatched = unmatchedCall(message);
  if (unmatched) {
    // A DuckDB function called with arguments it has no overload for: say so in our terms, located at the call.
    const { name, types } = unmatched;
    const calls = callsIn(c.statement).filter((f) => f.name.toLowerCase() === name.toLowerCase());
    const call = calls.find((f) => f.args.length === types.length) ?? calls[0];
    const arity = c.functionArity?.(name);
    const fits = arity && (arity.counts.includes(types.length) || (arity.varargs && types.length >= Math.min(...arity.counts, Infinity)));
    if (arity && !fits) {
      return new SluiceError('ENG120', `Function ${name} takes ${describeCounts(arity)} argument(s), got ${types.length}.`, where(call?.span ?? c.statement.span, c.text));
    }
    return new SluiceError('ENG125', `Function ${name} cannot take ${types.length === 0 ? 'no arguments' : `argument(s) of type ${types.map(typeWord).join(', ')}`}.`, {
      ...where(call?.span ?? c.statement.span, c.text),
      hint: 'Convert the arguments explicitly, for example with to_char(...), to_number(...) or cast(... as ...).',
    });
  }

  m = /Could not convert string '(.*?)' to ([A-Z_]+(?:\(\d+,\s*\d+\))?)/.exec(message) ?? /Could not convert string "(.*?)" to ([A-Z_]+)/.exec(message);
  if (m) {
    const [, value, type] = m;
    return conversion(c, value, kindWord(type), ['to_number', 'cast', 'to_date', 'to_char']);
  }

  m = /Could not parse string "(.*?)" according to format specifier "(.*?)"/.exec(message);
  if (m) {
    return conversion(c, m[1], 'a date', ['to_date', 'to_timestamp']);
  }

  m = /Cannot compare values of type (\w+) and type (\w+)/.exec(message);
  if (m) {
    return new SluiceError('ENG514', `Cannot compare ${kindWord(m[1]).replace(/^type /, '')} with ${kindWord(m[2].replace(/_LITERAL$/, '')).replace(/^type /, '')}.`, {
      ...where(c.statement.span, c.text),
      hint: 'Convert one side explicitly, for example with to_number(...) or to_char(...).',
    });
  }

  return new SluiceError('ENG500', `The statement could not be run: ${text}`, { ...where(c.statement.span, c.text), cause: e.details.cause });
}

function conversion(c: DuckErrorContext, value: string, target: string, functions: readonly string[]): SluiceError {
  const calls = callsIn(c.statement);
  const withValue = calls.find((f) => hasStringLiteral(f.args, value));
  const named = calls.filter((f) => functions.includes(f.name.toLowerCase()));
  const call = withValue ?? (named.length === 1 ? named[0] : undefined);
  const fmt = call && call.args[1]?.kind === 'Literal' && call.args[1].type === 'string' ? call.args[1].value : undefined;
  const what = target === 'a date' && fmt ? `a date in format '${fmt}'` : target;
  const message = call ? `${call.name}: the value '${value}' is not ${what}.` : `The value '${value}' cannot be converted to ${what}.`;
  return new SluiceError('ENG512', message, where(call?.span ?? c.statement.span, c.text));
}

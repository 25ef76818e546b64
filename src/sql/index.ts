/**
 * The SQL front end of Sluice: text → AST and back.
 *
 * What lives here: the lexer, the recursive-descent parser, the printer back
 * to Sluice SQL, the keyword lists and the SQL1xx syntax errors. Anyone may
 * import this module; it imports nothing but the AST types and util/errors.
 * Downstream code works on the AST (ast.ts) only and never re-parses text.
 */
import type { Expr, Script, Statement } from './ast.js';
import { SqlErrorCode, sqlError } from './errors.js';
import { guarded } from './parser.js';

export type * from './ast.js';
export { KEYWORDS, isReservedKeyword, STATEMENT_KEYWORDS } from './keywords.js';
export { printExpr, printQuery, printStatement, printScript, printTableName, printType, quoteIdentifier, quoteString } from './printer.js';
export { SqlErrorCode } from './errors.js';
export { tokenize, type Token, type TokenType } from './lexer.js';

/** Parse a script: every statement, separated by ";" or by the next statement keyword. Throws SluiceError (SQL1xx). */
export function parseScript(text: string): Script {
  return guarded(text, (p) => p.script());
}

/** Parse exactly one statement (a trailing ";" is fine). Throws SluiceError (SQL1xx). */
export function parseStatement(text: string): Statement {
  const script = parseScript(text);
  if (script.statements.length === 1) return script.statements[0];
  if (script.statements.length === 0) {
    throw sqlError(SqlErrorCode.statementCount, 'expected a statement, found none', text, text.length);
  }
  const second = script.statements[1].span?.start.offset ?? 0;
  throw sqlError(
    SqlErrorCode.statementCount,
    `expected exactly one statement, found ${script.statements.length}`,
    text,
    second,
    'run them as a script, or separate them and run one at a time',
  );
}

/** Parse one expression, e.g. `a + 1 > b`. Throws SluiceError (SQL1xx). */
export function parseExpression(text: string): Expr {
  return guarded(text, (p) => p.standaloneExpression());
}

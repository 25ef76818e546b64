/**
 * Syntax errors of the SQL front end: the stable SQL1xx codes and a helper
 * that turns an offset in the script into the line/column/source-line
 * location every SluiceError about SQL text carries.
 */
import { SluiceError } from '../util/errors.js';

/** Stable codes, one per kind of syntax problem. */
export const SqlErrorCode = {
  unterminatedString: 'SQL101',
  unterminatedIdentifier: 'SQL102',
  unterminatedComment: 'SQL103',
  badNumber: 'SQL104',
  unexpectedCharacter: 'SQL105',
  unexpectedToken: 'SQL110',
  unexpectedEnd: 'SQL111',
  tooDeep: 'SQL112',
  badLiteral: 'SQL113',
  badValue: 'SQL114',
  statementCount: 'SQL115',
} as const;

export interface LineInfo {
  readonly line: number;
  readonly column: number;
  readonly sourceLine: string;
}

/** 1-based line and column of `offset` in `text`, and that line's text. */
export function locate(text: string, offset: number): LineInfo {
  const at = Math.max(0, Math.min(offset, text.length));
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < at; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  let lineEnd = text.indexOf('\n', lineStart);
  if (lineEnd === -1) lineEnd = text.length;
  const sourceLine = text.slice(lineStart, lineEnd).replace(/\r$/, '');
  return { line, column: at - lineStart + 1, sourceLine };
}

export function sqlError(code: string, message: string, text: string, offset: number, hint?: string): SluiceError {
  const location = locate(text, offset);
  return new SluiceError(code, message, hint === undefined ? { location } : { location, hint });
}

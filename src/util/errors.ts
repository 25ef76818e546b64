/**
 * The one error type users see. Every failure that reaches a user is a
 * SluiceError with a stable code, a message saying what happened, and where:
 * a SQL position (line/column plus the offending line and a caret), or the
 * container / table / partition / row key of a data or remote failure.
 * `format()` renders it for a terminal or log; never a stack trace.
 */

export interface SqlLocation {
  readonly line: number;
  readonly column: number;
  /** The text of the offending line, for the caret display. */
  readonly sourceLine?: string;
}

export interface SluiceErrorDetails {
  readonly location?: SqlLocation;
  readonly container?: string;
  readonly table?: string;
  readonly partition?: string;
  readonly rowKey?: string;
  /** What the user can do about it. */
  readonly hint?: string;
  /** HTTP status of a remote failure, when there was one. */
  readonly status?: number;
  readonly cause?: unknown;
}

export class SluiceError extends Error {
  readonly code: string;
  readonly details: SluiceErrorDetails;

  constructor(code: string, message: string, details: SluiceErrorDetails = {}) {
    super(message);
    this.name = 'SluiceError';
    this.code = code;
    this.details = details;
  }

  /** A multi-line rendering: code and message, where, the caret line, the hint. */
  format(): string {
    const d = this.details;
    const lines = [`${this.code}: ${this.message}`];
    const where: string[] = [];
    if (d.location) where.push(`line ${d.location.line}, column ${d.location.column}`);
    if (d.container) where.push(`container ${d.container}`);
    if (d.table) where.push(`table ${d.table}`);
    if (d.partition) where.push(`partition ${d.partition}`);
    if (d.rowKey) where.push(`row ${d.rowKey}`);
    if (where.length > 0) lines.push(`  at ${where.join(', ')}`);
    if (d.location?.sourceLine !== undefined) {
      const text = d.location.sourceLine.replace(/\t/g, ' ');
      lines.push(`  ${text}`);
      lines.push(`  ${' '.repeat(Math.max(0, d.location.column - 1))}^`);
    }
    if (d.hint) lines.push(`  hint: ${d.hint}`);
    return lines.join('\n');
  }
}

/** Turn anything thrown into a SluiceError, keeping SluiceErrors as they are. */
export function toSluiceError(e: unknown, code = 'SLU000'): SluiceError {
  if (e instanceof SluiceError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new SluiceError(code, message, { cause: e });
}

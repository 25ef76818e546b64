/**
 * The interactive shell (`sluice`, `sluice demo`): node:readline with
 * multi-line statements (a statement ends with `;` or an empty line),
 * persistent history, tab completion, backslash commands, results as a table
 * with row count and time. Ctrl-C cancels a running statement and returns to
 * the prompt; on an empty prompt, Ctrl-C twice or Ctrl-D leaves.
 */
import { createInterface, type Interface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { Session } from '../engine/api.js';
import type { ColumnInfo } from '../provider/types.js';
import { catalogEntries, findTables, matchesPattern, qualifiedName, type CatalogEntry } from './catalog.js';
import { complete } from './completion.js';
import { loadHistory, saveHistory, HISTORY_SIZE } from './history.js';
import { createOutput, OUTPUT_FORMATS, parseFormat, type OutputFormat } from './output/index.js';
import { renderTable } from './output/table.js';
import { describeError, runScript } from './run.js';
import { endsWithTerminator } from './statement-end.js';

export interface ShellOptions {
  readonly session: Session;
  readonly input: Readable;
  /** Prompts and results. */
  readonly output: Writable;
  /** Statement messages, warnings, progress and errors. */
  readonly errorOutput: Writable;
  /** Whether input/output are a terminal (line editing, Ctrl-C as an event, an updating progress line). */
  readonly terminal: boolean;
  /** Persistent history file; none when undefined. */
  readonly historyFile?: string;
  readonly keywords: readonly string[];
  /** Terminal width, for fitting tables. */
  readonly width?: () => number | undefined;
  readonly env?: NodeJS.ProcessEnv;
  /** A second Ctrl-C while a cancelled statement has not stopped yet (the CLI exits). */
  readonly onForceQuit?: () => void;
}

const PROMPT = 'sluice> ';
const CONTINUATION = '   ...> ';

const HELP = `Type SQL; a statement ends with ";" or an empty line. Tab completes keywords, tables and columns.
  \\tables [pattern]   list tables (pattern: part of a name, or % and _ wildcards)
  \\describe table     columns, types, key and filterable columns of a table
  \\format [fmt]       show or set the result format: ${OUTPUT_FORMATS.filter((f) => f !== 'xlsx').join(', ')}
  \\timing             show or hide the time each statement took
  \\help               this text
  \\quit               leave (also Ctrl-D, or Ctrl-C twice on an empty prompt)
Ctrl-C while a statement runs cancels it.
`;

export class Shell {
  private readonly options: ShellOptions;
  private readonly rl: Interface;
  private readonly buffer: string[] = [];
  private format: OutputFormat = 'table';
  private timing = true;
  private running: AbortController | undefined;
  private interruptedOnce = false;

  constructor(options: ShellOptions) {
    this.options = options;
    const history = options.historyFile ? loadHistory(options.historyFile) : [];
    this.rl = createInterface({
      input: options.input,
      output: options.output,
      terminal: options.terminal,
      history,
      historySize: HISTORY_SIZE,
      removeHistoryDuplicates: true,
      completer: (line: string) => this.complete(line),
    });
    this.rl.on('SIGINT', () => this.interrupt());
    if (options.historyFile) {
      const file = options.historyFile;
      this.rl.on('history', (entries: string[]) => {
        try {
          saveHistory(file, entries);
        } catch {
          // History is a convenience; a read-only home must not break the shell.
        }
      });
    }
  }

  complete(line: string): [string[], string] {
    const session = this.options.session;
    // The whole current line counts as context: `select cit<Tab> from accounts` with the cursor moved back.
    return complete(line, [...this.buffer, this.rl.line].join('\n'), {
      keywords: this.options.keywords,
      catalog: () => catalogEntries(session.containers()),
      containers: () => session.containers().map((c) => c.alias),
    });
  }

  /** Ctrl-C: cancel the running statement, else drop the typed text, else (twice) leave. */
  interrupt(): void {
    if (this.running) {
      if (!this.running.signal.aborted) {
        this.running.abort();
        this.options.errorOutput.write('\nCancelling… (Ctrl-C again leaves sluice)\n');
      } else {
        // The statement did not stop: let the user out rather than hold them hostage.
        this.options.onForceQuit?.();
      }
      return;
    }
    const typed = this.rl.line.length > 0 || this.buffer.length > 0;
    if (typed) {
      this.buffer.length = 0;
      if (this.options.terminal) {
        this.rl.write(null, { ctrl: true, name: 'e' });
        this.rl.write(null, { ctrl: true, name: 'u' });
      }
      this.options.output.write('^C\n');
      this.interruptedOnce = false;
      this.prompt();
      return;
    }
    if (this.interruptedOnce) {
      this.options.output.write('\n');
      this.rl.close();
      return;
    }
    this.interruptedOnce = true;
    this.options.output.write('\n(To leave, press Ctrl-C again, Ctrl-D, or type \\quit.)\n');
    this.prompt();
  }

  /** Read and run until the user leaves or the input ends. */
  async run(): Promise<void> {
    this.prompt();
    try {
      for await (const line of this.rl) {
        this.interruptedOnce = false;
        const keepGoing = await this.handleLine(line);
        if (!keepGoing) break;
        this.prompt();
      }
      // Input ended in the middle of a statement (piped text without a final ";"): run what is there.
      if (this.buffer.length > 0 && this.buffer.join('\n').trim().length > 0) await this.submit();
    } finally {
      this.rl.close();
    }
  }

  private prompt(): void {
    this.rl.setPrompt(this.buffer.length > 0 ? CONTINUATION : PROMPT);
    this.rl.prompt();
  }

  /** Returns false when the shell should end. */
  async handleLine(line: string): Promise<boolean> {
    const trimmed = line.trim();
    if (this.buffer.length === 0) {
      if (trimmed === '') return true;
      if (trimmed.startsWith('\\')) return this.command(trimmed);
      if (/^(quit|exit)\s*;?$/i.test(trimmed)) return false;
    }
    if (trimmed === '' || endsWithTerminator([...this.buffer, line].join('\n'))) {
      if (trimmed !== '') this.buffer.push(line);
      await this.submit();
    } else {
      this.buffer.push(line);
    }
    return true;
  }

  private async submit(): Promise<void> {
    const text = this.buffer.join('\n').trim();
    this.buffer.length = 0;
    if (text === '') return;
    const { output, errorOutput } = this.options;
    const controller = new AbortController();
    this.running = controller;
    const sink = createOutput({ format: this.format, stream: output, table: { maxWidth: this.options.width?.() } });
    try {
      await runScript(this.options.session, text, {
        output: sink,
        stdout: output,
        stderr: errorOutput,
        stderrIsTTY: this.options.terminal,
        signal: controller.signal,
        env: this.options.env,
        onStatement: (summary) => {
          if (this.timing) output.write(`Time: ${formatMs(summary.elapsedMs)}\n`);
        },
      });
      await sink.close();
    } finally {
      this.running = undefined;
    }
  }

  private command(text: string): boolean {
    const [name, ...rest] = text.split(/\s+/);
    const arg = rest.join(' ').trim() || undefined;
    const out = this.options.output;
    try {
      switch (name.toLowerCase()) {
        case '\\q':
        case '\\quit':
        case '\\exit':
          return false;
        case '\\?':
        case '\\h':
        case '\\help':
          out.write(HELP);
          return true;
        case '\\timing':
          this.timing = arg === undefined ? !this.timing : /^(on|true|1)$/i.test(arg);
          out.write(`Timing is ${this.timing ? 'on' : 'off'}.\n`);
          return true;
        case '\\format':
          if (arg !== undefined) {
            const f = parseFormat(arg);
            if (f === 'xlsx') throw new Error('xlsx writes a file; use `sluice query --format xlsx --output FILE` for that.');
            this.format = f;
          }
          out.write(`Format is ${this.format}.\n`);
          return true;
        case '\\dt':
        case '\\tables':
          this.listTables(arg);
          return true;
        case '\\d':
        case '\\describe':
          this.describe(arg);
          return true;
        default:
          this.options.errorOutput.write(`Unknown command ${name}. Type \\help for the list.\n`);
          return true;
      }
    } catch (err) {
      this.options.errorOutput.write(`${describeError(err, this.options.env)}\n`);
      return true;
    }
  }

  private entries(): CatalogEntry[] {
    return catalogEntries(this.options.session.containers());
  }

  private listTables(pattern: string | undefined): void {
    const rows = this.entries()
      .filter((e) => matchesPattern(e, pattern))
      .map((e) => [e.container, e.table.catalog, e.table.schema, e.table.name, e.table.scope, e.table.columns.length]);
    this.options.output.write(
      renderTable(
        [
          { name: 'container', type: 'varchar' },
          { name: 'catalog', type: 'varchar' },
          { name: 'schema', type: 'varchar' },
          { name: 'table', type: 'varchar' },
          { name: 'scope', type: 'varchar' },
          { name: 'columns', type: 'integer' },
        ],
        rows,
        { maxWidth: this.options.width?.() },
      ),
    );
  }

  private describe(name: string | undefined): void {
    const err = this.options.errorOutput;
    if (!name) {
      err.write('Usage: \\describe TABLE (e.g. \\describe accounts or \\describe accounts@eolnl)\n');
      return;
    }
    const found = findTables(this.entries(), name);
    if (found.length === 0) {
      const near = this.entries().filter((e) => matchesPattern(e, name.split('@')[0].split('.').pop()));
      const hint = near.length > 0 ? ` Did you mean ${near.slice(0, 5).map(qualifiedName).join(', ')}?` : ' \\tables lists them.';
      err.write(`No table named ${name}.${hint}\n`);
      return;
    }
    if (found.length > 1) {
      err.write(`${name} is in more than one container: ${found.map(qualifiedName).join(', ')}. Add @container.\n`);
      return;
    }
    const { table } = found[0];
    const scope = table.scope === 'system' ? 'system-wide' : `${table.scope}${table.partitionColumn ? `, partition column ${table.partitionColumn}` : ''}`;
    const writable = (['insert', 'update', 'delete'] as const).filter((op) => table.writable[op]);
    const out = this.options.output;
    out.write(`${qualifiedName(found[0])} (${scope}; ${writable.length > 0 ? `writable: ${writable.join(', ')}` : 'read-only'})\n`);
    if (table.description) out.write(`${table.description}\n`);
    if (table.parameters && table.parameters.length > 0) {
      const params = table.parameters.map((p) => `${p.name} ${p.type}${p.required ? '' : ' (optional)'}`);
      out.write(`Table function: ${table.name}(${params.join(', ')})\n`);
    }
    const key = new Set(table.key.map((k) => k.toLowerCase()));
    const notes = (c: ColumnInfo): string =>
      [c.mandatory ? 'mandatory' : '', c.readOnly ? 'read-only' : '', c.description ?? ''].filter((s) => s).join('; ');
    out.write(
      renderTable(
        [
          { name: 'column', type: 'varchar' },
          { name: 'type', type: 'varchar' },
          { name: 'nullable', type: 'varchar' },
          { name: 'key', type: 'varchar' },
          { name: 'filterable', type: 'varchar' },
          { name: 'notes', type: 'varchar' },
        ],
        table.columns.map((c) => [
          c.name,
          c.maxLength ? `${c.type}(${c.maxLength})` : c.type,
          c.nullable ? 'yes' : 'no',
          key.has(c.name.toLowerCase()) ? 'key' : '',
          (c.filterOperators ?? []).join(' '),
          notes(c),
        ]),
        { maxWidth: this.options.width?.() },
      ),
    );
  }
}

export function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

/**
 * A stand-in Session for CLI tests: it implements the engine's public
 * interface over a table of canned answers keyed by statement text, so the
 * CLI's own behaviour (formats, exit codes, messages, the shell) is tested
 * without the engine. Statements are split on ";" (no literals with ";" in
 * these tests).
 */
import type { ExecuteOptions, ResultColumn, Session, StatementResult, StatementSummary } from '../../src/engine/api.js';
import type { Container, RowBatch, TableInfo, Value } from '../../src/provider/types.js';
import type { Statement } from '../../src/sql/ast.js';
import { SluiceError } from '../../src/util/errors.js';

export type FakeAnswer =
  | {
      readonly columns: readonly ResultColumn[];
      readonly rows: readonly (readonly Value[])[];
      readonly warnings?: readonly string[];
      readonly failedPartitions?: StatementSummary['failedPartitions'];
    }
  | { readonly message: string }
  | { readonly explain: readonly string[] }
  | { readonly error: SluiceError | Error }
  /** Runs until aborted (for Ctrl-C), reporting progress once. */
  | { readonly waitForAbort: true }
  /** Ignores cancellation and runs until `until` settles (a statement that will not stop). */
  | { readonly hang: Promise<void> };

const NO_STATEMENT = { kind: 'select' } as unknown as Statement;

function summary(rows: number, warnings: readonly string[] = [], failedPartitions: StatementSummary['failedPartitions'] = []): () => StatementSummary {
  return () => ({ rows, remoteCalls: 0, elapsedMs: 5, failedPartitions, warnings });
}

export function fakeTable(name: string, columns: readonly string[], alias = 'inmemorystorage'): TableInfo {
  return {
    catalog: 'InMemoryStorage',
    schema: 'Memory',
    name,
    columns: columns.map((c) => ({ name: c, type: c === 'code' ? 'integer' : 'varchar', nullable: c !== 'code', filterOperators: c === 'code' ? ['=', 'in'] : [] })),
    key: columns.includes('code') ? ['code'] : [],
    scope: alias === 'eol' ? 'partitioned' : 'system',
    partitionColumn: alias === 'eol' ? 'Division' : undefined,
    writable: { insert: true, update: true, delete: true },
  };
}

export function fakeContainer(alias: string, tables: readonly TableInfo[]): Container {
  return {
    alias,
    providerName: 'Fake',
    tables: () => tables,
    partitions: async () => [],
    plan: () => {
      throw new Error('not used');
    },
    scan: () => {
      throw new Error('not used');
    },
    close: async () => undefined,
  };
}

export class FakeSession implements Session {
  readonly executed: string[] = [];
  closed = false;
  private readonly answers: (statement: string) => FakeAnswer;
  private readonly containerList: readonly Container[];

  constructor(answers: Record<string, FakeAnswer> | ((statement: string) => FakeAnswer), containers: readonly Container[] = []) {
    this.answers =
      typeof answers === 'function'
        ? answers
        : (s) => answers[s.toLowerCase()] ?? { error: new SluiceError('SQL100', `The fake does not know "${s}".`, { location: { line: 1, column: 1, sourceLine: s } }) };
    this.containerList = containers;
  }

  async *execute(script: string, options: ExecuteOptions = {}): AsyncIterable<StatementResult> {
    const statements = script
      .split(';')
      .map((s) => s.replace(/\s+/g, ' ').trim())
      .filter((s) => s.length > 0);
    for (const text of statements) {
      this.executed.push(text);
      const answer = this.answers(text);
      if ('error' in answer) throw answer.error;
      if ('waitForAbort' in answer) {
        options.onProgress?.({ partitionsDone: 1, partitionsTotal: 4, rows: 10, remoteCalls: 2, elapsedMs: 1500 });
        await new Promise<void>((resolve) => {
          if (options.signal?.aborted) return resolve();
          options.signal?.addEventListener('abort', () => resolve(), { once: true });
        });
        throw new SluiceError('ENG999', 'The statement was cancelled.');
      }
      if ('hang' in answer) {
        await answer.hang;
        throw new SluiceError('ENG999', 'The statement was cancelled.');
      }
      if ('message' in answer) yield { kind: 'done', statement: NO_STATEMENT, message: answer.message, rowsAffected: 1, summary: summary(1) };
      else if ('explain' in answer) yield { kind: 'explain', statement: NO_STATEMENT, lines: answer.explain, summary: summary(0) };
      else {
        const { columns, rows } = answer;
        async function* batches(): AsyncIterable<RowBatch> {
          // Two batches, to exercise streaming across batch boundaries.
          const half = Math.ceil(rows.length / 2);
          yield { columns: columns.map((c) => c.name), rows: rows.slice(0, half) };
          if (rows.length > half) yield { columns: columns.map((c) => c.name), rows: rows.slice(half) };
        }
        yield { kind: 'rows', statement: NO_STATEMENT, columns, batches: batches(), summary: summary(rows.length, answer.warnings, answer.failedPartitions) };
      }
    }
  }

  async executeStatement(): Promise<StatementResult> {
    throw new Error('not used by the CLI');
  }

  containers(): readonly Container[] {
    return this.containerList;
  }

  settings(): Readonly<Record<string, string>> {
    return {};
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/**
 * The session: implements engine/api.ts. It holds the containers (from
 * settings plus the always-present `inmemorystorage` and `datadictionary`),
 * the partitions chosen with `use`, the settings made with `set`, the
 * remote-call log and the embedded DuckDB, and runs each statement through
 * the one pipeline: binder → planner → scans (executor) → DuckDB → results,
 * or → provider writes for DML.
 */
import { join } from 'node:path';
import type {
  ExecuteOptions,
  ResultColumn,
  Session,
  SessionOptions,
  StatementResult,
  StatementSummary,
} from './api.js';
import type {
  ColumnInfo,
  ColumnType,
  Container,
  ContainerConfig,
  Partition,
  ProviderEnv,
  RemoteCall,
  RowBatch,
  RowResult,
  SessionIntrospection,
  TableInfo,
  Value,
  WriteOp,
} from '../provider/types.js';
import { builtinProviders, findProvider } from '../provider/registry.js';
import type {
  CreateTableStatement,
  DeleteStatement,
  Expr,
  InsertStatement,
  Query,
  SelectItem,
  SetStatement,
  Span,
  Statement,
  TableFunction,
  TableName,
  TableRef,
  TypeName,
  UpdateStatement,
  UseStatement,
} from '../sql/ast.js';
import { parseScript, printExpr as printSluiceExpr } from '../sql/index.js';
import { systemClock, type Clock } from '../util/clock.js';
import { SluiceError, toSluiceError } from '../util/errors.js';
import { sluiceHome } from '../util/paths.js';
import { SecretBox } from '../util/secrets.js';
import { Binder, collectTableFunctions, isDual, locationOf, resolveTable, splitConjuncts, suggestions, tableDisplayName, type BoundRef, type BoundStatement } from './binder.js';
import { printExpr, printQuery, type PrintContext } from './duckdb-printer.js';
import { translateDuckError, unmatchedCall, type FunctionArity } from './duck-errors.js';
import { FailedContainer } from './failed-container.js';
import { balanceChains } from './chains.js';
import { cancelled, scanAll, scanIdentity, type RunState } from './executor.js';
import { FUNCTIONS, type ExprKind } from './functions.js';
import { duckTypeName, LocalDb, quoteIdent, quoteString } from './local.js';
import { describePredicate, literalValue, planTable, type TablePlan } from './planner.js';
import { loadSettings } from './settings.js';
import { directQuery, explainDirect } from './direct.js';
import { explainSynchronize, runSynchronize, SYNC_SETTING_LIMITS, SyncJournal, type SyncHost } from './synchronize.js';

const WRITE_BATCH = 500;

function eq(a: string | undefined, b: string | undefined): boolean {
  return (a ?? '').toLowerCase() === (b ?? '').toLowerCase();
}

/** A SQL type as written → the provider column type. */
export function columnTypeOfTypeName(t: TypeName): ColumnType {
  const n = t.name.toLowerCase();
  if (['number', 'numeric', 'decimal'].includes(n)) return t.args.length >= 2 && t.args[1] > 0 ? 'decimal' : t.args.length === 0 ? 'double' : 'bigint';
  if (['int', 'integer', 'int32', 'smallint', 'tinyint'].includes(n)) return 'integer';
  if (['bigint', 'int64'].includes(n)) return 'bigint';
  if (['float', 'double', 'real', 'binary_double'].includes(n)) return 'double';
  if (['bool', 'boolean'].includes(n)) return 'boolean';
  if (n === 'date') return 'date';
  if (['datetime', 'timestamp'].includes(n)) return 'timestamp';
  if (['guid', 'uuid'].includes(n)) return 'guid';
  if (['blob', 'raw', 'bytea'].includes(n)) return 'blob';
  return 'varchar';
}

/** A column declared in SQL → its provider column type, with precision and scale for `number(p, s)`. */
export function columnShapeOfTypeName(t: TypeName): Pick<ColumnInfo, 'type' | 'precision' | 'scale' | 'maxLength'> {
  const type = columnTypeOfTypeName(t);
  if (type === 'decimal') return { type, precision: t.args[0], scale: t.args[1] };
  // varchar(20), char(3), nvarchar2(50): the declared length travels to the container's DDL.
  if (type === 'varchar' && t.args.length > 0) return { type, maxLength: t.args[0] };
  return { type };
}

/** A DuckDB type as DESCRIBE prints it → the provider column type (DECIMAL keeps its precision and scale). */
function columnShapeOfDuckName(t: string): Pick<ColumnInfo, 'type' | 'precision' | 'scale'> {
  const m = /^DECIMAL\((\d+),\s*(\d+)\)$/i.exec(t.trim());
  if (m) return { type: 'decimal', precision: Number(m[1]), scale: Number(m[2]) };
  return { type: columnTypeOfDuckName(t) };
}

function columnTypeOfDuckName(t: string): ColumnType {
  const u = t.toUpperCase();
  if (u === 'BOOLEAN') return 'boolean';
  if (['INTEGER', 'SMALLINT', 'TINYINT', 'UTINYINT', 'USMALLINT'].includes(u)) return 'integer';
  if (['BIGINT', 'HUGEINT', 'UINTEGER', 'UBIGINT'].includes(u)) return 'bigint';
  if (u.startsWith('DECIMAL')) return 'decimal';
  if (['DOUBLE', 'FLOAT', 'REAL'].includes(u)) return 'double';
  if (u === 'DATE') return 'date';
  if (u.startsWith('TIMESTAMP')) return 'timestamp';
  if (u === 'UUID') return 'guid';
  if (u === 'BLOB') return 'blob';
  return 'varchar';
}

interface Prepared {
  readonly sql: string;
  readonly bound: BoundStatement;
  readonly plans: readonly TablePlan[];
  readonly ctx: PrintContext;
}

export class SluiceSession implements Session, SessionIntrospection {
  private readonly list: Container[] = [];
  private readonly settingsMap: Record<string, string>;
  private readonly calls: RemoteCall[] = [];
  private readonly partitionCache = new Map<string, readonly Partition[]>();
  private readonly selection = new Map<string, readonly Partition[]>();
  private readonly clock: Clock;
  private readonly pendingTemps: string[] = [];
  private readonly syncJournal: SyncJournal;
  /** Temp relation → the user's name for what it holds, so DuckDB errors can speak the user's names. */
  private readonly relationLabels = new Map<string, string>();
  private duckFunctions: string[] | undefined;
  private closed = false;

  private constructor(
    private readonly db: LocalDb,
    private readonly options: SessionOptions,
  ) {
    this.clock = options.clock ?? systemClock;
    // Synchronize outcomes outlive the session only when asked (the CLI does); tests and embedders keep them in memory.
    this.syncJournal = new SyncJournal(options.persistSyncJournal ? { path: join(options.dataDir ?? sluiceHome(), 'synchronize', 'journal.ndjson') } : undefined);
    this.settingsMap = { parallelism: '8', 'partition-failure': 'skip' };
    for (const [k, v] of Object.entries(options.settings ?? {})) this.settingsMap[k.toLowerCase().replace(/_/g, '-')] = v;
  }

  static async open(options: SessionOptions = {}): Promise<SluiceSession> {
    const db = await LocalDb.open();
    const session = new SluiceSession(db, options);
    try {
      await session.connectAll();
    } catch (e) {
      await session.close();
      throw e;
    }
    return session;
  }

  private async connectAll(): Promise<void> {
    const configs: ContainerConfig[] = [
      { alias: 'inmemorystorage', provider: 'InMemoryStorage', options: {} },
      { alias: 'datadictionary', provider: 'DataDictionary', options: {} },
      ...loadSettings(this.options.settingsPath, this.options.group, this.options.connection),
      ...(this.options.containers ?? []),
    ];
    let secrets: SecretBox | undefined = this.options.secrets;
    const env: ProviderEnv = {
      clock: this.clock,
      log: { record: (call) => this.calls.push(call) },
      // Created on first use: opening a session must not create a key file nobody needs.
      get secrets() {
        secrets ??= SecretBox.fromEnvironment();
        return secrets;
      },
      dataDir: this.options.dataDir ?? sluiceHome(),
      local: this.db,
      session: this,
      settings: this.settingsMap,
    };
    for (const config of configs) {
      if (this.list.some((c) => eq(c.alias, config.alias))) {
        // A later definition of the same alias replaces the built-in one only for the two defaults.
        if (['inmemorystorage', 'datadictionary'].includes(config.alias.toLowerCase())) continue;
        throw new SluiceError('ENG005', `Two data containers are both called "${config.alias}".`, { hint: 'Give each <database> its own alias.' });
      }
      let provider: ReturnType<typeof findProvider>;
      try {
        provider = findProvider(config.provider, this.options.providers ?? []);
      } catch (e) {
        const known = [...(this.options.providers ?? []), ...builtinProviders].map((p) => p.name);
        // Provider names are long compound words: a prefix of one (ExactOnline → ExactOnlineAll) counts as close too.
        const typed = config.provider.toLowerCase();
        const prefixed = typed.length >= 4 ? known.filter((k) => k.toLowerCase().startsWith(typed.slice(0, Math.max(4, typed.length - 2)))) : [];
        const close = [...new Set([...suggestions(config.provider, known), ...prefixed])].slice(0, 3);
        throw new SluiceError('ENG010', `Data container ${config.alias} names an unknown provider "${config.provider}".`, {
          container: config.alias,
          hint: `${close.length ? `Did you mean ${close.join(', ')}? ` : ''}Known providers: ${known.join(', ')}.`,
          cause: e,
        });
      }
      try {
        this.list.push(await provider.connect(config, env));
      } catch (e) {
        const err = toSluiceError(e, 'ENG006');
        // Kept as a stand-in: the other containers stay usable, and this failure is raised where this one is used.
        this.list.push(
          new FailedContainer(
            config.alias,
            provider.name,
            new SluiceError(err.code, `Data container ${config.alias} (${config.provider}) failed to connect: ${err.message}`, {
              ...err.details,
              container: config.alias,
            }),
          ),
        );
      }
    }
  }

  // -------------------------------------------------------------------------
  // Session / SessionIntrospection

  containers(): readonly Container[] {
    return this.list;
  }

  settings(): Readonly<Record<string, string>> {
    return { ...this.settingsMap };
  }

  callLog(): readonly RemoteCall[] {
    return this.calls;
  }

  journals() {
    const history = this.syncJournal.historyEntry();
    return history ? [this.syncJournal.entry(), history] : [this.syncJournal.entry()];
  }

  selectedPartitions(alias: string): readonly Partition[] | undefined {
    const key = alias.toLowerCase();
    const chosen = this.selection.get(key);
    if (chosen) return chosen;
    const all = this.partitionCache.get(key);
    return all ? defaultPartitions(all) : undefined;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const c of this.list) {
      try {
        await c.close();
      } catch {
        // Closing is best effort: one container failing to close must not keep the others open.
      }
    }
    this.db.close();
  }

  async *execute(script: string, options: ExecuteOptions = {}): AsyncIterable<StatementResult> {
    const parsed = parseScript(script);
    for (const statement of parsed.statements) {
      yield await this.run(statement, options, script);
    }
  }

  executeStatement(statement: Statement, options: ExecuteOptions = {}): Promise<StatementResult> {
    return this.run(statement, options, undefined);
  }

  // -------------------------------------------------------------------------
  // Statement dispatch

  private newState(options: ExecuteOptions): RunState {
    const before = this.calls.length;
    // Journal warnings belong to the statement that caused them; none left over from an earlier one.
    this.syncJournal.takeWarnings();
    const signal = options.signal ?? new AbortController().signal;
    const state: RunState = {
      signal,
      started: this.clock.now(),
      onProgress: options.onProgress,
      failedPartitions: [],
      warnings: [],
      temps: [],
      partitionsDone: 0,
      partitionsTotal: 0,
      scannedRows: 0,
      reportedCalls: 0,
      now: () => this.clock.now(),
      remoteCalls: () => Math.max(this.calls.length - before, state.reportedCalls),
    };
    return state;
  }

  private summaryOf(state: RunState, rows: () => number): () => StatementSummary {
    return () => {
      // e.g. malformed lines skipped while this statement read synchronizehistory@datadictionary (also on the direct path).
      state.warnings.push(...this.syncJournal.takeWarnings());
      return {
        rows: rows(),
        remoteCalls: state.remoteCalls(),
        elapsedMs: (state.finishedAt ?? this.clock.now()) - state.started,
        failedPartitions: [...state.failedPartitions],
        warnings: [...state.warnings],
      };
    };
  }

  private async dropTemps(): Promise<void> {
    const temps = this.pendingTemps.splice(0);
    for (const t of temps) await this.db.run(`DROP TABLE IF EXISTS temp.main.${quoteIdent(t)}`);
  }

  private async run(statement: Statement, options: ExecuteOptions, text: string | undefined): Promise<StatementResult> {
    if (this.closed) throw new SluiceError('ENG007', 'The session is closed.');
    await this.dropTemps();
    const state = this.newState(options);
    try {
      // Long generated chains (`a = 1 or a = 2 or …`) become shallow trees before anything walks them (chains.ts).
      return await this.dispatch(balanceChains(statement), state, text);
    } catch (e) {
      try {
        await this.releaseTemps(state);
      } catch {
        // The statement's own error is the one worth reporting.
      }
      if (state.signal.aborted) throw cancelled();
      throw await this.userError(e, statement, text);
    }
  }

  /** Any failure as the SluiceError a user sees: DuckDB's own wording never leaks (duck-errors.ts). */
  private async userError(e: unknown, statement: Statement, text: string | undefined): Promise<SluiceError> {
    if (e instanceof RangeError && /call stack/i.test(e.message)) {
      return new SluiceError('ENG008', 'The statement is nested too deeply to process.', {
        location: locationOf(statement.span, text),
        hint: 'Long chains of and, or, + and || are fine; rewrite deeply nested expressions (such as thousands of chained - or * or nested function calls) into smaller parts, or use IN (…) for a list of values.',
        cause: e,
      });
    }
    const err = withSourceLine(toSluiceError(e, 'ENG999'), text);
    if (err.code !== 'ENG500') return err;
    if (this.duckFunctions === undefined) {
      try {
        const r = await this.db.all("SELECT DISTINCT function_name FROM duckdb_functions() WHERE function_type IN ('scalar', 'aggregate') AND function_name NOT LIKE '%\\_%' ESCAPE '\\'");
        this.duckFunctions = r.rows.map((x) => String(x[0]));
      } catch {
        this.duckFunctions = [];
      }
    }
    const names = [...Object.keys(FUNCTIONS), ...this.duckFunctions];
    const unmatched = unmatchedCall(err.details.cause instanceof Error ? err.details.cause.message : err.message);
    const arity = unmatched ? await this.duckArity(unmatched.name) : undefined;
    return translateDuckError(err, { statement, text, relations: this.relationLabels, functionNames: () => names, functionArity: () => arity });
  }

  /** The argument counts DuckDB's overloads of a function take, from duckdb_functions(). */
  private async duckArity(name: string): Promise<FunctionArity | undefined> {
    try {
      const r = await this.db.all(
        `SELECT len(parameters), varargs IS NOT NULL AND varargs <> 'NULL' FROM duckdb_functions() WHERE function_name = ${quoteString(name.toLowerCase())}`,
      );
      if (r.rows.length === 0) return undefined;
      return { counts: r.rows.map((x) => Number(x[0])), varargs: r.rows.some((x) => x[1] === true) };
    } catch {
      return undefined;
    }
  }

  private async releaseTemps(state: RunState): Promise<void> {
    this.pendingTemps.push(...state.temps.splice(0));
    await this.dropTemps();
  }

  private async dispatch(statement: Statement, state: RunState, text: string | undefined): Promise<StatementResult> {
    switch (statement.kind) {
      case 'QueryStatement':
        return this.runQuery(statement, statement.query, state, text);
      case 'Use':
        return this.done(statement, state, await this.runUse(statement, state, text));
      case 'Set':
        return this.done(statement, state, this.runSet(statement, text));
      case 'CreateTable':
        return this.runCreate(statement, state, text);
      case 'DropTable': {
        const { container } = this.targetContainer(statement.name, text);
        if (!container.dropTable) throw new SluiceError('ENG301', `Container ${container.alias} cannot drop tables.`, { container: container.alias });
        await container.dropTable(statement.name.name, { ifExists: statement.ifExists });
        return this.done(statement, state, `Table ${statement.name.name}@${container.alias} dropped.`);
      }
      case 'Insert':
        return this.runInsert(statement, state, text);
      case 'Update':
        return this.runUpdateOrDelete(statement, state, text);
      case 'Delete':
        return this.runUpdateOrDelete(statement, state, text);
      case 'Explain': {
        const lines =
          statement.statement.kind === 'Synchronize'
            ? await explainSynchronize(statement.statement, this.syncHost(state, text))
            : await this.explain(statement.statement, state, text);
        await this.releaseTemps(state);
        state.finishedAt = this.clock.now();
        return { kind: 'explain', statement, lines, summary: this.summaryOf(state, () => 0) };
      }
      case 'Synchronize': {
        const result = await runSynchronize(statement, this.syncHost(state, text));
        await this.releaseTemps(state);
        state.warnings.push(...result.warnings);
        return this.done(statement, state, result.message, result.ok);
      }
    }
  }

  /** What synchronize (engine/synchronize.ts) needs of the session: its reads go through the same pipeline as queries. */
  private syncHost(state: RunState, text: string | undefined): SyncHost {
    return {
      containers: this.list,
      db: this.db,
      settings: this.settingsMap,
      journal: this.syncJournal,
      state,
      text,
      now: () => this.clock.now(),
      read: async (queries, scan) => {
        // One union query binds and scans every side together, in parallel; each side is then printed on its own.
        const body = queries.map((x) => x.body).reduce((left, right) => ({ kind: 'SetOperation', op: 'union', all: true, left, right }));
        const prepared = await this.prepareQuery({ kind: 'Query', with: [], body, orderBy: [] }, state, text, scan);
        return { sqls: queries.map((x) => printQuery(x, prepared.ctx)), explain: this.explainPlans(prepared.plans, prepared.bound) };
      },
      partitions: async (container) => {
        const all = await this.partitionsOf(container, state.signal);
        const selected = await this.selectedFor(container, state.signal);
        return { partitioned: selected.partitioned, all, selected: selected.partitions };
      },
    };
  }

  private done(statement: Statement, state: RunState, message: string, rowsAffected?: number): StatementResult {
    state.finishedAt = this.clock.now();
    const result: StatementResult = {
      kind: 'done',
      statement,
      message,
      ...(rowsAffected !== undefined ? { rowsAffected } : {}),
      summary: this.summaryOf(state, () => rowsAffected ?? 0),
    };
    return result;
  }

  // -------------------------------------------------------------------------
  // Partitions

  private async partitionsOf(container: Container, signal: AbortSignal): Promise<readonly Partition[]> {
    const key = container.alias.toLowerCase();
    let all = this.partitionCache.get(key);
    if (!all) {
      all = await container.partitions(signal);
      this.partitionCache.set(key, all);
    }
    return all;
  }

  private async selectedFor(container: Container, signal: AbortSignal): Promise<{ partitioned: boolean; partitions: readonly Partition[] }> {
    const all = await this.partitionsOf(container, signal);
    if (all.length === 0) return { partitioned: false, partitions: [] };
    return { partitioned: true, partitions: this.selection.get(container.alias.toLowerCase()) ?? defaultPartitions(all) };
  }

  private async runUse(statement: UseStatement, state: RunState, text: string | undefined): Promise<string> {
    const chosen = new Map<string, Map<string, Partition>>();
    const add = (c: Container, ps: readonly Partition[]) => {
      const key = c.alias.toLowerCase();
      const m = chosen.get(key) ?? new Map<string, Partition>();
      for (const p of ps) m.set(p.id, p);
      chosen.set(key, m);
    };
    const named = (alias: string | undefined, span: UseStatement['span']): Container[] => {
      if (!alias) return this.list;
      const c = this.list.find((x) => eq(x.alias, alias));
      if (!c) {
        const hint = suggestions(alias, this.list.map((x) => x.alias));
        throw new SluiceError('ENG022', `Unknown data container "${alias}".`, {
          location: locationOf(span, text),
          hint: hint.length ? `Did you mean ${hint.join(', ')}?` : undefined,
        });
      }
      return [c];
    };
    // Without @alias, a container that cannot list its partitions is skipped with a warning, not fatal.
    const listOf = async (c: Container, explicit: boolean): Promise<readonly Partition[]> => {
      try {
        return await this.partitionsOf(c, state.signal);
      } catch (e) {
        if (explicit || state.signal.aborted) throw e;
        state.warnings.push(`Container ${c.alias} was skipped: ${e instanceof Error ? e.message : String(e)}`);
        return [];
      }
    };
    const useCode = async (code: string, alias: string | undefined, span: UseStatement['span']) => {
      let hit = false;
      for (const c of named(alias, span)) {
        const p = (await listOf(c, alias !== undefined)).find((x) => eq(x.id, code));
        if (p) {
          add(c, [p]);
          hit = true;
        }
      }
      if (!hit) {
        throw new SluiceError('ENG031', `No data container has partition "${code}"${alias ? ` (looked in ${alias})` : ''}.`, {
          location: locationOf(span, text),
          hint: 'See datadictionary systempartitions for the partitions you can use.',
        });
      }
    };
    for (const item of statement.items) {
      switch (item.kind) {
        case 'all':
          for (const c of named(item.container, item.span)) {
            const all = await listOf(c, item.container !== undefined);
            if (all.length > 0) add(c, all);
          }
          break;
        case 'default':
          for (const c of named(item.container, item.span)) {
            const all = await listOf(c, item.container !== undefined);
            if (all.length > 0) add(c, defaultPartitions(all));
          }
          break;
        case 'code':
          await useCode(item.code, item.container, item.span ?? statement.span);
          break;
        case 'query': {
          const prepared = await this.prepareQuery(item.query, state, text);
          const result = await this.db.all(prepared.sql);
          await this.releaseTemps(state);
          const span = item.span ?? statement.span;
          const codes = result.rows.filter((row) => row[0] !== null);
          // An empty answer must not silently keep the previous selection.
          if (codes.length === 0) {
            throw new SluiceError('ENG032', 'The use query returned no partitions; the selection is unchanged.', {
              location: locationOf(span, text),
              hint: 'Check the query on its own: it must return at least one partition code.',
            });
          }
          for (const row of codes) {
            const alias = row.length > 1 && row[1] !== null ? String(row[1]) : undefined;
            try {
              await useCode(String(row[0]), alias, span);
            } catch (e) {
              if (!(e instanceof SluiceError) || e.code !== 'ENG031') throw e;
              throw new SluiceError('ENG033', `The use query returned "${String(row[0])}", which is not a partition code: its first column must be a partition code (an optional second column names the container).`, {
                location: locationOf(span, text),
                hint: 'See datadictionary systempartitions for the partition codes.',
              });
            }
          }
          break;
        }
      }
    }
    const parts: string[] = [];
    for (const [alias, m] of chosen) {
      this.selection.set(alias, [...m.values()]);
      parts.push(`${m.size} partition${m.size === 1 ? '' : 's'} on ${alias}`);
    }
    return parts.length > 0 ? `Using ${parts.join(', ')}.` : 'No partitioned containers: nothing to select.';
  }

  private runSet(statement: SetStatement, text: string | undefined): string {
    if (statement.container) {
      const c = this.list.find((x) => eq(x.alias, statement.container));
      if (!c) throw new SluiceError('ENG022', `Unknown data container "${statement.container}".`, { location: locationOf(statement.span, text) });
      if (!c.setOption || !c.setOption(statement.name, statement.value)) {
        throw new SluiceError('ENG041', `Container ${c.alias} has no setting "${statement.name}".`, {
          location: locationOf(statement.span, text),
          container: c.alias,
        });
      }
      return `${statement.name}@${c.alias} set.`;
    }
    // `synchronize_concurrency` is the same setting as `synchronize-concurrency`.
    const name = statement.name.toLowerCase().replace(/_/g, '-');
    const setting = SESSION_SETTINGS.find((x) => x.name === name);
    if (!setting) {
      const hint = suggestions(name, SESSION_SETTINGS.map((x) => x.name));
      throw new SluiceError('ENG043', `Unknown setting "${statement.name}".`, {
        location: locationOf(statement.span, text),
        hint: `${hint.length ? `Did you mean ${hint.join(', ')}? ` : ''}Settings: ${SESSION_SETTINGS.map((x) => x.name).join(', ')}; a container's own settings are set with set name@container value.`,
      });
    }
    const problem = setting.check(statement.value);
    if (problem) throw new SluiceError('ENG042', `${name} must be ${problem}, not "${statement.value}".`, { location: locationOf(statement.span, text) });
    this.settingsMap[name] = statement.value.trim();
    return `${name} set to ${statement.value.trim()}.`;
  }

  // -------------------------------------------------------------------------
  // Queries

  private printContext(bound: BoundStatement, relation: Map<TableRef | TableFunction, string>): PrintContext {
    const kindOf = (e: Expr): ExprKind => {
      switch (e.kind) {
        case 'Literal':
          return e.type === 'number' ? 'number' : e.type === 'date' || e.type === 'timestamp' ? 'date' : e.type === 'string' ? 'string' : 'unknown';
        case 'ColumnRef': {
          const t = bound.columnTypes.get(e.name.toLowerCase());
          if (!t) return 'unknown';
          return t === 'date' || t === 'timestamp' ? 'date' : ['integer', 'bigint', 'double', 'decimal'].includes(t) ? 'number' : 'string';
        }
        case 'FunctionCall':
          if (['sysdate', 'sysdateutc', 'to_date', 'add_months', 'last_day', 'current_date', 'current_timestamp'].includes(e.name)) return 'date';
          if (e.name === 'trunc' || e.name === 'round' || e.name === 'nvl' || e.name === 'coalesce') return e.args.length > 0 ? kindOf(e.args[0]) : 'unknown';
          if (['to_number', 'count', 'sum', 'avg', 'length', 'instr', 'months_between'].includes(e.name)) return 'number';
          if (['min', 'max'].includes(e.name) && e.args.length > 0) return kindOf(e.args[0]);
          return 'unknown';
        case 'Cast': {
          const t = columnTypeOfTypeName(e.type);
          return t === 'date' || t === 'timestamp' ? 'date' : t === 'varchar' ? 'string' : 'number';
        }
        case 'Binary':
          if (['+', '-'].includes(e.op)) {
            const l = kindOf(e.left);
            const r = kindOf(e.right);
            if (e.op === '-' && l === 'date' && r === 'date') return 'number';
            return l === 'date' || r === 'date' ? 'date' : l;
          }
          return ['*', '/', '%'].includes(e.op) ? 'number' : 'unknown';
        default:
          return 'unknown';
      }
    };
    const isDecimal = (e: Expr): boolean => {
      switch (e.kind) {
        case 'ColumnRef':
          return bound.columnTypes.get(e.name.toLowerCase()) === 'decimal';
        case 'Cast':
          return columnTypeOfTypeName(e.type) === 'decimal';
        case 'Unary':
          return e.op === '-' && isDecimal(e.operand);
        case 'Binary':
          // DuckDB keeps + - * of decimals decimal; division yields a double.
          return ['+', '-', '*'].includes(e.op) && (isDecimal(e.left) || isDecimal(e.right)) && kindOf(e.left) === 'number' && kindOf(e.right) === 'number';
        case 'FunctionCall':
          return ['sum', 'min', 'max', 'abs', 'round', 'trunc', 'nvl', 'coalesce', 'any_value', 'first', 'last'].includes(e.name) && e.args.length > 0 && isDecimal(e.args[0]);
        default:
          return false;
      }
    };
    return {
      isDecimal,
      relation: (ref) => {
        const r = relation.get(ref);
        if (r) return r;
        if (ref.kind === 'TableRef' && isDual(ref.name)) return `(SELECT 'X' AS ${quoteIdent('dummy')})`;
        return quoteIdent(ref.name.name);
      },
      kindOf,
      isColumn: (name) => bound.columnTypes.has(name.toLowerCase()),
      now: () => this.clock.now(),
    };
  }

  /** Plan and scan every table a bound statement reads; returns the print context over the filled tables. */
  private async materialize(
    bound: BoundStatement,
    state: RunState,
    query: Query | undefined,
    extra: Map<BoundRef, readonly string[]> = new Map(),
    scan = true,
  ): Promise<{ ctx: PrintContext; plans: TablePlan[] }> {
    const relation = new Map<TableRef | TableFunction, string>();
    const plans: TablePlan[] = [];
    for (const ref of bound.refs) {
      const local = ref.container.localRelation?.(ref.table);
      if (local) {
        relation.set(ref.node, local);
        continue;
      }
      const siblings = ref.select ? bound.refs.filter((r) => r.select === ref.select) : [ref];
      const selected = await this.selectedFor(ref.container, state.signal);
      const args = ref.node.kind === 'TableFunction' ? ref.node.args.map((a) => constantOf(a)) : undefined;
      plans.push(
        planTable(ref, siblings, {
          query,
          selected: selected.partitions,
          partitioned: selected.partitioned,
          extraColumns: extra.get(ref),
          arguments: args,
        }),
      );
    }
    for (const p of plans) {
      for (const id of p.unselected ?? []) {
        const pc = p.ref.table.partitionColumn ?? 'partition';
        const w = `${pc} ${id} is not selected, so ${p.ref.table.name}@${p.ref.container.alias} returns no rows for it; use ${id}@${p.ref.container.alias} (or add it to the use list) to include it.`;
        if (!state.warnings.includes(w)) state.warnings.push(w);
      }
    }
    if (scan) {
      const names = await scanAll(this.db, plans, state, this.settingsMap);
      plans.forEach((p, i) => {
        relation.set(p.ref.node, quoteIdent(names[i]));
        this.relationLabels.set(names[i], `${p.ref.table.name}@${p.ref.container.alias}`);
      });
    } else {
      for (const p of plans) relation.set(p.ref.node, `<scan of ${p.ref.table.name}@${p.ref.container.alias}>`);
    }
    return { ctx: this.printContext(bound, relation), plans };
  }

  /** A binder for a statement part, with its table-function calls described for their arguments first. */
  private async binderFor(root: unknown, text: string | undefined): Promise<Binder> {
    const functions = new Map<TableFunction, { container: Container; table: TableInfo }>();
    for (const call of collectTableFunctions(root)) {
      const resolved = resolveTable(this.list, call.name, text);
      const args = call.args.map((a) => constantOf(a));
      let table = resolved.table;
      try {
        if (resolved.container.describe) table = await resolved.container.describe(resolved.table, args);
      } catch (e) {
        // csv('nope.csv')@files: the provider's error, pointed at the call.
        throw locatedAt(e, call.span, text);
      }
      functions.set(call, { container: resolved.container, table });
    }
    return new Binder(this.list, text, functions);
  }

  private async prepareQuery(query: Query, state: RunState, text: string | undefined, scan = true): Promise<Prepared> {
    const binder = await this.binderFor(query, text);
    binder.bindQuery(query);
    const bound = binder.bound();
    const { ctx, plans } = await this.materialize(bound, state, query, new Map(), scan);
    return { sql: printQuery(nameItems(query), ctx), bound, plans, ctx };
  }

  private async runQuery(statement: Statement, query: Query, state: RunState, text: string | undefined): Promise<StatementResult> {
    // A single remote table the provider answers completely streams straight through, skipping DuckDB (direct.ts).
    const direct = await directQuery({
      statement,
      query,
      state,
      settings: this.settingsMap,
      prepare: () => this.prepareQuery(query, state, text, false),
      summary: (rows) => this.summaryOf(state, rows),
      userError: (e) => this.userError(e, statement, text),
    });
    if (direct) return direct;
    const prepared = await this.prepareQuery(query, state, text);
    const signal = state.signal;
    // Registered before DuckDB starts: a blocking aggregate can run a while before the first chunk.
    const onAbort = () => this.db.interrupt();
    signal.addEventListener('abort', onAbort, { once: true });
    let stream: Awaited<ReturnType<LocalDb['stream']>>;
    try {
      stream = await this.db.stream(prepared.sql);
    } catch (e) {
      signal.removeEventListener('abort', onAbort);
      throw e;
    }
    // Dropped at the start of the next statement, by which time the stream is consumed (or abandoned).
    this.pendingTemps.push(...state.temps.splice(0));
    let rows = 0;
    const userError = (e: unknown, st: Statement, t: string | undefined) => this.userError(e, st, t);
    async function* batches(): AsyncIterable<RowBatch> {
      try {
        for await (const b of stream.batches) {
          if (signal.aborted) throw cancelled();
          rows += b.rows.length;
          yield b;
        }
      } catch (e) {
        if (signal.aborted) throw cancelled();
        throw await userError(e, statement, text);
      } finally {
        signal.removeEventListener('abort', onAbort);
        state.finishedAt = state.now();
      }
    }
    const columns: ResultColumn[] = stream.columns;
    return { kind: 'rows', statement, columns, batches: batches(), summary: this.summaryOf(state, () => rows) };
  }

  // -------------------------------------------------------------------------
  // DDL and DML

  private targetContainer(name: TableName, text: string | undefined): { container: Container; table?: TableInfo } {
    const alias = name.container ?? 'inmemorystorage';
    const container = this.list.find((c) => eq(c.alias, alias));
    if (!container) {
      const hint = suggestions(alias, this.list.map((c) => c.alias));
      throw new SluiceError('ENG022', `Unknown data container "${alias}".`, {
        location: locationOf(name.span, text),
        hint: hint.length ? `Did you mean ${hint.join(', ')}?` : undefined,
      });
    }
    const table = container.tables().find((t) => eq(t.name, name.name));
    return { container, table };
  }

  private async runCreate(statement: CreateTableStatement, state: RunState, text: string | undefined): Promise<StatementResult> {
    const { container, table: existing } = this.targetContainer(statement.name, text);
    if (!container.createTable) throw new SluiceError('ENG301', `Container ${container.alias} cannot create tables.`, { container: container.alias });
    const label = `${statement.name.name}@${container.alias}`;
    const opts = { orReplace: statement.orReplace, ifNotExists: statement.ifNotExists };
    if (existing && statement.ifNotExists) return this.done(statement, state, `Table ${label} already exists.`, 0);
    if (!statement.query) {
      const columns: ColumnInfo[] = statement.columns.map((c) => ({ name: c.name, ...columnShapeOfTypeName(c.type), nullable: !c.notNull }));
      const key = statement.columns.filter((c) => c.primaryKey).map((c) => c.name);
      await container.createTable(statement.name.name, columns, key.length > 0 ? { ...opts, key } : opts);
      return this.done(statement, state, `Table ${label} created.`, 0);
    }
    const prepared = await this.prepareQuery(statement.query, state, text);
    const staging = this.db.newTempName('ctas');
    state.temps.push(staging);
    await this.db.run(`CREATE TEMP TABLE ${quoteIdent(staging)} AS ${prepared.sql}`);
    const described = await this.db.all(`DESCRIBE ${quoteIdent(staging)}`);
    const columns: ColumnInfo[] = described.rows.map((r) => ({ name: String(r[0]), ...columnShapeOfDuckName(String(r[1])), nullable: true }));
    const info = await container.createTable(statement.name.name, columns, opts);
    const count = await this.copyInto(container, info, columns.map((c) => c.name), `SELECT * FROM ${quoteIdent(staging)}`, state);
    await this.releaseTemps(state);
    return this.done(statement, state, `Table ${label} created with ${count} row${count === 1 ? '' : 's'}.`, count);
  }

  /** Insert the rows of a DuckDB query into a table: in place for local storage, else through container.write. */
  private async copyInto(container: Container, table: TableInfo, columns: readonly string[], sql: string, state: RunState): Promise<number> {
    const local = container.localRelation?.(table);
    if (local) {
      const r = await this.db.all(`INSERT INTO ${local} (${columns.map(quoteIdent).join(', ')}) ${sql}`);
      return Number(r.rows[0]?.[0] ?? 0);
    }
    const stream = await this.db.stream(sql);
    return this.writeRows(container, table, 'insert', stream.batches, state);
  }

  private async runInsert(statement: InsertStatement, state: RunState, text: string | undefined): Promise<StatementResult> {
    const target = resolveTable(this.list, statement.table, text);
    const { container, table } = target;
    if (!table.writable.insert) {
      throw new SluiceError('ENG302', `Table ${table.name}@${container.alias} does not accept inserts.`, { container: container.alias, table: table.name, location: locationOf(statement.span, text) });
    }
    const columns = statement.columns.length > 0 ? statement.columns : table.columns.filter((c) => !c.readOnly).map((c) => c.name);
    for (const c of columns) {
      if (!table.columns.some((x) => eq(x.name, c))) {
        const hint = suggestions(c, table.columns.map((x) => x.name));
        throw new SluiceError('ENG023', `Table ${table.name} has no column "${c}".`, {
          location: insertColumnLocation(statement, c, text) ?? locationOf(statement.span, text),
          hint: hint.length ? `Did you mean ${hint.join(', ')}?` : undefined,
        });
      }
    }
    let sql: string;
    if (statement.source.kind === 'Query') {
      sql = (await this.prepareQuery(statement.source.query, state, text)).sql;
    } else {
      const binder = await this.binderFor(statement.source.rows, text);
      const empty = { entries: [], itemAliases: new Set<string>() };
      for (const row of statement.source.rows) {
        if (row.length !== columns.length) {
          throw new SluiceError('ENG025', `The insert names ${columns.length} column(s) but a row has ${row.length} value(s).`, { location: locationOf(statement.span, text) });
        }
        for (const v of row) binder.bindInScope(v, empty);
      }
      const { ctx } = await this.materialize(binder.bound(), state, undefined);
      const names = columns.map((_, i) => quoteIdent(`c${i + 1}`)).join(', ');
      // As text, so rows mixing types (5 and 'veel') reach the per-column type check below instead of failing in VALUES.
      const asText = columns.map((c) => table.columns.find((x) => eq(x.name, c))?.type !== 'blob');
      const value = (v: Expr, i: number) => (asText[i] ? `CAST(${printExpr(v, ctx)} AS VARCHAR)` : printExpr(v, ctx));
      sql = `SELECT * FROM (VALUES ${statement.source.rows.map((r) => `(${r.map(value).join(', ')})`).join(', ')}) AS v(${names})`;
    }
    const infos = new Map(table.columns.map((c) => [c.name.toLowerCase(), c]));
    const positional = columns.map((_, i) => quoteIdent(`c${i + 1}`));
    const castTo = (c: string) => {
      const info = infos.get(c.toLowerCase());
      return info ? duckTypeName(info.type === 'guid' ? 'varchar' : info.type, info.precision, info.scale) : 'VARCHAR';
    };
    // Stage the rows first: every value is checked against its column's type, and the partition
    // values against the container's partitions, before anything is written.
    const staging = this.db.newTempName('insert');
    state.temps.push(staging);
    await this.db.run(`CREATE TEMP TABLE ${quoteIdent(staging)} AS SELECT row_number() OVER () AS "__rn", * FROM (${sql}) AS s(${positional.join(', ')})`);
    const stagingSql = `temp.main.${quoteIdent(staging)}`;
    for (let i = 0; i < columns.length; i++) {
      const type = castTo(columns[i]);
      if (type === 'VARCHAR') continue;
      const bad = await this.db.all(`SELECT "__rn", CAST(${positional[i]} AS VARCHAR) FROM ${stagingSql} WHERE ${positional[i]} IS NOT NULL AND TRY_CAST(${positional[i]} AS ${type}) IS NULL ORDER BY "__rn" LIMIT 1`);
      if (bad.rows.length > 0) {
        const rowNo = Number(bad.rows[0][0]);
        const info = infos.get(columns[i].toLowerCase());
        const valueExpr = statement.source.kind === 'Values' ? statement.source.rows[rowNo - 1]?.[i] : undefined;
        throw new SluiceError('ENG027', `Row ${rowNo}: '${String(bad.rows[0][1])}' is not ${typeWord(info?.type)} for column ${info?.name ?? columns[i]}; nothing was inserted.`, {
          location: locationOf(valueExpr?.span ?? statement.span, text),
          container: container.alias,
          table: table.name,
        });
      }
    }
    await this.checkPartitionValues(container, table, columns, positional, stagingSql, statement, text, state);
    const wrapped = `SELECT ${columns.map((c, i) => `CAST(s.${positional[i]} AS ${castTo(c)}) AS ${quoteIdent(c)}`).join(', ')} FROM (SELECT ${positional.join(', ')} FROM ${stagingSql} ORDER BY "__rn") AS s(${positional.join(', ')})`;
    const count = await this.copyInto(container, table, columns, wrapped, state);
    await this.releaseTemps(state);
    return this.done(statement, state, `${count} row${count === 1 ? '' : 's'} inserted into ${table.name}@${container.alias}.`, count);
  }

  /**
   * A remote update writes row by row through the key and routes by the partition column, so
   * neither can be assigned; constant values must suit their column's type. Refused before any call.
   */
  private async checkAssignments(container: Container, table: TableInfo, assignments: UpdateStatement['assignments'], text: string | undefined): Promise<void> {
    for (const a of assignments) {
      const col = table.columns.find((c) => eq(c.name, a.column));
      if (!col) continue;
      const where = { location: locationOf(a.span ?? a.value.span, text), container: container.alias, table: table.name };
      if (table.partitionColumn && table.scope !== 'system' && eq(col.name, table.partitionColumn)) {
        throw new SluiceError('ENG029', `${col.name} is the partition column of ${table.name}@${container.alias}; a row cannot be moved to another partition with update.`, {
          ...where,
          hint: 'Insert the row in the other partition and delete it here instead.',
        });
      }
      if (table.key.some((k) => eq(k, col.name))) {
        throw new SluiceError('ENG029', `${col.name} is a key column of ${table.name}@${container.alias} and cannot be updated.`, where);
      }
      if (col.readOnly) {
        throw new SluiceError('ENG029', `${col.name} of ${table.name}@${container.alias} is read-only.`, where);
      }
      const v = a.value;
      if (v.kind === 'Literal' && v.type === 'string' && v.value !== '' && !['varchar', 'guid'].includes(col.type)) {
        const type = duckTypeName(col.type, col.precision, col.scale);
        const r = await this.db.all(`SELECT TRY_CAST(${quoteString(v.value)} AS ${type}) IS NULL`);
        if (r.rows[0]?.[0] === true) {
          throw new SluiceError('ENG027', `'${v.value}' is not ${typeWord(col.type)} for column ${col.name}; nothing was updated.`, { ...where, location: locationOf(v.span, text) });
        }
      }
    }
  }

  /**
   * Rows inserted into a partitioned table must name a partition the session selected with
   * `use` (ENG028 when it is no partition of the container at all, ENG305 when it is one but
   * not selected); a row without a partition value goes to the one selected partition, and
   * needs exactly one to be selected (ENG304). All refused before any call.
   */
  private async checkPartitionValues(
    container: Container,
    table: TableInfo,
    columns: readonly string[],
    positional: readonly string[],
    stagingSql: string,
    statement: InsertStatement,
    text: string | undefined,
    state: RunState,
  ): Promise<void> {
    if (table.scope === 'system' || !table.partitionColumn || container.localRelation?.(table)) return;
    const all = await this.partitionsOf(container, state.signal);
    if (all.length === 0) return;
    const selected = (await this.selectedFor(container, state.signal)).partitions;
    const i = columns.findIndex((c) => eq(c, table.partitionColumn));
    const where = { container: container.alias, table: table.name };
    const rowLocation = (rowNo: number, column: number) => {
      const valueExpr = statement.source.kind === 'Values' && column >= 0 ? statement.source.rows[rowNo - 1]?.[column] : undefined;
      return locationOf(valueExpr?.span ?? statement.span, text);
    };
    if (selected.length !== 1) {
      const missing = i < 0 ? await this.db.all(`SELECT min("__rn") FROM ${stagingSql}`) : await this.db.all(`SELECT min("__rn") FROM ${stagingSql} WHERE ${positional[i]} IS NULL`);
      const first = missing.rows[0]?.[0];
      if (first !== null && first !== undefined) {
        const rowNo = Number(first);
        throw new SluiceError(
          'ENG304',
          `Row ${rowNo} has no ${table.partitionColumn}, and ${selected.length} partitions of ${container.alias} are selected, so ${table.name}@${container.alias} cannot tell where it goes; nothing was inserted.`,
          { ...where, location: rowLocation(rowNo, i), hint: `Give ${table.partitionColumn} a value in every row, or use exactly one partition (use <code>@${container.alias}).` },
        );
      }
    }
    if (i < 0) return;
    const values = await this.db.all(`SELECT min("__rn"), CAST(${positional[i]} AS VARCHAR) AS v FROM ${stagingSql} WHERE ${positional[i]} IS NOT NULL GROUP BY v ORDER BY 1`);
    for (const [rn, v] of values.rows) {
      const id = String(v);
      const rowNo = Number(rn);
      if (!all.some((p) => p.id === id)) {
        throw new SluiceError('ENG028', `Row ${rowNo}: ${table.partitionColumn} ${id} is not a partition of ${container.alias}; nothing was inserted.`, {
          ...where,
          location: rowLocation(rowNo, i),
          hint: 'See datadictionary systempartitions for the partitions you can write to.',
        });
      }
      if (!selected.some((p) => p.id === id)) {
        const ids = selected.map((p) => p.id);
        const using = ids.length > 5 ? `${ids.slice(0, 5).join(', ')} … (${ids.length})` : ids.join(', ');
        throw new SluiceError(
          'ENG305',
          `Row ${rowNo}: ${table.partitionColumn} ${id} is not selected for ${container.alias} (the session uses ${using || 'none'}), so ${table.name}@${container.alias} does not take rows for it; nothing was inserted.`,
          {
            ...where,
            location: rowLocation(rowNo, i),
            partition: id,
            hint: `Select it first: use ${id}@${container.alias} (or add it to the use list).`,
          },
        );
      }
    }
  }

  private async runUpdateOrDelete(statement: UpdateStatement | DeleteStatement, state: RunState, text: string | undefined): Promise<StatementResult> {
    const op: WriteOp = statement.kind === 'Update' ? 'update' : 'delete';
    const binder = await this.binderFor(statement, text);
    const { ref, scope } = binder.bindTarget(statement.table, statement.alias);
    const { container, table } = ref;
    if (!table.writable[op]) {
      throw new SluiceError('ENG302', `Table ${table.name}@${container.alias} does not accept ${op}s.`, { container: container.alias, table: table.name, location: locationOf(statement.span, text) });
    }
    const assignments = statement.kind === 'Update' ? statement.assignments : [];
    for (const a of assignments) {
      const col = table.columns.find((c) => eq(c.name, a.column));
      if (!col) {
        const hint = suggestions(a.column, table.columns.map((c) => c.name));
        throw new SluiceError('ENG023', `Table ${table.name} has no column "${a.column}".`, {
          location: locationOf(a.span ?? statement.span, text),
          hint: hint.length ? `Did you mean ${hint.join(', ')}?` : undefined,
        });
      }
      binder.bindInScope(a.value, scope);
    }
    const local = container.localRelation?.(table);
    if (!local) await this.checkAssignments(container, table, assignments, text);
    if (statement.where) {
      binder.bindInScope(statement.where, scope);
      ref.conjuncts.push(...splitConjuncts(statement.where));
    }
    const aliasSql = quoteIdent(statement.alias ?? table.name);
    if (local) {
      const { ctx } = await this.materialize(binder.bound(), state, undefined);
      const where = statement.where ? ` WHERE ${printExpr(statement.where, ctx)}` : '';
      const sql =
        op === 'update'
          ? `UPDATE ${local} AS ${aliasSql} SET ${assignments.map((a) => `${quoteIdent(a.column)} = ${printExpr(a.value, ctx)}`).join(', ')}${where}`
          : `DELETE FROM ${local} AS ${aliasSql}${where}`;
      const r = await this.db.all(sql);
      await this.releaseTemps(state);
      const count = Number(r.rows[0]?.[0] ?? 0);
      return this.done(statement, state, `${count} row${count === 1 ? '' : 's'} ${op === 'update' ? 'updated' : 'deleted'} in ${table.name}@${container.alias}.`, count);
    }
    if (table.key.length === 0) {
      throw new SluiceError('ENG303', `Table ${table.name}@${container.alias} has no key, so rows cannot be ${op}d one by one.`, { container: container.alias, table: table.name });
    }
    const keep = [...table.key];
    if (table.partitionColumn && !keep.some((k) => eq(k, table.partitionColumn))) keep.push(table.partitionColumn);
    const { ctx } = await this.materialize(binder.bound(), state, undefined, new Map([[ref, keep]]));
    const where = statement.where ? ` WHERE ${printExpr(statement.where, ctx)}` : '';
    const select = [
      ...keep.map((k) => `${aliasSql}.${quoteIdent(k)}`),
      // Values travel as their column's type ('12.5' into a number column is sent as 12.5), as inserts do.
      ...assignments.map((a) => {
        const col = table.columns.find((c) => eq(c.name, a.column));
        const value = printExpr(a.value, ctx);
        const typed = col && !['varchar', 'guid', 'blob'].includes(col.type) ? `CAST(${value} AS ${duckTypeName(col.type, col.precision, col.scale)})` : value;
        return `${typed} AS ${quoteIdent(col?.name ?? a.column)}`;
      }),
    ];
    const stream = await this.db.stream(`SELECT ${select.join(', ')} FROM ${ctx.relation(ref.node)} AS ${aliasSql}${where}`);
    const count = await this.writeRows(container, table, op, stream.batches, state);
    await this.releaseTemps(state);
    return this.done(statement, state, `${count} row${count === 1 ? '' : 's'} ${op === 'update' ? 'updated' : 'deleted'} in ${table.name}@${container.alias}.`, count);
  }

  /**
   * Write rows through container.write, in batches grouped by partition (for
   * partitioned tables, by the partition column's value). Fails after trying
   * every row when any row failed, saying how many were written.
   */
  private async writeRows(container: Container, table: TableInfo, op: WriteOp, batches: AsyncIterable<RowBatch>, state: RunState): Promise<number> {
    if (!container.write) throw new SluiceError('ENG302', `Container ${container.alias} cannot write.`, { container: container.alias, table: table.name });
    const partitioned = table.scope !== 'system' && table.partitionColumn !== undefined && (await this.partitionsOf(container, state.signal)).length > 0;
    const all = partitioned ? await this.partitionsOf(container, state.signal) : [];
    const selected = partitioned ? (await this.selectedFor(container, state.signal)).partitions : [];
    const concurrency = Math.max(1, Number(this.settingsMap['parallelism'] ?? '8') || 8);
    let written = 0;
    let total = 0;
    const failures: { key?: string; partition?: string; message: string }[] = [];
    const flush = async (columns: readonly string[], rows: (readonly Value[])[], partition: Partition | undefined) => {
      if (rows.length === 0) return;
      const results: RowResult[] = [];
      for await (const r of container.write!(table, { op, rows: { columns, rows }, partition, concurrency, signal: state.signal })) results.push(r);
      for (const r of results) {
        if (r.ok) written += 1;
        else failures.push({ key: r.key, partition: partition?.id, message: r.message ?? 'failed' });
      }
      state.onProgress?.({ partitionsDone: 0, partitionsTotal: 0, rows: written, remoteCalls: state.remoteCalls(), elapsedMs: this.clock.now() - state.started });
    };
    const groups = new Map<string, { partition: Partition | undefined; rows: (readonly Value[])[] }>();
    let columns: readonly string[] = [];
    let outColumns: readonly string[] = [];
    let pIndex = -1;
    let dropPartitionColumn = false;
    for await (const batch of batches) {
      if (state.signal.aborted) throw cancelled();
      if (columns.length === 0) {
        columns = batch.columns;
        pIndex = partitioned ? columns.findIndex((c) => eq(c, table.partitionColumn)) : -1;
        // For update/delete the partition column only routes the row; it is sent when it is part of the key or an insert.
        dropPartitionColumn = pIndex >= 0 && op !== 'insert' && !table.key.some((k) => eq(k, table.partitionColumn));
        outColumns = dropPartitionColumn ? columns.filter((_, i) => i !== pIndex) : columns;
      }
      for (const row of batch.rows) {
        total += 1;
        let partition: Partition | undefined;
        if (partitioned) {
          if (pIndex >= 0 && row[pIndex] !== null) {
            const id = String(row[pIndex]);
            partition = all.find((p) => p.id === id) ?? { id };
          } else if (selected.length === 1) {
            partition = selected[0];
          } else {
            throw new SluiceError('ENG304', `Rows for ${table.name}@${container.alias} must say their partition: give ${table.partitionColumn} a value, or use exactly one partition.`, {
              container: container.alias,
              table: table.name,
            });
          }
        }
        const key = partition?.id ?? '';
        const g = groups.get(key) ?? { partition, rows: [] };
        g.rows.push(dropPartitionColumn ? row.filter((_, i) => i !== pIndex) : row);
        groups.set(key, g);
        if (g.rows.length >= WRITE_BATCH) {
          await flush(outColumns, g.rows, g.partition);
          g.rows = [];
        }
      }
    }
    for (const g of groups.values()) await flush(outColumns, g.rows, g.partition);
    if (failures.length > 0) {
      const first = failures[0];
      throw new SluiceError(
        'ENG310',
        `${written} of ${total} row${total === 1 ? '' : 's'} written to ${table.name}@${container.alias}; ${failures.length} failed. First failure: ${first.message}`,
        { container: container.alias, table: table.name, partition: first.partition, rowKey: first.key, hint: 'The rows written stay written; fix the failing rows and run the statement for them again.' },
      );
    }
    return written;
  }

  // -------------------------------------------------------------------------
  // Explain

  private async explain(statement: Statement, state: RunState, text: string | undefined): Promise<string[]> {
    const lines: string[] = [];
    let query: Query | undefined;
    let prefix = '';
    switch (statement.kind) {
      case 'QueryStatement':
        query = statement.query;
        break;
      case 'CreateTable':
        query = statement.query;
        prefix = `create table ${tableDisplayName(statement.name)} from:`;
        break;
      case 'Insert':
        query = statement.source.kind === 'Query' ? statement.source.query : undefined;
        prefix = `insert into ${tableDisplayName(statement.table)}${query ? ' from:' : ' values'}`;
        break;
      default:
        break;
    }
    if (prefix) lines.push(prefix);
    if (statement.kind === 'Update' || statement.kind === 'Delete') {
      const binder = new Binder(this.list, text);
      const { ref, scope } = binder.bindTarget(statement.table, statement.alias);
      if (statement.where) {
        binder.bindInScope(statement.where, scope);
        ref.conjuncts.push(...splitConjuncts(statement.where));
      }
      lines.push(`${statement.kind.toLowerCase()} ${ref.table.name}@${ref.container.alias} by key (${ref.table.key.join(', ') || 'none'})`);
      const { plans } = await this.materialize(binder.bound(), state, undefined, new Map([[ref, ref.table.key]]), false);
      lines.push(...this.explainPlans(plans, binder.bound()));
      return lines;
    }
    if (!query) {
      lines.push(`${statement.kind}: runs directly, no tables to read.`);
      return lines;
    }
    const prepared = await this.prepareQuery(query, state, text, false);
    lines.push(...this.explainPlans(prepared.plans, prepared.bound));
    const direct = explainDirect(statement, query, prepared, this.settingsMap);
    if (direct) return [...lines, direct];
    lines.push('DuckDB runs:');
    lines.push(`  ${prepared.sql}`);
    return lines;
  }

  private explainPlans(plans: readonly TablePlan[], bound: BoundStatement): string[] {
    const lines: string[] = [];
    for (const ref of bound.refs) {
      const tp = plans.find((p) => p.ref === ref);
      const name = `${ref.table.catalog}.${ref.table.schema}.${ref.table.name}@${ref.container.alias}`;
      if (!tp) {
        lines.push(`table ${name} as ${ref.alias}: local, read in place by DuckDB`);
        continue;
      }
      const plan = tp.plan;
      lines.push(`table ${name} as ${ref.alias}`);
      const identity = scanIdentity(tp);
      const first = plans.find((p) => scanIdentity(p) === identity);
      if (first && first !== tp) {
        lines.push(`  scan: shared with ${first.ref.alias} (same request, fetched once)`);
        continue;
      }
      lines.push(`  scope: ${tp.fanout}`);
      if (tp.partitions.length > 0 && tp.partitions[0] !== undefined) {
        const ids = tp.partitions.map((p) => p!.id);
        lines.push(`  partitions: ${ids.length > 10 ? `${ids.slice(0, 10).join(', ')} … (${ids.length})` : ids.join(', ') || '(none)'}`);
      }
      lines.push(`  columns: ${tp.columns.join(', ') || '(none)'}`);
      if (plan.request.conjuncts.length === 0) lines.push('  filters: none pushed down');
      plan.request.conjuncts.forEach((p, i) => {
        const answer = plan.conjuncts[i] ?? 'unsupported';
        const local = answer === 'exact' ? 'done remotely' : 're-applied locally';
        const pc = ref.table.partitionColumn;
        const prunes = pc && ((p.kind === 'compare' && p.op === '=' && eq(p.column, pc)) || (p.kind === 'in' && !p.not && eq(p.column, pc)));
        lines.push(`  filter: ${describePredicate(p)} — ${answer} (${local}${prunes ? '; selects the partitions scanned' : ''})`);
      });
      if (plan.request.limit !== undefined) lines.push(`  limit ${plan.request.limit}: ${plan.limitApplied ? 'pushed down' : 'applied locally'}`);
      else lines.push('  limit: not pushed down');
      if (plan.request.orderBy) lines.push(`  order: ${plan.orderApplied ? 'pushed down' : 'applied locally'}`);
      const calls = plan.estimatedCallsPerPartition * tp.partitions.length;
      lines.push(`  estimated remote calls: ${calls} (${plan.estimatedCallsPerPartition} × ${tp.partitions.length} scan${tp.partitions.length === 1 ? '' : 's'})`);
      for (const l of plan.explain) lines.push(`  ${ref.container.providerName}: ${l}`);
    }
    return lines;
  }
}

/** A column type in the words of an error message. */
function typeWord(type: ColumnType | undefined): string {
  switch (type) {
    case 'integer':
    case 'bigint':
      return 'a whole number';
    case 'double':
    case 'decimal':
      return 'a number';
    case 'date':
    case 'timestamp':
      return 'a date';
    case 'boolean':
      return 'a boolean';
    case 'guid':
      return 'a guid';
    default:
      return 'a valid value';
  }
}

/** Where a column of an insert's column list is written (the AST keeps only the names). */
function insertColumnLocation(statement: InsertStatement, column: string, text: string | undefined): ReturnType<typeof locationOf> {
  const from = statement.table.span?.end.offset;
  if (text === undefined || from === undefined) return undefined;
  const rest = text.slice(from);
  const open = /^\s*\(/.exec(rest);
  if (!open) return undefined;
  const close = rest.indexOf(')', open[0].length);
  const list = rest.slice(0, close < 0 ? undefined : close);
  const escaped = column.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const m = new RegExp(`(^|[\\s,(])"?(${escaped})"?(?=[\\s,)]|$)`, 'i').exec(list);
  if (!m) return undefined;
  const offset = from + m.index + m[1].length;
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column0 = offset - (before.lastIndexOf('\n') + 1);
  return { line, column: column0 + 1, sourceLine: text.split('\n')[line - 1] };
}

function defaultPartitions(all: readonly Partition[]): readonly Partition[] {
  const d = all.filter((p) => p.isDefault);
  // A platform that marks no default gets its first partition, never all of them by surprise.
  return d.length > 0 ? d : all.slice(0, 1);
}

function constantOf(e: Expr): Value {
  const v = literalValue(e);
  if (v.ok) return v.value;
  if (e.kind === 'Literal') return null;
  throw new SluiceError('ENG026', 'Table function arguments must be constants.', e.span ? { location: { line: e.span.start.line, column: e.span.start.column } } : {});
}

/** Give unnamed top-level select items the name a user would expect: their Sluice SQL text. */
function nameItems(q: Query): Query {
  if (q.body.kind !== 'Select') return q;
  const used = new Set<string>();
  const items: SelectItem[] = q.body.items.map((it) => {
    if (it.alias !== undefined || it.expr.kind === 'ColumnRef' || it.expr.kind === 'Star') return it;
    let name = printSluiceExpr(it.expr);
    if (name.length > 60) name = `col${used.size + 1}`;
    while (used.has(name.toLowerCase())) name += '_';
    used.add(name.toLowerCase());
    return { ...it, alias: name };
  });
  return { ...q, body: { ...q.body, items } };
}

const positiveInteger = (v: string): string | undefined => (/^\d+$/.test(v.trim()) && Number(v) >= 1 ? undefined : 'a whole number of at least 1');
const wholeNumberUpTo =
  (max: number) =>
  (v: string): string | undefined =>
    /^\d+$/.test(v.trim()) && Number(v) >= 1 && Number(v) <= max ? undefined : `a whole number from 1 to ${max.toLocaleString('en-US')}`;
const oneOf =
  (...values: string[]) =>
  (v: string): string | undefined =>
    values.includes(v.toLowerCase()) ? undefined : values.map((x) => `'${x}'`).join(' or ');

/**
 * Every session setting (`set name value`) something reads, with its check.
 * Anything else is an error with did-you-mean, so a typo is never silently kept.
 */
export const SESSION_SETTINGS: readonly { readonly name: string; readonly check: (value: string) => string | undefined }[] = [
  { name: 'parallelism', check: positiveInteger }, // executor.ts: partition scans in flight
  { name: 'direct-scan', check: oneOf('on', 'off') }, // direct.ts
  { name: 'partition-failure', check: oneOf('skip', 'error') }, // executor.ts, direct.ts
  { name: 'synchronize-concurrency', check: wholeNumberUpTo(SYNC_SETTING_LIMITS['synchronize-concurrency'].max) }, // synchronize.ts
  { name: 'synchronize-batch-size', check: wholeNumberUpTo(SYNC_SETTING_LIMITS['synchronize-batch-size'].max) }, // synchronize.ts
  {
    // providers/exactonline: the share of a division's remaining daily calls one statement may spend.
    name: 'exact-daily-budget-share',
    check: (v) => (/^\s*(\d+(\.\d*)?|\.\d+)\s*$/.test(v) && Number(v) > 0 && Number(v) <= 1 ? undefined : 'a number above 0 and at most 1'),
  },
];

/** A SluiceError without a place in the SQL gets the place of `span`; anything else passes unchanged. */
function locatedAt(e: unknown, span: Span | undefined, text: string | undefined): unknown {
  if (!(e instanceof SluiceError) || e.details.location) return e;
  const location = locationOf(span, text);
  if (!location) return e;
  const copy = new SluiceError(e.code, e.message, { ...e.details, location });
  copy.stack = e.stack;
  return copy;
}

/** An error located in the statement text also shows the offending line (for the caret) when the text is known. */
function withSourceLine(e: SluiceError, text: string | undefined): SluiceError {
  const loc = e.details.location;
  if (!loc || loc.sourceLine !== undefined || text === undefined) return e;
  const sourceLine = text.split('\n')[loc.line - 1];
  if (sourceLine === undefined) return e;
  const copy = new SluiceError(e.code, e.message, { ...e.details, location: { ...loc, sourceLine: sourceLine.replace(/\r$/, '') } });
  copy.stack = e.stack;
  return copy;
}

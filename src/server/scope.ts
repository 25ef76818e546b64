/**
 * A database's scope: the partitions (divisions, companies) its startup SQL
 * selected, per container. Everything a user reaches through the server stays
 * inside it:
 *
 * - the OData model leaves out system-wide tables of partitioned containers
 *   (e.g. Exact Online's SystemDivisions lists every division the connection
 *   can see, other customers' included);
 * - `POST /{db}/sql` is checked before it runs (writes need a read-write
 *   grant, and an insert may only name the scope's partitions; system-wide
 *   tables of partitioned containers and the data dictionary's partition
 *   list are refused), and after each `use` (a
 *   selection outside the scope is refused: `/sql` may narrow the startup
 *   SQL's selection, never widen it).
 *
 * The checks work on the parsed statements (the same AST the engine runs),
 * never on SQL text.
 */
import { findNodes } from '../sql/walk.js';
import type { Session } from '../engine/api.js';
import type { Container, TableInfo } from '../provider/types.js';
import type { Expr, InsertStatement, Statement, TableName } from '../sql/ast.js';
import { SluiceError } from '../util/errors.js';

/** Container alias (lower case) → the partition ids selected in it. Containers without partitions are absent. */
export type PartitionScope = ReadonlyMap<string, ReadonlySet<string>>;

/** The session's own scratch container: writes there touch nothing outside the session. */
const SCRATCH = 'inmemorystorage';

/** What the session has selected now, per partitioned container (from the data dictionary; no remote calls after the partitions are known). */
export async function selectedPartitions(session: Session, signal?: AbortSignal): Promise<PartitionScope> {
  const scope = new Map<string, Set<string>>();
  const options = signal ? { signal } : {};
  for await (const result of session.execute('select container, partition_id, selected from systempartitions@datadictionary', options)) {
    if (result.kind !== 'rows') continue;
    for await (const batch of result.batches) {
      for (const [container, id, selected] of batch.rows) {
        const alias = String(container).toLowerCase();
        const set = scope.get(alias) ?? new Set<string>();
        if (selected === true) set.add(String(id));
        scope.set(alias, set);
      }
    }
  }
  // The data dictionary leaves out a container that cannot list its partitions (offline, misconfigured).
  // Fail closed: count it as partitioned with nothing selected, so its system-wide tables stay hidden.
  for (const c of session.containers()) {
    const alias = c.alias.toLowerCase();
    if (scope.has(alias) || c.providerName.toLowerCase() === 'datadictionary') continue;
    try {
      await c.partitions(signal ?? new AbortController().signal);
    } catch {
      if (signal?.aborted) throw signal.reason;
      scope.set(alias, new Set());
    }
  }
  return scope;
}

/** Whether every partition selected now lies inside the scope. */
export function withinScope(now: PartitionScope, scope: PartitionScope): boolean {
  for (const [alias, ids] of now) {
    const allowed = scope.get(alias);
    for (const id of ids) if (!allowed?.has(id)) return false;
  }
  return true;
}

/** System-wide tables of a partitioned container answer for the whole connection, not for the selected partitions. */
export function isOutsidePartitions(container: Container, table: TableInfo, scope: PartitionScope): boolean {
  return table.scope === 'system' && scope.has(container.alias.toLowerCase());
}

function refused(code: string, message: string, hint?: string): SluiceError {
  return new SluiceError(code, message, { status: 403, ...(hint ? { hint } : {}) });
}

/** Every table name anywhere in a statement (the AST is a tree of plain objects). */
function tableNames(root: unknown): TableName[] {
  return findNodes<TableName>(root, (n) => n.kind === 'TableName');
}

/** The tables a statement changes (undefined: it changes none). */
function writtenTables(s: Statement): readonly TableName[] | undefined {
  switch (s.kind) {
    case 'Insert':
    case 'Update':
    case 'Delete':
      return [s.table];
    case 'CreateTable':
    case 'DropTable':
      return [s.name];
    case 'Synchronize':
      // Only the target changes; the source is read.
      return [s.target];
    default:
      return undefined;
  }
}

const same = (a: string | undefined, b: string) => a !== undefined && a.toLowerCase() === b.toLowerCase();

function matches(t: TableInfo, name: TableName): boolean {
  if (!(same(t.name, name.name) || (t.aliases ?? []).some((a) => same(a, name.name)))) return false;
  if (name.schema !== undefined && !same(t.schema, name.schema)) return false;
  if (name.catalog !== undefined && !same(t.catalog, name.catalog)) return false;
  return true;
}

export interface SqlCheck {
  /** The grant allows writes to the platforms (anything but the session's in-memory storage). */
  readonly write: boolean;
  readonly containers: readonly Container[];
  readonly scope: PartitionScope;
}

/**
 * Check a `/sql` script before anything runs. Refused (403): a write to a
 * container other than `@inmemorystorage` without a read-write grant; reading
 * a system-wide table of a partitioned container or the data dictionary's
 * partition list (both name partitions outside the database).
 */
export function checkSqlScript(statements: readonly Statement[], check: SqlCheck): void {
  for (const s of statements) {
    const written = writtenTables(s);
    if (written && !check.write) {
      for (const t of written) {
        if (!same(t.container, SCRATCH)) {
          throw refused(
            'SRV421',
            `Your grant on this database is read-only: ${s.kind === 'Synchronize' ? 'synchronize' : s.kind.toLowerCase().replace('table', ' table')} of ${t.name}${t.container ? `@${t.container}` : ''} is not allowed.`,
            'Write to tables @inmemorystorage (they live only as long as the request), or ask for a read-write grant.',
          );
        }
      }
    }
    if (s.kind === 'Insert' && check.write) checkInsertPartitions(s, check);
    if (s.kind === 'Synchronize' && check.write) checkSynchronizeTarget(s.target, check);
    for (const name of tableNames(s)) {
      for (const c of check.containers) {
        if (name.container !== undefined && !same(name.container, c.alias)) continue;
        for (const t of c.tables()) {
          if (!matches(t, name)) continue;
          const partitionList = same(c.providerName, 'DataDictionary') && same(t.name, 'SystemPartitions');
          if (partitionList || isOutsidePartitions(c, t, check.scope)) {
            throw refused(
              'SRV422',
              `The table ${t.name}@${c.alias} describes more than this database's partitions and cannot be read here.`,
              'Read the partitioned tables; they hold the rows of this database\'s partitions.',
            );
          }
        }
      }
    }
  }
}

/**
 * An insert names its rows' partitions itself (the engine refuses one outside the
 * session's selection, ENG305; this checks before the script runs): on a partitioned table the partition column
 * must be left out (the rows go to the one selected partition) or given as
 * literals of the scope's partitions.
 */
function checkInsertPartitions(s: InsertStatement, check: SqlCheck): void {
  for (const c of check.containers) {
    if (s.table.container !== undefined && !same(s.table.container, c.alias)) continue;
    const allowed = check.scope.get(c.alias.toLowerCase());
    if (!allowed) continue;
    for (const t of c.tables()) {
      if (!matches(t, s.table) || !t.partitionColumn) continue;
      const columns = s.columns.length > 0 ? s.columns : t.columns.map((col) => col.name);
      const i = columns.findIndex((col) => same(col, t.partitionColumn as string));
      if (i < 0) continue;
      const inScope = (e: Expr | undefined): boolean => e?.kind === 'Literal' && (e.type === 'number' || e.type === 'string') && allowed.has(e.value);
      if (s.source.kind !== 'Values' || !s.source.rows.every((row) => inScope(row[i]))) {
        throw refused(
          'SRV423',
          `An insert into ${t.name}@${c.alias} must give ${t.partitionColumn} as one of this database's partitions (a literal), or leave it out.`,
          `Leaving ${t.partitionColumn} out writes to the selected partition when one is selected (use one first).`,
        );
      }
    }
  }
}

/** Synchronize routes its inserts by the source's partition column, which no check before it runs can see. */
function checkSynchronizeTarget(target: TableName, check: SqlCheck): void {
  for (const c of check.containers) {
    if (target.container !== undefined && !same(target.container, c.alias)) continue;
    if (!check.scope.has(c.alias.toLowerCase())) continue;
    const t = c.tables().find((x) => matches(x, target) && x.partitionColumn);
    if (t) {
      throw refused(
        'SRV423',
        `Synchronize into ${t.name}@${c.alias} is not allowed here: its rows could name partitions outside this database.`,
        'Use insert, update and delete on the partitioned table, or synchronize into @inmemorystorage.',
      );
    }
  }
}

/** The refusal for a `use` that left the scope. */
export function outsideScope(): SluiceError {
  return refused(
    'SRV420',
    "The use statement selects partitions outside this database's partitions.",
    'On /sql, use can only narrow the selection made by the database\'s startup SQL (use one or more of its partitions).',
  );
}

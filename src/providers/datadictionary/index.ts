/**
 * The `datadictionary` container (provider `DataDictionary`): the session
 * describing itself as tables — containers' tables and columns, partitions
 * and which are selected, every remote call made, settings, and journals the
 * engine keeps. Read-only, unpartitioned, no remote calls; it learns
 * everything through `ProviderEnv.session`.
 */
import type {
  ColumnInfo,
  ColumnType,
  Container,
  ContainerConfig,
  Partition,
  Provider,
  ProviderEnv,
  RowBatch,
  ScanPlan,
  ScanContext,
  ScanRequest,
  SessionIntrospection,
  TableInfo,
  Value,
} from '../../provider/types.js';

const CATALOG = 'DataDictionary';
const SCHEMA = 'Sluice';

function col(name: string, type: ColumnType): ColumnInfo {
  return { name, type, nullable: true, filterOperators: [] };
}

function table(name: string, columns: ColumnInfo[], description: string, aliases: string[] = []): TableInfo {
  return {
    catalog: CATALOG,
    schema: SCHEMA,
    name,
    columns,
    key: [],
    scope: 'system',
    writable: { insert: false, update: false, delete: false },
    aliases,
    description,
  };
}

const TABLES: readonly TableInfo[] = [
  table(
    'SystemTables',
    [
      col('container', 'varchar'), col('catalog', 'varchar'), col('schema', 'varchar'), col('name', 'varchar'),
      col('scope', 'varchar'), col('partition_column', 'varchar'), col('insertable', 'boolean'),
      col('updatable', 'boolean'), col('deletable', 'boolean'), col('column_count', 'integer'),
      col('description', 'varchar'),
    ],
    'Every table of every container in this session.',
  ),
  table(
    'SystemColumns',
    [
      col('container', 'varchar'), col('table_name', 'varchar'), col('position', 'integer'), col('name', 'varchar'),
      col('type', 'varchar'), col('nullable', 'boolean'), col('is_key', 'boolean'), col('filter_operators', 'varchar'),
      col('mandatory', 'boolean'), col('read_only', 'boolean'), col('description', 'varchar'),
    ],
    'Every column of every table.',
  ),
  table(
    'SystemPartitions',
    [
      col('container', 'varchar'), col('partition_id', 'varchar'), col('label', 'varchar'), col('group_id', 'varchar'),
      col('is_default', 'boolean'), col('selected', 'boolean'), col('state', 'varchar'),
    ],
    'Partitions (divisions, companies) each container knows, and whether `use` selected them. Lists partitions already fetched.',
  ),
  table(
    'SessionIOs',
    [
      col('at', 'timestamp'), col('container', 'varchar'), col('partition_id', 'varchar'), col('method', 'varchar'),
      col('url', 'varchar'), col('status', 'integer'), col('ms', 'double'), col('rows', 'bigint'), col('bytes', 'bigint'),
      col('error', 'varchar'),
    ],
    'Every remote call this session made (URLs without secrets).',
    ['RemoteCalls'],
  ),
  table('SystemSettings', [col('name', 'varchar'), col('value', 'varchar')], 'Session settings (`set name value`).'),
  table('SystemContainers', [col('alias', 'varchar'), col('provider', 'varchar'), col('table_count', 'integer')], 'The data containers of this session.'),
];

export class DataDictionaryContainer implements Container {
  readonly providerName = 'DataDictionary';

  constructor(
    readonly alias: string,
    private readonly session: SessionIntrospection,
  ) {}

  tables(): readonly TableInfo[] {
    // Journals the engine keeps (e.g. synchronizeresults) are tables too.
    const journals = this.session.journals().map((j) => j.table);
    return journals.length > 0 ? [...TABLES, ...journals] : TABLES;
  }

  async partitions(): Promise<readonly Partition[]> {
    return [];
  }

  plan(table: TableInfo, request: ScanRequest): ScanPlan {
    return {
      table,
      request,
      conjuncts: request.conjuncts.map(() => 'unsupported'),
      limitApplied: false,
      orderApplied: false,
      estimatedCallsPerPartition: 0,
      explain: [`session metadata ${table.name}`],
    };
  }

  async *scan(plan: ScanPlan, _partition: Partition | undefined, context: ScanContext): AsyncIterable<RowBatch> {
    const name = plan.table.name.toLowerCase();
    const partitions = new Map<string, readonly Partition[]>();
    if (name === 'systempartitions') {
      // Providers cache their partition lists, so asking again costs no remote call after the first.
      for (const c of this.session.containers()) {
        if (c === this) continue;
        try {
          partitions.set(c.alias.toLowerCase(), await c.partitions(context.signal));
        } catch {
          // A container that cannot list its partitions (misconfigured, offline) shows none rather than hiding the others.
          if (context.signal.aborted) throw context.signal.reason;
        }
      }
    }
    const journal = this.session.journals().find((j) => j.name.toLowerCase() === name);
    if (journal) {
      yield journal.rows();
      return;
    }
    yield { columns: plan.table.columns.map((c) => c.name), rows: this.rows(name, partitions) };
  }

  private rows(name: string, known: ReadonlyMap<string, readonly Partition[]>): Value[][] {
    const s = this.session;
    switch (name) {
      case 'systemtables':
        return s.containers().flatMap((c) =>
          c.tables().map((t) => [
            c.alias, t.catalog, t.schema, t.name, t.scope, t.partitionColumn ?? null,
            t.writable.insert, t.writable.update, t.writable.delete, t.columns.length, t.description ?? null,
          ]),
        );
      case 'systemcolumns':
        return s.containers().flatMap((c) =>
          c.tables().flatMap((t) =>
            t.columns.map((col, i) => [
              c.alias, t.name, i + 1, col.name, col.type, col.nullable,
              t.key.some((k) => k.toLowerCase() === col.name.toLowerCase()),
              (col.filterOperators ?? []).join(' '), col.mandatory ?? false, col.readOnly ?? false, col.description ?? null,
            ]),
          ),
        );
      case 'systempartitions': {
        const out: Value[][] = [];
        for (const c of s.containers()) {
          const all = known.get(c.alias.toLowerCase()) ?? [];
          // No selection yet means the session will read the defaults (as session.ts decides: the marked ones, else the first).
          const marked = all.filter((p) => p.isDefault);
          const chosen = s.selectedPartitions(c.alias) ?? (marked.length > 0 ? marked : all.slice(0, 1));
          const selected = new Set(chosen.map((p) => p.id));
          for (const p of all) {
            out.push([c.alias, p.id, p.label ?? null, p.group ?? null, p.isDefault ?? false, selected.has(p.id), p.state ?? 'available']);
          }
        }
        return out;
      }
      case 'sessionios':
        return s.callLog().map((r) => [
          new Date(r.at), r.container, r.partition ?? null, r.method, r.url, r.status, r.ms, r.rows, r.bytes, r.error ?? null,
        ]);
      case 'systemsettings':
        return Object.entries(s.settings()).map(([k, v]) => [k, v]);
      case 'systemcontainers':
        return s.containers().map((c) => [c.alias, c.providerName, c.tables().length]);
      default:
        return [];
    }
  }

  async close(): Promise<void> {}
}

export const dataDictionaryProvider: Provider = {
  name: 'DataDictionary',
  async connect(config: ContainerConfig, env: ProviderEnv): Promise<Container> {
    return new DataDictionaryContainer(config.alias, env.session);
  },
};

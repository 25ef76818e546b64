/**
 * The DataDictionary provider on its own, over a hand-made session view:
 * every table answers from what the session says about itself.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DataDictionaryContainer } from '../../../src/providers/datadictionary/index.js';
import type { Container, Partition, RemoteCall, RowBatch, SessionIntrospection, TableInfo } from '../../../src/provider/types.js';

const orders: TableInfo = {
  catalog: 'C', schema: 'S', name: 'Orders', key: ['Id'], scope: 'partitioned', partitionColumn: 'Division',
  columns: [{ name: 'Id', type: 'integer', nullable: false, filterOperators: ['=', 'in'] }, { name: 'Division', type: 'integer', nullable: false }],
  writable: { insert: true, update: false, delete: true },
};
const partitions: Partition[] = [{ id: '1', label: 'One', group: 'g', isDefault: true }, { id: '2', state: 'archived' }];
const remote = {
  alias: 'eol', providerName: 'Fake', tables: () => [orders], partitions: async () => partitions,
} as unknown as Container;
const call: RemoteCall = { at: Date.UTC(2026, 0, 1), container: 'eol', partition: '1', method: 'GET', url: 'https://x/api?access_token=***', status: 200, ms: 12, rows: 3, bytes: 400 };

function dictionary(): DataDictionaryContainer {
  const self: { dd?: DataDictionaryContainer } = {};
  const session: SessionIntrospection = {
    containers: () => [remote, self.dd!],
    selectedPartitions: (alias) => (alias === 'eol' ? [partitions[0]] : undefined),
    callLog: () => [call],
    journals: () => [],
    settings: () => ({ parallelism: '8' }),
  };
  self.dd = new DataDictionaryContainer('datadictionary', session);
  return self.dd;
}

async function scan(dd: DataDictionaryContainer, name: string): Promise<Record<string, unknown>[]> {
  const table = dd.tables().find((t) => t.name.toLowerCase() === name)!;
  const plan = dd.plan(table, { columns: [], conjuncts: [] });
  const out: Record<string, unknown>[] = [];
  for await (const b of dd.scan(plan, undefined, { signal: new AbortController().signal }) as AsyncIterable<RowBatch>) {
    for (const r of b.rows) out.push(Object.fromEntries(b.columns.map((c, i) => [c, r[i]])));
  }
  return out;
}

describe('DataDictionary provider', () => {
  it('lists tables of every container with scope and writability', async () => {
    const rows = await scan(dictionary(), 'systemtables');
    const o = rows.find((r) => r.name === 'Orders')!;
    assert.deepEqual([o.container, o.scope, o.partition_column, o.insertable, o.updatable, o.deletable, o.column_count], ['eol', 'partitioned', 'Division', true, false, true, 2]);
    assert.ok(rows.some((r) => r.container === 'datadictionary' && r.name === 'SessionIOs'));
  });

  it('lists columns with key flags and filter operators', async () => {
    const rows = (await scan(dictionary(), 'systemcolumns')).filter((r) => r.table_name === 'Orders');
    assert.deepEqual(rows.map((r) => [r.name, r.is_key, r.filter_operators]), [['Id', true, '= in'], ['Division', false, '']]);
  });

  it('lists partitions and which are selected', async () => {
    const rows = await scan(dictionary(), 'systempartitions');
    assert.deepEqual(rows.map((r) => [r.partition_id, r.selected, r.state, r.group_id]), [['1', true, 'available', 'g'], ['2', false, 'archived', null]]);
  });

  it('still lists partitions when one container cannot list its own', async () => {
    const broken = { alias: 'down', providerName: 'X', tables: () => [], partitions: async () => { throw new Error('offline'); } } as unknown as Container;
    const session: SessionIntrospection = {
      containers: () => [broken, remote],
      selectedPartitions: () => undefined,
      callLog: () => [],
      journals: () => [],
      settings: () => ({}),
    };
    const dd = new DataDictionaryContainer('datadictionary', session);
    assert.deepEqual((await scan(dd, 'systempartitions')).map((r) => r.partition_id), ['1', '2']);
  });

  it('before any use or query, the default partitions show as selected (they are what a query would read)', async () => {
    const session: SessionIntrospection = {
      containers: () => [remote],
      selectedPartitions: () => undefined,
      callLog: () => [],
      journals: () => [],
      settings: () => ({}),
    };
    const dd = new DataDictionaryContainer('datadictionary', session);
    assert.deepEqual((await scan(dd, 'systempartitions')).map((r) => [r.partition_id, r.is_default, r.selected]), [['1', true, true], ['2', false, false]]);
  });

  it('shows the session\'s journals as tables', async () => {
    const table: TableInfo = { catalog: 'DataDictionary', schema: 'Sluice', name: 'SyncLog', columns: [{ name: 'action', type: 'varchar', nullable: false }], key: [], scope: 'system', writable: { insert: false, update: false, delete: false } };
    const session: SessionIntrospection = {
      containers: () => [],
      selectedPartitions: () => undefined,
      callLog: () => [],
      journals: () => [{ name: 'SyncLog', table, rows: () => ({ columns: ['action'], rows: [['insert'], ['update']] }) }],
      settings: () => ({}),
    };
    const dd = new DataDictionaryContainer('datadictionary', session);
    assert.ok(dd.tables().some((t) => t.name === 'SyncLog'));
    assert.deepEqual(await scan(dd, 'synclog'), [{ action: 'insert' }, { action: 'update' }]);
  });

  it('lists remote calls and settings', async () => {
    const calls = await scan(dictionary(), 'sessionios');
    assert.equal(calls[0].url, 'https://x/api?access_token=***');
    assert.deepEqual(calls[0].at, new Date(Date.UTC(2026, 0, 1)));
    assert.deepEqual(await scan(dictionary(), 'systemsettings'), [{ name: 'parallelism', value: '8' }]);
  });

  it('answers every pushdown request unsupported and costs no remote calls', () => {
    const dd = dictionary();
    const plan = dd.plan(dd.tables()[0], { columns: ['name'], conjuncts: [{ kind: 'isnull', column: 'name', not: true }] });
    assert.deepEqual(plan.conjuncts, ['unsupported']);
    assert.equal(plan.estimatedCallsPerPartition, 0);
  });
});

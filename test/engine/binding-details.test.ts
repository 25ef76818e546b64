/**
 * Binding details that decide what reaches a provider: a column used only in
 * a `within group (order by …)` is fetched from the remote table, and a
 * declared `varchar(n)` reaches the container's createTable as maxLength.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { openSession } from '../../src/engine/index.js';
import type { Session } from '../../src/engine/api.js';
import type { ColumnInfo, Container, ContainerConfig, Provider, ProviderEnv, TableInfo } from '../../src/provider/types.js';
import { fakeProvider, rows, runAll } from './helpers.js';

let session: Session | undefined;
afterEach(async () => {
  await session?.close();
  session = undefined;
});

describe('binding details', () => {
  it('fetches a column used only in within group (order by …) from the remote table', async () => {
    const fp = fakeProvider();
    session = await openSession({ providers: [fp.provider], containers: [{ alias: 'eol', provider: 'Fake', options: {} }] });
    const r = await rows(session, "select listagg(customer, ',') within group (order by orderid desc) from orders where status = 'open'");
    assert.deepEqual(r, [['C2,C0,C1,C2,C0']]);
    const requested = fp.containers[0].log.scans.at(-1)?.request.columns.map((c) => c.toLowerCase()) ?? [];
    assert.ok(requested.includes('orderid'), `requested: ${requested.join(', ')}`);
  });

  it('passes varchar(n) to createTable as maxLength, next to decimal precision and scale', async () => {
    const created: ColumnInfo[][] = [];
    const recorder: Provider = {
      name: 'Recorder',
      async connect(config: ContainerConfig, _env: ProviderEnv): Promise<Container> {
        return {
          alias: config.alias,
          providerName: 'Recorder',
          tables: () => [],
          partitions: async () => [],
          plan: () => {
            throw new Error('no tables');
          },
          scan: () => {
            throw new Error('no tables');
          },
          async createTable(name: string, columns: readonly ColumnInfo[]): Promise<TableInfo> {
            created.push([...columns]);
            return { catalog: 'R', schema: 'R', name, columns, key: [], scope: 'system', writable: { insert: true, update: false, delete: false } };
          },
          close: async () => {},
        };
      },
    };
    session = await openSession({ providers: [recorder], containers: [{ alias: 'rec', provider: 'Recorder', options: {} }] });
    await runAll(session, 'create table k@rec (code varchar(20) not null, naam char(3), saldo numeric(12,2), memo varchar)');
    const [cols] = created;
    assert.deepEqual(
      cols.map((c) => [c.name, c.type, c.maxLength, c.precision, c.scale]),
      [
        ['code', 'varchar', 20, undefined, undefined],
        ['naam', 'varchar', 3, undefined, undefined],
        ['saldo', 'decimal', undefined, 12, 2],
        ['memo', 'varchar', undefined, undefined, undefined],
      ],
    );
  });
});

/**
 * The PostgreSQL provider against the real server on 127.0.0.1:5432 (db test,
 * user root), through the shared SQL provider suite.
 */
import pg from 'pg';
import { postgresProvider } from '../../../src/providers/postgres/index.js';
import { sqlProviderSuite } from './suite.js';

sqlProviderSuite({
  provider: postgresProvider,
  options: { host: '127.0.0.1', port: '5432', database: 'test', user: 'root', batchsize: '5000' },
  raw: async () => {
    const client = new pg.Client({ host: '127.0.0.1', port: 5432, database: 'test', user: 'root' });
    await client.connect();
    return {
      exec: async (sql) => {
        await client.query(sql);
      },
      rows: async (sql) => (await client.query({ text: sql, rowMode: 'array' })).rows as unknown[][],
      close: () => client.end(),
    };
  },
  quote: (n) => `"${n.replace(/"/g, '""')}"`,
  caseInsensitiveText: false,
  slowView: (name, seconds) => `CREATE VIEW "${name}" AS SELECT 1 AS x FROM (SELECT pg_sleep(${seconds})) s`,
  fillSeries: (table, count) => `INSERT INTO "${table}" (n) SELECT g FROM generate_series(1, ${count}) g`,
  runningLike: () => `SELECT pid FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%sluice_slow_view%' AND pid <> pg_backend_pid()`,
  plainDecimal: [null, null],
  unreachable: { url: 'postgresql://root:Sekr1t@127.0.0.1:1/test' },
});

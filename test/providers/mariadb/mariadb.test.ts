/**
 * The MariaDB provider against the real server on 127.0.0.1:3306 (db test,
 * user root), through the shared SQL provider suite.
 */
import mariadb from 'mariadb';
import { mariadbProvider } from '../../../src/providers/mariadb/index.js';
import { sqlProviderSuite } from '../postgres/suite.js';

sqlProviderSuite({
  provider: mariadbProvider,
  options: { host: '127.0.0.1', port: '3306', database: 'test', user: 'root', batchsize: '5000' },
  raw: async () => {
    const conn = await mariadb.createConnection({ host: '127.0.0.1', port: 3306, database: 'test', user: 'root' });
    return {
      exec: async (sql) => {
        await conn.query(sql);
      },
      rows: async (sql) => (await conn.query({ sql, rowsAsArray: true })) as unknown[][],
      close: () => conn.end(),
    };
  },
  quote: (n) => `\`${n.replace(/`/g, '``')}\``,
  caseInsensitiveText: true,
  slowView: (name, seconds) => `CREATE VIEW \`${name}\` AS SELECT SLEEP(${seconds}) AS s`,
  fillSeries: (table, count) => `INSERT INTO \`${table}\` (n) SELECT seq FROM seq_1_to_${count}`,
  runningLike: () =>
    `SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE '%sluice_slow_view%' AND ID <> CONNECTION_ID() AND COMMAND = 'Query'`,
  plainDecimal: [38, 10],
  unreachable: { url: 'mariadb://root:Sekr1t@127.0.0.1:1/test' },
});

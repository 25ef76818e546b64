/**
 * Connection settings for the SQL providers: key=value options, URLs,
 * sealed passwords, and type mapping from information_schema names.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectionOptions, fromDatabase, toParameter } from '../../../src/providers/postgres/sql-container.js';
import { postgresType } from '../../../src/providers/postgres/index.js';
import { mariadbType } from '../../../src/providers/mariadb/index.js';
import { SecretBox } from '../../../src/util/secrets.js';
import { SluiceError } from '../../../src/util/errors.js';

const box = SecretBox.fromPassphrase('test');

test('options come from keys, or from a url that overrides them', () => {
  const a = connectionOptions({ host: 'db.local', port: '6543', database: 'ledger', user: 'acc', password: 'pw' }, { port: 5432, user: 'x' }, box, 'pg');
  assert.deepEqual(a, { host: 'db.local', port: 6543, database: 'ledger', user: 'acc', password: 'pw', batchSize: 5000, poolSize: 4 });
  const b = connectionOptions({ url: 'postgresql://boek%40x:p%3Ass@10.0.0.5:5433/fin%20ance', batchsize: '250', poolsize: '8' }, { port: 5432, user: 'x' }, box, 'pg');
  assert.deepEqual(b, { host: '10.0.0.5', port: 5433, database: 'fin ance', user: 'boek@x', password: 'p:ss', batchSize: 250, poolSize: 8 });
});

test('a sealed password is opened with the secret box', () => {
  const o = connectionOptions({ database: 'd', password: box.seal('geheim') }, { port: 3306, user: 'root' }, box, 'my');
  assert.equal(o.password, 'geheim');
});

test('a missing database or a bad port is a clear error naming the container', () => {
  assert.throws(
    () => connectionOptions({ host: 'h' }, { port: 1, user: 'u' }, box, 'pg'),
    (e: unknown) => e instanceof SluiceError && e.code === 'SQL003' && e.details.container === 'pg',
  );
  assert.throws(() => connectionOptions({ database: 'd', port: 'abc' }, { port: 1, user: 'u' }, box, 'pg'), (e: unknown) => e instanceof SluiceError && e.code === 'SQL002');
});

test('information_schema types map to column types', () => {
  assert.deepEqual(
    ['integer', 'bigint', 'numeric', 'double precision', 'boolean', 'date', 'timestamp with time zone', 'uuid', 'bytea', 'jsonb'].map(postgresType),
    ['integer', 'bigint', 'decimal', 'double', 'boolean', 'date', 'timestamp', 'guid', 'blob', 'varchar'],
  );
  assert.deepEqual(
    [
      ['tinyint', 'tinyint(1)'],
      ['tinyint', 'tinyint(4)'],
      ['int', 'int(10) unsigned'],
      ['bigint', 'bigint(20)'],
      ['decimal', 'decimal(18,2)'],
      ['datetime', 'datetime(6)'],
      ['uuid', 'uuid'],
      ['longtext', 'longtext'],
    ].map(([d, c]) => mariadbType(d, c)),
    ['boolean', 'integer', 'bigint', 'bigint', 'decimal', 'timestamp', 'guid', 'varchar'],
  );
});

test('database values become Sluice values of the column type, and back', () => {
  assert.equal(fromDatabase('9007199254740993', 'bigint'), 9007199254740993n);
  assert.equal(fromDatabase('42', 'bigint'), 42);
  assert.equal(fromDatabase('12.50', 'decimal'), 12.5);
  // Decimals a double cannot hold exactly stay the database's text (the Value doc's decimal rule).
  assert.equal(fromDatabase('12345678901234567.89', 'decimal'), '12345678901234567.89');
  assert.equal(fromDatabase('0.1000000000000000055511', 'decimal'), '0.1000000000000000055511');
  assert.equal(fromDatabase(9007199254740993n, 'decimal'), '9007199254740993');
  assert.equal(fromDatabase('-0012.3400', 'decimal'), -12.34);
  assert.ok(Object.is(fromDatabase('-0.00', 'decimal'), 0));
  assert.equal(fromDatabase('1e400', 'decimal'), '1e400');
  assert.equal(fromDatabase(1, 'boolean'), true);
  assert.deepEqual(fromDatabase('2024-02-29', 'date'), new Date(Date.UTC(2024, 1, 29)));
  assert.deepEqual(fromDatabase('2024-02-29 13:14:15.123456+00', 'timestamp'), new Date(Date.UTC(2024, 1, 29, 13, 14, 15, 123)));
  assert.deepEqual(fromDatabase('0099-01-01 00:00:00', 'timestamp'), new Date('0099-01-01T00:00:00Z'));
  assert.equal(fromDatabase({ a: [1] }, 'varchar'), '{"a":[1]}');
  assert.equal(toParameter(new Date(Date.UTC(2024, 1, 29, 1, 2, 3)), 'date'), '2024-02-29');
  assert.equal(toParameter(new Date(Date.UTC(2024, 1, 29, 1, 2, 3)), 'timestamp'), '2024-02-29 01:02:03');
  assert.equal(toParameter(9007199254740993n, 'bigint'), '9007199254740993');
  assert.equal(toParameter(true, 'integer'), 1);
  assert.equal(toParameter(null, 'varchar'), null);
});

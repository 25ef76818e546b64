/**
 * The state stores (JSON file and PostgreSQL) behind one interface, and the
 * tenancy on top: users with scrypt hashes, sealed container secrets,
 * concurrent updates that never lose an edit, and several store instances
 * (server processes) sharing one PostgreSQL table.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { verifyPassword } from '../../src/server/auth.js';
import { FileStateStore } from '../../src/server/state/file.js';
import { PostgresStateStore } from '../../src/server/state/postgres.js';
import type { StateStore } from '../../src/server/state/types.js';
import { openContainer, shownOptions, Tenancy } from '../../src/server/tenancy.js';
import { SecretBox } from '../../src/util/secrets.js';

const box = SecretBox.fromPassphrase('state test key');
const PG = 'postgres://root@127.0.0.1:5432/test';

async function exercise(store: StateStore, raw: () => Promise<string>): Promise<void> {
  const t = new Tenancy(store, box);
  await t.addUser('anna', { password: 'correct horse' });
  await t.addDatabase('klant-a', { startupSql: 'use 102673@eol' });
  await t.addContainer('klant-a', 'eol', 'ExactOnlineAll', 'clientid=abc;clientsecret=s3cr3t-value;refreshtoken=rt-value;country=nl');
  await t.grant('anna', 'klant-a');
  const { token } = await t.createToken('anna');

  const state = await store.read();
  const user = state.users.find((u) => u.name === 'anna');
  const hash = user?.passwordHash ?? '';
  assert.ok(hash.startsWith('scrypt$'));
  assert.equal(await verifyPassword('correct horse', hash), true);
  assert.equal(await verifyPassword('wrong', hash), false);
  const db = state.databases[0];
  assert.equal(db.startupSql, 'use 102673@eol');
  assert.match(db.containers[0].options.clientsecret, /^sluice:v1:/);
  assert.match(db.containers[0].options.refreshtoken, /^sluice:v1:/);
  assert.equal(db.containers[0].options.country, 'nl');
  assert.equal(openContainer(db.containers[0], box).options.clientsecret, 's3cr3t-value');
  assert.deepEqual(shownOptions(db.containers[0]).split(';').sort(), ['clientid=abc', 'clientsecret=***', 'country=nl', 'refreshtoken=***']);
  assert.deepEqual(state.grants, [{ user: 'anna', database: 'klant-a' }]);

  const stored = await raw();
  for (const secret of ['s3cr3t-value', 'rt-value', 'correct horse', token]) assert.ok(!stored.includes(secret), `${secret} is not stored in clear`);

  // Twenty concurrent grants: none lost.
  await Promise.all(Array.from({ length: 20 }, (_, i) => t.addUser(`u${i}`, { service: true }).then(() => t.grant(`u${i}`, 'klant-a'))));
  const after = await store.read();
  assert.equal(after.grants.length, 21);

  await assert.rejects(t.addUser('anna', { password: 'again' }), /already exists/);
  await assert.rejects(t.addDatabase('../etc', {}), /not a valid database name/);
  await t.removeDatabase('klant-a');
  const gone = await store.read();
  assert.equal(gone.databases.length, 0);
  assert.equal(gone.grants.length, 0);
}

describe('state stores', () => {
  it('keeps state in a JSON file written atomically with mode 0600', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-state-'));
    try {
      const store = FileStateStore.inDirectory(dir);
      await exercise(store, async () => readFileSync(store.describe(), 'utf8'));
      assert.equal(statSync(store.describe()).mode & 0o777, 0o600);
      // A second store on the same file (another process) sees the changes.
      const other = FileStateStore.inDirectory(dir);
      await new Tenancy(other, box).addUser('late', { service: true });
      assert.ok((await store.read()).users.some((u) => u.name === 'late'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('PostgreSQL', () => {
    const table = `sluice_state_test_${randomBytes(4).toString('hex')}`;
    const url = `${PG}?sluice_table=${table}`;
    const stores: PostgresStateStore[] = [];
    after(async () => {
      if (stores[0]) await stores[0].drop();
      for (const s of stores) await s.close();
    });

    it('keeps the same state in a shared table, visible to every instance', async () => {
      const a = PostgresStateStore.fromUrl(url);
      const b = PostgresStateStore.fromUrl(url);
      stores.push(a, b);
      const client = new pg.Client({ connectionString: PG });
      await client.connect();
      try {
        await exercise(a, async () => {
          const r = await client.query(`select doc::text as doc from ${table}`);
          return String(r.rows[0].doc);
        });
      } finally {
        await client.end();
      }
      // Concurrent writers on two instances: both edits survive.
      await Promise.all([new Tenancy(a, box).addUser('from-a', { service: true }), new Tenancy(b, box).addUser('from-b', { service: true })]);
      const seenByA = (await a.read()).users.map((u) => u.name);
      const seenByB = (await b.read()).users.map((u) => u.name);
      assert.ok(seenByA.includes('from-b') && seenByB.includes('from-a'));
      assert.ok(!a.describe().includes('password'));
    });
  });
});

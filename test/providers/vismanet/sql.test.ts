// End to end: the engine reads Visma.net customers through SQL, with the
// container taken from a settings.xml the simulator wrote (as seed 001 does
// with `use 1896329@vismanet`).
import { strict as assert } from 'node:assert';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openSession, type Session } from '../../../src/engine/index.js';
import { startVismaSimulator, type VismaSimulator } from '../../../src/sim/vismanet/index.js';
import { SluiceError } from '../../../src/util/errors.js';
import { SecretBox } from '../../../src/util/secrets.js';
import { rows, runAll } from '../../engine/helpers.js';

describe('VismaNet through SQL', () => {
  let sim: VismaSimulator;
  let session: Session;

  before(async () => {
    sim = await startVismaSimulator({ seed: 11, customersPerCompany: 1234, rateLimit: false });
    const dir = mkdtempSync(join(tmpdir(), 'sluice-vn-sql-'));
    const settingsPath = join(dir, 'settings.xml');
    sim.writeSettings(settingsPath);
    session = await openSession({ settingsPath, dataDir: dir, secrets: SecretBox.fromPassphrase('test') });
  });
  after(async () => {
    await session.close();
    await sim.close();
  });

  it('selects every customer of the chosen company from customer_getall@vismanet', async () => {
    const all = await runAll(session, 'use 1896329@vismanet; select * from customer_getall@vismanet');
    const result = all[all.length - 1];
    assert.equal(result.rows.length, 1234);
    for (const c of ['number', 'name', 'accountreference', 'mainaddress_addressline1', 'mainaddress_country_id']) assert.ok(result.columns.includes(c), c);
    const numbers = result.rows.map((r) => r[result.columns.indexOf('number')]);
    assert.equal(new Set(numbers).size, 1234);
  });

  it('counts customers without an account reference, as seed 001 expects some', async () => {
    const [[count]] = await rows(session, 'use 1896329@vismanet; select count(*) from customer_getall@vismanet where accountreference is null');
    const expected = sim.documents('1896329').filter((d) => d.accountReference === null).length;
    assert.equal(Number(count), expected);
    assert.ok(expected > 0);
  });

  it('inserts and updates customers through SQL', async () => {
    await runAll(session, "use 1896329@vismanet; insert into customer_getall@vismanet (name, accountreference, mainaddress_city) values ('Kaasboerderij SQL B.V.', 'EOL-4242', 'Edam')");
    const [[number, name, city]] = await rows(session, "select number, name, mainaddress_city from customer_getall@vismanet where accountreference = 'EOL-4242'");
    assert.equal(name, 'Kaasboerderij SQL B.V.');
    assert.equal(city, 'Edam');
    await runAll(session, `update customer_getall@vismanet set name = 'Kaasboerderij Hernoemd B.V.' where number = '${String(number)}'`);
    assert.equal(sim.documents('1896329').find((d) => d.number === number)?.name, 'Kaasboerderij Hernoemd B.V.');
  });

  it('refuses to delete customers without calling Visma.net', async () => {
    sim.resetStats();
    await assert.rejects(runAll(session, "delete from customer_getall@vismanet where number = '10001'"), (e: unknown) => e instanceof SluiceError && /delete/i.test(e.message) && e.details.table === 'customer_getall');
    assert.equal(sim.stats().requests, 0);
    assert.ok(sim.documents('1896329').some((d) => d.number === '10001'));
  });
});

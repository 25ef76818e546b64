/**
 * Seed 001 end to end: the article's script, verbatim, against the Exact
 * Online and Visma.net simulators started in this process, with the
 * seed's settings.xml laid out as the article prints it (UTF-16, group
 * "sample", connection "exact online nl + visma.net", aliases eolnl →
 * ExactOnlineAll and vismanet → VismaNet), only with the connection strings
 * pointed at the simulators. Every Exact account of division 102673 must end
 * up as a Visma customer with accountreference EOL-<code>; a second run
 * inserts nothing.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openSession, type Session } from '../../src/engine/index.js';
import { startExactSimulator, type ExactSimulator } from '../../src/sim/exactonline/index.js';
import { startVismaSimulator, type VismaSimulator } from '../../src/sim/vismanet/index.js';
import { SecretBox } from '../../src/util/secrets.js';
import { runAll } from '../engine/helpers.js';

const SEED_001 = `use 102673@eolnl,1896329@vismanet

create or replace table exactaccounts@inmemorystorage
as
select to_char(code) number
,   name
,   'EOL-' || to_char(code) accountreference
from  exactonlinerest..accounts@eolnl

synchronize exactaccounts@inmemorystorage
to     customer_getall@vismanet
with    insert
identified 
by     accountreference ignore nulls`;

/** The seed's settings.xml, character for character, except the connection strings. */
function seedSettings(eolnl: string, vismanet: string): string {
  return `<?xml version="1.0" encoding="utf-16"?>
<settings xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" version="5" forcedefault="false" >
 <group name="sample">
  <connection name="exact online nl + visma.net">
   <database alias="eolnl" provider="ExactOnlineAll" connectionString="${eolnl}" />
   <database alias="vismanet" provider="VismaNet" connectionString="${vismanet}" />
  </connection>
 </group>
</settings>
`;
}

/** A connection-string attribute value as written by a simulator (still XML-escaped). */
function connectionAttribute(xml: string, alias: string): string {
  const m = new RegExp(`<database alias="${alias}" provider="[^"]+" connectionString="([^"]*)"`).exec(xml);
  assert.ok(m, `no ${alias} in ${xml}`);
  return m[1];
}

describe('seed 001: Exact Online accounts into Visma.net customers with one synchronize', () => {
  let exact: ExactSimulator;
  let visma: VismaSimulator;
  let dir: string;
  let settingsPath: string;
  const sessions: Session[] = [];
  const open = async () => {
    const s = await openSession({ settingsPath, group: 'sample', connection: 'exact online nl + visma.net', dataDir: dir, secrets: SecretBox.fromPassphrase('seed001') });
    sessions.push(s);
    return s;
  };

  before(async () => {
    exact = await startExactSimulator({ seed: 7, accountsPerDivision: 120, rateLimits: false });
    // Visma customer numbers start at 10001; Exact account codes here run 1000…1119, so they cannot collide.
    visma = await startVismaSimulator({ seed: 3, customersPerCompany: 40, rateLimit: false });
    dir = mkdtempSync(join(tmpdir(), 'sluice-seed001-'));
    settingsPath = join(dir, 'settings.xml');
    // The simulators write their authorized containers; the seed's layout takes their connection strings.
    const eolFile = join(dir, 'exact.xml');
    await exact.writeSettings(eolFile, 'eolnl');
    const vismaFile = join(dir, 'visma.xml');
    visma.writeSettings(vismaFile, 'vismanet');
    const xml = seedSettings(connectionAttribute(readFileSync(eolFile, 'utf8'), 'eolnl'), connectionAttribute(readFileSync(vismaFile, 'utf8'), 'vismanet'));
    // utf-16, as the declaration says: little-endian with a byte-order mark, as Windows tools write it.
    writeFileSync(settingsPath, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(xml, 'utf16le')]), { mode: 0o600 });
    rmSync(eolFile);
    rmSync(vismaFile);
  });

  after(async () => {
    for (const s of sessions) await s.close();
    await exact.close();
    await visma.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads the settings.xml in the seed\'s layout: UTF-16 with a byte-order mark, group "sample", one connection with eolnl and vismanet', () => {
    const raw = readFileSync(settingsPath);
    assert.deepEqual([...raw.subarray(0, 2)], [0xff, 0xfe]);
    const text = raw.subarray(2).toString('utf16le');
    assert.match(text, /^<\?xml version="1\.0" encoding="utf-16"\?>\n<settings [^>]*version="5" forcedefault="false" >\n <group name="sample">\n {2}<connection name="exact online nl \+ visma\.net">\n {3}<database alias="eolnl" provider="ExactOnlineAll" connectionString="api-url=http:\/\/127\.0\.0\.1:\d+;/);
    assert.match(text, /\n {3}<database alias="vismanet" provider="VismaNet" connectionString="api-url=http:\/\/127\.0\.0\.1:\d+;[^"]*company-id=1896329[,;"]/);
  });

  it('inserts every account of division 102673 as a customer EOL-<code>, and a second run inserts nothing', async () => {
    const session = await open();
    const before = visma.documents('1896329').length;
    const out = await runAll(session, SEED_001);
    const sync = out[out.length - 1];
    assert.equal(sync.kind, 'done');
    assert.match(sync.message ?? '', /inserted 120, updated 0, deleted 0, failed 0/);

    const accounts = await runAll(session, 'select code, name from exactonlinerest..accounts@eolnl');
    assert.equal(accounts[0].rows.length, 120);
    const customers = visma.documents('1896329');
    assert.equal(customers.length, before + 120);
    const byRef = new Map(customers.map((c) => [String(c.accountReference ?? ''), c]));
    for (const [code, name] of accounts[0].rows) {
      const ref = `EOL-${String(code).trim()}`;
      const c = byRef.get(ref);
      assert.ok(c, `customer ${ref} exists`);
      assert.equal(c.name, name);
      assert.equal(String(c.number), String(code).trim());
    }

    // The journal says what happened to each row.
    const journal = await runAll(session, "select action, status, count(*) n from synchronizeresults@datadictionary group by action, status");
    assert.deepEqual(journal[0].rows, [['insert', 'ok', 120]]);

    // Run the script again in a fresh session: nothing to do, no write call made.
    visma.resetStats();
    const again = await runAll(await open(), SEED_001);
    assert.match(again[again.length - 1].message ?? '', /inserted 0, updated 0, deleted 0, failed 0/);
    assert.equal(visma.documents('1896329').length, before + 120);
    assert.equal(visma.stats().inserts, 0);
    assert.equal(visma.stats().updates, 0);
  });
});

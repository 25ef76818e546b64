/**
 * Settings: settings.xml (Invantive format, UTF-16 tolerated), YAML and JSON,
 * connection strings, the lookup order, and the containers a session gets.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openSession } from '../../src/engine/index.js';
import { findSettingsFile, loadSettings, parseConnectionString, parseSettingsXml } from '../../src/engine/settings.js';
import { SluiceError } from '../../src/util/errors.js';
import { fakeProvider } from './helpers.js';

const SEED_XML = `<?xml version="1.0" encoding="utf-16"?>
<settings xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" version="5" forcedefault="false" >
 <group name="sample">
  <connection name="exact online nl + visma.net">
   <database alias="eolnl" provider="ExactOnlineAll" connectionString="api-url=https://start.exactonline.nl" />
   <database alias="vismanet" provider="VismaNet" />
  </connection>
  <connection name="fake">
   <database alias="f1" provider="Fake" connectionString="Mode=fast; User='a;b'" />
  </connection>
 </group>
</settings>`;

const dir = mkdtempSync(join(tmpdir(), 'sluice-settings-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('settings', () => {
  it('parses the settings.xml of seed 001', () => {
    assert.deepEqual(parseSettingsXml(SEED_XML), [
      { alias: 'eolnl', provider: 'ExactOnlineAll', options: { 'api-url': 'https://start.exactonline.nl' } },
      { alias: 'vismanet', provider: 'VismaNet', options: {} },
    ]);
  });

  it('picks a connection by name, and says which exist when it is missing', () => {
    assert.deepEqual(parseSettingsXml(SEED_XML, 'sample', 'FAKE'), [{ alias: 'f1', provider: 'Fake', options: { mode: 'fast', user: 'a;b' } }]);
    assert.throws(() => parseSettingsXml(SEED_XML, 'sample', 'nope'), (e: SluiceError) => e.code === 'ENG003' && /fake/.test(e.details.hint ?? ''));
  });

  it('reads a UTF-16 file with a byte order mark', () => {
    const file = join(dir, 'settings.xml');
    writeFileSync(file, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(SEED_XML, 'utf16le')]));
    assert.equal(loadSettings(file).length, 2);
  });

  it('reads YAML and JSON', () => {
    const yaml = join(dir, 's.yaml');
    writeFileSync(yaml, 'containers:\n  - alias: pg\n    provider: PostgreSQL\n    options:\n      Host: localhost\n  - alias: f\n    provider: Fake\n    connectionString: "a=1;B=2"\n');
    assert.deepEqual(loadSettings(yaml), [
      { alias: 'pg', provider: 'PostgreSQL', options: { host: 'localhost' } },
      { alias: 'f', provider: 'Fake', options: { a: '1', b: '2' } },
    ]);
    const json = join(dir, 's.json');
    writeFileSync(json, JSON.stringify({ containers: [{ alias: 'x', provider: 'Fake' }] }));
    assert.deepEqual(loadSettings(json), [{ alias: 'x', provider: 'Fake', options: {} }]);
  });

  it('parses connection strings with lower-cased keys and quoted values', () => {
    assert.deepEqual(parseConnectionString("api-url=https://x/?a=b;Password='p;w';empty="), { 'api-url': 'https://x/?a=b', password: 'p;w', empty: '' });
  });

  it('looks up the explicit path, then SLUICE_SETTINGS, then the sluice home', () => {
    const saved = { s: process.env.SLUICE_SETTINGS, h: process.env.SLUICE_HOME };
    try {
      process.env.SLUICE_HOME = dir;
      delete process.env.SLUICE_SETTINGS;
      writeFileSync(join(dir, 'settings.xml'), SEED_XML);
      assert.equal(findSettingsFile(), join(dir, 'settings.xml'));
      process.env.SLUICE_SETTINGS = join(dir, 's.json');
      assert.equal(findSettingsFile(), join(dir, 's.json'));
      assert.equal(findSettingsFile(join(dir, 's.yaml')), join(dir, 's.yaml'));
      assert.throws(() => findSettingsFile(join(dir, 'missing.xml')), (e: SluiceError) => e.code === 'ENG001');
    } finally {
      if (saved.s === undefined) delete process.env.SLUICE_SETTINGS;
      else process.env.SLUICE_SETTINGS = saved.s;
      if (saved.h === undefined) delete process.env.SLUICE_HOME;
      else process.env.SLUICE_HOME = saved.h;
    }
  });

  it('gives a session the containers from settings plus inmemorystorage and datadictionary', async () => {
    const file = join(dir, 'fake.xml');
    writeFileSync(file, SEED_XML);
    const fp = fakeProvider();
    const s = await openSession({ settingsPath: file, connection: 'fake', providers: [fp.provider] });
    try {
      assert.deepEqual(s.containers().map((c) => c.alias), ['inmemorystorage', 'datadictionary', 'f1']);
    } finally {
      await s.close();
    }
  });

  it('names an unknown provider', async () => {
    await assert.rejects(openSession({ containers: [{ alias: 'x', provider: 'NoSuchThing', options: {} }] }), (e: SluiceError) => e.code === 'ENG010' && /InMemoryStorage/.test(e.details.hint ?? ''));
  });
});

/**
 * `set name value`: every known session setting is accepted (also spelled
 * with `_` for `-`) and checked; an unknown name is an error with
 * did-you-mean and a location, never silently stored.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openSession } from '../../src/engine/index.js';
import type { Session } from '../../src/engine/api.js';
import { SESSION_SETTINGS } from '../../src/engine/session.js';
import { SluiceError } from '../../src/util/errors.js';
import { rows, runAll, sluiceFailure } from './helpers.js';

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

describe('set', () => {
  let s: Session;
  before(async () => {
    s = await openSession({ containers: [] });
  });
  after(async () => {
    await s.close();
  });

  const failure = (sql: string): Promise<SluiceError> => sluiceFailure(s, sql);

  it('refuses an unknown setting with did-you-mean, located, and keeps nothing', async () => {
    const e = await failure('select 1 from dual;\nset parallelizm 3');
    assert.equal(e.code, 'ENG043');
    assert.equal(e.message, 'Unknown setting "parallelizm".');
    assert.equal(e.details.location?.line, 2);
    assert.match(e.details.hint ?? '', /^Did you mean parallelism\?/);
    assert.equal(s.settings().parallelizm, undefined);
    assert.equal((await failure('set synchronise-concurency 2')).details.hint?.startsWith('Did you mean synchronize-concurrency?'), true);
    assert.match((await failure('set colour blue')).details.hint ?? '', /Settings: parallelism, direct-scan, /);
  });

  it('accepts every known setting, with _ for -', async () => {
    await runAll(s, 'set parallelism 3; set direct_scan off; set partition-failure error; set synchronize_concurrency 4; set synchronize-batch-size 250; set exact-daily-budget-share 0.5');
    assert.deepEqual(
      await rows(s, "select name, value from systemsettings where name in ('parallelism', 'direct-scan', 'partition-failure', 'synchronize-concurrency', 'synchronize-batch-size', 'exact-daily-budget-share') order by name"),
      [['direct-scan', 'off'], ['exact-daily-budget-share', '0.5'], ['parallelism', '3'], ['partition-failure', 'error'], ['synchronize-batch-size', '250'], ['synchronize-concurrency', '4']],
    );
    await runAll(s, 'set direct-scan on; set partition-failure skip');
  });

  it('checks values: whole numbers of at least 1, fixed words, a share', async () => {
    for (const bad of ['set synchronize-concurrency 0', 'set synchronize-concurrency 2.5', 'set synchronize_concurrency many', 'set parallelism 1.5', 'set parallelism -1', 'set synchronize-batch-size 0', 'set direct-scan maybe', 'set partition-failure ignore', 'set exact-daily-budget-share 1.5', 'set exact-daily-budget-share 0']) {
      const e = await failure(bad);
      assert.equal(e.code, 'ENG042', bad);
      assert.ok(e.details.location, bad);
    }
    assert.equal((await failure('set synchronize-concurrency 0')).message, 'synchronize-concurrency must be a whole number from 1 to 64, not "0".');
    assert.equal(s.settings()['synchronize-concurrency'], '4');
  });

  it('knows every setting the source reads', () => {
    const read = new Set<string>();
    for (const f of files('src')) {
      const text = readFileSync(f, 'utf8');
      for (const m of text.matchAll(/settings(?:Map)?\[['"]([a-z0-9-]+)['"]\]/g)) read.add(m[1]);
      // synchronize reads its whole-number settings through syncSetting(settings, 'name').
      for (const m of text.matchAll(/syncSetting\([^,()]+, ['"]([a-z0-9-]+)['"]\)/g)) read.add(m[1]);
    }
    assert.ok(read.size >= 5);
    assert.deepEqual([...read].filter((n) => !SESSION_SETTINGS.some((x) => x.name === n)), []);
  });
});

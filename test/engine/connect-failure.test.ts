/**
 * QA findings on settings and connecting: one container that cannot connect
 * must not block the others (its failure is raised where it is used), an
 * unknown provider names the alias and the closest provider, and invalid
 * settings XML says where, on one line.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { openSession } from '../../src/engine/index.js';
import type { Session } from '../../src/engine/api.js';
import { parseSettingsXml } from '../../src/engine/settings.js';
import { SluiceError } from '../../src/util/errors.js';
import { fakeProvider, rows, runAll } from './helpers.js';

let session: Session | undefined;
afterEach(async () => {
  await session?.close();
  session = undefined;
});

describe('a container that fails to connect', () => {
  it('leaves the other containers usable and fails only where it is used', async () => {
    const fp = fakeProvider();
    const dead = { name: 'Dead', connect: async () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:1')) };
    session = await openSession({
      providers: [fp.provider, dead],
      containers: [
        { alias: 'pg', provider: 'Dead', options: {} },
        { alias: 'eol', provider: 'Fake', options: {} },
      ],
    });
    assert.deepEqual(await rows(session, 'select count(*) from orders@eol'), [[10]]);
    assert.deepEqual(await rows(session, 'select count(*) from orders'), [[10]]);
    await assert.rejects(runAll(session, 'select * from accounts@pg'), (e: SluiceError) => {
      assert.equal(e.code, 'ENG006');
      assert.match(e.message, /^Data container pg \(Dead\) failed to connect: connect ECONNREFUSED/);
      assert.equal(e.details.container, 'pg');
      return true;
    });
    await assert.rejects(runAll(session, 'select * from accounts'), (e: SluiceError) => e.code === 'ENG020' && /pg, whose tables are unknown: it failed to connect/.test(e.message));
    // use all skips it with a warning instead of failing.
    const r = await runAll(session, 'use all');
    assert.match(r[0].result.summary().warnings.join('\n'), /pg was skipped.*failed to connect/);
  });
});

describe('settings errors', () => {
  it('an unknown provider names the alias and suggests the closest provider', async () => {
    await assert.rejects(openSession({ containers: [{ alias: 'boekhouding', provider: 'ExactOnline', options: {} }] }), (e: SluiceError) => {
      assert.equal(e.code, 'ENG010');
      assert.match(e.message, /boekhouding/);
      assert.match(e.message, /"ExactOnline"/);
      assert.match(e.details.hint ?? '', /^Did you mean ExactOnlineAll\?/);
      return true;
    });
  });

  it('invalid settings XML gives line and column on one line', () => {
    assert.throws(
      () => parseSettingsXml('<settings>\n  <group name="a">\n  <connection></group></settings>'),
      (e: SluiceError) => {
        assert.equal(e.code, 'ENG002');
        assert.match(e.message, /^The settings file is not valid XML at line 3, column \d+: .*connection/);
        assert.doesNotMatch(e.message, /\n/);
        return true;
      },
    );
  });
});

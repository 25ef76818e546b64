/**
 * docs/errors.md lists every ENG, FIL and FMT code the source raises: its
 * generated tables (scripts/error-codes.ts) must be up to date, and every
 * ENGnnn literal anywhere under src/engine must appear in it.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { collect, DOC, FAMILIES, updatedDoc } from '../../scripts/error-codes.js';

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

test('docs/errors.md is up to date with the codes in the source (run scripts/error-codes.ts)', () => {
  const { current, next } = updatedDoc();
  assert.equal(current, next);
});

test('every ENG code under src/engine is documented with a message', () => {
  const doc = readFileSync(DOC, 'utf8');
  const codes = new Set(files('src/engine').flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/ENG\d{3}/g)].map((m) => m[0])));
  assert.ok(codes.size >= 49, `only ${codes.size} codes found`);
  for (const code of codes) assert.match(doc, new RegExp(`^\\| ${code} \\| [^|]`, 'm'), `${code} is not in docs/errors.md`);
  const eng = collect(FAMILIES[0]);
  assert.deepEqual(eng.filter((c) => c.messages.length === 0 && !['ENG006', 'ENG512', 'ENG999'].includes(c.code)).map((c) => c.code), []);
});

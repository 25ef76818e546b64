/**
 * Calling a function with the wrong number or kind of arguments gives our own
 * located error (ENG120 / ENG125) with the offending line and a caret, for
 * the function library's functions and for those passed through to DuckDB
 * alike; DuckDB's wording never shows.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openSession } from '../../src/engine/index.js';
import type { Session } from '../../src/engine/api.js';
import { describeCounts, unmatchedCall } from '../../src/engine/duck-errors.js';
import { SluiceError } from '../../src/util/errors.js';
import { sluiceFailure } from './helpers.js';

describe('function argument errors', () => {
  let s: Session;
  before(async () => {
    s = await openSession({ containers: [] });
  });
  after(async () => {
    await s.close();
  });

  const failure = (sql: string): Promise<SluiceError> => sluiceFailure(s, sql);

  const cases: [string, string, number, number, RegExp][] = [
    // [sql, code, line, column, message]
    ["select upper('a', 'b') from dual", 'ENG120', 1, 8, /^Function upper takes 1 argument\(s\), got 2\.$/],
    ['select lower() from dual', 'ENG120', 1, 8, /^Function lower takes 1 argument\(s\), got 0\.$/],
    ['select 1 x,\n       abs(1, 2) y from dual', 'ENG120', 2, 8, /^Function abs takes 1 argument\(s\), got 2\.$/],
    ['select\n  nvl(1) x from dual', 'ENG120', 2, 3, /^Function nvl takes 2 argument\(s\), got 1\.$/],
    ["select substr('abc') from dual", 'ENG120', 1, 8, /^Function substr takes 2 to 3 argument\(s\), got 1\.$/],
    ["select abs(date '2024-01-01') from dual", 'ENG125', 1, 8, /^Function abs cannot take argument\(s\) of type date\.$/],
    // Functions DuckDB's grammar parses itself: a wrong count was a syntax error in the generated SQL.
    ['select 1 x, coalesce() y from dual', 'ENG120', 1, 13, /^Function coalesce takes at least 1 argument\(s\), got 0\.$/],
    ['select nullif(1) from dual', 'ENG120', 1, 8, /^Function nullif takes 2 argument\(s\), got 1\.$/],
  ];

  for (const [sql, code, line, column, message] of cases) {
    it(`${sql.replace(/\s+/g, ' ')} → ${code} at ${line}:${column}`, async () => {
      const e = await failure(sql);
      assert.equal(e.code, code, e.format());
      assert.match(e.message, message);
      assert.deepEqual([e.details.location?.line, e.details.location?.column], [line, column]);
      assert.equal(e.details.location?.sourceLine, sql.split('\n')[line - 1]);
      const shown = e.format();
      assert.match(shown, new RegExp(`\\n {${column + 1}}\\^`), shown);
      assert.doesNotMatch(shown, /No function matches|explicit type casts|STRING_LITERAL|Parser Error/);
    });
  }

  it('reads DuckDB\'s message and describes argument counts', () => {
    assert.deepEqual(unmatchedCall("No function matches the given name and argument types 'f(DECIMAL(3,1), VARCHAR[], INTEGER)'. You might need…"), {
      name: 'f',
      types: ['DECIMAL(3,1)', 'VARCHAR[]', 'INTEGER'],
    });
    assert.deepEqual(unmatchedCall("No function matches the given name and argument types 'lower()'."), { name: 'lower', types: [] });
    assert.equal(describeCounts({ counts: [2, 1, 3], varargs: false }), '1 to 3');
    assert.equal(describeCounts({ counts: [1, 3], varargs: false }), '1 or 3');
    assert.equal(describeCounts({ counts: [1], varargs: true }), 'at least 1');
  });
});

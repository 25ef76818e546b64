/**
 * The lexer: token kinds, values and positions, including tokens and
 * comments that span lines.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tokenize } from '../../src/sql/index.js';

const kinds = (text: string): string[] => tokenize(text).map((t) => `${t.type}:${t.value}`);

test('words are lower-cased in value and keep their spelling in raw', () => {
  const [t] = tokenize('SeLeCt');
  assert.equal(t.type, 'word');
  assert.equal(t.value, 'select');
  assert.equal(t.raw, 'SeLeCt');
});

test('operators, including two-character ones; != becomes <>', () => {
  assert.deepEqual(kinds('a<>b!=c<=d>=e||f::g'), [
    'word:a', 'op:<>', 'word:b', 'op:<>', 'word:c', 'op:<=', 'word:d', 'op:>=', 'word:e', 'op:||', 'word:f', 'op:::', 'word:g', 'eof:',
  ]);
});

test('names with @ and .. split into their parts', () => {
  assert.deepEqual(kinds('exactonlinerest..accounts@eolnl'), [
    'word:exactonlinerest', 'op:.', 'op:.', 'word:accounts', 'op:@', 'word:eolnl', 'eof:',
  ]);
});

test('numbers, strings, quoted names, parameters', () => {
  assert.deepEqual(kinds("12 12.50 .5 1e3 2.5E-3 'it''s' \"a \"\"b\"\"\" [c d] :p"), [
    'number:12', 'number:12.50', 'number:.5', 'number:1e3', 'number:2.5E-3', "string:it's", 'quoted:a "b"', 'quoted:c d', 'param:p', 'eof:',
  ]);
});

test('comments are skipped; a minus before a number is its own token', () => {
  assert.deepEqual(kinds('a -- x\n/* y\n z */ b - -1'), ['word:a', 'word:b', 'op:-', 'op:-', 'number:1', 'eof:']);
});

test('positions count lines and columns across multi-line strings and comments', () => {
  const toks = tokenize("a /* one\ntwo */ 'x\ny' b\n  c");
  const at = (i: number): [number, number, number] => [toks[i].start.line, toks[i].start.column, toks[i].start.offset];
  assert.deepEqual(at(0), [1, 1, 0]);
  assert.deepEqual(at(1), [2, 8, 16]);
  assert.deepEqual([toks[1].end.line, toks[1].end.column], [3, 3]);
  assert.deepEqual(at(2), [3, 4, 22]);
  assert.deepEqual(at(3), [4, 3, 26]);
  const eof = toks[toks.length - 1];
  assert.equal(eof.type, 'eof');
  assert.deepEqual([eof.start.line, eof.start.column], [4, 4]);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeProgress, ProgressDisplay } from '../../src/cli/progress.js';
import { Capture } from './helpers.js';

const P = { partitionsDone: 3, partitionsTotal: 12, rows: 4512, remoteCalls: 17, elapsedMs: 0 };

test('progress reads as partitions done/total, rows and remote calls', () => {
  assert.equal(describeProgress(P, 2300), 'partitions 3/12 · 4,512 rows · 17 remote calls · 2.3 s');
  assert.equal(describeProgress({ ...P, partitionsTotal: 0 }, 1000), '4,512 rows · 17 remote calls · 1.0 s');
});

test('nothing shows during the first second; then one line rewritten in place on a terminal, cleared at the end', () => {
  let now = 0;
  const out = new Capture();
  const display = new ProgressDisplay(out, { isTTY: true, now: () => now });
  now = 999;
  display.update(P);
  assert.equal(out.text, '');
  now = 1500;
  display.update(P);
  now = 2000;
  display.update({ ...P, partitionsDone: 4 });
  assert.equal(out.text, '\r\x1b[2Kpartitions 3/12 · 4,512 rows · 17 remote calls · 1.5 s (Ctrl-C cancels)\r\x1b[2Kpartitions 4/12 · 4,512 rows · 17 remote calls · 2.0 s (Ctrl-C cancels)');
  display.stop();
  // (read through a function: the asserts above narrowed out.text to literals)
  const text = (): string => out.text;
  assert.ok(text().endsWith('(Ctrl-C cancels)\r\x1b[2K'));
});

test('off a terminal, progress is an occasional plain line and never needs clearing', () => {
  let now = 0;
  const out = new Capture();
  const display = new ProgressDisplay(out, { isTTY: false, now: () => now, plainIntervalMs: 5000 });
  now = 1200;
  display.update(P);
  now = 3000;
  display.update(P);
  now = 6300;
  display.update(P);
  display.stop();
  assert.equal(out.text, 'progress: partitions 3/12 · 4,512 rows · 17 remote calls · 1.2 s\nprogress: partitions 3/12 · 4,512 rows · 17 remote calls · 6.3 s\n');
});

test('each statement of a script gets its own first second', () => {
  let now = 0;
  const out = new Capture();
  const display = new ProgressDisplay(out, { isTTY: false, now: () => now });
  now = 5000;
  display.stop();
  display.resume();
  now = 5500;
  display.update(P);
  assert.equal(out.text, '');
  display.stop();
});

test('on a terminal, a statement without progress reports still shows it is running', () => {
  let now = 0;
  const out = new Capture();
  const display = new ProgressDisplay(out, { isTTY: true, now: () => now });
  now = 2500;
  display.draw();
  display.stop();
  assert.equal(out.text, '\r\x1b[2Krunning · 2.5 s (Ctrl-C cancels)\r\x1b[2K');
});

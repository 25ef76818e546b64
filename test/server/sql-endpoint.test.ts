/**
 * POST /{db}/sql failures a client can detect: an error after the first
 * results went out ends a JSON body with a top-level "error" member (valid
 * JSON, so it is read rather than mistaken for a short result) and NDJSON with
 * an error line, both with the `Sluice-Error` trailer; CSV, which cannot say
 * it, is cut off. CSV refuses scripts with more than one query (their headers
 * differ) before anything runs.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openSession } from '../../src/engine/index.js';
import { fakeProvider } from '../engine/helpers.js';
import { fixture } from './helpers.js';
import type { Fixture } from './helpers.js';

/** The fake platform's division 999 fails on its second page, after 5 rows went out. */
const FAILING = "set partition-failure error; use 999@fk; select Division, OrderId from orders@fk";

interface Answer {
  status: number;
  body: string;
  trailers: Record<string, string | undefined>;
  /** The connection was cut before the body ended. */
  cut: boolean;
}

function post(f: Fixture, sql: string, accept: string): Promise<Answer> {
  const url = new URL(`${f.server.url}/bulk/sql`);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { authorization: f.basic('alice', 'alice-pw'), accept, 'content-type': 'text/plain' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, trailers: res.trailers, cut: false }));
      res.on('error', () => resolve({ status: res.statusCode ?? 0, body, trailers: {}, cut: true }));
      res.on('aborted', () => resolve({ status: res.statusCode ?? 0, body, trailers: {}, cut: true }));
    });
    req.on('error', reject);
    req.end(sql);
  });
}

describe('POST /sql errors after output started', () => {
  let f: Fixture;
  let dir: string;
  before(async () => {
    const fake = fakeProvider();
    dir = mkdtempSync(join(tmpdir(), 'sluice-sql-endpoint-'));
    const settingsPath = join(dir, 'none.json');
    writeFileSync(settingsPath, '{"containers": []}\n');
    f = await fixture({
      wrapFactory: () => (containers) => openSession({ settingsPath, containers, providers: [fake.provider], dataDir: dir }),
      prepare: async (tenancy) => {
        await tenancy.addDatabase('bulk', { startupSql: 'use 101@fk, 999@fk' });
        await tenancy.addContainer('bulk', 'fk', 'Fake', 'mode=test');
        await tenancy.grant('alice', 'bulk');
      },
    });
  });
  after(async () => {
    await f.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('JSON: a failing second statement ends the document with an "error" member and the trailer', async () => {
    const a = await post(f, 'select 1 n from dual; select 1 / 0 x from dual', 'application/json');
    assert.equal(a.status, 200);
    const doc = JSON.parse(a.body) as { results: { rows: unknown[] }[]; error?: { code: string; message: string } };
    assert.equal(doc.results.length, 1);
    assert.deepEqual(doc.results[0].rows, [{ n: 1 }]);
    assert.ok(doc.error, a.body);
    assert.match(doc.error.code, /^[A-Z]+\d+$/);
    assert.ok(doc.error.message.length > 0);
    assert.equal(a.trailers['sluice-error'], doc.error.code);
  });

  it('JSON: a row failing in the middle of a result closes its rows and adds the error', async () => {
    const a = await post(f, FAILING, 'application/json');
    assert.equal(a.status, 200, a.body);
    const doc = JSON.parse(a.body) as { results: { message?: string; rows?: { OrderId: number }[] }[]; error?: { code: string; message: string } };
    assert.ok(doc.error, 'the error is in the body');
    const rows = doc.results.find((r) => r.rows)?.rows ?? [];
    assert.deepEqual(rows.map((r) => r.OrderId), [99900, 99901, 99902, 99903, 99904], 'the rows before the failure, then the error');
    assert.match(doc.error.message, /HTTP 500|999/);
    assert.equal(a.trailers['sluice-error'], doc.error.code);
  });

  it('NDJSON: a failing statement after rows adds an error line and the trailer', async () => {
    const a = await post(f, 'select 1 n from dual; select 1 / 0 x from dual', 'application/x-ndjson');
    assert.equal(a.status, 200);
    const lines = a.body.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(lines[0], { n: 1 });
    const last = lines.at(-1) as { error?: { code: string; message: string } };
    assert.ok(last.error && typeof last.error.code === 'string' && last.error.message.length > 0, a.body);
    assert.equal(a.trailers['sluice-error'], last.error.code);
  });

  it('CSV: refuses a script with more than one query (400 SRV413) before running it', async () => {
    const a = await post(f, 'select 1 n from dual; select 2 m, 3 k from dual', 'text/csv');
    assert.equal(a.status, 400);
    const e = (JSON.parse(a.body) as { error: { code: string; message: string } }).error;
    assert.equal(e.code, 'SRV413');
    assert.match(e.message, /2 queries/);
    const one = await post(f, "use default; select 2 m, 3 k from dual", 'text/csv');
    assert.equal(one.status, 200);
    assert.deepEqual(one.body.trim().split(/\r?\n/), ['m,k', '2,3']);
  });

  it('CSV: a row failing after output started cuts the connection instead of ending a short file', async () => {
    const a = await post(f, FAILING, 'text/csv');
    assert.equal(a.status, 200, a.body);
    assert.equal(a.cut, true, 'the client sees a failed transfer');
    assert.match(a.body, /^Division,OrderId/);
  });
});

/**
 * A keyed table from the PostgreSQL provider through the feed: the key shows
 * in $metadata, pages follow the key (keyset tokens), every row arrives once,
 * and a next link used a second time (no open stream left) re-runs the query
 * from the key in its token with the same result.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { pgFeedFixture, readAll } from './helpers.js';
import type { Fixture } from './helpers.js';

describe('PostgreSQL table through the feed', () => {
  const table = `sluice_feed_test_${randomBytes(4).toString('hex')}`;
  const set = `test_public_${table}`;
  let f: Fixture;
  before(async () => {
    f = await pgFeedFixture(table, [
      `create table ${table} (division integer not null, code varchar(10) not null, name varchar(50), amount numeric(12,2), primary key (division, code))`,
      `insert into ${table} select 102673 + g % 3, 'A' || lpad(g::text, 4, '0'), 'Relatie ' || g, g * 1.5 from generate_series(1, 47) g`,
    ]);
  });
  after(async () => {
    await f.close();
  });

  it('publishes the primary key as the entity key', async () => {
    const xml = await (await f.get('/pgdb/odata4/$metadata')).text();
    const type = new RegExp(`<EntityType Name="${set}">\\s*<Key>\\s*<PropertyRef Name="division"/>\\s*<PropertyRef Name="code"/>\\s*</Key>`);
    assert.match(xml, type);
    assert.match(xml, /<Property Name="code" Type="Edm.String" Nullable="false"\/>/);
  });

  it('pages by key with every row once, and re-runs a used next link from its key', async () => {
    const all = await readAll(f, `/pgdb/odata4/${set}`);
    assert.equal(all.pages, 5);
    const keys = all.rows.map((r) => `${r.division}/${r.code}`);
    assert.equal(new Set(keys).size, 47);
    const sorted = [...all.rows].sort((a, b) => (a.division as number) - (b.division as number) || String(a.code).localeCompare(String(b.code)));
    assert.deepEqual(all.rows, sorted, 'ordered by the key');

    const first = (await (await f.get(`/pgdb/odata4/${set}?$filter=${encodeURIComponent('division ne 102674')}&$select=code,amount`)).json()) as { '@odata.nextLink': string; value: unknown[] };
    const token = JSON.parse(Buffer.from(new URL(first['@odata.nextLink']).searchParams.get('$skiptoken') as string, 'base64url').toString()) as { m: string; k: string[] };
    assert.equal(token.m, 'k');
    assert.equal(token.k.length, 2);
    const viaStream = await (await f.get(first['@odata.nextLink'].slice(f.server.url.length))).json();
    const rerun = await (await f.get(first['@odata.nextLink'].slice(f.server.url.length))).json();
    assert.deepEqual(rerun, viaStream);
    assert.equal((viaStream as { value: unknown[] }).value.length, 10);
  });
});

/**
 * The OData v4 protocol, end to end over HTTP against the real engine with
 * in-memory storage tables: service document, $metadata, every query option,
 * server-driven paging, the Power Query sequence, ETags and the response
 * cache, downloads, the SQL endpoint, health and request logs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { XMLParser } from 'fast-xml-parser';
import ExcelJS from 'exceljs';
import { fixture, readAll } from './helpers.js';
import type { Fixture } from './helpers.js';

const ACC = '/acme/odata4/InMemoryStorage_Memory_accounts';

type Feed = { '@odata.context': string; '@odata.count'?: number; '@odata.nextLink'?: string; value: Record<string, unknown>[] };

async function feed(f: Fixture, path: string, headers: Record<string, string> = {}): Promise<Feed> {
  const res = await f.get(path, headers);
  const text = await res.text();
  assert.equal(res.status, 200, text);
  assert.match(res.headers.get('content-type') ?? '', /application\/json/);
  assert.equal(res.headers.get('odata-version'), '4.0');
  return JSON.parse(text) as Feed;
}

const codes = (rows: Record<string, unknown>[]) => rows.map((r) => r.code as number);
/** Without $orderby a keyless table is ordered by all its columns (division first); compare codes as sets. */
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);

describe('OData v4 feed', () => {
  let f: Fixture;
  before(async () => {
    f = await fixture({ server: { pageSize: 5 } });
  });
  after(async () => {
    await f.close();
  });

  it('serves a service document listing one entity set per table, without the data dictionary', async () => {
    const doc = (await feed(f, '/acme/odata4/')) as unknown as { '@odata.context': string; value: { name: string; kind: string; url: string }[] };
    assert.equal(doc['@odata.context'], `${f.server.url}/acme/odata4/$metadata`);
    assert.deepEqual(doc.value.map((v) => v.name), ['InMemoryStorage_Memory_accounts', 'InMemoryStorage_Memory_invoices']);
    assert.ok(doc.value.every((v) => v.kind === 'EntitySet' && v.url === v.name));
    const noSlash = await f.get('/acme/odata4');
    assert.equal(noSlash.status, 200);
  });

  it('serves CSDL $metadata with keys, Edm types and nullability', async () => {
    const res = await f.get('/acme/odata4/$metadata');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /application\/xml/);
    const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(await res.text());
    const schema = xml['edmx:Edmx']['edmx:DataServices'].Schema;
    assert.equal(xml['edmx:Edmx'].Version, '4.0');
    const sets = [schema.EntityContainer.EntitySet].flat();
    assert.deepEqual(sets.map((s: { Name: string }) => s.Name), ['InMemoryStorage_Memory_accounts', 'InMemoryStorage_Memory_invoices']);
    const accounts = [schema.EntityType].flat().find((t: { Name: string }) => t.Name === 'InMemoryStorage_Memory_accounts');
    assert.equal(accounts.Key.PropertyRef.Name, 'SluiceRowId');
    const types = Object.fromEntries([accounts.Property].flat().map((p: { Name: string; Type: string; Nullable: string }) => [p.Name, `${p.Type}/${p.Nullable}`]));
    assert.deepEqual(types, {
      division: 'Edm.Int32/true', code: 'Edm.Int32/true', name: 'Edm.String/true', city: 'Edm.String/true',
      balance: 'Edm.Double/true', created: 'Edm.Date/true', SluiceRowId: 'Edm.Int64/false',
    });
  });

  it('$select limits the properties and names them in @odata.context', async () => {
    const body = await feed(f, `${ACC}?$select=code,name&$top=2`);
    assert.equal(body['@odata.context'], `${f.server.url}/acme/odata4/$metadata#InMemoryStorage_Memory_accounts(code,name)`);
    assert.deepEqual(body.value, [{ code: 1000, name: 'Relatie 00' }, { code: 1002, name: 'Relatie 02' }]);
  });

  it('$filter on the partition column and with in (…)', async () => {
    const { rows } = await readAll(f, `${ACC}?$filter=${encodeURIComponent('division eq 102674')}`);
    assert.deepEqual(sorted(codes(rows)), [1001, 1003, 1005, 1007, 1009, 1011, 1013, 1015, 1017, 1019, 1021]);
    const inList = await feed(f, `${ACC}?$filter=${encodeURIComponent('code in (1003, 1010, 9999)')}`);
    assert.deepEqual(sorted(codes(inList.value)), [1003, 1010]);
  });

  it('$filter with quotes, LIKE wildcards as literals, functions and arithmetic', async () => {
    const q = async (filter: string) => sorted(codes((await readAll(f, `${ACC}?$filter=${encodeURIComponent(filter)}`)).rows));
    assert.deepEqual(await q("name eq 'O''Brien & Zn.'"), [1005]);
    assert.deepEqual(await q("name eq 'x'' or 1 eq 1'"), []);
    assert.deepEqual(await q("startswith(name,'100%')"), [1006]);
    assert.deepEqual(await q("contains(name,'_')"), [1006]);
    assert.deepEqual(await q("endswith(tolower(name),'zn.')"), [1005]);
    assert.deepEqual(await q("toupper(city) eq 'ASSEN' and code lt 1010"), [1002, 1005, 1008]);
    assert.deepEqual(await q('city eq null'), [1007]);
    assert.deepEqual(await q("not (city ne 'Utrecht') and code le 1004"), [1001, 1004]);
    assert.deepEqual(await q('balance mul 2 ge 500 and balance sub 200 lt 70'), [1020, 1021]);
    assert.deepEqual(await q('code mod 10 eq 0'), [1000, 1010, 1020]);
    assert.deepEqual(await q('year(created) eq 2024 and month(created) eq 3 and day(created) eq 3'), [1002]);
    assert.deepEqual(await q('created ge 2024-11-01'), [1010, 1011, 1022]);
    assert.deepEqual(await q("length(city) eq 5 and indexof(city,'sen') eq 2"), [1002, 1005, 1008, 1011, 1014, 1017, 1020]);
    assert.deepEqual(await q("substring(name,0,3) eq '100'"), [1006]);
    assert.deepEqual(await q("concat(city,'!') eq 'Utrecht!' and code gt 1015"), [1016, 1019, 1022]);
  });

  it('$filter with a long add chain answers at once and correctly (each subexpression is printed once)', async () => {
    // 40 terms: printing both sides twice per `add` made this 2^40 string building, a frozen server.
    const chain = `code${' add 1'.repeat(40)} gt 1040`;
    const rows = await readAll(f, `${ACC}?$select=code&$filter=${encodeURIComponent(chain)}`);
    assert.deepEqual(sorted(rows.rows.map((r) => r.code as number)), Array.from({ length: 22 }, (_, i) => 1001 + i));
    const subs = await readAll(f, `${ACC}?$select=code&$filter=${encodeURIComponent(`code${' add 2 sub 1'.repeat(30)} le 1032`)}`);
    assert.deepEqual(sorted(subs.rows.map((r) => r.code as number)), [1000, 1001, 1002]);
  });

  it('$filter with negation (-property, -(expression), - number)', async () => {
    const neg = await readAll(f, `${ACC}?$select=code&$filter=${encodeURIComponent('-code gt -1003')}`);
    assert.deepEqual(sorted(neg.rows.map((r) => r.code as number)), [1000, 1001, 1002]);
    const expr = await readAll(f, `${ACC}?$select=code&$filter=${encodeURIComponent('-(code sub 1000) ge - 1')}`);
    assert.deepEqual(sorted(expr.rows.map((r) => r.code as number)), [1000, 1001]);
  });

  it('$orderby, $top and $skip', async () => {
    const desc = await feed(f, `${ACC}?$orderby=${encodeURIComponent('code desc')}&$top=3`);
    assert.deepEqual(codes(desc.value), [1022, 1021, 1020]);
    assert.equal(desc['@odata.nextLink'], undefined);
    const two = await feed(f, `${ACC}?$orderby=${encodeURIComponent('city,code desc')}&$skip=2&$top=2`);
    assert.deepEqual(two.value.map((r) => [r.city, r.code]), [['Amsterdam', 1015], ['Amsterdam', 1012]]);
  });

  it('$count=true and /$count count the filtered rows, not the page', async () => {
    const body = await feed(f, `${ACC}?$count=true&$filter=${encodeURIComponent('division eq 102673')}`);
    assert.equal(body['@odata.count'], 12);
    assert.equal(body.value.length, 5);
    const res = await f.get(`${ACC}/$count?$filter=${encodeURIComponent('division eq 102674')}`);
    assert.equal(await res.text(), '11');
  });

  it('pages through nextLink returning every row exactly once, also with $orderby, $filter and $top', async () => {
    const all = await readAll(f, ACC);
    assert.equal(all.pages, 5);
    assert.deepEqual(sorted(codes(all.rows)), Array.from({ length: 23 }, (_, i) => 1000 + i));
    assert.deepEqual(all.rows.map((r) => r.SluiceRowId), Array.from({ length: 23 }, (_, i) => i + 1));
    const byName = await readAll(f, `${ACC}?$orderby=${encodeURIComponent('name desc')}&$filter=${encodeURIComponent('code ne 1003')}`);
    assert.equal(byName.rows.length, 22);
    assert.equal(new Set(codes(byName.rows)).size, 22);
    const names = byName.rows.map((r) => r.name as string);
    assert.deepEqual(names, [...names].sort().reverse());
    const top = await readAll(f, `${ACC}?$top=12&$skip=3&$orderby=code`);
    assert.equal(top.pages, 3);
    assert.deepEqual(codes(top.rows), Array.from({ length: 12 }, (_, i) => 1003 + i));
  });

  it('honours Prefer: odata.maxpagesize up to the cap', async () => {
    const res = await f.get(ACC, { prefer: 'odata.maxpagesize=7' });
    assert.equal(res.headers.get('preference-applied'), 'odata.maxpagesize=7');
    assert.equal(((await res.json()) as Feed).value.length, 7);
  });

  it('follows a Power Query sequence: service document, $metadata, preview with $top=1000, then paging to the end', async () => {
    const svc = await f.get('/acme/odata4/');
    assert.equal(svc.status, 200);
    const meta = await f.get('/acme/odata4/$metadata');
    assert.equal(meta.status, 200);
    const filter = encodeURIComponent("division eq 102673 and city ne 'Utrecht'");
    const preview = await feed(f, `${ACC}?$select=code,name,city&$filter=${filter}&$top=1000`, { prefer: 'odata.maxpagesize=1000' });
    assert.equal(preview['@odata.nextLink'], undefined);
    const full = await readAll(f, `${ACC}?$select=code,name,city&$filter=${filter}`);
    assert.deepEqual(codes(full.rows), codes(preview.value));
    assert.deepEqual(sorted(codes(full.rows)), [1000, 1002, 1006, 1008, 1012, 1014, 1018, 1020]);
    assert.equal(full.pages, 2);
  });

  it('answers If-None-Match with 304 when the data did not change', async () => {
    const first = await f.get(`${ACC}?$top=3`);
    const etag = first.headers.get('etag');
    assert.ok(etag);
    await first.text();
    const again = await f.get(`${ACC}?$top=3`, { 'if-none-match': etag });
    assert.equal(again.status, 304);
    const other = await f.get(`${ACC}?$top=4`, { 'if-none-match': etag });
    assert.equal(other.status, 200);
    await other.text();
  });

  it('downloads an entity set as CSV, JSON and XLSX with the query options applied', async () => {
    const csv = await f.get(`/acme/download/InMemoryStorage_Memory_accounts.csv?$select=code,name&$filter=${encodeURIComponent('code lt 1003')}`);
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-disposition') ?? '', /InMemoryStorage_Memory_accounts\.csv/);
    const lines = (await csv.text()).trim().split(/\r?\n/);
    assert.equal(lines.length, 4);
    assert.match(lines[0], /code.*name/);
    assert.match(lines[1], /1000.*Relatie 00/);
    const json = await f.get('/acme/download/InMemoryStorage_Memory_invoices.json');
    const parsed = (await json.json()) as Record<string, unknown>[];
    assert.equal(parsed.length, 7);
    const xlsx = await f.get('/acme/download/InMemoryStorage_Memory_invoices.xlsx');
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(Buffer.from(await xlsx.arrayBuffer()) as unknown as ArrayBuffer);
    assert.equal(wb.worksheets[0].rowCount, 8);
  });

  it('gives downloads an ETag and answers If-None-Match with 304', async () => {
    const xlsx = await f.get('/acme/download/InMemoryStorage_Memory_invoices.xlsx');
    assert.ok(xlsx.headers.get('etag'), 'xlsx has an ETag too (its body holds its creation time, so it seldom matches)');
    await xlsx.arrayBuffer();
    for (const ext of ['csv', 'json']) {
      const path = `/acme/download/InMemoryStorage_Memory_invoices.${ext}?$orderby=invoicenumber`;
      const first = await f.get(path);
      assert.equal(first.status, 200);
      const etag = first.headers.get('etag');
      assert.ok(etag, `${ext} has an ETag`);
      assert.match(first.headers.get('content-disposition') ?? '', new RegExp(`InMemoryStorage_Memory_invoices\\.${ext}`));
      const body = Buffer.from(await first.arrayBuffer());
      assert.equal(first.headers.get('content-length'), String(body.length));
      const again = await f.get(path, { 'if-none-match': etag });
      assert.equal(again.status, 304, ext);
      await again.arrayBuffer();
      const other = await f.get(`/acme/download/InMemoryStorage_Memory_invoices.${ext}?$orderby=invoicenumber&$top=2`, { 'if-none-match': etag });
      assert.equal(other.status, 200, `${ext}: another body, another ETag`);
      await other.arrayBuffer();
    }
  });

  it('runs SQL posted to /sql as JSON, CSV and NDJSON', async () => {
    const post = (body: string, headers: Record<string, string>) =>
      fetch(`${f.server.url}/acme/sql`, { method: 'POST', body, headers: { authorization: f.basic('alice', 'alice-pw'), ...headers } });
    const json = await post(JSON.stringify({ sql: 'select count(*) n from accounts@inmemorystorage where division = 102673' }), { 'content-type': 'application/json' });
    assert.equal(json.status, 200);
    const body = (await json.json()) as { results: { columns: { name: string }[]; rows: Record<string, unknown>[] }[] };
    assert.equal(body.results[0].columns[0].name, 'n');
    assert.deepEqual(body.results[0].rows, [{ n: 12 }]);
    const csv = await post('select invoicenumber, amount from invoices@inmemorystorage order by invoicenumber', { 'content-type': 'text/plain', accept: 'text/csv' });
    const csvText = await csv.text();
    assert.equal(csvText.trim().split(/\r?\n/).length, 8, csvText);
    const nd = await post('select invoicenumber from invoices@inmemorystorage where paid order by invoicenumber', { accept: 'application/x-ndjson' });
    assert.deepEqual((await nd.text()).trim().split('\n').map((l) => JSON.parse(l)), [{ invoicenumber: 1 }, { invoicenumber: 3 }, { invoicenumber: 5 }, { invoicenumber: 7 }]);
    const bad = await post('selec nonsense', {});
    assert.equal(bad.status, 400);
    const err = (await bad.json()) as { error: { code: string; message: string } };
    assert.match(err.error.code, /^SQL/);
  });

  it('answers /health without credentials and logs requests without secrets', async () => {
    const res = await fetch(`${f.server.url}/health`);
    assert.deepEqual(await res.json(), { status: 'ok' });
    await (await f.get(`${ACC}?$filter=${encodeURIComponent("name eq 'secret-value'")}`)).text();
    const line = JSON.parse(f.logs[f.logs.length - 1]) as Record<string, unknown>;
    assert.equal(line.method, 'GET');
    assert.equal(line.path, '/acme/odata4/InMemoryStorage_Memory_accounts');
    assert.deepEqual(line.options, ['$filter']);
    assert.equal(line.user, 'alice');
    assert.equal(line.database, 'acme');
    assert.equal(line.status, 200);
    assert.equal(typeof line.ms, 'number');
    const all = f.logs.join('\n');
    assert.ok(!all.includes('secret-value'));
    assert.ok(!all.includes('alice-pw'));
    assert.ok(!all.includes(Buffer.from('alice:alice-pw').toString('base64')));
  });
});

/**
 * The $filter grammar Exact Online accepts (platform facts) and its errors:
 * comparison and logical operators, parentheses, guid'…', datetime'…',
 * 123L, 'it''s', trim(), indexof(), startswith(); substringof → 501;
 * "Expression of type 'System.Boolean' expected at position 0"; unknown
 * properties and syntax errors as 400s in Exact's error body.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { errorText, results, setup } from './helpers.js';

describe('Exact simulator $filter', () => {
  let env: Awaited<ReturnType<typeof setup>>;
  const D = 102673;
  let all: Record<string, unknown>[] = [];
  const q = (filter: string) => env.get(`/api/v1/${D}/crm/Accounts?$select=ID,Code,Name,Status,IsSupplier,Created,CreditLineSales&$filter=${encodeURIComponent(filter)}`);
  const ids = async (filter: string) => {
    const r = await q(filter);
    assert.equal(r.status, 200, r.text);
    return results(r).map((x) => String(x.ID)).sort();
  };
  const expect = (pred: (row: Record<string, unknown>) => boolean) => all.filter(pred).map((x) => String(x.ID)).sort();

  before(async () => {
    env = await setup({ accountsPerDivision: 50 });
    all = results(await env.get(`/api/v1/${D}/crm/Accounts?$select=ID,Code,Name,Status,IsSupplier,Created,CreditLineSales`));
    assert.equal(all.length, 50);
  });
  after(async () => {
    await env.sim.close();
  });

  it('evaluates eq ne gt ge lt le with and, or, not and parentheses', async () => {
    assert.deepEqual(await ids("Status eq 'C'"), expect((r) => r.Status === 'C'));
    assert.deepEqual(await ids("Status ne 'C'"), expect((r) => r.Status !== 'C'));
    assert.deepEqual(await ids('CreditLineSales gt 5000'), expect((r) => Number(r.CreditLineSales) > 5000));
    assert.deepEqual(await ids('CreditLineSales ge 5000 and CreditLineSales le 8000'), expect((r) => Number(r.CreditLineSales) >= 5000 && Number(r.CreditLineSales) <= 8000));
    assert.deepEqual(await ids('CreditLineSales lt 1000'), expect((r) => Number(r.CreditLineSales) < 1000));
    assert.deepEqual(await ids("(Status eq 'P' or Status eq 'S') and IsSupplier eq true"), expect((r) => (r.Status === 'P' || r.Status === 'S') && r.IsSupplier === true));
    assert.deepEqual(await ids("not (Status eq 'C')"), expect((r) => r.Status !== 'C'));
    assert.deepEqual(await ids('IsSupplier'), expect((r) => r.IsSupplier === true));
  });

  it('understands guid, datetime, Int64 and quoted string literals', async () => {
    const one = all[7];
    assert.deepEqual(await ids(`ID eq guid'${String(one.ID).toUpperCase()}'`), [String(one.ID)]);
    const created = Number(/\d+/.exec(String(one.Created))?.[0]);
    const iso = new Date(created).toISOString().slice(0, 19);
    assert.deepEqual(await ids(`Created ge datetime'${iso}'`), expect((r) => Number(/\d+/.exec(String(r.Created))?.[0]) >= created));
    assert.deepEqual(await ids('CreditLineSales ge 0L'), expect(() => true));
    const r = await q("Name eq 'it''s'");
    assert.equal(r.status, 200);
    assert.deepEqual(results(r), []);
  });

  it('supports trim, indexof, startswith and endswith', async () => {
    const name = String(all[3].Name);
    const word = name.split(' ')[0];
    assert.deepEqual(await ids(`indexof(Name,'${word.replace(/'/g, "''")}') ge 0`), expect((r) => String(r.Name).toLowerCase().includes(word.toLowerCase())));
    assert.deepEqual(await ids(`startswith(Name,'${word.replace(/'/g, "''")}')`), expect((r) => String(r.Name).toLowerCase().startsWith(word.toLowerCase())));
    assert.deepEqual(await ids(`endswith(Name,'B.V.')`), expect((r) => String(r.Name).endsWith('B.V.')));
    assert.deepEqual(await ids(`trim(Code) eq '${String(all[0].Code).trim()}'`), [String(all[0].ID)]);
  });

  it('answers substringof with 501 Not Implemented', async () => {
    const r = await q("substringof('a',Name)");
    assert.equal(r.status, 501);
    assert.equal(typeof errorText(r), 'string');
  });

  it('reports a non-boolean filter, unknown properties and syntax errors as 400s', async () => {
    const nb = await q('Name');
    assert.equal(nb.status, 400);
    assert.match(errorText(nb), /^Expression of type 'System.Boolean' expected at position 0/);
    const unknown = await q("Nope eq 'x'");
    assert.equal(unknown.status, 400);
    assert.match(errorText(unknown), /Nope/);
    const syntax = await q("Name eq 'x' and");
    assert.equal(syntax.status, 400);
    const unterminated = await q("Name eq 'x");
    assert.equal(unterminated.status, 400);
    const badGuid = await q("ID eq guid'nope'");
    assert.equal(badGuid.status, 400);
  });
});

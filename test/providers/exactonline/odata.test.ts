/** Filter translation: typed literals, exact/inexact/unsupported answers, padded codes. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { literal, translate, type FilterColumn } from '../../../src/providers/exactonline/odata.js';

const cols: Record<string, FilterColumn> = {
  id: { apiName: 'ID', edmType: 'Edm.Guid', filterable: true, trimmed: false },
  code: { apiName: 'Code', edmType: 'Edm.String', filterable: true, trimmed: true },
  name: { apiName: 'Name', edmType: 'Edm.String', filterable: true, trimmed: false },
  timestamp: { apiName: 'Timestamp', edmType: 'Edm.Int64', filterable: true, trimmed: false },
  status: { apiName: 'Status', edmType: 'Edm.Int32', filterable: true, trimmed: false },
  modified: { apiName: 'Modified', edmType: 'Edm.DateTime', filterable: true, trimmed: false },
  remarks: { apiName: 'Remarks', edmType: 'Edm.String', filterable: false, trimmed: false },
};
const lookup = (n: string) => cols[n.toLowerCase()];

test('literals are typed per EDM type', () => {
  assert.equal(literal('Edm.Guid', 'ABCDEF01-2345-6789-abcd-ef0123456789'), "guid'abcdef01-2345-6789-abcd-ef0123456789'");
  assert.equal(literal('Edm.Int64', 5), '5L');
  assert.equal(literal('Edm.Int64', 9007199254740993n), '9007199254740993L');
  assert.equal(literal('Edm.String', "it's"), "'it''s'");
  assert.equal(literal('Edm.DateTime', new Date(Date.UTC(2022, 11, 12, 1, 0, 0))), "datetime'2022-12-12T01:00:00'");
  assert.equal(literal('Edm.Int32', 'abc'), undefined);
  assert.equal(literal('Edm.Guid', 'not-a-guid'), undefined);
});

test("Code = '255' filters through trim and is exact", () => {
  assert.deepEqual(translate({ kind: 'compare', column: 'code', op: '=', value: '255' }, lookup), { filter: "trim(Code) eq '255'", support: 'exact' });
  // Ordering of padded codes is not SQL's ordering of the trimmed values.
  assert.equal(translate({ kind: 'compare', column: 'code', op: '>', value: '255' }, lookup).support, 'unsupported');
});

test('string equality with letters is inexact (Exact ignores case); ne with letters is not pushed', () => {
  assert.deepEqual(translate({ kind: 'compare', column: 'name', op: '=', value: 'Acme' }, lookup), { filter: "Name eq 'Acme'", support: 'inexact' });
  assert.equal(translate({ kind: 'compare', column: 'name', op: '<>', value: 'Acme' }, lookup).support, 'unsupported');
  assert.equal(translate({ kind: 'compare', column: 'name', op: '<', value: 'B' }, lookup).support, 'unsupported');
});

test('in becomes an or-chain; isnull becomes eq null; like prefix becomes startswith (inexact)', () => {
  assert.deepEqual(translate({ kind: 'in', column: 'status', values: [1, 2], not: false }, lookup), { filter: '(Status eq 1 or Status eq 2)', support: 'exact' });
  assert.deepEqual(translate({ kind: 'in', column: 'status', values: [1, 2], not: true }, lookup), { filter: '(Status ne 1 and Status ne 2)', support: 'exact' });
  assert.deepEqual(translate({ kind: 'isnull', column: 'modified', not: false }, lookup), { filter: 'Modified eq null', support: 'exact' });
  assert.deepEqual(translate({ kind: 'like', column: 'name', pattern: 'Ac%', not: false }, lookup), { filter: "startswith(Name,'Ac') eq true", support: 'inexact' });
  assert.equal(translate({ kind: 'like', column: 'name', pattern: '%cme', not: false }, lookup).support, 'unsupported');
});

test('Int64 gets the L suffix; unfilterable columns and unknown columns are unsupported', () => {
  assert.deepEqual(translate({ kind: 'compare', column: 'timestamp', op: '>', value: 0 }, lookup), { filter: 'Timestamp gt 0L', support: 'exact' });
  assert.equal(translate({ kind: 'compare', column: 'remarks', op: '=', value: '1' }, lookup).support, 'unsupported');
  assert.equal(translate({ kind: 'compare', column: 'nope', op: '=', value: 1 }, lookup).support, 'unsupported');
});

test('or is pushed only when every branch is; and keeps the pushable part as inexact', () => {
  const or = translate({ kind: 'or', predicates: [{ kind: 'compare', column: 'status', op: '=', value: 1 }, { kind: 'compare', column: 'remarks', op: '=', value: 'x' }] }, lookup);
  assert.equal(or.support, 'unsupported');
  const and = translate({ kind: 'and', predicates: [{ kind: 'compare', column: 'status', op: '=', value: 1 }, { kind: 'compare', column: 'remarks', op: '=', value: 'x' }] }, lookup);
  assert.deepEqual(and, { filter: 'Status eq 1', support: 'inexact' });
});

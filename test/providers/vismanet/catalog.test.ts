// The Visma.net catalog generator on a small spec written in the shape of
// the real one (value-wrapped write DTOs, request bodies by reference,
// Condition parameters), and the committed catalog's entries seed 001 needs.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { buildVismaCatalog, renderVismaCatalog, type OpenApiSpec, type RefOperation } from '../../../scripts/catalog/vismanet.js';
import { findVismaTable, vismaCatalog } from '../../../src/catalogs/vismanet.js';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const wrapped = (name: string) => ({ type: 'object', properties: { value: ref(name) } });

const spec: OpenApiSpec = {
  info: { version: 'test' },
  paths: {
    '/controller/api/v1/customer/{customerCd}': { put: { operationId: 'Customer_PutBycustomerCd', requestBody: { $ref: '#/components/requestBodies/CustomerUpdateDto' } } },
  },
  components: {
    requestBodies: { CustomerUpdateDto: { content: { 'application/json': { schema: ref('CustomerUpdateDto') } } } },
    schemas: {
      MetadataDto: { type: 'object', properties: { totalCount: { type: 'integer', format: 'int64' } } },
      CountryDto: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' }, metadata: ref('MetadataDto') } },
      AddressDto: { type: 'object', properties: { addressLine1: { type: 'string' }, country: ref('CountryDto') } },
      ClassDto: { type: 'object', properties: { id: { type: 'string' }, description: { type: 'string' } } },
      CustomerDto: {
        type: 'object',
        properties: {
          number: { type: 'string' },
          name: { type: 'string' },
          status: { type: 'string', enum: ['Active', 'Inactive'] },
          internalId: { type: 'integer', format: 'int32' },
          creditLimit: { type: 'number', format: 'double' },
          lastModifiedDateTime: { type: 'string', format: 'date-time' },
          mainAddress: ref('AddressDto'),
          customerClass: ref('ClassDto'),
          attributes: { type: 'array', items: ref('ClassDto') },
          metadata: ref('MetadataDto'),
          errorInfo: { type: 'string' },
        },
      },
      DtoValueOfString: { type: 'object', properties: { value: { type: 'string' } } },
      AddressUpdateDto: { type: 'object', properties: { addressLine1: ref('DtoValueOfString'), countryId: ref('DtoValueOfString') } },
      CustomerUpdateDto: {
        type: 'object',
        properties: {
          number: ref('DtoValueOfString'),
          name: ref('DtoValueOfString'),
          status: ref('DtoValueOfString'),
          mainAddress: wrapped('AddressUpdateDto'),
          customerClassId: ref('DtoValueOfString'),
        },
      },
      ThingDto: { type: 'object', properties: { thingId: { type: 'string' } } },
    },
  },
};

const q = (name: string) => ({ name, in: 'query' });
const operations: RefOperation[] = [
  {
    operationId: 'Customer_GetAll',
    method: 'GET',
    path: '/controller/api/v1/customer',
    tags: ['Customer'],
    parameters: [q('name'), q('status'), q('lastModifiedDateTime'), q('lastModifiedDateTimeCondition'), q('pageNumber'), q('pageSize'), { name: 'erp-api-background', in: 'header' }],
    requestSchema: null,
    responseStatus: '200',
    responseSchema: 'array<CustomerDto>',
  },
  { operationId: 'Customer_Post', method: 'POST', path: '/controller/api/v1/customer', tags: ['Customer'], parameters: [], requestSchema: 'CustomerUpdateDto', responseStatus: '201', responseSchema: 'object' },
  {
    operationId: 'Customer_GetBycustomerCd',
    method: 'GET',
    path: '/controller/api/v1/customer/{customerCd}',
    tags: ['Customer'],
    parameters: [{ name: 'customerCd', in: 'path', required: true }],
    requestSchema: null,
    responseStatus: '200',
    responseSchema: 'CustomerDto',
  },
  {
    operationId: 'Customer_PutBycustomerCd',
    method: 'PUT',
    path: '/controller/api/v1/customer/{customerCd}',
    tags: ['Customer'],
    parameters: [{ name: 'customerCd', in: 'path', required: true }],
    requestSchema: null,
    responseStatus: '204',
    responseSchema: 'object',
  },
  {
    operationId: 'Customer_GetAllContactsForCustomerBycustomerCd',
    method: 'GET',
    path: '/controller/api/v1/customer/{customerCd}/contact',
    tags: ['Customer'],
    parameters: [{ name: 'customerCd', in: 'path', required: true }],
    requestSchema: null,
    responseStatus: '200',
    responseSchema: 'array<ClassDto>',
  },
  { operationId: 'Thing_GetAll', method: 'GET', path: '/controller/api/v1/thing', tags: ['Thing'], parameters: [], requestSchema: null, responseStatus: '200', responseSchema: 'array<ThingDto>' },
  {
    operationId: 'Thing_DeleteBythingId',
    method: 'DELETE',
    path: '/controller/api/v1/thing/{thingId}',
    tags: ['Thing'],
    parameters: [{ name: 'thingId', in: 'path', required: true }],
    requestSchema: null,
    responseStatus: '204',
    responseSchema: 'object',
  },
];

describe('Visma.net catalog generator', () => {
  const catalog = buildVismaCatalog(spec, operations, 'test');

  it('makes a table of each list GET without path parameters, named by the lower-cased operation id', () => {
    assert.deepEqual(
      catalog.tables.map((t) => t.table),
      ['customer_getall', 'thing_getall'],
    );
    const c = catalog.tables[0];
    assert.equal(c.schema, 'Customer');
    assert.equal(c.path, '/customer');
    assert.equal(c.dto, 'CustomerDto');
  });

  it('flattens nested DTOs with underscores, drops metadata and errorInfo, keeps arrays as JSON text, maps types', () => {
    const cols = Object.fromEntries(catalog.tables[0].columns.map((c) => [c.name, c]));
    assert.deepEqual(Object.keys(cols).sort(), [
      'attributes',
      'creditlimit',
      'customerclass_description',
      'customerclass_id',
      'internalid',
      'lastmodifieddatetime',
      'mainaddress_addressline1',
      'mainaddress_country_id',
      'mainaddress_country_name',
      'name',
      'number',
      'status',
    ]);
    assert.deepEqual(cols.mainaddress_country_id.path, ['mainAddress', 'country', 'id']);
    assert.equal(cols.attributes.json, true);
    assert.equal(cols.internalid.type, 'integer');
    assert.equal(cols.creditlimit.type, 'double');
    assert.equal(cols.lastmodifieddatetime.type, 'timestamp');
  });

  it('records the write-DTO path of each writable column, joining segments where the write DTO does', () => {
    const cols = Object.fromEntries(catalog.tables[0].columns.map((c) => [c.name, c]));
    assert.deepEqual(cols.name.writePath, ['name']);
    assert.deepEqual(cols.mainaddress_addressline1.writePath, ['mainAddress', 'addressLine1']);
    assert.deepEqual(cols.mainaddress_country_id.writePath, ['mainAddress', 'countryId']);
    assert.deepEqual(cols.customerclass_id.writePath, ['customerClassId']);
    assert.equal(cols.mainaddress_country_name.writePath, undefined);
    assert.equal(cols.internalid.writePath, undefined);
  });

  it('derives the key from the by-key path parameter and the writes from POST/PUT/DELETE on the resource', () => {
    const [c, thing] = catalog.tables;
    assert.deepEqual(c.key, ['number']);
    assert.equal(c.byKeyPath, '/customer/{customerCd}');
    assert.deepEqual(c.insert, { operationId: 'Customer_Post', method: 'POST', path: '/customer', requestDto: 'CustomerUpdateDto' });
    assert.deepEqual(c.update, { operationId: 'Customer_PutBycustomerCd', method: 'PUT', path: '/customer/{customerCd}', requestDto: 'CustomerUpdateDto' });
    assert.equal(c.delete, undefined);
    assert.deepEqual(thing.key, ['thingid']);
    assert.equal(thing.delete?.method, 'DELETE');
    assert.equal(thing.insert, undefined);
  });

  it('turns query parameters into filters (Condition pairs for dates) and detects paging', () => {
    const c = catalog.tables[0];
    assert.deepEqual(
      c.filters.map((f) => [f.column, f.kind, f.exact]),
      [
        ['name', 'equals', false],
        ['status', 'equals', true],
        ['lastmodifieddatetime', 'condition', false],
      ],
    );
    assert.equal(c.filters[2].conditionParam, 'lastModifiedDateTimeCondition');
    assert.equal(c.paging, 'page');
    assert.equal(catalog.tables[1].paging, 'none');
  });

  it('renders byte-identical output for the same input', () => {
    assert.equal(renderVismaCatalog(buildVismaCatalog(spec, operations, 'test')), renderVismaCatalog(catalog));
    assert.equal(renderVismaCatalog(buildVismaCatalog(spec, [...operations].reverse(), 'test')), renderVismaCatalog(catalog));
  });
});

describe('the committed Visma.net catalog', () => {
  it('has customer_getall as seed 001 names it, keyed by number, insert and update but no delete', () => {
    const t = findVismaTable('Customer_GetAll');
    assert.ok(t);
    assert.deepEqual(t.key, ['number']);
    assert.ok(t.insert && t.update && !t.delete);
    const names = t.columns.map((c) => c.name);
    for (const c of ['accountreference', 'mainaddress_addressline1', 'mainaddress_country_id']) assert.ok(names.includes(c), c);
    assert.deepEqual(t.columns.find((c) => c.name === 'accountreference')?.writePath, ['accountReference']);
    assert.ok(vismaCatalog().tables.length >= 100);
  });
});

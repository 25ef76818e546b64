/**
 * Builds the Visma.net Financials catalog (catalogs/vismanet.json) from the
 * reference OpenAPI spec and its operations list. Every list GET (an
 * `array<…>` response, no path parameters: the company travels in the
 * `ipp-company-id` header) becomes a table named by its operation id in
 * lower case; nested DTOs flatten to `parent_child` columns; POST/PUT/DELETE
 * on the same resource give the write shapes. Pure and deterministic: the
 * same input gives byte-identical output.
 */
import type { ColumnType, FilterOperator } from '../../src/provider/types.js';
import type { VismaCatalog, VismaColumn, VismaFilter, VismaTable, VismaWriteOperation } from '../../src/catalogs/vismanet.js';

export interface RefOperation {
  readonly operationId?: string;
  readonly method: string;
  readonly path: string;
  readonly tags: readonly string[];
  readonly parameters: readonly { readonly name: string; readonly in: string; readonly required?: boolean }[];
  readonly requestSchema: string | null;
  readonly responseStatus: string;
  readonly responseSchema: string | null;
  readonly deprecated?: boolean;
}

interface Schema {
  readonly $ref?: string;
  readonly type?: string;
  readonly format?: string;
  readonly enum?: readonly unknown[];
  readonly properties?: Readonly<Record<string, Schema>>;
  readonly items?: Schema;
  readonly allOf?: readonly Schema[];
}

interface RequestBody {
  readonly $ref?: string;
  readonly content?: Readonly<Record<string, { readonly schema?: Schema }>>;
}

export interface OpenApiSpec {
  readonly info: { readonly version: string };
  readonly paths: Readonly<Record<string, Readonly<Record<string, { readonly operationId?: string; readonly requestBody?: RequestBody }>>>>;
  readonly components: {
    readonly schemas: Readonly<Record<string, Schema>>;
    readonly requestBodies?: Readonly<Record<string, RequestBody>>;
  };
}

const SPEC_PREFIX = '/controller/api/v1';
const MAX_DEPTH = 4;
/** Plumbing present on every DTO, not data. */
const SKIPPED_PROPERTIES = new Set(['metadata', 'errorInfo']);
/** Query parameters that steer paging, expansion or background execution, not filters. */
const NON_FILTER_PARAMS = new Set(['pagenumber', 'pagesize', 'greaterthanvalue', 'numbertoread', 'skiprecords', 'orderby', 'attributes', 'erp-api-background']);
/** Lengths the platform enforces and the spec does not state (seed 001: customer names up to 60). */
const KNOWN_MAX_LENGTH: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  customer_getall: { name: 60 },
};

class Resolver {
  constructor(private readonly spec: OpenApiSpec) {}

  schema(s: Schema | undefined): Schema | undefined {
    let cur = s;
    const seen = new Set<string>();
    while (cur?.$ref) {
      if (seen.has(cur.$ref)) return undefined;
      seen.add(cur.$ref);
      cur = this.spec.components.schemas[cur.$ref.replace('#/components/schemas/', '')];
    }
    if (cur?.allOf && cur.allOf.length === 1) return this.schema(cur.allOf[0]);
    return cur;
  }

  named(name: string): Schema | undefined {
    return this.spec.components.schemas[name];
  }

  /** `DtoValueOfX` style wrappers: an object whose only property is `value`. */
  unwrap(s: Schema | undefined): Schema | undefined {
    const r = this.schema(s);
    const keys = Object.keys(r?.properties ?? {});
    if (r && keys.length === 1 && keys[0] === 'value') return this.schema(r.properties?.value);
    return r;
  }

  requestDto(path: string, method: string): string | undefined {
    const op = this.spec.paths[path]?.[method.toLowerCase()];
    let body = op?.requestBody;
    if (body?.$ref) body = this.spec.components.requestBodies?.[body.$ref.replace('#/components/requestBodies/', '')];
    const schema = body?.content?.['application/json']?.schema ?? Object.values(body?.content ?? {})[0]?.schema;
    return schema?.$ref?.replace('#/components/schemas/', '');
  }
}

function columnType(s: Schema): ColumnType {
  switch (s.type) {
    case 'integer':
      return s.format === 'int64' ? 'bigint' : 'integer';
    case 'number':
      return s.format === 'double' || s.format === 'float' ? 'double' : 'decimal';
    case 'boolean':
      return 'boolean';
    case 'string':
      if (s.format === 'date-time') return 'timestamp';
      if (s.format === 'date') return 'date';
      return 'varchar';
    default:
      return 'varchar';
  }
}

interface FlatColumn extends VismaColumn {
  readonly isEnum: boolean;
}

function flatten(r: Resolver, schema: Schema | undefined, path: readonly string[], seen: ReadonlySet<string>, out: FlatColumn[]): void {
  const s = r.schema(schema);
  if (!s) return;
  for (const [prop, raw] of Object.entries(s.properties ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (SKIPPED_PROPERTIES.has(prop)) continue;
    const child = r.schema(raw);
    if (!child) continue;
    const childPath = [...path, prop];
    const name = childPath.join('_').toLowerCase();
    const ref = raw.$ref ?? '';
    if (child.type === 'array' || (child.properties && (childPath.length >= MAX_DEPTH || seen.has(ref)))) {
      out.push({ name, path: childPath, type: 'varchar', json: true, isEnum: false });
    } else if (child.properties) {
      flatten(r, child, childPath, new Set([...seen, ref]), out);
    } else {
      out.push({ name, path: childPath, type: columnType(child), isEnum: Array.isArray(child.enum) });
    }
  }
}

/** Find the write-DTO path of a read path: segments match a property or join into one (`customerClass`+`id` → `customerClassId`). */
function writePath(r: Resolver, segments: readonly string[], schema: Schema | undefined): string[] | undefined {
  const s = r.unwrap(schema);
  if (!s) return undefined;
  if (segments.length === 0) return s.properties || s.type === 'array' ? undefined : [];
  const props = s.properties ?? {};
  const byLower = new Map(Object.keys(props).map((k) => [k.toLowerCase(), k]));
  for (let take = 1; take <= segments.length; take++) {
    const prop = byLower.get(segments.slice(0, take).join('').toLowerCase());
    if (!prop) continue;
    const rest = writePath(r, segments.slice(take), props[prop]);
    if (rest) return [prop, ...rest];
  }
  return undefined;
}

/** Compare names with the API's abbreviations folded (`orderNbr` ~ `orderNumber`, `salespersonCd` ~ `salespersonId`). */
function normalise(name: string): string {
  return name.toLowerCase().replace(/nbr$/, 'number').replace(/cd$/, 'id').replace(/^ref(number)$/, 'reference$1');
}

/** The column a by-key path parameter addresses: the parameter itself, a suffix of it (`purchaseOrderNumber` → `orderNbr`), or the document's reference number. */
function keyColumn(param: string, columns: readonly FlatColumn[]): string | undefined {
  const top = columns.filter((c) => c.path.length === 1 && !c.json);
  const words = param.replace(/([a-z0-9])([A-Z])/g, '$1 $2').split(' ');
  const candidates = words.map((_, i) => words.slice(i).join(''));
  if (/(number|nbr)$/i.test(param)) candidates.push('referenceNumber', 'number');
  if (/cd$/i.test(param)) candidates.push('number', 'id');
  if (/id$/i.test(param)) candidates.push('id');
  for (const candidate of candidates) {
    const wanted = normalise(candidate);
    const hit = top.find((c) => normalise(c.name) === wanted);
    if (hit) return hit.name;
  }
  return undefined;
}

function stripPrefix(path: string): string {
  return path.startsWith(SPEC_PREFIX) ? path.slice(SPEC_PREFIX.length) : path;
}

function filtersOf(op: RefOperation, columns: readonly FlatColumn[]): VismaFilter[] {
  const params = op.parameters.filter((p) => p.in === 'query').map((p) => p.name);
  const paramSet = new Set(params);
  const filters: VismaFilter[] = [];
  for (const param of params) {
    const lower = param.toLowerCase();
    if (NON_FILTER_PARAMS.has(lower) || lower.startsWith('expand') || lower.endsWith('condition')) continue;
    const column = columns.find((c) => c.path.length === 1 && c.name === lower);
    if (!column || column.json) continue;
    const conditionParam = `${param}Condition`;
    if (paramSet.has(conditionParam)) {
      const operators: FilterOperator[] = ['<', '<=', '>', '>='];
      filters.push({ column: column.name, param, kind: 'condition', conditionParam, operators, exact: false });
    } else {
      const exact = column.isEnum || column.type === 'boolean';
      filters.push({ column: column.name, param, kind: 'equals', operators: ['='], exact });
    }
  }
  return filters;
}

export function buildVismaCatalog(spec: OpenApiSpec, operations: readonly RefOperation[], source: string): VismaCatalog {
  const r = new Resolver(spec);
  const tables: VismaTable[] = [];
  const lists = operations.filter(
    (o) => o.method === 'GET' && o.operationId && /^array<.+>$/.test(o.responseSchema ?? '') && !o.parameters.some((p) => p.in === 'path'),
  );
  for (const op of lists) {
    const dto = (op.responseSchema ?? '').slice('array<'.length, -1);
    const table = (op.operationId ?? '').toLowerCase();
    const path = stripPrefix(op.path);
    let columns: FlatColumn[] = [];
    const named = r.named(dto);
    if (named) flatten(r, named, [], new Set([`#/components/schemas/${dto}`]), columns);
    else columns = [{ name: 'value', path: [], type: columnType({ type: dto }), isEnum: false }];

    const child = (method: string): RefOperation | undefined =>
      operations.find((o) => o.method === method && /^\/\{[^/}]+\}$/.test(stripPrefix(o.path).slice(path.length)) && stripPrefix(o.path).startsWith(path + '/'));
    const getOne = child('GET');
    const putOne = child('PUT');
    const deleteOne = child('DELETE');
    const byKey = getOne ?? putOne ?? deleteOne;
    const keyParam = byKey?.parameters.find((p) => p.in === 'path')?.name;
    const key = keyParam ? keyColumn(keyParam, columns) : undefined;

    const post = operations.find((o) => o.method === 'POST' && stripPrefix(o.path) === path);
    const writeOp = (o: RefOperation | undefined, method: 'POST' | 'PUT' | 'DELETE'): VismaWriteOperation | undefined => {
      if (!o?.operationId) return undefined;
      const requestDto = method === 'DELETE' ? undefined : (o.requestSchema ?? r.requestDto(o.path, method));
      return { operationId: o.operationId, method, path: stripPrefix(o.path), ...(requestDto ? { requestDto } : {}) };
    };
    const insert = writeOp(post, 'POST');
    const update = key ? writeOp(putOne, 'PUT') : undefined;
    const del = key ? writeOp(deleteOne, 'DELETE') : undefined;
    const writeDto = insert?.requestDto ?? update?.requestDto;
    const lengths = KNOWN_MAX_LENGTH[table] ?? {};

    const finalColumns: VismaColumn[] = columns.map((c) => {
      const wp = writeDto && !c.json ? writePath(r, c.path, r.named(writeDto)) : undefined;
      return {
        name: c.name,
        path: c.path,
        type: c.type,
        ...(c.json ? { json: true } : {}),
        ...(wp ? { writePath: wp } : {}),
        ...(lengths[c.name] ? { maxLength: lengths[c.name] } : {}),
      };
    });
    const paging = op.parameters.some((p) => p.name === 'pageNumber') && op.parameters.some((p) => p.name === 'pageSize') ? 'page' : 'none';
    tables.push({
      table,
      schema: op.tags[0] ?? 'Visma',
      operationId: op.operationId ?? '',
      path,
      dto,
      deprecated: op.deprecated === true,
      columns: finalColumns,
      key: key ? [key] : [],
      ...(byKey && keyParam ? { byKeyPath: stripPrefix(byKey.path), keyParam } : {}),
      ...(insert ? { insert } : {}),
      ...(update ? { update } : {}),
      ...(del ? { delete: del } : {}),
      filters: filtersOf(op, columns),
      paging,
    });
  }
  tables.sort((a, b) => (a.table < b.table ? -1 : a.table > b.table ? 1 : 0));
  return { source, version: spec.info.version, specPrefix: SPEC_PREFIX, tables };
}

/** Stable JSON: one table per line group, two-space indent, trailing newline. */
export function renderVismaCatalog(catalog: VismaCatalog): string {
  return JSON.stringify(catalog, null, 1) + '\n';
}

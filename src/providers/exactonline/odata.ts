/**
 * Predicates → OData v2 `$filter` text for Exact Online, with an honest
 * answer per predicate: exact (Exact applies it as SQL would), inexact (Exact
 * narrows the rows, the engine re-checks them — e.g. string comparisons,
 * which Exact's database does case-insensitively), or unsupported.
 *
 * Literals are typed per EDM type: guid'…', datetime'…', 123L for Int64,
 * 'it''s'. Padded codes (Accounts.Code is 18 characters, right-aligned) are
 * compared through trim(…), so `Code = '255'` matches.
 */
import type { Predicate, PushdownSupport, Value } from '../../provider/types.js';

export interface FilterColumn {
  /** Name as the API spells it. */
  readonly apiName: string;
  readonly edmType: string;
  readonly filterable: boolean;
  /** Values come back trimmed: filter through trim(). */
  readonly trimmed: boolean;
}

export interface Translation {
  readonly filter?: string;
  readonly support: PushdownSupport;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_IN_LIST = 40;

export function quoteString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** ISO without zone: Exact's datetime literal. */
function datetimeLiteral(d: Date): string {
  return `datetime'${d.toISOString().replace(/Z$/, '').replace(/\.000$/, '')}'`;
}

/** A typed literal for the column, or undefined when the value does not fit it. */
export function literal(edmType: string, v: Value): string | undefined {
  if (v === null) return 'null';
  switch (edmType) {
    case 'Edm.Guid': {
      const s = String(v);
      return typeof v === 'string' && GUID.test(s) ? `guid'${s.toLowerCase()}'` : undefined;
    }
    case 'Edm.Int64': {
      if (typeof v === 'bigint') return `${v}L`;
      if (typeof v === 'number' && Number.isInteger(v)) return `${v}L`;
      if (typeof v === 'string' && /^-?\d+$/.test(v)) return `${v}L`;
      return undefined;
    }
    case 'Edm.Int16':
    case 'Edm.Int32':
    case 'Edm.Byte': {
      if (typeof v === 'number' && Number.isInteger(v)) return String(v);
      if (typeof v === 'bigint') return String(v);
      if (typeof v === 'string' && /^-?\d+$/.test(v)) return v;
      return undefined;
    }
    case 'Edm.Double':
    case 'Edm.Decimal': {
      if (typeof v === 'number' && Number.isFinite(v)) return String(v);
      if (typeof v === 'bigint') return String(v);
      if (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v)) return v;
      return undefined;
    }
    case 'Edm.Boolean':
      if (typeof v === 'boolean') return v ? 'true' : 'false';
      if (v === 1 || v === 0) return v === 1 ? 'true' : 'false';
      return undefined;
    case 'Edm.DateTime':
      if (v instanceof Date) return datetimeLiteral(v);
      if (typeof v === 'string' && !Number.isNaN(Date.parse(v))) return datetimeLiteral(new Date(v));
      return undefined;
    case 'Edm.String':
      if (typeof v === 'string') return quoteString(v);
      if (typeof v === 'number' || typeof v === 'bigint') return quoteString(String(v));
      return undefined;
    default:
      return undefined;
  }
}

/**
 * Exact's string comparisons ignore case and trailing spaces (SQL Server
 * collation). A literal without letters and without edge spaces compares the
 * same either way, so only then is a string predicate exact.
 */
function stringSupport(edmType: string, v: Value): PushdownSupport {
  if (edmType !== 'Edm.String') return 'exact';
  const s = typeof v === 'string' ? v : String(v);
  return /\p{L}/u.test(s) || s !== s.trim() ? 'inexact' : 'exact';
}

const OPS: Record<string, string> = { '=': 'eq', '<>': 'ne', '<': 'lt', '<=': 'le', '>': 'gt', '>=': 'ge' };

function weaker(a: PushdownSupport, b: PushdownSupport): PushdownSupport {
  if (a === 'unsupported' || b === 'unsupported') return 'unsupported';
  if (a === 'inexact' || b === 'inexact') return 'inexact';
  return 'exact';
}

/** Translate one predicate. `lookup` resolves a column name (any case) or returns undefined. */
export function translate(p: Predicate, lookup: (name: string) => FilterColumn | undefined): Translation {
  switch (p.kind) {
    case 'compare': {
      const col = lookup(p.column);
      if (!col?.filterable || p.value === null) return { support: 'unsupported' };
      const lit = literal(col.edmType, col.trimmed && typeof p.value === 'string' ? p.value.trim() : p.value);
      if (lit === undefined) return { support: 'unsupported' };
      if (col.trimmed) {
        // Ordering of padded codes differs from trimmed ones; only (in)equality is safe.
        if (p.op !== '=' && p.op !== '<>') return { support: 'unsupported' };
        return { filter: `trim(${col.apiName}) ${OPS[p.op]} ${lit}`, support: stringSupport(col.edmType, p.value) };
      }
      // Exact orders strings by its collation, not ours: a range there could drop rows we need.
      if (col.edmType === 'Edm.String' && p.op !== '=' && p.op !== '<>') return { support: 'unsupported' };
      const support = stringSupport(col.edmType, p.value);
      // A case-insensitive `ne` drops rows SQL keeps: only push it when exact.
      if (p.op === '<>' && support !== 'exact') return { support: 'unsupported' };
      return { filter: `${col.apiName} ${OPS[p.op]} ${lit}`, support };
    }
    case 'in': {
      const col = lookup(p.column);
      if (!col?.filterable || p.values.length === 0 || p.values.length > MAX_IN_LIST || p.values.some((v) => v === null)) return { support: 'unsupported' };
      const parts: string[] = [];
      let support: PushdownSupport = 'exact';
      for (const v of p.values) {
        const t = translate({ kind: 'compare', column: p.column, op: p.not ? '<>' : '=', value: v }, lookup);
        if (!t.filter) return { support: 'unsupported' };
        parts.push(t.filter);
        support = weaker(support, t.support);
      }
      return { filter: parts.length === 1 ? parts[0] : `(${parts.join(p.not ? ' and ' : ' or ')})`, support };
    }
    case 'isnull': {
      const col = lookup(p.column);
      if (!col?.filterable) return { support: 'unsupported' };
      return { filter: `${col.apiName} ${p.not ? 'ne' : 'eq'} null`, support: 'exact' };
    }
    case 'like': {
      const col = lookup(p.column);
      if (!col?.filterable || p.not || col.edmType !== 'Edm.String' || col.trimmed) return { support: 'unsupported' };
      const m = /^([^%_]+)%$/.exec(p.pattern);
      if (!m) return { support: 'unsupported' };
      // startswith follows Exact's collation (case-insensitive): a narrowing only.
      return { filter: `startswith(${col.apiName},${quoteString(m[1])}) eq true`, support: 'inexact' };
    }
    case 'and': {
      const parts: string[] = [];
      let support: PushdownSupport = 'exact';
      for (const q of p.predicates) {
        const t = translate(q, lookup);
        if (!t.filter) {
          support = 'inexact';
          continue;
        }
        parts.push(t.filter);
        support = weaker(support, t.support);
      }
      if (parts.length === 0) return { support: 'unsupported' };
      return { filter: parts.length === 1 ? parts[0] : `(${parts.join(' and ')})`, support: support === 'unsupported' ? 'inexact' : support };
    }
    case 'or': {
      const parts: string[] = [];
      let support: PushdownSupport = 'exact';
      for (const q of p.predicates) {
        const t = translate(q, lookup);
        if (!t.filter) return { support: 'unsupported' };
        parts.push(t.filter);
        support = weaker(support, t.support);
      }
      return { filter: parts.length === 1 ? parts[0] : `(${parts.join(' or ')})`, support };
    }
  }
}

/** Filter text to put in a URL query string. */
export function encodeQuery(params: Record<string, string | undefined>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined) continue;
    parts.push(`${k}=${encodeURIComponent(v).replace(/%2C/g, ',').replace(/%24/g, '$').replace(/%27/g, "'").replace(/%28/g, '(').replace(/%29/g, ')')}`);
  }
  return parts.join('&');
}

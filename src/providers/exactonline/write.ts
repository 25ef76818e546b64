/**
 * Write-back to Exact Online: insert → POST (`Prefer: return=representation`,
 * the stored row with its generated ID comes back), update → PUT by key,
 * delete → DELETE by key. Everything that can be checked locally is checked
 * for ALL rows before the first call (writable table, known columns, types,
 * mandatory fields, nested lines), so a bad statement writes nothing.
 *
 * SalesInvoices are written with their lines as one unit: the
 * `SalesInvoiceLines` column holds a JSON array of line objects, posted
 * nested in the invoice. PrintedSalesInvoices is POST-only: inserting a row
 * processes (prints/sends) the invoice.
 *
 * A POST is never blindly retried: after an unclear outcome (connection
 * lost, timeout, a gateway 5xx, a 2xx whose body is cut off) the row is
 * looked up first — by every value it was sent with and `Created` since the
 * POST — and, when not found, looked up once more after a settle period
 * (Exact may still be creating it behind a gateway timeout) and re-sent
 * only when still absent. When it cannot be looked
 * up (POST-only endpoints such as PrintedSalesInvoices) or the lookup is
 * ambiguous, the row is reported as EOL063 "outcome unknown", never re-sent.
 */
import type { ExactColumn, ExactEndpoint } from '../../catalogs/exactonline.js';
import type { RowResult, TableInfo, Value, WriteRequest } from '../../provider/types.js';
import { SluiceError } from '../../util/errors.js';
import type { ExactContainer } from './container.js';
import { parseCollection, UnclearOutcome, type Json } from './http.js';
import { encodeQuery, literal } from './odata.js';
import { alwaysTrueFilter } from './planner.js';
import { isNestedWriteColumn, isTrimmed } from './tables.js';
import { readValue, writeValue, WriteTypeError } from './values.js';

/**
 * Mandatory fields Exact fills in itself from another field: a line's GL
 * account defaults from its item's revenue account.
 */
const DEFAULTED_FROM: Readonly<Record<string, string>> = { GLAccount: 'Item' };

function defaulted(column: string, values: Readonly<Record<string, unknown>>): boolean {
  const from = DEFAULTED_FROM[column];
  return from !== undefined && values[from] !== undefined && values[from] !== null;
}

/**
 * How far before the POST a looked-up row's Created may lie: clock skew, and
 * Exact's dates behaving as Dutch local time (UTC+1/+2, unsure) — a filter
 * that started too late would miss the new row and cause a duplicate, one that
 * starts early only risks an ambiguous (unknown, never re-sent) answer.
 */
const LOOKUP_SKEW_MS = 3 * 3_600_000;
/** Candidates read back after an unclear POST (more than one matching is ambiguous anyway). */
const LOOKUP_TOP = 10;

type Lookup =
  | { readonly kind: 'found'; readonly row: Record<string, Value> }
  | { readonly kind: 'absent' }
  | { readonly kind: 'ambiguous' | 'impossible'; readonly why: string };

/** Whether a value read back equals the value sent (strings exactly, numbers numerically, guids in any case). */
function sameValue(col: ExactColumn, got: Json | undefined, sent: Json): boolean {
  if (got === undefined) return true;
  const read = readValue(col, got);
  if (read === null) return false;
  switch (col.edmType) {
    case 'Edm.Guid':
      return String(read).toLowerCase() === String(sent).toLowerCase();
    case 'Edm.Double':
    case 'Edm.Decimal':
    case 'Edm.Int16':
    case 'Edm.Int32':
    case 'Edm.Int64':
    case 'Edm.Byte':
      return Math.abs(Number(read) - Number(sent)) <= 1e-9 * Math.max(1, Math.abs(Number(sent)));
    case 'Edm.DateTime':
      // Exact may shift dates to local time: not a reliable identity.
      return true;
    case 'Edm.Boolean':
      return Boolean(read) === Boolean(sent);
    default:
      return isTrimmed(col) ? String(read).trim() === String(sent).trim() : String(read) === String(sent);
  }
}

interface PreparedRow {
  readonly index: number;
  readonly key: string;
  readonly keyPath?: string;
  readonly body: Record<string, Json>;
}

function keyText(e: ExactEndpoint, values: Record<string, Value>, index: number): string {
  const parts = e.key.filter((k) => values[k] !== undefined && values[k] !== null).map((k) => `${k}=${String(values[k])}`);
  if (parts.length > 0) return parts.join(',');
  for (const natural of ['Code', 'InvoiceNumber', 'Name', 'Description', 'YourRef']) {
    if (values[natural] !== undefined && values[natural] !== null) return `${natural}=${String(values[natural])}`;
  }
  return `#${index + 1}`;
}

function keyPath(e: ExactEndpoint, values: Record<string, Value>): string | undefined {
  const lits: string[] = [];
  for (const k of e.key) {
    const col = e.columns.find((c) => c.name === k);
    const v = values[k];
    if (!col || v === undefined || v === null) return undefined;
    const lit = literal(col.edmType, v);
    if (!lit) return undefined;
    lits.push(e.key.length === 1 ? lit : `${k}=${lit}`);
  }
  return `(${lits.join(',')})`;
}

export async function* writeRows(container: ExactContainer, table: TableInfo, request: WriteRequest): AsyncIterable<RowResult> {
  const alias = container.alias;
  const where = { container: alias, table: table.name, partition: request.partition?.id };
  const e = container.endpointOf(table);
  const method = request.op === 'insert' ? 'POST' : request.op === 'update' ? 'PUT' : 'DELETE';
  const allowed = request.op === 'insert' ? table.writable.insert : request.op === 'update' ? table.writable.update : table.writable.delete;
  if (!allowed) {
    throw new SluiceError('EOL060', `${table.name} cannot be ${request.op === 'insert' ? 'inserted into' : request.op === 'update' ? 'updated' : 'deleted from'}: Exact Online allows only ${e.methods.join(', ')} on ${e.url}.`, {
      ...where,
      hint: e.methodsKnown ? undefined : 'The methods of this endpoint are unknown; it is read-only here.',
    });
  }
  const cols = new Map(e.columns.map((c) => [c.name.toLowerCase(), c]));
  // The partition column routes a row to its division (the URL says it); Exact never takes it in the body.
  const partitionColumn = (table.partitionColumn ?? 'Division').toLowerCase();
  const divisionIndex = request.rows.columns.findIndex((name) => name.toLowerCase() === partitionColumn);
  const batchCols = request.rows.columns.map((name) => {
    if (name.toLowerCase() === partitionColumn) return undefined;
    const c = cols.get(name.toLowerCase());
    if (!c) throw new SluiceError('EOL061', `${table.name} has no column ${name}.`, where);
    return c;
  });
  if (request.op !== 'insert') {
    const missingKey = e.key.filter((k) => !request.rows.columns.some((c) => c.toLowerCase() === k.toLowerCase()));
    if (missingKey.length > 0) throw new SluiceError('EOL064', `${request.op} on ${table.name} needs the key ${missingKey.join(', ')}.`, where);
  }
  const division = request.partition?.id ?? (await container.currentDivision(request.signal));
  const lineEndpointUrl = (nav: ExactColumn) => {
    const entity = nav.edmType.replace(/^Collection\(|\)$/g, '');
    return container.catalog.endpoints.find((x) => x.kind === 'regular' && x.service === e.service && x.entity === entity);
  };

  // Check every row before the first call: nothing is half-written by a bad statement.
  const prepared: PreparedRow[] = [];
  const problems: string[] = [];
  request.rows.rows.forEach((row, index) => {
    const values: Record<string, Value> = {};
    batchCols.forEach((c, j) => {
      if (c) values[c.name] = row[j];
    });
    const key = keyText(e, values, index);
    const body: Record<string, Json> = {};
    const rowProblems: string[] = [];
    const rowDivision = divisionIndex >= 0 ? row[divisionIndex] : null;
    if (rowDivision !== null && rowDivision !== undefined && String(rowDivision) !== String(division)) {
      rowProblems.push(
        request.op === 'update'
          ? `${table.partitionColumn ?? 'Division'} cannot change (a row stays in division ${division}; insert it in the other division and delete it here)`
          : `${table.partitionColumn ?? 'Division'} ${String(rowDivision)} is not division ${division} being written`,
      );
    }
    if (request.op === 'insert') {
      const missing = e.columns
        .filter((c) => c.mandatory && !e.key.includes(c.name) && (values[c.name] === undefined || values[c.name] === null) && !defaulted(c.name, values))
        .map((c) => c.name);
      if (missing.length > 0) rowProblems.push(`missing mandatory ${missing.join(', ')}`);
    }
    if (request.op !== 'delete') {
      for (const [name, v] of Object.entries(values)) {
        const c = cols.get(name.toLowerCase()) as ExactColumn;
        if (request.op === 'update' && e.key.includes(c.name)) continue;
        // Exact would answer 500 "Mandatory: …" per row; say it before the first call, as inserts do.
        if (request.op === 'update' && c.mandatory && (v === null || v === undefined)) {
          rowProblems.push(`${c.name} is mandatory and cannot be emptied`);
          continue;
        }
        if (c.readOnly && v !== null && v !== undefined && !e.key.includes(c.name)) {
          rowProblems.push(`${c.name} is read-only`);
          continue;
        }
        if (isNestedWriteColumn(c)) {
          if (v === null || v === undefined) continue;
          let lines: unknown;
          try {
            lines = typeof v === 'string' ? JSON.parse(v) : undefined;
          } catch {
            lines = undefined;
          }
          if (!Array.isArray(lines) || lines.some((l) => l === null || typeof l !== 'object' || Array.isArray(l))) {
            rowProblems.push(`${c.name} must be a JSON array of line objects`);
            continue;
          }
          if (request.op === 'insert' && lines.length === 0) {
            rowProblems.push(`${c.name} needs at least one line`);
            continue;
          }
          const lineEp = lineEndpointUrl(c);
          const lineCols = new Map((lineEp?.columns ?? []).map((x) => [x.name.toLowerCase(), x]));
          const out: Json[] = [];
          (lines as Record<string, unknown>[]).forEach((line, li) => {
            const obj: Record<string, Json> = {};
            for (const [k, lv] of Object.entries(line)) {
              const lc = lineCols.get(k.toLowerCase());
              if (lineEp && !lc) {
                rowProblems.push(`line ${li + 1}: ${lineEp.table} has no column ${k}`);
                continue;
              }
              try {
                obj[lc?.name ?? k] = lc ? writeValue(lc, (lv ?? null) as Value) : (lv as Json);
              } catch (err) {
                rowProblems.push(`line ${li + 1}: ${(err as Error).message}`);
              }
            }
            const lineMissing = (lineEp?.columns ?? []).filter(
              (x) => x.mandatory && !lineEp!.key.includes(x.name) && x.name !== 'InvoiceID' && (obj[x.name] === undefined || obj[x.name] === null) && !defaulted(x.name, obj),
            );
            if (lineMissing.length > 0) rowProblems.push(`line ${li + 1}: missing mandatory ${lineMissing.map((x) => x.name).join(', ')}`);
            out.push(obj);
          });
          body[c.name] = out;
          continue;
        }
        try {
          const w = writeValue(c, v);
          body[c.name] = isTrimmed(c) && typeof w === 'string' ? w.trim() : w;
        } catch (err) {
          if (err instanceof WriteTypeError) rowProblems.push(err.message);
          else throw err;
        }
      }
    }
    const path = request.op === 'insert' ? undefined : keyPath(e, values);
    if (request.op !== 'insert' && !path) rowProblems.push(`its key ${e.key.join(', ')} is empty or not a valid value`);
    if (rowProblems.length > 0) problems.push(`row ${index + 1} (${key}): ${rowProblems.join('; ')}`);
    prepared.push({ index, key, keyPath: path, body });
  });
  if (problems.length > 0) {
    throw new SluiceError('EOL062', `Nothing was written to ${table.name}: ${problems.slice(0, 5).join(' | ')}${problems.length > 5 ? ` (and ${problems.length - 5} more rows)` : ''}.`, {
      ...where,
      partition: division,
      rowKey: prepared.length === 1 ? prepared[0].key : undefined,
    });
  }

  const base = !e.needsDivision
    ? `${container.config.apiUrl}/api/v1/${e.url}`
    : `${container.config.apiUrl}/api/v1/${e.url.startsWith('beta/') ? `beta/${division}/${e.url.slice(5)}` : `${division}/${e.url}`}`;
  const callOpts = { division, endpoint: e.url, signal: request.signal, table: table.name };
  const settleMs = container.config.unclearSettleMs;
  const toReturned = (ent: Record<string, Json>): Record<string, Value> => {
    const out: Record<string, Value> = {};
    for (const [k, v] of Object.entries(ent)) {
      if (k === '__metadata') continue;
      const c = cols.get(k.toLowerCase());
      if (c?.navigation) continue;
      out[c?.name ?? k] = readValue(c, v);
    }
    return out;
  };

  /**
   * Look for the row an unclear POST may have created: filter on every
   * scalar value it was sent with (amounts are compared locally only) plus
   * `Created ge` the moment of the POST (less a margin for clock skew), then
   * keep only candidates whose values equal what was sent. Exactly one such
   * row is the created row; none means it was not created; more than one, or
   * an endpoint that cannot be read back (POST-only, no Created column and
   * no key sent), leaves the outcome unknown.
   */
  const lookUp = async (row: PreparedRow, postedAt: number): Promise<Lookup> => {
    if (!e.methods.includes('GET')) return { kind: 'impossible', why: `${e.url} cannot be read back (POST only)` };
    const conds: string[] = [];
    const checks: { col: ExactColumn; sent: Json }[] = [];
    let keySent = false;
    for (const [k, v] of Object.entries(row.body)) {
      const c = cols.get(k.toLowerCase());
      if (!c || c.navigation || v === null || typeof v === 'object') continue;
      checks.push({ col: c, sent: v });
      if (e.key.includes(c.name)) keySent = true;
      // Amounts (rounding) and dates (time zones) could make the filter miss the new row: compared locally only.
      if (!c.filterable || c.edmType === 'Edm.Double' || c.edmType === 'Edm.Decimal' || c.edmType === 'Edm.DateTime') continue;
      const lit = literal(c.edmType, c.edmType === 'Edm.DateTime' && typeof v === 'string' ? new Date(v) : (v as Value));
      if (!lit) continue;
      conds.push(isTrimmed(c) ? `trim(${c.name}) eq ${lit}` : `${c.name} eq ${lit}`);
    }
    const created = e.columns.find((c) => c.name === 'Created' && c.edmType === 'Edm.DateTime' && c.filterable);
    if (!created && !keySent) return { kind: 'impossible', why: `${e.url} has no Created column to tell a new row from an older one` };
    const since = literal('Edm.DateTime', new Date(postedAt - LOOKUP_SKEW_MS)) as string;
    if (created) conds.push(`Created ge ${since}`);
    // Mandatory filtering: a new row was also modified since the POST; else a filter true for every row.
    const mandatory = new Set(e.mandatoryFilterColumns);
    if (mandatory.size > 0 && !checks.some((x) => mandatory.has(x.col.name) && x.col.filterable)) {
      const modified = e.columns.find((c) => c.name === 'Modified' && c.edmType === 'Edm.DateTime');
      const extra = mandatory.has('Modified') && modified ? `Modified ge ${since}` : alwaysTrueFilter(e);
      if (extra) conds.push(extra);
    }
    const res = await container.http.call('GET', `${base}?${encodeQuery({ $filter: conds.join(' and '), $top: String(LOOKUP_TOP) })}`, callOpts);
    // (A value Exact changes on the way in, e.g. case, makes the lookup answer "unknown", never "absent".)
    const hits = parseCollection(res.json).rows;
    // Only no hit at all means "not created": a hit that differs locally leaves it unknown (never a duplicate).
    if (hits.length === 0) return { kind: 'absent' };
    const candidates = hits.filter((ent) => checks.every(({ col, sent }) => sameValue(col, ent[col.name], sent)));
    if (candidates.length === 1) return { kind: 'found', row: toReturned(candidates[0]) };
    return {
      kind: 'ambiguous',
      why:
        candidates.length === 0
          ? `${hits.length} row(s) created around the time of the POST were found, but none holds exactly the values sent`
          : `${candidates.length} rows created around the time of the POST match what was sent`,
    };
  };

  const unknown = (row: PreparedRow, cause: string, why: string): RowResult => ({
    index: row.index,
    ok: false,
    key: row.key,
    code: 'EOL063',
    message: `The outcome of the ${method} is unknown (${cause}) and it was not re-sent, so nothing is duplicated: ${why}. Check division ${division} before retrying (${row.key}).`,
  });

  const one = async (row: PreparedRow): Promise<RowResult> => {
    const url = request.op === 'insert' ? base : `${base}${row.keyPath}`;
    const send = () =>
      container.http.call(method, url, callOpts, request.op === 'delete' ? undefined : row.body, request.op === 'insert' ? { prefer: 'return=representation' } : undefined);
    try {
      let res;
      const postedAt = container.env.clock.now();
      try {
        res = await send();
      } catch (err) {
        if (!(err instanceof UnclearOutcome)) throw err;
        if (request.op === 'insert') {
          let found: Lookup;
          try {
            found = await lookUp(row, postedAt);
          } catch (lookErr) {
            return unknown(row, err.causeMessage.trim(), `looking the row up failed too (${lookErr instanceof Error ? lookErr.message : String(lookErr)})`);
          }
          if (found.kind === 'absent' && settleMs > 0) {
            // Behind a gateway timeout (504, a timed-out request) Exact may still be creating the row:
            // "not there yet" is not "not created". Look again after a while before re-sending.
            await container.env.clock.sleep(settleMs, request.signal);
            try {
              found = await lookUp(row, postedAt);
            } catch (lookErr) {
              return unknown(row, err.causeMessage.trim(), `looking the row up again failed (${lookErr instanceof Error ? lookErr.message : String(lookErr)})`);
            }
          }
          if (found.kind === 'found') return { index: row.index, ok: true, key: row.key, returned: found.row };
          if (found.kind !== 'absent') return unknown(row, err.causeMessage.trim(), found.why);
        }
        // PUT and DELETE by key are idempotent; a POST is re-sent only when the row is certainly absent.
        try {
          res = await send();
        } catch (again) {
          if (again instanceof UnclearOutcome) {
            return unknown(row, again.causeMessage.trim(), 'the second attempt was unclear as well');
          }
          if (request.op === 'delete' && again instanceof SluiceError && again.details.status === 404) return { index: row.index, ok: true, key: row.key };
          throw again;
        }
      }
      const ent = parseCollection(res.json).rows[0];
      return { index: row.index, ok: true, key: row.key, returned: ent ? toReturned(ent) : undefined };
    } catch (err) {
      if (err instanceof SluiceError) {
        return { index: row.index, ok: false, key: row.key, code: err.code, message: `${err.message} (division ${division}, ${row.key})` };
      }
      throw err;
    }
  };

  const concurrency = Math.max(1, Math.min(request.concurrency ?? 1, 8));
  const queue = [...prepared];
  const results: RowResult[] = [];
  let wake: (() => void) | undefined;
  let running = 0;
  const startNext = () => {
    while (running < concurrency && queue.length > 0) {
      const row = queue.shift() as PreparedRow;
      running++;
      void one(row)
        .then((r) => results.push(r), (err: unknown) => results.push({ index: row.index, ok: false, key: row.key, message: err instanceof Error ? err.message : String(err) }))
        .finally(() => {
          running--;
          wake?.();
        });
    }
  };
  startNext();
  while (running > 0 || results.length > 0) {
    if (results.length === 0) await new Promise<void>((r) => (wake = r));
    wake = undefined;
    while (results.length > 0) yield results.shift() as RowResult;
    startNext();
  }
}

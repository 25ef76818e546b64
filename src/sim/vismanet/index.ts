/**
 * Visma.net Financials simulator, for tests (in-process), benchmarks and
 * demos (`sluice sim visma`). `startVismaSimulator()` builds a deterministic
 * world (default company 1896329, the one seed 001 uses), listens on a local
 * port and hands back the URLs and client credentials a `VismaNet`
 * container needs, plus stats, fault injection and a settings.xml writer.
 * May be imported by cli, bench and tests; imports only util and catalogs.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { systemClock, type Clock } from '../../util/clock.js';
import { VismaSimCore, etag, type VismaFaults, type VismaRateLimit, type VismaSimStats } from './server.js';
import { applyWrite, emptyParty, generateParty, type Company, type ResourceKind } from './world.js';

export type { VismaFaults, VismaRateLimit, VismaSimStats } from './server.js';

export interface VismaCompanyOption {
  readonly id: string | number;
  readonly name?: string;
}

export interface VismaSimulatorOptions {
  /** Port to listen on (0 or absent: an ephemeral port). */
  readonly port?: number;
  readonly host?: string;
  readonly seed?: number;
  /** Companies (default 1896329 and 1896330). */
  readonly companies?: readonly (VismaCompanyOption | string | number)[];
  /** Generated customers per company (default 300). */
  readonly customersPerCompany?: number;
  /** Generated suppliers per company (default 50). */
  readonly suppliersPerCompany?: number;
  /** Latency of each read call, ms (default 0). */
  readonly latencyMs?: number;
  /** Latency of each write call, ms (default latencyMs). */
  readonly writeLatencyMs?: number;
  readonly clock?: Clock;
  /** Per-company rate limit (default 15,000 per hour counted per minute window), or false for none. */
  readonly rateLimit?: VismaRateLimit | false;
  readonly faults?: VismaFaults;
  /** Rows per page the API allows at most (default 1,000). */
  readonly maxPageSize?: number;
  readonly clientId?: string;
  readonly clientSecret?: string;
  readonly tenantId?: string;
}

/** Fields for seeding a customer or supplier directly (no HTTP, no rate limit). */
export type VismaSeedRow = Readonly<Record<string, unknown>> & { readonly number: string; readonly name: string };

export interface VismaSimulator {
  /** API base, e.g. `http://127.0.0.1:41234` (paths `/v1/customer`, …). */
  readonly baseUrl: string;
  /** Visma Connect token endpoint of the simulator. */
  readonly tokenUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly tenantId: string;
  companies(): readonly { readonly id: string; readonly name: string }[];
  /** Read-DTO shaped customers or suppliers of a company, ordered by internalId (a copy). */
  documents(company: string, kind?: ResourceKind): Record<string, unknown>[];
  /** The ETag a GET of this customer would carry now. */
  etagOf(company: string, number: string, kind?: ResourceKind): string | undefined;
  /** Add customers (or suppliers) directly, e.g. to mirror another system's accounts. */
  seed(company: string, rows: readonly VismaSeedRow[], kind?: ResourceKind): void;
  /** Change a document behind the connector's back (bumps its ETag and lastModifiedDateTime). */
  touch(company: string, number: string, fields: Readonly<Record<string, unknown>>, kind?: ResourceKind): void;
  /** A settings.xml with one connection holding a `VismaNet` container pointing here. */
  settingsXml(alias?: string): string;
  /** Write settingsXml to a file, or add/replace the container in an existing settings.xml. */
  writeSettings(file: string, alias?: string): void;
  /** The connection string a `VismaNet` container needs to reach the simulator. */
  connectionString(): string;
  stats(): VismaSimStats;
  resetStats(): void;
  setFaults(faults: VismaFaults): void;
  setRateLimit(limit: VismaRateLimit | false): void;
  close(): Promise<void>;
}

/**
 * Parse a `--faults` spec for the Visma.net simulator: comma-separated
 * `error=RATE` (0..1), `status=CODE` (400..599, default 500),
 * `fail-next=N`, `latency=MS` (added to every call), `match=REGEX` (only
 * calls whose `METHOD /path` matches fail) and `reject-names=REGEX` (writes
 * whose name matches get a 400 validation error). Regular expressions cannot
 * contain a comma. Throws an Error naming the bad part.
 */
export function parseVismaFaults(text: string): VismaFaults {
  const out: { errorRate?: number; failNext?: number; status?: number; extraLatencyMs?: number; match?: RegExp; rejectNames?: RegExp } = {};
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const eqAt = part.indexOf('=');
    const key = (eqAt < 0 ? part : part.slice(0, eqAt)).trim().toLowerCase();
    const value = eqAt < 0 ? '' : part.slice(eqAt + 1).trim();
    const whole = (min: number, max: number): number => {
      const n = Number(value);
      if (value === '' || !Number.isInteger(n) || n < min || n > max) throw new Error(`fault "${part}": ${key} must be a whole number from ${min} to ${max}`);
      return n;
    };
    const regex = (): RegExp => {
      try {
        if (value === '') throw new Error('empty');
        return new RegExp(value);
      } catch {
        throw new Error(`fault "${part}": ${key} must be a regular expression`);
      }
    };
    if (key === 'error' || key === 'errorrate') {
      const n = Number(value);
      if (value === '' || !Number.isFinite(n) || n < 0 || n > 1) throw new Error(`fault "${part}": error must be a rate between 0 and 1`);
      out.errorRate = n;
    } else if (key === 'status') out.status = whole(400, 599);
    else if (key === 'fail-next' || key === 'failnext') out.failNext = whole(0, 1_000_000);
    else if (key === 'latency' || key === 'extralatencyms') out.extraLatencyMs = whole(0, 600_000);
    else if (key === 'match') out.match = regex();
    else if (key === 'reject-names' || key === 'rejectnames') out.rejectNames = regex();
    else throw new Error(`unknown fault "${key}" (use error, status, fail-next, latency, match, reject-names)`);
  }
  return out;
}

const DEFAULT_COMPANIES: readonly VismaCompanyOption[] = [
  { id: '1896329', name: 'Sluice Demo B.V.' },
  { id: '1896330', name: 'Sluice Demo Holding B.V.' },
];

function xmlAttr(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export async function startVismaSimulator(options: VismaSimulatorOptions = {}): Promise<VismaSimulator> {
  const clock = options.clock ?? systemClock;
  const seed = options.seed ?? 1;
  const core = new VismaSimCore({
    clock,
    seed,
    clientId: options.clientId ?? 'sluice-sim-client',
    clientSecret: options.clientSecret ?? 'sluice-sim-secret',
    tenantId: options.tenantId ?? 'sluice-sim-tenant',
    latencyMs: options.latencyMs ?? 0,
    writeLatencyMs: options.writeLatencyMs ?? options.latencyMs ?? 0,
    maxPageSize: options.maxPageSize ?? 1000,
    rateLimit: options.rateLimit === undefined ? { perHour: 15_000 } : options.rateLimit,
    faults: { ...(options.faults ?? {}) },
  });
  const companies = (options.companies ?? DEFAULT_COMPANIES).map((c): VismaCompanyOption => (typeof c === 'object' ? c : { id: c }));
  const now = clock.now();
  for (const c of companies) {
    const id = String(c.id);
    const company: Company = { id, name: c.name ?? `Administratie ${id}`, resources: { customer: new Map(), supplier: new Map() }, nextInternalId: 1 };
    for (const [kind, count] of [
      ['customer', options.customersPerCompany ?? 300],
      ['supplier', options.suppliersPerCompany ?? 50],
    ] as const) {
      for (let i = 0; i < count; i++) {
        const doc = generateParty(kind, seed, id, i, now, company.nextInternalId++);
        company.resources[kind].set(String(doc.dto.number), doc);
      }
    }
    core.companies.set(id, company);
  }

  const server: Server = createServer((req, res) => {
    void core.handle(req, res);
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const baseUrl = `http://${options.host ?? '127.0.0.1'}:${address.port}`;
  core.baseUrl = baseUrl;
  const tokenUrl = `${baseUrl}/connect/token`;
  const cfg = core.config;

  const company = (id: string): Company => {
    const c = core.companies.get(String(id));
    if (!c) throw new Error(`The simulator has no company ${id}.`);
    return c;
  };

  const connectionString = (): string =>
    [
      `api-url=${baseUrl}`,
      `token-url=${tokenUrl}`,
      `client-id=${cfg.clientId}`,
      `client-secret=${cfg.clientSecret}`,
      `tenant-id=${cfg.tenantId}`,
      `company-id=${[...core.companies.keys()].join(',')}`,
    ].join(';');

  const databaseElement = (alias: string): string =>
    `<database alias="${xmlAttr(alias)}" provider="VismaNet" connectionString="${xmlAttr(connectionString())}" />`;

  const sim: VismaSimulator = {
    baseUrl,
    tokenUrl,
    clientId: cfg.clientId,
    clientSecret: cfg.clientSecret,
    tenantId: cfg.tenantId,
    companies: () => [...core.companies.values()].map((c) => ({ id: c.id, name: c.name })),
    documents: (id, kind = 'customer') =>
      [...company(id).resources[kind].values()]
        .sort((a, b) => (a.dto.internalId as number) - (b.dto.internalId as number))
        .map((d) => ({ ...structuredClone(d.dto), createdDateTime: new Date(d.created).toISOString(), lastModifiedDateTime: new Date(d.lastModified).toISOString() })),
    etagOf: (id, number, kind = 'customer') => {
      const doc = company(id).resources[kind].get(number);
      return doc ? etag(doc) : undefined;
    },
    seed: (id, rows, kind = 'customer') => {
      const c = company(id);
      const at = clock.now();
      for (const row of rows) {
        const internalId = c.nextInternalId++;
        const dto = emptyParty(kind, internalId);
        applyWrite(dto, { ...row });
        dto.internalId = internalId;
        c.resources[kind].set(String(row.number), { dto, version: 1, created: at, lastModified: at });
      }
    },
    touch: (id, number, fields, kind = 'customer') => {
      const doc = company(id).resources[kind].get(number);
      if (!doc) throw new Error(`The simulator has no ${kind} ${number} in company ${id}.`);
      applyWrite(doc.dto, { ...fields });
      doc.version++;
      doc.lastModified = Math.max(clock.now(), doc.lastModified + 1);
    },
    settingsXml: (alias = 'vismanet') =>
      [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<settings xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" version="5" forcedefault="false">',
        ' <group name="simulators">',
        '  <connection name="visma.net simulator">',
        `   ${databaseElement(alias)}`,
        '  </connection>',
        ' </group>',
        '</settings>',
        '',
      ].join('\n'),
    writeSettings: (file, alias = 'vismanet') => {
      if (!existsSync(file)) {
        writeFileSync(file, sim.settingsXml(alias), { mode: 0o600 });
        return;
      }
      // Join the container to the existing (last) connection, so one `use` can pick partitions of both platforms.
      let text = readFileSync(file, 'utf8');
      const same = new RegExp(`\\s*<database\\b[^>]*\\balias="${alias.replace(/[^A-Za-z0-9_]/g, '\\$&')}"[^>]*/>`, 'i');
      text = text.replace(same, '');
      const close = text.lastIndexOf('</connection>');
      if (close >= 0) {
        text = `${text.slice(0, close).replace(/\s*$/, '')}\n   ${databaseElement(alias)}\n  ${text.slice(close)}`;
      } else {
        const end = text.lastIndexOf('</settings>');
        if (end < 0) throw new Error(`${file} is not a settings.xml (no </settings>).`);
        const group = ` <group name="simulators">\n  <connection name="visma.net simulator">\n   ${databaseElement(alias)}\n  </connection>\n </group>\n`;
        text = `${text.slice(0, end)}${group}${text.slice(end)}`;
      }
      writeFileSync(file, text, { mode: 0o600 });
    },
    connectionString,
    stats: () => structuredClone(core.stats),
    resetStats: () => {
      core.stats = VismaSimCore.emptyStats();
    },
    setFaults: (faults) => {
      cfg.faults = { ...faults };
    },
    setRateLimit: (limit) => {
      cfg.rateLimit = limit;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((e) => (e ? reject(e) : resolve()));
        server.closeAllConnections();
      }),
  };
  return sim;
}

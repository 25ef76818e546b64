/**
 * The Exact Online simulator: `startExactSimulator(options)` starts a local
 * HTTP server that behaves like Exact Online's REST API (OAuth2, divisions,
 * paging, OData options, rate limits, writes, sync, webhooks) over a
 * deterministic, lazily generated accountant's world. Used by tests,
 * benchmarks, the demo and `sluice sim exact`. Nothing here talks to the
 * real Exact Online.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { exactCatalog } from '../../catalogs/exactonline.js';
import { systemClock, type Clock } from '../../util/clock.js';
import { NO_FAULTS, checkLatency, type FaultProfile, type Latency } from '../common/http.js';
import { hash32 } from '../common/prng.js';
import { RateLimiter } from './limits.js';
import { DEFAULT_OAUTH_LIMITS, OAuthServer, type OAuthLimits } from './oauth.js';
import { ExactServer, type SimStats } from './server.js';
import { World, baseGuid } from './world.js';

export interface ExactSimulatorOptions {
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  seed?: number;
  /** Divisions the accountant can open (default 6); one extra foreign division always exists. */
  divisions?: number;
  /** Subscriptions (Exact customers) the divisions are spread over (default 3). */
  subscriptions?: number;
  accountsPerDivision?: number;
  transactionLinesPerDivision?: number;
  /** Latency of each API call: ms, {min,max} (uniform), {dist:'normal',mean,sd} or {dist:'lognormal',p50,p95} (optional max). */
  latencyMs?: Latency;
  clock?: Clock;
  /** Per app and division; false switches all limits (and the error block) off. */
  /** `alignMinute: false` starts a minute window at the first call instead of the clock minute (unsure which Exact does). */
  rateLimits?: { minutely?: number; daily?: number; errorsPerHour?: number; alignMinute?: boolean } | false;
  /** DateTime values as Amsterdam wall-clock time written as UTC, as Exact's seem to behave (unsure; default false: UTC instants). */
  dutchLocalTime?: boolean;
  /** Endpoint URLs answered without a division, in the user's current one (default current/Me and system/Users; unsure which else). */
  divisionlessUrls?: readonly string[];
  /** Token rules: refresh refused before `tooEarlySeconds` (570), at most `tokenCallsPerDay` (200) per app and user. */
  oauth?: Partial<OAuthLimits>;
  faults?: { errorRate?: number; resetRate?: number; truncateRate?: number; status429Rate?: number };
  /** Mandatory filtering on the catalog's listed endpoints (default true). */
  mandatoryFiltering?: boolean;
  /** Sync endpoints take only `$filter=Timestamp gt nL` (default true); false also takes ge, no L suffix, or no filter. */
  strictSyncFilter?: boolean;
  /** Answer `{"d":[…]}` (a bare array) to single-page requests with $top; seen in the wild, unsure (default false). */
  bareArrayOnTop?: boolean;
  /** The OAuth redirect URI registered for the test app. */
  redirectUri?: string;
  /** Generated rows kept in memory for reuse (default 10,000; 0: generate every time). */
  rowCacheSize?: number;
  /** Characters of rendered row JSON kept for pages read again (default 32 Mi, about 64 MB; 0: render every time). */
  renderCacheChars?: number;
  /** Divisions that are blocked (BlockingStatus 1): listed, but their data answers 403 `Reason: DivisionBlocked`. */
  blockedDivisions?: readonly number[];
}

export interface ExactSimulator {
  readonly baseUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly redirectUri: string;
  /** Secret that signs webhook callbacks (HashCode). */
  readonly webhookSecret: string;
  /** A fresh, valid refresh token for the test app (usable at once). */
  issueRefreshToken(userId?: string): string;
  /** settings.xml with an `eol` (ExactOnlineAll) container, already authorised. */
  settingsXml(alias?: string): string;
  writeSettings(file: string, alias?: string): Promise<void>;
  stats(): SimStats;
  resetStats(): void;
  setFaults(f: Partial<FaultProfile>): void;
  /** Change the latency distribution at run time (undefined or 0: none; a string as for --latency). */
  setLatency(latency: Latency | string): void;
  revokeTokens(): void;
  /** Divisions the default user can open. */
  divisions(): readonly number[];
  /** Simulate a division move: DivisionMoveDate changes and every sync Timestamp is regenerated (clients must resync). */
  moveDivision(division: number): void;
  /** Block (status 1–6) or unblock (0) a division: its data answers 403 `Reason: DivisionBlocked`. */
  blockDivision(division: number, blockingStatus?: number): void;
  /** The world (users, subscriptions, the foreign division) for tests. */
  readonly world: World;
  close(): Promise<void>;
}

function xmlAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

export async function startExactSimulator(options: ExactSimulatorOptions = {}): Promise<ExactSimulator> {
  const seed = options.seed ?? 42;
  const clock = options.clock ?? systemClock;
  const world = new World({
    seed,
    divisions: options.divisions ?? 6,
    subscriptions: options.subscriptions ?? 3,
    accountsPerDivision: options.accountsPerDivision ?? 150,
    transactionLinesPerDivision: options.transactionLinesPerDivision ?? 2000,
  });
  for (const d of options.blockedDivisions ?? []) world.blocked.set(d, 1);
  const clientId = baseGuid(seed, 0xa99, 0, 1);
  const clientSecret = `sim-secret-${hash32(seed, 0x5ec).toString(36)}`;
  const redirectUri = options.redirectUri ?? 'http://localhost/sluice/oauth/callback';
  const webhookSecret = `sim-webhook-${hash32(seed, 0x4eb).toString(36)}`;
  const oauth = new OAuthServer(clock, clientId, clientSecret, redirectUri, { ...DEFAULT_OAUTH_LIMITS, ...(options.oauth ?? {}) });
  const rl = options.rateLimits;
  const limiter = new RateLimiter(
    clock,
    rl === false ? false : { minutely: rl?.minutely ?? 60, daily: rl?.daily ?? 5000, errorsPerHour: rl?.errorsPerHour ?? 10, alignMinute: rl?.alignMinute ?? true },
  );
  const app = new ExactServer({
    catalog: exactCatalog(),
    world,
    clock,
    oauth,
    limiter,
    latency: checkLatency(options.latencyMs),
    faults: { ...NO_FAULTS, ...(options.faults ?? {}) },
    mandatoryFiltering: options.mandatoryFiltering ?? true,
    strictSyncFilter: options.strictSyncFilter ?? true,
    ...(options.divisionlessUrls ? { divisionlessUrls: options.divisionlessUrls } : {}),
    dutchLocalTime: options.dutchLocalTime ?? false,
    bareArrayOnTop: options.bareArrayOnTop ?? false,
    webhookSecret,
    rowCacheSize: options.rowCacheSize ?? 10_000,
    ...(options.renderCacheChars !== undefined ? { renderCacheChars: options.renderCacheChars } : {}),
    baseUrl: '',
  });
  const server: Server = createServer({ keepAlive: true }, (req, res) => app.handle(req, res));
  server.keepAliveTimeout = 30_000;
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const baseUrl = `http://${host.includes(':') ? `[${host}]` : host}:${addr.port}`;
  app.cfg.baseUrl = baseUrl;

  const databaseElement = (alias: string): string => {
    const cs = `api-url=${baseUrl};api-client-id=${clientId};api-client-secret=${clientSecret};api-redirect-url=${redirectUri};api-refresh-token=${oauth.issueRefreshToken(world.defaultUser.id)}`;
    return `<database alias="${xmlAttr(alias)}" provider="ExactOnlineAll" connectionString="${xmlAttr(cs)}" />`;
  };
  const sim: ExactSimulator = {
    baseUrl,
    clientId,
    clientSecret,
    redirectUri,
    webhookSecret,
    world,
    issueRefreshToken: (userId) => oauth.issueRefreshToken(userId ?? world.defaultUser.id),
    settingsXml(alias = 'eol') {
      return [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<settings xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" version="5" forcedefault="false">',
        ' <group name="simulator">',
        '  <connection name="Exact Online simulator">',
        `   ${databaseElement(alias)}`,
        '  </connection>',
        ' </group>',
        '</settings>',
        '',
      ].join('\n');
    },
    async writeSettings(file, alias = 'eol') {
      if (!existsSync(file)) {
        await writeFile(file, sim.settingsXml(alias), { mode: 0o600 });
        return;
      }
      // Join the container to the existing (last) connection so one `use` can pick partitions of several platforms.
      let text = await readFile(file, 'utf8');
      const same = new RegExp(`\\s*<database\\b[^>]*\\balias="${alias.replace(/[^A-Za-z0-9_]/g, '\\$&')}"[^>]*/>`, 'i');
      text = text.replace(same, '');
      const close = text.lastIndexOf('</connection>');
      if (close >= 0) {
        text = `${text.slice(0, close).replace(/\s*$/, '')}\n   ${databaseElement(alias)}\n  ${text.slice(close)}`;
      } else {
        const end = text.lastIndexOf('</settings>');
        if (end < 0) throw new Error(`${file} is not a settings.xml (no </settings>).`);
        text = `${text.slice(0, end)} <group name="simulators">\n  <connection name="Exact Online simulator">\n   ${databaseElement(alias)}\n  </connection>\n </group>\n${text.slice(end)}`;
      }
      await writeFile(file, text, { mode: 0o600 });
    },
    stats: () => JSON.parse(JSON.stringify(app.stats)) as SimStats,
    resetStats: () => app.resetStats(),
    setFaults: (f) => {
      app.cfg.faults = { ...app.cfg.faults, ...f };
    },
    setLatency: (latency) => {
      app.cfg.latency = checkLatency(latency);
    },
    revokeTokens: () => oauth.revokeAll(),
    divisions: () => world.accessibleDivisions(),
    moveDivision: (division) => app.moveDivision(division),
    blockDivision: (division, blockingStatus = 1) => {
      if (blockingStatus === 0) world.blocked.delete(division);
      else world.blocked.set(division, blockingStatus);
    },
    async close() {
      await Promise.allSettled([...app.pending]);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
    },
  };
  return sim;
}

export type { SimStats } from './server.js';
export type { FaultProfile, Latency } from '../common/http.js';

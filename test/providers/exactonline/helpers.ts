/**
 * Test helpers: a tiny OAuth token endpoint that behaves like Exact's on the
 * points the token discipline depends on (every refresh rotates the refresh
 * token; an older one answers 401 "Old refresh token used"), and a config
 * builder.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ExactConfig } from '../../../src/providers/exactonline/config.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Partition, ProviderEnv, RemoteCall, RowBatch, ScanRequest, TableInfo, Value } from '../../../src/provider/types.js';
import { connectExact, type ExactContainer } from '../../../src/providers/exactonline/index.js';
import { systemClock, type Clock } from '../../../src/util/clock.js';
import { SecretBox } from '../../../src/util/secrets.js';

export interface TokenStub {
  readonly url: string;
  refreshCalls: number;
  oldTokenUses: number;
  current: string;
  issuedAccess: string[];
  close(): Promise<void>;
}

export async function startTokenStub(initialRefresh: string, delayMs = 0): Promise<TokenStub> {
  let n = 0;
  const stub: TokenStub = {
    url: '',
    refreshCalls: 0,
    oldTokenUses: 0,
    current: initialRefresh,
    issuedAccess: [],
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const form = new URLSearchParams(body);
      setTimeout(() => {
        if (req.url !== '/api/oauth2/token' || form.get('grant_type') !== 'refresh_token') {
          res.writeHead(404).end();
          return;
        }
        stub.refreshCalls++;
        if (form.get('refresh_token') !== stub.current) {
          stub.oldTokenUses++;
          res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'invalid_grant', error_description: 'Old refresh token used.' }));
          return;
        }
        n++;
        stub.current = `refresh-${n}`;
        const access = `access-${n}`;
        stub.issuedAccess.push(access);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: access, token_type: 'bearer', expires_in: '600', refresh_token: stub.current }));
      }, delayMs);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  (stub as { url: string }).url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return stub;
}

export function testConfig(apiUrl: string, extra: Partial<ExactConfig> = {}): ExactConfig {
  return {
    alias: 'eol',
    apiUrl,
    clientId: 'client-1',
    clientSecret: 'secret-1',
    redirectUrl: 'http://127.0.0.1:0/callback',
    user: 'default',
    parallelism: 8,
    dailyBudgetShare: 0.8,
    unclearSettleMs: 0,
    ...extra,
  };
}

export interface TestEnv extends ProviderEnv {
  readonly calls: RemoteCall[];
  cleanup(): void;
}

export function testEnv(clock: Clock = systemClock, settings: Record<string, string> = {}): TestEnv {
  const dataDir = mkdtempSync(join(tmpdir(), 'sluice-eol-'));
  const calls: RemoteCall[] = [];
  return {
    clock,
    calls,
    log: { record: (c) => calls.push(c) },
    secrets: SecretBox.fromPassphrase('test-key'),
    dataDir,
    local: { run: async () => undefined, quote: (n) => `"${n}"` },
    session: { containers: () => [], selectedPartitions: () => undefined, callLog: () => calls, journals: () => [], settings: () => settings },
    settings,
    cleanup: () => rmSync(dataDir, { recursive: true, force: true }),
  };
}

export interface SimLike {
  readonly baseUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly redirectUri: string;
  issueRefreshToken(): string;
}

export async function connectSim(sim: SimLike, env: TestEnv, alias = 'eol', extra: Readonly<Record<string, string>> = {}): Promise<ExactContainer> {
  return connectExact(
    {
      alias,
      provider: 'ExactOnlineAll',
      options: {
        'api-url': sim.baseUrl,
        'api-client-id': sim.clientId,
        'api-client-secret': sim.clientSecret,
        'api-redirect-url': sim.redirectUri,
        'api-refresh-token': sim.issueRefreshToken(),
        ...extra,
      },
    },
    env,
  );
}

export function table(c: ExactContainer, name: string): TableInfo {
  const t = c.tables().find((x) => x.name.toLowerCase() === name.toLowerCase());
  if (!t) throw new Error(`no table ${name}`);
  return t;
}

/** Plan and scan one table over partitions (bounded parallelism), like the engine does. */
export async function readAll(c: ExactContainer, tableName: string, request: Partial<ScanRequest>, partitions: readonly (Partition | undefined)[], parallelism = 8): Promise<{ columns: readonly string[]; rows: Value[][]; failures: { partition?: string; error: Error }[] }> {
  const t = table(c, tableName);
  const plan = c.plan(t, { columns: [], conjuncts: [], ...request });
  const rows: Value[][] = [];
  const failures: { partition?: string; error: Error }[] = [];
  let columns: readonly string[] = [];
  const queue = [...partitions];
  const signal = new AbortController().signal;
  async function worker() {
    while (queue.length > 0) {
      const p = queue.shift();
      try {
        for await (const batch of c.scan(plan, p, { signal }) as AsyncIterable<RowBatch>) {
          columns = batch.columns;
          for (const r of batch.rows) rows.push([...r]);
        }
      } catch (e) {
        failures.push({ partition: p?.id, error: e as Error });
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(parallelism, Math.max(1, partitions.length)) }, worker));
  return { columns, rows, failures };
}

/**
 * What a fault proxy does with a request: forward it, drop it unsent, lose
 * the answer (forward, then cut the connection), cut the answer's body in
 * half, or answer 503 / 403 DivisionBlocked without forwarding; `504-late`
 * answers 504 at once (a gateway timeout) and forwards the request 300 ms
 * later, as a backend that is still working on it.
 */
export type Fault = 'pass' | 'drop' | 'lose-answer' | 'break-body' | '503' | 'blocked' | '504-late';

export interface FaultProxy {
  readonly baseUrl: string;
  close(): Promise<void>;
}

/** An HTTP proxy in front of the simulator that fails exactly the requests `decide` picks. */
export async function startFaultProxy(target: string, decide: (req: { method: string; url: string }) => Fault): Promise<FaultProxy> {
  const t = new URL(target);
  let self = '';
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const fault = decide({ method: req.method ?? 'GET', url: req.url ?? '' });
      if (fault === 'drop') {
        req.socket.destroy();
        return;
      }
      if (fault === '503') {
        res.writeHead(503, { 'content-type': 'text/html' }).end('<html>Service Unavailable</html>');
        return;
      }
      if (fault === 'blocked') {
        res.writeHead(403, { 'content-type': 'application/json', reason: 'DivisionBlocked' }).end(JSON.stringify({ error: { code: '', message: { lang: '', value: 'Forbidden' } } }));
        return;
      }
      if (fault === '504-late') {
        res.writeHead(504, { 'content-type': 'text/html' }).end('<html>Gateway Timeout</html>');
        setTimeout(() => httpRequest({ host: t.hostname, port: t.port, method: req.method, path: req.url, headers: { ...req.headers, host: t.host } }, (up) => up.resume()).end(Buffer.concat(chunks)), 300);
        return;
      }
      const out = httpRequest({ host: t.hostname, port: t.port, method: req.method, path: req.url, headers: { ...req.headers, host: t.host } }, (up) => {
        const body: Buffer[] = [];
        up.on('data', (c: Buffer) => body.push(c));
        up.on('end', () => {
          if (fault === 'lose-answer') {
            req.socket.destroy();
            return;
          }
          // Links (__next, __metadata) point back through the proxy.
          const data = Buffer.from(Buffer.concat(body).toString('utf8').split(t.origin).join(self));
          const h = { ...up.headers };
          for (const k of ['content-length', 'transfer-encoding', 'connection', 'keep-alive']) delete h[k];
          res.writeHead(up.statusCode ?? 502, h).end(fault === 'break-body' ? data.subarray(0, Math.floor(data.length / 2)) : data);
        });
      });
      out.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  self = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    baseUrl: self,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

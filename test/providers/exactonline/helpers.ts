/**
 * Test helpers: a tiny OAuth token endpoint that behaves like Exact's on the
 * points the token discipline depends on (every refresh rotates the refresh
 * token; an older one answers 401 "Old refresh token used"), and a config
 * builder.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ExactConfig } from '../../../src/providers/exactonline/config.js';

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
    ...extra,
  };
}

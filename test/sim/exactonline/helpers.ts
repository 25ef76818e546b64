/**
 * Test helpers for the Exact Online simulator: plain HTTP calls written from
 * the platform facts (form-encoded token requests, bearer calls with an
 * Accept header), never through the connector.
 */
import { startExactSimulator, type ExactSimulator, type ExactSimulatorOptions } from '../../../src/sim/exactonline/index.js';

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}

export async function call(url: string, init: RequestInit = {}): Promise<Reply> {
  const r = await fetch(url, { redirect: 'manual', ...init });
  const text = await r.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: r.status, headers: r.headers, text, json };
}

export function tokenRequest(sim: ExactSimulator, fields: Record<string, string>): Promise<Reply> {
  return call(`${sim.baseUrl}/api/oauth2/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: sim.clientId, client_secret: sim.clientSecret, ...fields }).toString(),
  });
}

export async function accessToken(sim: ExactSimulator): Promise<string> {
  const r = await tokenRequest(sim, { grant_type: 'refresh_token', refresh_token: sim.issueRefreshToken() });
  if (r.status !== 200) throw new Error(`token: ${r.status} ${r.text}`);
  return (r.json as { access_token: string }).access_token;
}

/** A simulator plus a bearer `get`/`send` bound to it. */
export async function setup(options: ExactSimulatorOptions = {}): Promise<{
  sim: ExactSimulator;
  token: string;
  get: (path: string, headers?: Record<string, string>) => Promise<Reply>;
  send: (method: string, path: string, body?: unknown, headers?: Record<string, string>) => Promise<Reply>;
  /** Fetch a fresh access token (after moving a manual clock past its 600 s). */
  renew: () => Promise<void>;
}> {
  // Mandatory filtering now covers every regular and bulk endpoint with a sync
  // twin (Accounts too); these tests read endpoints raw, so it is off unless a
  // test asks for it (read.test.ts checks it on its own simulator).
  const sim = await startExactSimulator({ rateLimits: false, mandatoryFiltering: false, ...options });
  let token = await accessToken(sim);
  const url = (path: string) => (path.startsWith('http') ? path : `${sim.baseUrl}${path}`).replace(/ /g, '%20');
  return {
    sim,
    get token() {
      return token;
    },
    renew: async () => {
      token = await accessToken(sim);
    },
    get: (path, headers = {}) => call(url(path), { headers: { Authorization: `Bearer ${token}`, Accept: 'application/json', ...headers } }),
    send: (method, path, body, headers = {}) =>
      call(url(path), {
        method,
        headers: { Authorization: `Bearer ${token}`, Accept: 'application/json', 'Content-Type': 'application/json', ...headers },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      }),
  };
}

export interface Page {
  d: { results: Record<string, unknown>[]; __next?: string; __count?: string };
}

export function results(r: Reply): Record<string, unknown>[] {
  return (r.json as Page).d.results;
}

/** Every row of a collection, following `__next` to the end (each page must answer 200). */
export async function allPages(get: (path: string) => Promise<Reply>, path: string): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  let next: string | undefined = path;
  while (next) {
    const r = await get(next);
    if (r.status !== 200) throw new Error(`${next}: HTTP ${r.status} ${r.text}`);
    out.push(...results(r));
    next = (r.json as Page).d.__next;
  }
  return out;
}

export function errorText(r: Reply): string {
  return (r.json as { error: { message: { value: string } } }).error.message.value;
}

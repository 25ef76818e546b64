/**
 * The connection-string options of a `VismaNet` container, parsed and
 * checked once at connect time (`api-url`, `token-url`, `client-id`,
 * `client-secret`, `tenant-id`, `scope`, `company-id`, plus tuning knobs).
 * Sealed secrets (`sluice:v1:…`) are opened here and never leave this object.
 */
import { SluiceError } from '../../util/errors.js';
import { SecretBox } from '../../util/secrets.js';

export interface VismaOptions {
  readonly apiUrl: string;
  readonly tokenUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Visma Connect tenant per company (one value applies to all). */
  readonly tenantIds: readonly string[];
  readonly scope: string;
  readonly companyIds: readonly string[];
  /** Pacing budget per company; 0: pace from the X-RateLimit headers only. */
  callsPerHour: number;
  /** Rows asked per page (the API caps it at metadata.maxPageSize). */
  pageSize: number;
  /** Pages fetched at the same time per scan. */
  pageConcurrency: number;
  /** After a POST, GET the new row to return it as stored (one more call per row). */
  readAfterInsert: boolean;
  /** Retries of a 429 or of a safe call failing with 5xx. */
  maxRetries: number;
}

export const DEFAULT_API_URL = 'https://api.finance.visma.net';
export const DEFAULT_TOKEN_URL = 'https://connect.visma.com/connect/token';
export const DEFAULT_SCOPE =
  'vismanet_erp_service_api:create vismanet_erp_service_api:delete vismanet_erp_service_api:read vismanet_erp_service_api:update';

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(/[,\s]+/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function intOption(alias: string, name: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined || value.trim() === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) {
    throw new SluiceError('VNT002', `The option ${name} of container ${alias} must be a whole number of at least ${min}, not "${value}".`, { container: alias });
  }
  return n;
}

export function boolOption(value: string | undefined, fallback: boolean): boolean {
  if (value === undefined || value.trim() === '') return fallback;
  return /^(true|yes|1|on)$/i.test(value.trim());
}

export function parseVismaOptions(alias: string, raw: Readonly<Record<string, string>>, secrets: SecretBox | undefined): VismaOptions {
  const secret = raw['client-secret'] ?? '';
  const clientSecret = SecretBox.isSealed(secret) && secrets ? secrets.open(secret) : secret;
  const apiUrl = (raw['api-url'] ?? DEFAULT_API_URL).replace(/\/+$/, '');
  for (const [name, url] of [
    ['api-url', apiUrl],
    ['token-url', raw['token-url'] ?? DEFAULT_TOKEN_URL],
  ]) {
    if (!/^https?:\/\/[^/]/i.test(url)) throw new SluiceError('VNT002', `The option ${name} of container ${alias} is not an http(s) URL.`, { container: alias });
  }
  return {
    apiUrl,
    tokenUrl: raw['token-url'] ?? DEFAULT_TOKEN_URL,
    clientId: raw['client-id'] ?? '',
    clientSecret,
    tenantIds: list(raw['tenant-id']),
    scope: raw.scope ?? DEFAULT_SCOPE,
    companyIds: list(raw['company-id']),
    callsPerHour: intOption(alias, 'calls-per-hour', raw['calls-per-hour'], 0, 0),
    pageSize: intOption(alias, 'page-size', raw['page-size'], 1000, 1),
    pageConcurrency: intOption(alias, 'page-concurrency', raw['page-concurrency'], 4, 1),
    readAfterInsert: boolOption(raw['read-after-insert'], true),
    maxRetries: intOption(alias, 'max-retries', raw['max-retries'], 5, 0),
  };
}

/**
 * Exact Online container configuration: the options of a settings.xml
 * `connectionString` (`api-url=…;api-client-id=…;api-client-secret=…;
 * api-redirect-url=…[;api-refresh-token=…]`, keys arrive lower-cased) turned
 * into a checked, typed config. The API host is whatever `api-url` says, so a
 * country host (start.exactonline.nl/.be/.de/…) and a local simulator are
 * configured the same way.
 */
import { SluiceError } from '../../util/errors.js';
import type { SecretBox } from '../../util/secrets.js';
import { SecretBox as Box } from '../../util/secrets.js';

export interface ExactConfig {
  readonly alias: string;
  /** Origin of the API and OAuth host, without a trailing slash. */
  readonly apiUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly redirectUrl: string;
  /** Seeds the token store the first time (never overwrites a stored token). */
  readonly refreshToken?: string;
  /** Which user's tokens: part of the token store's identity. */
  readonly user: string;
  /** Requests in flight at once for this container, over all divisions and statements (default 8). */
  readonly parallelism: number;
  /** Share of the remaining daily budget one statement may spend (default 0.8). */
  readonly dailyBudgetShare: number;
  /**
   * After an unclear POST whose row is not found, how long to wait before looking again and only then
   * re-sending (ms, default 15,000): behind a gateway timeout Exact may still be creating the row.
   */
  readonly unclearSettleMs: number;
}

function option(options: Readonly<Record<string, string>>, name: string): string | undefined {
  const v = options[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

/** Open a value that may be sealed with the SecretBox (settings may hold sealed secrets). */
function unseal(value: string | undefined, secrets: SecretBox): string | undefined {
  if (value === undefined) return undefined;
  return Box.isSealed(value) ? secrets.open(value) : value;
}

export function parseExactConfig(alias: string, options: Readonly<Record<string, string>>, secrets: SecretBox): ExactConfig {
  const rawUrl = option(options, 'api-url') ?? 'https://start.exactonline.nl';
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    throw new SluiceError('EOL001', `The api-url "${rawUrl}" of container ${alias} is not a URL.`, {
      container: alias,
      hint: 'Use the host of your country, e.g. api-url=https://start.exactonline.nl.',
    });
  }
  const missing = ['api-client-id', 'api-client-secret', 'api-redirect-url'].filter((k) => option(options, k) === undefined);
  if (missing.length > 0) {
    throw new SluiceError('EOL002', `Container ${alias} misses ${missing.join(', ')} in its connection string.`, {
      container: alias,
      hint: 'Register an app at apps.exactonline.com and put its client id, secret and redirect URL in the connectionString.',
    });
  }
  const parallelismText = option(options, 'parallelism') ?? option(options, 'exact-parallelism') ?? '8';
  const parallelism = Number(parallelismText);
  if (!Number.isInteger(parallelism) || parallelism < 1) {
    throw new SluiceError('EOL003', `The parallelism "${parallelismText}" of container ${alias} is not a whole number of at least 1.`, {
      container: alias,
      hint: 'It bounds the requests in flight at once for this container, e.g. parallelism=8.',
    });
  }
  const shareText = option(options, 'exact-daily-budget-share') ?? '0.8';
  const share = Number(shareText);
  if (!(share > 0 && share <= 1)) {
    throw new SluiceError('EOL004', `The exact-daily-budget-share "${shareText}" of container ${alias} is not a number in (0, 1].`, {
      container: alias,
      hint: 'E.g. exact-daily-budget-share=0.8: one statement may spend 80% of the calls left today.',
    });
  }
  const settleText = option(options, 'unclear-post-settle-ms') ?? '15000';
  const unclearSettleMs = Number(settleText);
  if (!Number.isInteger(unclearSettleMs) || unclearSettleMs < 0) {
    throw new SluiceError('EOL005', `The unclear-post-settle-ms "${settleText}" of container ${alias} is not a whole number of milliseconds.`, {
      container: alias,
      hint: 'E.g. unclear-post-settle-ms=15000: after an unclear POST whose row is not found, wait 15 s and look again before re-sending.',
    });
  }
  return {
    alias,
    apiUrl: url.origin,
    clientId: option(options, 'api-client-id') as string,
    clientSecret: unseal(option(options, 'api-client-secret'), secrets) as string,
    redirectUrl: option(options, 'api-redirect-url') as string,
    refreshToken: unseal(option(options, 'api-refresh-token'), secrets),
    user: option(options, 'api-user') ?? 'default',
    parallelism,
    dailyBudgetShare: share,
    unclearSettleMs,
  };
}

/**
 * Secrets at rest: AES-256-GCM with a master key taken from SLUICE_MASTER_KEY
 * (any passphrase; stretched with scrypt) or, failing that, from a random key
 * file `master.key` in the sluice home directory, created with mode 0600.
 * Sealed values are self-describing strings `sluice:v1:<iv>:<tag>:<data>`
 * (base64url), so a store can hold them as text. Plain values are never logged.
 */
import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SluiceError } from './errors.js';
import { sluiceHome } from './paths.js';

const PREFIX = 'sluice:v1:';
const SALT = Buffer.from('sluice-master-key-v1');

export class SecretBox {
  private readonly key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new SluiceError('SEC001', 'The master key must be 32 bytes.');
    this.key = key;
  }

  /** A box keyed from a passphrase (SLUICE_MASTER_KEY style). */
  static fromPassphrase(passphrase: string): SecretBox {
    return new SecretBox(scryptSync(passphrase, SALT, 32));
  }

  /**
   * The default box: SLUICE_MASTER_KEY when set, else the key file in `home`
   * (created on first use with mode 0600; refused when others can read it).
   */
  static fromEnvironment(home: string = sluiceHome()): SecretBox {
    const pass = process.env.SLUICE_MASTER_KEY;
    if (pass && pass.length > 0) return SecretBox.fromPassphrase(pass);
    const file = join(home, 'master.key');
    if (!existsSync(file)) {
      mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
      writeFileSync(file, randomBytes(32).toString('base64'), { mode: 0o600, flag: 'wx' });
    }
    const mode = statSync(file).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      try {
        chmodSync(file, 0o600);
      } catch {
        throw new SluiceError('SEC002', `The key file ${file} is readable by others; make it mode 0600.`);
      }
    }
    const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
    return new SecretBox(key);
  }

  seal(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return `${PREFIX}${iv.toString('base64url')}:${tag.toString('base64url')}:${data.toString('base64url')}`;
  }

  open(sealed: string): string {
    if (!SecretBox.isSealed(sealed)) throw new SluiceError('SEC003', 'The value is not a sealed secret.');
    const [iv, tag, data] = sealed.slice(PREFIX.length).split(':');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new SluiceError('SEC004', 'A sealed secret could not be opened: wrong master key or damaged data.', {
        hint: 'Set SLUICE_MASTER_KEY to the key the secret was sealed with.',
      });
    }
  }

  static isSealed(value: string): boolean {
    return value.startsWith(PREFIX);
  }
}

/** Replace secret values in a text (URL, message) before it is logged or shown. */
export function redact(text: string): string {
  return text
    .replace(/((?:access_token|refresh_token|client_secret|password|api-client-secret|api-refresh-token)=)[^&;\s"]*/gi, '$1***')
    // An OAuth authorization code only travels as a URL or form parameter; a bare "Code=" is Exact's account code in a row key.
    .replace(/((?:^|[?&#])code=)[^&;\s"]*/g, '$1***')
    .replace(/(Bearer\s+)[A-Za-z0-9._~+/=-]+/g, '$1***');
}

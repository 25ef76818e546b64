/**
 * Administration of the server's tenants, used by `sluice admin …` and the
 * demo: users and service accounts, databases with their containers and
 * startup SQL, grants and API tokens. Validates names at the boundary (they
 * appear in URLs), seals container secrets with the SecretBox before they are
 * stored, and opens them only when a session is created.
 */
import { parseConnectionString } from '../engine/index.js';
import type { ContainerConfig } from '../provider/types.js';
import { SluiceError } from '../util/errors.js';
import type { SecretBox } from '../util/secrets.js';
import { hashPassword, newToken } from './auth.js';
import type { DatabaseRecord, StateStore, TokenRecord, UserRecord } from './state/types.js';

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const SECRET_KEY_RE = /secret|password|passwd|pwd|token|apikey|api-key|key$/i;

export function checkName(kind: string, name: string): void {
  if (!NAME_RE.test(name) || name.includes('..')) {
    throw new SluiceError('SRV200', `"${name}" is not a valid ${kind} name.`, { hint: 'Use letters, digits, _ . - (starting with a letter or digit), at most 63 characters.' });
  }
}

export function isSecretOption(key: string): boolean {
  return SECRET_KEY_RE.test(key);
}

export function sealContainer(config: ContainerConfig, box: SecretBox): ContainerConfig {
  const options: Record<string, string> = {};
  for (const [k, v] of Object.entries(config.options)) options[k] = isSecretOption(k) && v !== '' ? box.seal(v) : v;
  return { ...config, options };
}

export function openContainer(config: ContainerConfig, box: SecretBox): ContainerConfig {
  const options: Record<string, string> = {};
  for (const [k, v] of Object.entries(config.options)) options[k] = v.startsWith('sluice:v1:') ? box.open(v) : v;
  return { ...config, options };
}

/** Container options for display: secrets shown as ***. */
export function shownOptions(config: ContainerConfig): string {
  return Object.entries(config.options)
    .map(([k, v]) => `${k}=${isSecretOption(k) || v.startsWith('sluice:v1:') ? '***' : v}`)
    .join(';');
}

function notFound(kind: string, name: string): SluiceError {
  return new SluiceError('SRV202', `There is no ${kind} "${name}".`);
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

export class Tenancy {
  constructor(
    readonly store: StateStore,
    private readonly box: SecretBox,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async addUser(name: string, options: { readonly password?: string; readonly service?: boolean }): Promise<void> {
    checkName('user', name);
    if (!options.service && (!options.password || options.password.length < 4)) {
      throw new SluiceError('SRV203', 'A password of at least 4 characters is required.');
    }
    const passwordHash = options.service ? undefined : await hashPassword(options.password as string);
    const record: UserRecord = { name, kind: options.service ? 'service' : 'person', ...(passwordHash ? { passwordHash } : {}), createdAt: this.now().toISOString() };
    await this.store.update((s) => {
      if (s.users.some((u) => same(u.name, name))) throw new SluiceError('SRV204', `The user "${name}" already exists.`);
      s.users.push(record);
    });
  }

  async setPassword(name: string, password: string): Promise<void> {
    if (password.length < 4) throw new SluiceError('SRV203', 'A password of at least 4 characters is required.');
    const passwordHash = await hashPassword(password);
    await this.store.update((s) => {
      const i = s.users.findIndex((u) => same(u.name, name));
      if (i < 0) throw notFound('user', name);
      if (s.users[i].kind !== 'person') throw new SluiceError('SRV205', `"${name}" is a service account; it uses tokens, not a password.`);
      s.users[i] = { ...s.users[i], passwordHash };
    });
  }

  async removeUser(name: string): Promise<void> {
    await this.store.update((s) => {
      if (!s.users.some((u) => same(u.name, name))) throw notFound('user', name);
      s.users = s.users.filter((u) => !same(u.name, name));
      s.grants = s.grants.filter((g) => !same(g.user, name));
      s.tokens = s.tokens.filter((t) => !same(t.user, name));
    });
  }

  async listUsers(): Promise<readonly { readonly name: string; readonly kind: string; readonly databases: readonly string[] }[]> {
    const s = await this.store.read();
    return s.users.map((u) => ({ name: u.name, kind: u.kind, databases: s.grants.filter((g) => same(g.user, u.name)).map((g) => g.database) }));
  }

  async addDatabase(name: string, options: { readonly startupSql?: string; readonly cacheMaxAgeSeconds?: number; readonly pageSize?: number } = {}): Promise<void> {
    checkName('database', name);
    const record: DatabaseRecord = { name, containers: [], createdAt: this.now().toISOString(), ...options };
    await this.store.update((s) => {
      if (s.databases.some((d) => same(d.name, name))) throw new SluiceError('SRV204', `The database "${name}" already exists.`);
      s.databases.push(record);
    });
  }

  private async changeDatabase(name: string, change: (d: DatabaseRecord) => DatabaseRecord): Promise<void> {
    await this.store.update((s) => {
      const i = s.databases.findIndex((d) => same(d.name, name));
      if (i < 0) throw notFound('database', name);
      s.databases[i] = change(s.databases[i]);
    });
  }

  async setStartupSql(name: string, sql: string): Promise<void> {
    await this.changeDatabase(name, (d) => ({ ...d, startupSql: sql }));
  }

  async setDatabaseOptions(name: string, options: { readonly cacheMaxAgeSeconds?: number; readonly pageSize?: number }): Promise<void> {
    await this.changeDatabase(name, (d) => ({ ...d, ...options }));
  }

  async addContainer(database: string, alias: string, provider: string, connectionString: string): Promise<void> {
    await this.addContainerConfig(database, { alias, provider, options: parseConnectionString(connectionString) });
  }

  /** Add a container given as parsed options (secrets are sealed here). */
  async addContainerConfig(database: string, plain: ContainerConfig): Promise<void> {
    const { alias } = plain;
    checkName('container alias', alias);
    const config = sealContainer(plain, this.box);
    await this.changeDatabase(database, (d) => {
      if (d.containers.some((c) => same(c.alias, alias))) throw new SluiceError('SRV204', `The database "${database}" already has a container "${alias}".`);
      return { ...d, containers: [...d.containers, config] };
    });
  }

  async removeContainer(database: string, alias: string): Promise<void> {
    await this.changeDatabase(database, (d) => {
      if (!d.containers.some((c) => same(c.alias, alias))) throw notFound('container', alias);
      return { ...d, containers: d.containers.filter((c) => !same(c.alias, alias)) };
    });
  }

  async removeDatabase(name: string): Promise<void> {
    await this.store.update((s) => {
      if (!s.databases.some((d) => same(d.name, name))) throw notFound('database', name);
      s.databases = s.databases.filter((d) => !same(d.name, name));
      s.grants = s.grants.filter((g) => !same(g.database, name));
    });
  }

  async listDatabases(): Promise<readonly DatabaseRecord[]> {
    return (await this.store.read()).databases;
  }

  /** Grant a user a database: read-only, or with `write` also writes through `POST /sql`. Granting again changes the mode. */
  async grant(user: string, database: string, options: { readonly write?: boolean } = {}): Promise<void> {
    await this.store.update((s) => {
      const u = s.users.find((x) => same(x.name, user));
      if (!u) throw notFound('user', user);
      const d = s.databases.find((x) => same(x.name, database));
      if (!d) throw notFound('database', database);
      const record = { user: u.name, database: d.name, ...(options.write ? { write: true } : {}) };
      const i = s.grants.findIndex((g) => same(g.user, user) && same(g.database, database));
      if (i < 0) s.grants.push(record);
      else s.grants[i] = record;
    });
  }

  async revoke(user: string, database: string): Promise<void> {
    await this.store.update((s) => {
      const before = s.grants.length;
      s.grants = s.grants.filter((g) => !(same(g.user, user) && same(g.database, database)));
      if (s.grants.length === before) throw new SluiceError('SRV206', `"${user}" has no grant on "${database}".`);
    });
  }

  /** Create a token for a user or service account; the returned text is shown once and never stored. */
  async createToken(user: string, description?: string): Promise<{ readonly id: string; readonly token: string }> {
    let result: { id: string; token: string } | undefined;
    await this.store.update((s) => {
      const u = s.users.find((x) => same(x.name, user));
      if (!u) throw notFound('user', user);
      const { token, record } = newToken(u.name, this.now(), description);
      s.tokens.push(record);
      result = { id: record.id, token };
    });
    return result as { id: string; token: string };
  }

  async listTokens(user?: string): Promise<readonly Omit<TokenRecord, 'hash'>[]> {
    const s = await this.store.read();
    return s.tokens.filter((t) => user === undefined || same(t.user, user)).map(({ hash: _hash, ...rest }) => rest);
  }

  async revokeToken(id: string): Promise<void> {
    await this.store.update((s) => {
      if (!s.tokens.some((t) => t.id === id)) throw notFound('token', id);
      s.tokens = s.tokens.filter((t) => t.id !== id);
    });
  }
}

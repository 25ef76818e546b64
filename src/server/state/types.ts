/**
 * The server's state: users and service accounts, databases (containers with
 * sealed secrets, startup SQL, cache and page settings), grants and API
 * tokens. One document, one interface, two stores: a JSON file in the data
 * directory (default) and PostgreSQL (SLUICE_STATE_URL) so several server
 * instances can share it. Every change is a read-modify-write inside the
 * store's lock (file lock / row lock), so concurrent admins never lose edits.
 */
import type { ContainerConfig } from '../../provider/types.js';

export interface UserRecord {
  readonly name: string;
  /** 'person' logs in with a password; 'service' only with API tokens. */
  readonly kind: 'person' | 'service';
  /** `scrypt$N$r$p$salt$hash` (base64url); absent for service accounts. */
  readonly passwordHash?: string;
  readonly createdAt: string;
}

export interface DatabaseRecord {
  readonly name: string;
  /** Container options whose names look secret are sealed (`sluice:v1:…`). */
  readonly containers: readonly ContainerConfig[];
  /** Run once when a session for this database is created (e.g. `use 123@eol, 456@eol`). */
  readonly startupSql?: string;
  /** Response cache max age; 0 or absent: no cache. */
  readonly cacheMaxAgeSeconds?: number;
  /** Default OData page size for this database. */
  readonly pageSize?: number;
  readonly createdAt: string;
}

export interface GrantRecord {
  readonly user: string;
  readonly database: string;
  /** `POST /sql` may write to the platforms (insert, update, delete, synchronize); absent: read-only. */
  readonly write?: boolean;
}

export interface TokenRecord {
  /** Public id (shown in lists, used to revoke). */
  readonly id: string;
  readonly user: string;
  /** sha256 of the token, base64url. The token itself is never stored. */
  readonly hash: string;
  readonly description?: string;
  readonly createdAt: string;
  readonly lastUsedAt?: string;
}

export interface StateDocument {
  readonly users: readonly UserRecord[];
  readonly databases: readonly DatabaseRecord[];
  readonly grants: readonly GrantRecord[];
  readonly tokens: readonly TokenRecord[];
}

export interface MutableState {
  users: UserRecord[];
  databases: DatabaseRecord[];
  grants: GrantRecord[];
  tokens: TokenRecord[];
}

export interface StateStore {
  /** A consistent snapshot; cheap when nothing changed since the last one. */
  read(): Promise<StateDocument>;
  /** Apply a change atomically; `change` may throw to abort. Returns its result. */
  update<T>(change: (state: MutableState) => T): Promise<T>;
  /** Where the state lives, for messages (never with secrets). */
  describe(): string;
  close(): Promise<void>;
}

export function emptyState(): MutableState {
  return { users: [], databases: [], grants: [], tokens: [] };
}

/** Normalise a parsed document (older or partial files) into the current shape. */
export function normaliseState(raw: unknown): MutableState {
  const o = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const arr = <T>(v: unknown): T[] => (Array.isArray(v) ? (v as T[]) : []);
  return { users: arr(o.users), databases: arr(o.databases), grants: arr(o.grants), tokens: arr(o.tokens) };
}

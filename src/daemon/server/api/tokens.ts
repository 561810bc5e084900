/**
 * Bearer tokens, kept on disk only as SHA-256 hashes so a leaked file grants
 * nothing. A token is `<id>.<secret>`: the id is public (listing, revoking),
 * the secret is 32 random bytes.
 */
import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../../../lib/write-file-atomic.js';
import { CodedError } from '../../../lib/coded-error.js';

export type TokenRole = 'admin' | 'edit' | 'view' | 'node';
export const TOKEN_ROLES: readonly TokenRole[] = ['admin', 'edit', 'view', 'node'];

interface StoredToken {
  id: string;
  /** sha256 hex of the whole token, `<id>.<secret>`. */
  hash: string;
  user: string;
  groups: string[];
  role: TokenRole;
  createdAt: string;
  expiresAt?: string;
}

/** What `list()` shows: everything but the hash. */
export type TokenInfo = Omit<StoredToken, 'hash'>;

export interface TokenIdentity {
  user: string;
  groups: string[];
  role: TokenRole;
}

export interface CreateTokenOptions {
  user: string;
  role: TokenRole;
  groups?: string[];
  /** Lifetime; omitted means the token never expires. */
  ttlSeconds?: number;
}

export interface TokenStoreOptions {
  /** Clock, injectable so expiry is testable. */
  now?: () => Date;
}

export type TokenStoreErrorCode = 'TokenFileInvalid' | 'InvalidTokenRequest';

export class TokenStoreError extends CodedError<TokenStoreErrorCode> {}

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const ID_LENGTH = 6;
const TOKEN_PATTERN = /^([a-z0-9]{6})\.[A-Za-z0-9_-]{43}$/;
const HASH_PATTERN = /^[0-9a-f]{64}$/;

export class TokenStore {
  readonly #file: string;
  readonly #now: () => Date;
  #tokens: ReadonlyMap<string, StoredToken>;
  /** Writes run one at a time so the file always matches the last committed state. */
  #writes: Promise<unknown> = Promise.resolve();

  private constructor(file: string, tokens: StoredToken[], now: () => Date) {
    this.#file = file;
    this.#now = now;
    this.#tokens = new Map(tokens.map((token) => [token.id, token]));
  }

  /** Loads `file`; a missing file is an empty store (it is created on the first write). */
  static async open(file: string, options: TokenStoreOptions = {}): Promise<TokenStore> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      return new TokenStore(file, [], options.now ?? (() => new Date()));
    }
    return new TokenStore(file, parseTokenFile(file, text), options.now ?? (() => new Date()));
  }

  async create(options: CreateTokenOptions): Promise<{ token: string; id: string }> {
    if (typeof options.user !== 'string' || options.user === '') {
      throw new TokenStoreError('InvalidTokenRequest', 'a token needs a non-empty user');
    }
    if (!TOKEN_ROLES.includes(options.role)) {
      throw new TokenStoreError('InvalidTokenRequest', `unknown role "${String(options.role)}" (expected one of ${TOKEN_ROLES.join(', ')})`);
    }
    const { ttlSeconds } = options;
    if (ttlSeconds !== undefined && !(Number.isFinite(ttlSeconds) && ttlSeconds > 0)) {
      // kubeadm's "--ttl 0 means forever" is a CLI convention: the CLI passes undefined for it.
      throw new TokenStoreError('InvalidTokenRequest', `ttlSeconds must be a positive number of seconds, got ${ttlSeconds}`);
    }
    return this.#commit((tokens) => {
      let id: string;
      do id = randomId();
      while (tokens.has(id));
      const token = `${id}.${randomBytes(32).toString('base64url')}`;
      const now = this.#now();
      const stored: StoredToken = {
        id,
        hash: sha256(token).toString('hex'),
        user: options.user,
        groups: [...(options.groups ?? [])],
        role: options.role,
        createdAt: now.toISOString(),
        ...(ttlSeconds === undefined ? {} : { expiresAt: new Date(now.getTime() + ttlSeconds * 1000).toISOString() }),
      };
      return { tokens: new Map(tokens).set(id, stored), result: { token, id } };
    });
  }

  /** `header` is the raw Authorization value; anything but `Bearer <token>` of a live token is undefined. */
  authenticate(header: string | undefined): TokenIdentity | undefined {
    if (header === undefined) return undefined;
    const space = header.indexOf(' ');
    // The scheme is case-insensitive, as in the Kubernetes bearer-token authenticator.
    if (space < 0 || header.slice(0, space).toLowerCase() !== 'bearer') return undefined;
    const token = header.slice(space + 1);
    const id = TOKEN_PATTERN.exec(token)?.[1];
    const stored = id === undefined ? undefined : this.#tokens.get(id);
    if (!stored) return undefined;
    if (!timingSafeEqual(sha256(token), Buffer.from(stored.hash, 'hex'))) return undefined;
    if (stored.expiresAt !== undefined && this.#now().getTime() >= Date.parse(stored.expiresAt)) return undefined;
    return { user: stored.user, groups: [...stored.groups], role: stored.role };
  }

  /** Removes the token; false when no token has that id. */
  async revoke(id: string): Promise<boolean> {
    return this.#commit((tokens) => {
      if (!tokens.has(id)) return { tokens, result: false };
      const next = new Map(tokens);
      next.delete(id);
      return { tokens: next, result: true };
    });
  }

  list(): TokenInfo[] {
    return [...this.#tokens.values()].map(({ hash: _hash, ...info }) => ({ ...info, groups: [...info.groups] }));
  }

  /** Applies `change` to the latest state, persists it, and only then makes it visible. */
  async #commit<T>(change: (tokens: ReadonlyMap<string, StoredToken>) => { tokens: ReadonlyMap<string, StoredToken>; result: T }): Promise<T> {
    const run = this.#writes.then(async () => {
      const { tokens, result } = change(this.#tokens);
      if (tokens !== this.#tokens) {
        await writeFileAtomic(this.#file, `${JSON.stringify({ tokens: [...tokens.values()] }, undefined, 2)}\n`, 0o600);
        this.#tokens = tokens;
      }
      return result;
    });
    // A failed write must not block the ones queued after it; the caller still sees the failure.
    this.#writes = run.catch(() => undefined);
    return run;
  }
}

function parseTokenFile(file: string, text: string): StoredToken[] {
  const invalid = (why: string): TokenStoreError => new TokenStoreError('TokenFileInvalid', `token file ${file} is invalid: ${why}`);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw invalid(error instanceof Error ? error.message : String(error));
  }
  if (!isRecord(data) || !Array.isArray(data.tokens)) throw invalid('expected {"tokens": [...]}');
  const seen = new Set<string>();
  return data.tokens.map((entry: unknown, index): StoredToken => {
    const where = `tokens[${index}]`;
    if (!isRecord(entry)) throw invalid(`${where} is not an object`);
    const { id, hash, user, groups, role, createdAt, expiresAt } = entry;
    if (typeof id !== 'string' || id.length !== ID_LENGTH || seen.has(id)) throw invalid(`${where}.id is missing, malformed or duplicated`);
    if (typeof hash !== 'string' || !HASH_PATTERN.test(hash)) throw invalid(`${where}.hash is not a sha256 hex digest`);
    if (typeof user !== 'string' || user === '') throw invalid(`${where}.user is missing`);
    if (!Array.isArray(groups) || !groups.every((group): group is string => typeof group === 'string')) throw invalid(`${where}.groups is not a list of strings`);
    if (!TOKEN_ROLES.includes(role as TokenRole)) throw invalid(`${where}.role is not one of ${TOKEN_ROLES.join(', ')}`);
    if (typeof createdAt !== 'string' || Number.isNaN(Date.parse(createdAt))) throw invalid(`${where}.createdAt is not a date`);
    if (expiresAt !== undefined && (typeof expiresAt !== 'string' || Number.isNaN(Date.parse(expiresAt)))) throw invalid(`${where}.expiresAt is not a date`);
    seen.add(id);
    return { id, hash, user, groups, role: role as TokenRole, createdAt, ...(expiresAt === undefined ? {} : { expiresAt }) };
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function randomId(): string {
  let id = '';
  for (let i = 0; i < ID_LENGTH; i++) id += ID_ALPHABET.charAt(randomInt(ID_ALPHABET.length));
  return id;
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

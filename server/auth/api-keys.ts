import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { KeyStore, Role } from '../db/key-store.js';

/**
 * API keys: `tosia_` and 32 random bytes, shown once at creation and stored only as their
 * sha256. A presented key is hashed and looked up; the digests are compared in constant time,
 * and so is the single `TOSIA_API_KEY` of simple deployments.
 */

export const RANK: Record<Role, number> = { read: 1, write: 2, admin: 3 };

export interface Caller { name: string; role: Role }

export function newKey(): string {
  return `tosia_${randomBytes(32).toString('base64url')}`;
}

export function keyHash(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

function sameDigest(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The key a request presents (`Authorization: Bearer` or `X-API-Key`), or null. */
export function presentedKey(headers: Record<string, string | string[] | undefined>): string | null {
  const auth = headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (m) return m[1]!;
  }
  const x = headers['x-api-key'];
  return typeof x === 'string' && x.length > 0 ? x : null;
}

export class Authenticator {
  private readonly envHash: string | null;
  private readonly touched = new Map<string, number>();

  constructor(private readonly keys: KeyStore, envKey: string | undefined, private readonly now: () => Date) {
    this.envHash = envKey ? keyHash(envKey) : null;
  }

  /** Set by a server listening on loopback only: with no key at all, callers there need none. */
  openOnLoopback = false;
  private noKeysUntil = 0;

  get hasEnvKey(): boolean {
    return this.envHash !== null;
  }

  /**
   * The caller of a request without a key: on a loopback-only server that has no key yet, the
   * local user (admin), so `tosia serve` works at once on one's own machine; otherwise nobody.
   * Making the first key turns authentication on (within a second).
   */
  async anonymous(): Promise<Caller | null> {
    if (!this.openOnLoopback || this.envHash !== null) return null;
    const t = Date.now();
    if (t < this.noKeysUntil) return { name: 'local', role: 'admin' };
    if (await this.keys.any()) return null;
    this.noKeysUntil = t + 1000;
    return { name: 'local', role: 'admin' };
  }

  /** Who holds this key; null for an unknown or revoked key. */
  async verify(key: string): Promise<Caller | null> {
    const hash = keyHash(key);
    if (this.envHash !== null && sameDigest(hash, this.envHash)) return { name: 'TOSIA_API_KEY', role: 'write' };
    const row = await this.keys.byHash(hash);
    if (!row || !sameDigest(hash, row.hash) || row.revoked_at !== null) return null;
    // last_used_at is kept to the minute: a write per request would cost more than it tells
    const t = this.now().getTime();
    if ((this.touched.get(row.name) ?? 0) < t - 60_000) {
      this.touched.set(row.name, t);
      await this.keys.touch(row.name, this.now().toISOString());
    }
    return { name: row.name, role: row.role };
  }
}

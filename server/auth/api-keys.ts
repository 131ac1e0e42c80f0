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

/** What anonymous() looks at in a request. */
export interface AnonymousRequest { remoteAddress: string | undefined; headers: Record<string, string | string[] | undefined> }

export function isLoopback(addr: string | undefined): boolean {
  return addr === '::1' || addr === '::ffff:127.0.0.1' || (addr?.startsWith('127.') ?? false) || (addr?.startsWith('::ffff:127.') ?? false);
}

const FORWARDING = ['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-real-ip', 'via', 'x-client-ip', 'true-client-ip', 'cf-connecting-ip'];

function isLocalUser(req: AnonymousRequest): boolean {
  if (!isLoopback(req.remoteAddress)) return false;
  if (FORWARDING.some((h) => req.headers[h] !== undefined)) return false;
  const site = req.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') return false;
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `http://${String(req.headers.host)}`) return false;
  return true;
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
   *
   * Only a request that is plainly the local user's: from a loopback address, with no
   * forwarding header (a reverse proxy on the same host forwards others' requests from
   * loopback), and not sent by a page of another origin (a browser says so in Origin and
   * Sec-Fetch-Site, even for a no-cors form post).
   */
  async anonymous(req: AnonymousRequest): Promise<Caller | null> {
    if (!this.openOnLoopback || this.envHash !== null) return null;
    if (!isLocalUser(req)) return null;
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

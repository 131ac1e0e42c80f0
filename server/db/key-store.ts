import type { Db, ApiKeysTable } from './database.js';
import type { Selectable } from 'kysely';

export type Role = ApiKeysTable['role'];
export const ROLES: readonly Role[] = ['read', 'write', 'admin'];
export type KeyRow = Selectable<ApiKeysTable>;

/** API keys, stored only as the sha256 of the key, with who and when. */
export class KeyStore {
  constructor(private readonly db: Db) {}

  async create(name: string, role: Role, hash: string, now: string): Promise<boolean> {
    const taken = await this.db.selectFrom('api_keys').select('name').where('name', '=', name).executeTakeFirst();
    if (taken) return false;
    await this.db.insertInto('api_keys').values({ name, role, hash, created_at: now, last_used_at: null, revoked_at: null }).execute();
    return true;
  }

  async list(): Promise<KeyRow[]> {
    return this.db.selectFrom('api_keys').selectAll().orderBy('created_at').orderBy('name').execute();
  }

  /** Revoke by name; false when no live key has it. */
  async revoke(name: string, now: string): Promise<boolean> {
    const r = await this.db.updateTable('api_keys').set({ revoked_at: now }).where('name', '=', name).where('revoked_at', 'is', null).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async byHash(hash: string): Promise<KeyRow | undefined> {
    return this.db.selectFrom('api_keys').selectAll().where('hash', '=', hash).executeTakeFirst();
  }

  async touch(name: string, now: string): Promise<void> {
    await this.db.updateTable('api_keys').set({ last_used_at: now }).where('name', '=', name).execute();
  }

  async any(): Promise<boolean> {
    return (await this.db.selectFrom('api_keys').select('name').where('revoked_at', 'is', null).limit(1).executeTakeFirst()) !== undefined;
  }
}

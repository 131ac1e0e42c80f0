import { join, resolve } from 'node:path';
import { TosiaError } from '../runtime/index.js';
import { keyHash, newKey } from './auth/api-keys.js';
import { openDatabase, type Database } from './db/database.js';
import { KeyStore, ROLES, type KeyRow, type Role } from './db/key-store.js';
import { migrate, migrationStatus, type MigrationStatus } from './db/migrations.js';
import { DEFAULTS } from './server.js';

/** `tosia keys` and `tosia db`: the same stores `tosia serve` opens, from the same --data/--db. */

export interface StoreLocation { dataDir?: string; db?: string }

export async function openStore(where: StoreLocation): Promise<Database> {
  return openDatabase(where.db ? { url: where.db } : { sqliteFile: join(resolve(where.dataDir ?? DEFAULTS.dataDir), 'records.sqlite') });
}

async function withKeys<T>(where: StoreLocation, fn: (keys: KeyStore) => Promise<T>): Promise<T> {
  const database = await openStore(where);
  try {
    await migrate(database);
    return await fn(new KeyStore(database.db));
  } finally {
    await database.db.destroy();
  }
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Make a key; the key itself is returned once and never stored. */
export async function createKey(where: StoreLocation, name: string, role: string): Promise<{ name: string; role: Role; key: string }> {
  if (!NAME.test(name)) throw new TosiaError('E_CONFIG', `--name=${JSON.stringify(name)} must be 1-64 letters, digits, '.', '_' or '-'`, { stage: 'keys' });
  if (!ROLES.includes(role as Role)) throw new TosiaError('E_CONFIG', `--role=${role} must be ${ROLES.join(', ')}`, { stage: 'keys', hint: 'read: GET only; write: also POST; admin: also DELETE' });
  const key = newKey();
  const made = await withKeys(where, (keys) => keys.create(name, role as Role, keyHash(key), new Date().toISOString()));
  if (!made) throw new TosiaError('E_CONFIG', `a key named ${name} already exists`, { stage: 'keys', hint: 'pick another --name, or revoke the old one first (names stay taken after a revoke)' });
  return { name, role: role as Role, key };
}

export async function listKeys(where: StoreLocation): Promise<Omit<KeyRow, 'hash'>[]> {
  return withKeys(where, async (keys) => (await keys.list()).map(({ hash: _h, ...k }) => k));
}

export async function revokeKey(where: StoreLocation, name: string): Promise<void> {
  const done = await withKeys(where, (keys) => keys.revoke(name, new Date().toISOString()));
  if (!done) throw new TosiaError('E_CONFIG', `no live key is named ${name}`, { stage: 'keys', hint: '`tosia keys list` shows the keys' });
}

export async function dbMigrate(where: StoreLocation): Promise<{ applied: string[]; database: string }> {
  const database = await openStore(where);
  try {
    return { applied: await migrate(database), database: database.describe };
  } finally {
    await database.db.destroy();
  }
}

export async function dbStatus(where: StoreLocation): Promise<{ database: string; dialect: string; migrations: MigrationStatus[] }> {
  const database = await openStore(where);
  try {
    return { database: database.describe, dialect: database.dialect, migrations: await migrationStatus(database) };
  } finally {
    await database.db.destroy();
  }
}

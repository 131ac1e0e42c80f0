import { randomBytes } from 'node:crypto';
import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import { TosiaError } from '../../runtime/index.js';
import type { Database, Db, Dialect } from './database.js';

/**
 * One set of versioned migrations for SQLite and PostgreSQL. Types are the ones both accept;
 * times are ISO-8601 UTC text, which sorts in time order in both. Never edit a migration that
 * has shipped: add the next one.
 */
function migrations(dialect: Dialect): Record<string, Migration> {
  const blob = dialect === 'postgres' ? 'bytea' : 'blob';
  return {
  '0001_records_and_keys': {
    async up(db: Kysely<unknown>) {
      await db.schema.createTable('diagnoses')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('external_id', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('started_at', 'text')
        .addColumn('finished_at', 'text')
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('filename', 'text')
        .addColumn('content_type', 'text', (c) => c.notNull())
        .addColumn('size_bytes', 'integer', (c) => c.notNull())
        .addColumn('sha256', 'text', (c) => c.notNull())
        .addColumn('metadata', 'text')
        .addColumn('callback_url', 'text')
        .addColumn('config_sha256', 'text', (c) => c.notNull())
        .addColumn('model_sha256', 'text', (c) => c.notNull())
        .addColumn('idempotency_key', 'text', (c) => c.unique())
        .addColumn('result', 'text')
        .addColumn('label', 'text')
        .addColumn('score', 'double precision')
        .addColumn('n_segments', 'integer')
        .addColumn('images', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('error_code', 'text')
        .addColumn('error_stage', 'text')
        .addColumn('error_message', 'text')
        .addColumn('webhook_state', 'text')
        .addColumn('webhook_attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('webhook_error', 'text')
        .addColumn('webhook_at', 'text')
        .addColumn('audio_purged_at', 'text')
        .execute();
      await db.schema.createIndex('diagnoses_dedup').on('diagnoses').columns(['sha256', 'config_sha256', 'model_sha256']).execute();
      await db.schema.createIndex('diagnoses_status').on('diagnoses').columns(['status', 'id']).execute();
      await db.schema.createIndex('diagnoses_external_id').on('diagnoses').columns(['external_id', 'id']).execute();
      await db.schema.createIndex('diagnoses_created').on('diagnoses').columns(['created_at']).execute();
      await db.schema.createTable('diagnosis_flags')
        .addColumn('diagnosis_id', 'text', (c) => c.notNull().references('diagnoses.id').onDelete('cascade'))
        .addColumn('flag', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('diagnosis_flags_pk', ['diagnosis_id', 'flag'])
        .execute();
      await db.schema.createIndex('diagnosis_flags_flag').on('diagnosis_flags').columns(['flag', 'diagnosis_id']).execute();
      await db.schema.createTable('api_keys')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('last_used_at', 'text')
        .addColumn('revoked_at', 'text')
        .execute();
      await db.schema.createTable('segment_images')
        .addColumn('diagnosis_id', 'text', (c) => c.notNull().references('diagnoses.id').onDelete('cascade'))
        .addColumn('n', 'integer', (c) => c.notNull())
        .addColumn('png', blob, (c) => c.notNull())
        .addPrimaryKeyConstraint('segment_images_pk', ['diagnosis_id', 'n'])
        .execute();
    },
  },
  '0002_settings': {
    async up(db: Kysely<unknown>) {
      // settings of the deployment, shared by every replica on this database (its instance id)
      await db.schema.createTable('tosia_settings')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();
    },
  },
  '0003_reviews': {
    async up(db: Kysely<unknown>) {
      await db.schema.createTable('reviews')
        .addColumn('diagnosis_id', 'text', (c) => c.primaryKey().references('diagnoses.id').onDelete('cascade'))
        .addColumn('reviewed', 'integer', (c) => c.notNull())
        .addColumn('label', 'text')
        .addColumn('not_cough', 'text', (c) => c.notNull())
        .addColumn('added', 'text', (c) => c.notNull())
        .addColumn('note', 'text')
        .addColumn('reviewer', 'text', (c) => c.notNull())
        .addColumn('reviewed_at', 'text', (c) => c.notNull())
        .execute();
    },
  },
  '0004_figures': {
    async up(db: Kysely<unknown>) {
      // the whole-recording figure (SVG), drawn when first asked for and kept; a table of its own,
      // so that reading records never reads figures
      await db.schema.createTable('diagnosis_figures')
        .addColumn('diagnosis_id', 'text', (c) => c.primaryKey().references('diagnoses.id').onDelete('cascade'))
        .addColumn('svg', 'text', (c) => c.notNull())
        .execute();
    },
  },
  '0005_served_models': {
    async up(db: Kysely<unknown>) {
      // several models served: each record names the one that made it, and the shadow model's
      // verdict (JSON) waits in shadow_state 'pending' until it is stored, across restarts
      await db.schema.alterTable('diagnoses').addColumn('model', 'text').execute();
      await db.schema.alterTable('diagnoses').addColumn('shadow', 'text').execute();
      await db.schema.alterTable('diagnoses').addColumn('shadow_state', 'text').execute();
      await db.schema.createIndex('diagnoses_shadow_state').on('diagnoses').columns(['shadow_state', 'id']).execute();
      // POST /v1/evaluations: a model measured on the reviewed records; whoever runs one beats
      // its heartbeat, and one whose heartbeat stopped (its process died) is taken up again
      await db.schema.createTable('evaluations')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('model', 'text', (c) => c.notNull())
        .addColumn('baseline', 'text', (c) => c.notNull())
        .addColumn('filter', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('started_at', 'text')
        .addColumn('finished_at', 'text')
        .addColumn('heartbeat_at', 'text')
        .addColumn('records', 'integer')
        .addColumn('report', 'text')
        .addColumn('error_code', 'text')
        .addColumn('error_message', 'text')
        .execute();
      await db.schema.createIndex('evaluations_status').on('evaluations').columns(['status', 'heartbeat_at']).execute();
      await db.schema.createIndex('diagnoses_model').on('diagnoses').columns(['model', 'id']).execute();
    },
  },
  };
}

function migrator(database: Database): Migrator {
  const provider: MigrationProvider = { getMigrations: async () => migrations(database.dialect) };
  return new Migrator({ db: database.db, provider, migrationTableName: 'tosia_migrations', migrationLockTableName: 'tosia_migrations_lock' });
}

/** Bring the database to the latest version; several replicas starting at once take turns (kysely's lock). */
export async function migrate(database: Database): Promise<string[]> {
  const { error, results } = await migrator(database).migrateToLatest();
  if (error) {
    throw new TosiaError('E_CONFIG', `database migration failed: ${(error as Error).message ?? String(error)}`, { stage: 'database', hint: 'check that the database user may create tables; `tosia db status` shows the version', cause: error });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

export interface MigrationStatus { name: string; applied_at: string | null }

export async function migrationStatus(database: Database): Promise<MigrationStatus[]> {
  const list = await migrator(database).getMigrations();
  return list.map((m) => ({ name: m.name, applied_at: m.executedAt ? m.executedAt.toISOString() : null }));
}

/**
 * This database's deployment id, made by the first process that asks: replicas on the same
 * database are one queue submitter under it, however each reaches the database.
 */
export async function instanceId(db: Db): Promise<string> {
  // the first insert wins; the others read its value
  await db.insertInto('tosia_settings').values({ key: 'instance_id', value: randomBytes(8).toString('hex') }).onConflict((c) => c.column('key').doNothing()).execute();
  return (await readSetting(db, 'instance_id'))!;
}

/** A shared deployment setting, or null. */
export async function readSetting(db: Db, key: string): Promise<string | null> {
  return (await db.selectFrom('tosia_settings').select('value').where('key', '=', key).executeTakeFirst())?.value ?? null;
}

export async function writeSetting(db: Db, key: string, value: string): Promise<void> {
  await db.insertInto('tosia_settings').values({ key, value }).onConflict((c) => c.column('key').doUpdateSet({ value })).execute();
}

/** Whether the database is reachable and writable (for /ready). */
export async function probe(db: Db): Promise<void> {
  await sql`select 1`.execute(db);
}

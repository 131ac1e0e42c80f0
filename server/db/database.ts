import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Kysely, PostgresDialect, SqliteDialect, type Generated } from 'kysely';
import { TosiaError } from '../../runtime/index.js';

/** The records database: one typed query layer over SQLite (embedded default) and PostgreSQL. */

export interface DiagnosesTable {
  id: string;
  external_id: string | null;
  status: 'queued' | 'running' | 'done' | 'failed';
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  attempts: Generated<number>;
  filename: string | null;
  content_type: string;
  size_bytes: number;
  sha256: string;
  metadata: string | null;
  callback_url: string | null;
  config_sha256: string;
  model_sha256: string;
  /** Scoped by the API key that sent it: `name:key`. */
  idempotency_key: string | null;
  result: string | null;
  label: string | null;
  score: number | null;
  n_segments: number | null;
  images: Generated<number>;
  error_code: string | null;
  error_stage: string | null;
  error_message: string | null;
  webhook_state: 'pending' | 'delivered' | 'failed' | null;
  webhook_attempts: Generated<number>;
  webhook_error: string | null;
  webhook_at: string | null;
  audio_purged_at: string | null;
  /** The served model that made it (the NAME of --model NAME=PATH); null for records made before models were named. */
  model: string | null;
  /** The shadow model's verdict on it (JSON: model, model_sha256, label, score, n_segments, or error), once stored. */
  shadow: string | null;
  /** pending (to be scored by the shadow model), done, failed; null when no shadow scores it. */
  shadow_state: 'pending' | 'done' | 'failed' | null;
}

export interface DiagnosisFlagsTable { diagnosis_id: string; flag: string }

export interface ApiKeysTable {
  name: string;
  role: 'read' | 'write' | 'admin';
  hash: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

/** Segment images (PNG, a few kB each) live beside their record: one write with it, no files. */
export interface SegmentImagesTable { diagnosis_id: string; n: number; png: Uint8Array }

/** A reviewer's verdict on one record: JSON text for the segment lists. */
export interface ReviewsTable {
  diagnosis_id: string;
  reviewed: number;
  label: string | null;
  /** JSON: indexes of the segments marked "not a cough". */
  not_cough: string;
  /** JSON: coughs the segmenter missed, [{start_s, end_s}]. */
  added: string;
  note: string | null;
  reviewer: string;
  reviewed_at: string;
}

/** The whole-recording figure of a record (SVG), when the worker drew one. */
export interface DiagnosisFiguresTable { diagnosis_id: string; svg: string }

/** POST /v1/evaluations: a served model measured on the reviewed records, beside the default. */
export interface EvaluationsTable {
  id: string;
  model: string;
  /** The default model when it was asked for: measured on the same records. */
  baseline: string;
  /** JSON: which reviewed records. */
  filter: string;
  status: 'queued' | 'running' | 'done' | 'failed';
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  /** Beaten by the process running it; one that stopped beating is taken up again. */
  heartbeat_at: string | null;
  records: number | null;
  /** JSON: metrics and curves per model. */
  report: string | null;
  error_code: string | null;
  error_message: string | null;
}

/** Deployment settings every replica on this database shares (its instance id, the default model). */
export interface SettingsTable { key: string; value: string }

export interface Tables {
  diagnoses: DiagnosesTable;
  tosia_settings: SettingsTable;
  evaluations: EvaluationsTable;
  diagnosis_figures: DiagnosisFiguresTable;
  reviews: ReviewsTable;
  segment_images: SegmentImagesTable;
  diagnosis_flags: DiagnosisFlagsTable;
  api_keys: ApiKeysTable;
}

export type Db = Kysely<Tables>;
export type Dialect = 'sqlite' | 'postgres';

export interface Database { db: Db; dialect: Dialect; describe: string }

/** `postgres://...` opens PostgreSQL; anything else is a SQLite file path. */
export async function openDatabase(target: { url: string } | { sqliteFile: string }): Promise<Database> {
  if ('url' in target) {
    if (!/^postgres(ql)?:\/\//.test(target.url)) {
      throw new TosiaError('E_CONFIG', `--db=${redact(target.url)} is not a PostgreSQL URL`, { stage: 'config', hint: 'pass postgres://user@host:5432/dbname, or leave --db out to use SQLite under --data' });
    }
    const { default: pg } = await import('pg');
    // a query that gets no answer (the server frozen) fails after a minute instead of holding its request for ever
    const pool = new pg.Pool({ connectionString: target.url, max: 10, connectionTimeoutMillis: 5000, query_timeout: 60_000 });
    // a dropped connection must not bring the process down, idle (the pool's 'error') or in use
    // (the client's own 'error', 57P01 when the server shuts down): the query in flight fails with
    // it, and the next one reconnects
    pool.on('error', () => undefined);
    pool.on('connect', (client) => client.on('error', () => undefined));
    try {
      const c = await pool.connect();
      c.release();
    } catch (e) {
      await pool.end().catch(() => undefined);
      throw new TosiaError('E_CONFIG', `cannot connect to PostgreSQL at ${redact(target.url)}: ${(e as Error).message}`, { stage: 'database', hint: 'check that the server runs and the URL names an existing database', cause: e });
    }
    return { db: new Kysely<Tables>({ dialect: new PostgresDialect({ pool }) }), dialect: 'postgres', describe: redact(target.url) };
  }
  const { default: Sqlite } = await import('libsql');
  let handle;
  try {
    mkdirSync(dirname(target.sqliteFile), { recursive: true });
    handle = new Sqlite(target.sqliteFile);
    // WAL: readers never wait for the writer. synchronous=NORMAL: a commit survives a process
    // kill (the WAL is written before the call returns) without an fsync per commit, which
    // would block the event loop (libsql is synchronous) three times per recording; an OS
    // crash or power loss may lose the last commits, the audio (fsynced) stays
    handle.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;');
  } catch (e) {
    throw new TosiaError('E_OUTPUT', `cannot open the records database: ${(e as Error).message}`, { file: target.sqliteFile, stage: 'database', hint: 'check that --data names a writable folder', cause: e });
  }
  return { db: new Kysely<Tables>({ dialect: new SqliteDialect({ database: cachingStatements(handle) as never }) }), dialect: 'sqlite', describe: target.sqliteFile };
}

/**
 * The SQLite handle with its prepared statements kept: kysely prepares every query anew, and
 * preparing cost as much main-thread time as running. The server's queries are a few dozen
 * shapes; the cache is bounded all the same.
 */
function cachingStatements(handle: { prepare(sql: string): unknown; close(): void }) {
  const cache = new Map<string, unknown>();
  return {
    prepare(sql: string) {
      let st = cache.get(sql);
      if (st === undefined) {
        if (cache.size >= 256) cache.clear();
        st = handle.prepare(sql);
        cache.set(sql, st);
      }
      return st;
    },
    close() {
      cache.clear();
      handle.close();
    },
  };
}

/** A URL without its password, for messages and logs. */
export function redact(url: string): string {
  return url.replace(/(\/\/[^:/@]+):[^@/]*@/, '$1:***@');
}

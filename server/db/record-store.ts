import type { Result } from '../../runtime/index.js';
import type { Db, DiagnosesTable, Dialect, ReviewsTable, Tables } from './database.js';
import { sql, type CompiledQuery, type Selectable, type SelectQueryBuilder } from 'kysely';

/**
 * The records of diagnoses, behind one small interface: routes and the dispatcher never write
 * SQL. The same code runs on SQLite and PostgreSQL; every value reaches SQL as a parameter.
 */

export type Status = DiagnosesTable['status'];
export const STATUSES: readonly Status[] = ['queued', 'running', 'done', 'failed'];
export type Row = Selectable<DiagnosesTable>;

/** Every column but the result. */
const LIST_COLUMNS = ['id', 'external_id', 'status', 'created_at', 'started_at', 'finished_at', 'attempts', 'filename', 'content_type', 'size_bytes', 'sha256', 'metadata', 'callback_url', 'config_sha256', 'model_sha256', 'idempotency_key', 'label', 'score', 'n_segments', 'images', 'error_code', 'error_stage', 'error_message', 'webhook_state', 'webhook_attempts', 'webhook_error', 'webhook_at', 'audio_purged_at', 'model', 'shadow', 'shadow_state'] as const satisfies readonly (keyof DiagnosesTable)[];

/** A listed row: its flags comma-joined (a flag is a word); `result` is null when not read. */
export type ListedRow = Row & { flag_list: string | null };

/** Each record's flags in the same query as the record, comma-joined, not in a second query. */
function flagList(dialect: Dialect) {
  return dialect === 'postgres'
    ? sql<string | null>`(select string_agg(flag, ',' order by flag) from diagnosis_flags where diagnosis_flags.diagnosis_id = diagnoses.id)`
    : sql<string | null>`(select group_concat(flag, ',') from (select flag from diagnosis_flags where diagnosis_flags.diagnosis_id = diagnoses.id order by flag))`;
}

/**
 * A listed record's current version: `version` names it (equal versions, equal rows), with the
 * row itself (`packed`, on SQLite) or only its `id` (PostgreSQL: packedRows() reads it).
 */
export type ListedVersion = { version: string; packed: string; id?: undefined } | { version: string; id: string; packed?: undefined };

type VersionRow = { packed: string; id?: undefined; xmin?: undefined } | { id: string; xmin: string; packed?: undefined };

/** Every column but the result, and the flags, as one JSON array text. */
function packedRow(dialect: Dialect) {
  const values = sql.join([...LIST_COLUMNS.map((c) => sql.ref(c)), flagList(dialect)]);
  return dialect === 'postgres' ? sql<string>`json_build_array(${values})::text` : sql<string>`json_array(${values})`;
}

/** A packed row as a row, without its result. */
export function unpackRow(packed: string): ListedRow {
  const values = JSON.parse(packed) as unknown[];
  const row: Record<string, unknown> = { result: null, flag_list: values[LIST_COLUMNS.length] ?? null };
  LIST_COLUMNS.forEach((c, i) => (row[c] = values[i]));
  return row as ListedRow;
}

/** What an upload gives a new record; the rest starts empty. */
export type NewRecord = Pick<DiagnosesTable, 'id' | 'external_id' | 'created_at' | 'filename' | 'content_type' | 'size_bytes' | 'sha256' | 'metadata' | 'callback_url' | 'config_sha256' | 'model_sha256' | 'idempotency_key' | 'model'>;

export interface ListFilter {
  status?: Status;
  label?: string;
  external_id?: string;
  flag?: string;
  /** The served model that made them. */
  model?: string;
  created_after?: string;
  created_before?: string;
  /** Only ids below this one (the keyset cursor: newest first). */
  before_id?: string;
  limit: number;
}

/** The filters in the order filtered() applies them (each a parameter); the limit comes last. */
const FILTER_FIELDS = ['status', 'label', 'external_id', 'model', 'created_after', 'created_before', 'before_id', 'flag'] as const satisfies readonly (keyof ListFilter)[];

export interface Outcome {
  result: Result;
  /** Each segment's model-input image, PNG. */
  images: readonly Uint8Array[];
}

export interface Failure { code: string; stage: string | null; message: string }

export interface Purged { id: string; sha256: string }

export class RecordStore {
  private readonly listQueries = new Map<string, CompiledQuery<VersionRow>>();

  constructor(private readonly db: Db, private readonly dialect: Dialect = 'sqlite') {}

  /** Insert a queued record; with an idempotency key already used, the record that holds it instead. */
  async insert(rec: NewRecord): Promise<{ row: Row; inserted: boolean }> {
    try {
      return { row: await this.db.insertInto('diagnoses').values({ ...rec, status: 'queued' }).returningAll().executeTakeFirstOrThrow(), inserted: true };
    } catch (e) {
      if (rec.idempotency_key !== null && isUniqueViolation(e)) {
        const held = await this.byIdempotencyKey(rec.idempotency_key);
        if (held) return { row: held, inserted: false };
      }
      throw e;
    }
  }

  /**
   * A record for a submission of bytes already diagnosed (`from`, done) under another identity:
   * made done at once with `from`'s result (given, its source renamed), flags and images, in one
   * transaction. Like insert, the record an idempotency key already holds instead, if any.
   */
  async insertDone(rec: NewRecord, from: Row, result: string, now: string): Promise<{ row: Row; inserted: boolean }> {
    try {
      const row = await this.db.transaction().execute(async (tx) => {
        const made = await tx.insertInto('diagnoses').values({
          ...rec, status: 'done', started_at: now, finished_at: now, result, label: from.label, score: from.score, n_segments: from.n_segments, images: from.images,
          shadow: from.shadow, shadow_state: from.shadow_state,
        }).returningAll().executeTakeFirstOrThrow();
        const id = sql<string>`${rec.id}`;
        await tx.insertInto('diagnosis_flags').columns(['diagnosis_id', 'flag']).expression(tx.selectFrom('diagnosis_flags').select([id.as('diagnosis_id'), 'flag']).where('diagnosis_id', '=', from.id)).execute();
        await tx.insertInto('segment_images').columns(['diagnosis_id', 'n', 'png']).expression(tx.selectFrom('segment_images').select([id.as('diagnosis_id'), 'n', 'png']).where('diagnosis_id', '=', from.id)).execute();
        return made;
      });
      return { row, inserted: true };
    } catch (e) {
      if (rec.idempotency_key !== null && isUniqueViolation(e)) {
        const held = await this.byIdempotencyKey(rec.idempotency_key);
        if (held) return { row: held, inserted: false };
      }
      throw e;
    }
  }

  async get(id: string): Promise<Row | undefined> {
    return this.db.selectFrom('diagnoses').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async byIdempotencyKey(key: string): Promise<Row | undefined> {
    return this.db.selectFrom('diagnoses').selectAll().where('idempotency_key', '=', key).executeTakeFirst();
  }

  /** The newest record of the same bytes under the same config identity and model that has not failed. */
  async duplicateOf(sha256: string, configSha: string, modelSha: string): Promise<Row | undefined> {
    return this.db.selectFrom('diagnoses').selectAll()
      .where('sha256', '=', sha256).where('config_sha256', '=', configSha).where('model_sha256', '=', modelSha)
      .where('status', '!=', 'failed').where('audio_purged_at', 'is', null)
      .orderBy('id', 'desc').limit(1).executeTakeFirst();
  }

  async flagsOf(ids: readonly string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    if (ids.length === 0) return out;
    const rows = await this.db.selectFrom('diagnosis_flags').select(['diagnosis_id', 'flag']).where('diagnosis_id', 'in', ids).orderBy('flag').execute();
    for (const r of rows) out.set(r.diagnosis_id, [...(out.get(r.diagnosis_id) ?? []), r.flag]);
    return out;
  }

  /**
   * Newest first, `limit` + 1 rows (so the caller knows whether there is a next page), each
   * whole, its result included, with its flags.
   */
  async list(f: ListFilter): Promise<ListedRow[]> {
    const rows = await this.filtered(this.db.selectFrom('diagnoses').selectAll().select(flagList(this.dialect).as('flag_list')), f).execute();
    return rows as unknown as ListedRow[];
  }

  /**
   * As list(), without the result (most of a row): each record's current version, so that the
   * list route renders each version of a record once (routes/list-page.ts).
   *
   * On SQLite the version is the row itself, packed by the database into one JSON array text
   * (unpackRow reads it): equal texts are equal rows. Its driver converts each value separately,
   * which alone made up most of a compact page (28 values a row: 0.39 ms a page of 51; packed:
   * 0.16 ms).
   *
   * On PostgreSQL the version is the id and the row version's xmin (the transaction that wrote
   * it: every UPDATE writes a new one), and packedRows() reads the rows not rendered yet. Asking
   * PostgreSQL for every row packed cost it 0.36 ms a page, the ids and versions 0.1. A record's
   * flags change only in a transaction that also writes its row (finish, insertDone), so its
   * xmin covers them.
   */
  async listVersions(f: ListFilter): Promise<ListedVersion[]> {
    // The query is built and compiled once per shape of filter (which fields it has): its text
    // stays, only the parameters change, in the order filtered() adds them. Building it was a
    // tenth of the server's time for a compact page.
    const params: unknown[] = FILTER_FIELDS.flatMap((k) => (f[k] === undefined ? [] : [f[k]]));
    params.push(f.limit + 1);
    const shape = FILTER_FIELDS.map((k) => (f[k] === undefined ? '-' : 'x')).join('');
    let compiled = this.listQueries.get(shape);
    if (!compiled) {
      const base: SelectQueryBuilder<Tables, 'diagnoses', VersionRow> = this.dialect === 'postgres'
        ? this.db.selectFrom('diagnoses').select(['id', sql<string>`xmin::text`.as('xmin')])
        : this.db.selectFrom('diagnoses').select(packedRow(this.dialect).as('packed')) as SelectQueryBuilder<Tables, 'diagnoses', VersionRow>;
      const made = this.filtered(base, f).compile() as CompiledQuery<VersionRow>;
      // the order is checked once, so a change to filtered() cannot mismatch them silently
      if (made.parameters.length !== params.length || made.parameters.some((p, i) => p !== params[i])) throw new Error(`listVersions: the query's parameters ${JSON.stringify(made.parameters)} are not the filter's ${JSON.stringify(params)}`);
      this.listQueries.set(shape, (compiled = made));
    }
    const { rows } = await this.db.executeQuery<VersionRow>({ ...compiled, parameters: params });
    return rows.map((r) => (r.packed !== undefined ? { version: r.packed, packed: r.packed } : { version: `${r.id}:${r.xmin}`, id: r.id }));
  }

  /** The rows of these ids (those that still exist), packed as listVersions gives them on SQLite, each with its version. */
  async packedRows(ids: readonly string[]): Promise<Map<string, { version: string; packed: string }>> {
    const out = new Map<string, { version: string; packed: string }>();
    if (ids.length === 0) return out;
    const version = this.dialect === 'postgres' ? sql<string>`id || ':' || xmin::text` : packedRow(this.dialect);
    const rows = await this.db.selectFrom('diagnoses').select(['id', version.as('version'), packedRow(this.dialect).as('packed')]).where('id', 'in', ids).execute();
    for (const r of rows) out.set(r.id, { version: r.version, packed: r.packed });
    return out;
  }

  /** One filter for both shapes of row: newest first, limit + 1. */
  private filtered<O>(base: SelectQueryBuilder<Tables, 'diagnoses', O>, f: ListFilter) {
    let q = base as unknown as SelectQueryBuilder<Tables, 'diagnoses', Record<string, unknown>>;
    if (f.status !== undefined) q = q.where('status', '=', f.status);
    if (f.label !== undefined) q = q.where('label', '=', f.label);
    if (f.external_id !== undefined) q = q.where('external_id', '=', f.external_id);
    if (f.model !== undefined) q = q.where('model', '=', f.model);
    if (f.created_after !== undefined) q = q.where('created_at', '>', f.created_after);
    if (f.created_before !== undefined) q = q.where('created_at', '<', f.created_before);
    if (f.before_id !== undefined) q = q.where('id', '<', f.before_id);
    if (f.flag !== undefined) {
      const flag = f.flag;
      q = q.where(({ exists, selectFrom }) => exists(selectFrom('diagnosis_flags').select('flag').whereRef('diagnosis_flags.diagnosis_id', '=', 'diagnoses.id').where('flag', '=', flag)));
    }
    return q.orderBy('id', 'desc').limit(f.limit + 1);
  }

  /** Claim a queued record: it becomes running with one more attempt. Undefined when another took it (or it is gone). */
  async claim(id: string, now: string): Promise<Row | undefined> {
    return this.db.updateTable('diagnoses')
      .set((eb) => ({ status: 'running', started_at: now, attempts: eb('attempts', '+', 1) }))
      .where('id', '=', id).where('status', '=', 'queued').returningAll().executeTakeFirst();
  }

  /**
   * Store a result and its images in one transaction; false when the record is gone (deleted
   * while it ran), or, with `onlyRunning`, no longer running (a duplicate result from the queue).
   */
  async finish(id: string, now: string, o: Outcome, opts: { onlyRunning?: boolean; shadow?: { name: string; sha256: string } | null } = {}): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      let q = tx.updateTable('diagnoses').set({
        status: 'done', finished_at: now, result: JSON.stringify(o.result), label: o.result.diagnosis.label,
        score: o.result.diagnosis.score, n_segments: o.result.diagnosis.n_segments, images: o.images.length,
        error_code: null, error_stage: null, error_message: null,
        // a shadow's verdict on an earlier result is stale; with a shadow, it is due now
        shadow: opts.shadow ? JSON.stringify({ model: opts.shadow.name, model_sha256: opts.shadow.sha256 }) : null, shadow_state: opts.shadow ? 'pending' : null,
      }).where('id', '=', id);
      if (opts.onlyRunning) q = q.where('status', '=', 'running');
      const r = await q.executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) return false;
      // flags change only here and in insertDone, with their row: on PostgreSQL the row's xmin
      // is the list's version of a record (listVersions), and covers them only so
      await tx.deleteFrom('diagnosis_flags').where('diagnosis_id', '=', id).execute();
      await tx.deleteFrom('segment_images').where('diagnosis_id', '=', id).execute();
      // a figure of an earlier result is stale
      await tx.deleteFrom('diagnosis_figures').where('diagnosis_id', '=', id).execute();
      const flags = [...new Set(o.result.quality.flags)];
      if (flags.length > 0) await tx.insertInto('diagnosis_flags').values(flags.map((flag) => ({ diagnosis_id: id, flag }))).execute();
      if (o.images.length > 0) await tx.insertInto('segment_images').values(o.images.map((png, n) => ({ diagnosis_id: id, n, png: Buffer.from(png.buffer, png.byteOffset, png.byteLength) }))).execute();
      return true;
    });
  }

  /** Store the shadow model's verdict on a done record still waiting for it; false otherwise (deleted, or stored already). */
  async setShadow(id: string, state: 'done' | 'failed', verdict: Record<string, unknown>): Promise<boolean> {
    const r = await this.db.updateTable('diagnoses').set({ shadow: JSON.stringify(verdict), shadow_state: state })
      .where('id', '=', id).where('status', '=', 'done').where('shadow_state', '=', 'pending').executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /**
   * How often the shadow model `model` gave the label the record's own model gave, over the
   * latest `latest` records it scored.
   */
  async shadowAgreement(model: string, latest = 1000): Promise<{ compared: number; agreeing: number }> {
    const rows = await this.db.selectFrom('diagnoses').select(['label', 'shadow']).where('shadow_state', '=', 'done').orderBy('id', 'desc').limit(latest).execute();
    let compared = 0, agreeing = 0;
    for (const r of rows) {
      const v = JSON.parse(r.shadow!) as { model?: string; label?: string };
      if (v.model !== model) continue;
      compared++;
      if (v.label === r.label) agreeing++;
    }
    return { compared, agreeing };
  }

  /** Done records still waiting for the shadow model's verdict, oldest first. */
  async pendingShadows(limit: number): Promise<Row[]> {
    return this.db.selectFrom('diagnoses').selectAll().where('shadow_state', '=', 'pending').where('status', '=', 'done').orderBy('id').limit(limit).execute();
  }

  /** Segment n's image, PNG. */
  async image(id: string, n: number): Promise<Buffer | undefined> {
    const r = await this.db.selectFrom('segment_images').select('png').where('diagnosis_id', '=', id).where('n', '=', n).executeTakeFirst();
    // PostgreSQL gives a Buffer, libsql an ArrayBuffer
    return r ? Buffer.from(r.png as Uint8Array | ArrayBuffer as Uint8Array) : undefined;
  }

  /** Mark a record failed; false when it is gone or, with `onlyRunning`, no longer running. */
  async fail(id: string, now: string, err: Failure, opts: { onlyRunning?: boolean } = {}): Promise<boolean> {
    let q = this.db.updateTable('diagnoses').set({ status: 'failed', finished_at: now, error_code: err.code, error_stage: err.stage, error_message: err.message })
      .where('id', '=', id);
    if (opts.onlyRunning) q = q.where('status', '=', 'running');
    return Number((await q.executeTakeFirst()).numUpdatedRows) === 1;
  }

  /**
   * A claim whose outcome was never stored (the database went away as it was claimed or
   * finished) queued again: only if it is still running under that very claim.
   */
  async requeueClaim(id: string, startedAt: string): Promise<boolean> {
    const r = await this.db.updateTable('diagnoses').set({ status: 'queued', started_at: null })
      .where('id', '=', id).where('status', '=', 'running').where('started_at', '=', startedAt).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** A failed record queued again (POST .../retry); false when it is not failed. */
  async requeueFailed(id: string): Promise<boolean> {
    const r = await this.db.updateTable('diagnoses').set({
      status: 'queued', started_at: null, finished_at: null, error_code: null, error_stage: null, error_message: null, shadow: null, shadow_state: null,
      webhook_state: null, webhook_attempts: 0, webhook_error: null, webhook_at: null,
    }).where('id', '=', id).where('status', '=', 'failed').executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /**
   * Records a stopped server left unfinished, oldest first, all queued again: a record that was
   * running when the process died runs once more (its attempts say so).
   */
  async recoverUnfinished(): Promise<string[]> {
    await this.db.updateTable('diagnoses').set({ status: 'queued', started_at: null }).where('status', '=', 'running').execute();
    const rows = await this.db.selectFrom('diagnoses').select('id').where('status', '=', 'queued').orderBy('id').execute();
    return rows.map((r) => r.id);
  }

  /** A record's whole-recording figure (SVG), or null when none was drawn yet. */
  async figure(id: string): Promise<string | null> {
    return (await this.db.selectFrom('diagnosis_figures').select('svg').where('diagnosis_id', '=', id).executeTakeFirst())?.svg ?? null;
  }

  /** Keep a drawn figure (a record deleted meanwhile keeps nothing). */
  async setFigure(id: string, svg: string): Promise<void> {
    await this.db.insertInto('diagnosis_figures').values({ diagnosis_id: id, svg }).onConflict((c) => c.column('diagnosis_id').doUpdateSet({ svg })).execute().catch(() => undefined);
  }

  /** Store a record's review (one per record: the last one stands). */
  /**
   * Store a review. With `expectedReviewedAt`, only over that version: false when another save
   * came first, and nothing is written.
   */
  async setReview(r: Review, expectedReviewedAt?: string): Promise<boolean> {
    const row = { diagnosis_id: r.id, reviewed: r.reviewed ? 1 : 0, label: r.label, not_cough: JSON.stringify(r.not_cough), added: JSON.stringify(r.added), note: r.note, reviewer: r.reviewer, reviewed_at: r.reviewed_at };
    if (expectedReviewedAt === undefined) {
      await this.db.insertInto('reviews').values(row).onConflict((c) => c.column('diagnosis_id').doUpdateSet({ ...row })).execute();
      return true;
    }
    const done = await this.db.updateTable('reviews').set(row).where('diagnosis_id', '=', r.id).where('reviewed_at', '=', expectedReviewedAt).executeTakeFirst();
    return Number(done.numUpdatedRows) === 1;
  }

  async review(id: string): Promise<Review | null> {
    const r = await this.db.selectFrom('reviews').selectAll().where('diagnosis_id', '=', id).executeTakeFirst();
    return r ? reviewOf(r) : null;
  }

  /** Every reviewed record with its review, oldest first, in pages (for the exports). */
  async reviewed(after: string | null, limit: number): Promise<{ row: Row; review: Review }[]> {
    let q = this.db.selectFrom('reviews').innerJoin('diagnoses', 'diagnoses.id', 'reviews.diagnosis_id').selectAll('diagnoses')
      .select(['reviews.reviewed', 'reviews.label as review_label', 'reviews.not_cough', 'reviews.added', 'reviews.note', 'reviews.reviewer', 'reviews.reviewed_at'])
      .where('reviews.reviewed', '=', 1).orderBy('diagnoses.id').limit(limit);
    if (after) q = q.where('diagnoses.id', '>', after);
    const rows = await q.execute();
    return rows.map((r) => {
      const { reviewed, review_label, not_cough, added, note, reviewer, reviewed_at, ...row } = r;
      return { row: row as Row, review: reviewOf({ diagnosis_id: row.id, reviewed, label: review_label, not_cough, added, note, reviewer, reviewed_at }) };
    });
  }

  /** Records queued or running, oldest first, as they are (a queue's replicas decide per record what to do); at most `limit`. */
  async unfinished(limit?: number): Promise<Row[]> {
    const q = this.db.selectFrom('diagnoses').selectAll().where('status', 'in', ['queued', 'running']).orderBy('id');
    return (limit === undefined ? q : q.limit(limit)).execute();
  }

  /** Records whose webhook was not delivered yet (to resume after a restart). */
  async pendingWebhooks(): Promise<Row[]> {
    return this.db.selectFrom('diagnoses').selectAll().where('webhook_state', '=', 'pending').where('status', 'in', ['done', 'failed']).orderBy('id').execute();
  }

  async setWebhook(id: string, state: 'pending' | 'delivered' | 'failed', attempts: number, error: string | null, at: string | null): Promise<void> {
    await this.db.updateTable('diagnoses').set({ webhook_state: state, webhook_attempts: attempts, webhook_error: error, webhook_at: at }).where('id', '=', id).execute();
  }

  /** Delete a record; its sha256 and image count, or null when there was none. */
  async delete(id: string): Promise<Purged | null> {
    return this.db.transaction().execute(async (tx) => {
      const row = await tx.selectFrom('diagnoses').select(['id', 'sha256']).where('id', '=', id).executeTakeFirst();
      if (!row) return null;
      await tx.deleteFrom('diagnosis_flags').where('diagnosis_id', '=', id).execute();
      await tx.deleteFrom('segment_images').where('diagnosis_id', '=', id).execute();
      await tx.deleteFrom('diagnoses').where('id', '=', id).execute();
      return row;
    });
  }

  /** How many records still hold these bytes (their audio not purged). */
  async audioRefs(sha256: string): Promise<number> {
    const r = await this.db.selectFrom('diagnoses').select((eb) => eb.fn.countAll().as('n')).where('sha256', '=', sha256).where('audio_purged_at', 'is', null).executeTakeFirstOrThrow();
    return Number(r.n);
  }

  /** Mark the audio of up to 500 finished records created before `cutoff` as purged and drop their images; the records stay. */
  async purgeAudioBefore(cutoff: string, now: string): Promise<Purged[]> {
    const rows = await this.db.selectFrom('diagnoses').select(['id', 'sha256'])
      .where('created_at', '<', cutoff).where('audio_purged_at', 'is', null).where('status', 'in', ['done', 'failed']).limit(500).execute();
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.id);
    await this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('segment_images').where('diagnosis_id', 'in', ids).execute();
      await tx.deleteFrom('diagnosis_figures').where('diagnosis_id', 'in', ids).execute();
      await tx.updateTable('diagnoses').set({ audio_purged_at: now, images: 0 }).where('id', 'in', ids).execute();
    });
    return rows;
  }

  async countByStatus(): Promise<{ status: string; label: string | null; n: number }[]> {
    const rows = await this.db.selectFrom('diagnoses').select(['status', 'label', (eb) => eb.fn.countAll().as('n')]).groupBy(['status', 'label']).execute();
    return rows.map((r) => ({ status: r.status, label: r.label, n: Number(r.n) }));
  }
}

function isUniqueViolation(e: unknown): boolean {
  const err = e as { code?: string; message?: string };
  // PostgreSQL: 23505; SQLite: SQLITE_CONSTRAINT_UNIQUE
  return err.code === '23505' || /UNIQUE constraint failed/i.test(err.message ?? '') || /SQLITE_CONSTRAINT/.test(err.code ?? '');
}

/** A reviewer's verdict on a record, as the API shows it. */
export interface Review {
  id: string;
  reviewed: boolean;
  /** The label the reviewer believes, or null to leave the model's. */
  label: string | null;
  /** Indexes of segments that are not coughs. */
  not_cough: number[];
  /** Coughs the segmenter missed. */
  added: { start_s: number; end_s: number }[];
  note: string | null;
  reviewer: string;
  reviewed_at: string;
}

function reviewOf(r: Selectable<ReviewsTable>): Review {
  return {
    id: r.diagnosis_id, reviewed: Number(r.reviewed) === 1, label: r.label, not_cough: JSON.parse(r.not_cough) as number[],
    added: JSON.parse(r.added) as Review['added'], note: r.note, reviewer: r.reviewer, reviewed_at: r.reviewed_at,
  };
}

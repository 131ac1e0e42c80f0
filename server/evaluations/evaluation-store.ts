import type { Selectable } from 'kysely';
import type { Db, EvaluationsTable } from '../db/database.js';

export type EvaluationRow = Selectable<EvaluationsTable>;
export type NewEvaluation = Pick<EvaluationsTable, 'id' | 'model' | 'baseline' | 'filter' | 'created_at'>;

/** The evaluations table, behind one small interface. */
export class EvaluationStore {
  constructor(private readonly db: Db) {}

  async insert(e: NewEvaluation): Promise<EvaluationRow> {
    return this.db.insertInto('evaluations').values({ ...e, status: 'queued' }).returningAll().executeTakeFirstOrThrow();
  }

  async get(id: string): Promise<EvaluationRow | undefined> {
    return this.db.selectFrom('evaluations').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Newest first. */
  async list(limit: number): Promise<EvaluationRow[]> {
    return this.db.selectFrom('evaluations').selectAll().orderBy('id', 'desc').limit(limit).execute();
  }

  /**
   * Take an evaluation to run: one still queued, or one running whose heartbeat is older than
   * `staleBefore` (its process died). Undefined when another process took it first.
   */
  async claim(id: string, now: string, staleBefore: string): Promise<EvaluationRow | undefined> {
    return this.db.updateTable('evaluations').set({ status: 'running', started_at: now, heartbeat_at: now })
      .where('id', '=', id)
      .where((eb) => eb.or([eb('status', '=', 'queued'), eb.and([eb('status', '=', 'running'), eb('heartbeat_at', '<', staleBefore)])]))
      .returningAll().executeTakeFirst();
  }

  /** Evaluations nobody is running: queued, or running with a heartbeat older than `staleBefore`. */
  async orphans(staleBefore: string): Promise<EvaluationRow[]> {
    return this.db.selectFrom('evaluations').selectAll()
      .where((eb) => eb.or([eb('status', '=', 'queued'), eb.and([eb('status', '=', 'running'), eb('heartbeat_at', '<', staleBefore)])]))
      .orderBy('id').limit(100).execute();
  }

  async beat(id: string, now: string): Promise<void> {
    await this.db.updateTable('evaluations').set({ heartbeat_at: now }).where('id', '=', id).where('status', '=', 'running').execute();
  }

  async finish(id: string, now: string, records: number, report: unknown): Promise<void> {
    await this.db.updateTable('evaluations').set({ status: 'done', finished_at: now, records, report: JSON.stringify(report) }).where('id', '=', id).execute();
  }

  async fail(id: string, now: string, code: string, message: string): Promise<void> {
    await this.db.updateTable('evaluations').set({ status: 'failed', finished_at: now, error_code: code, error_message: message }).where('id', '=', id).execute();
  }
}

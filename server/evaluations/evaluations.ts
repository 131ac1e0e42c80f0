import { evaluateRecordingsInThread, type evaluateRecordings, type Result } from '../../runtime/index.js';
import type { LabelTable, RecordingEvalOptions } from '../../runtime/index.js';
import type { RecordStore, Row } from '../db/record-store.js';
import { uuidv7 } from '../ids.js';
import type { ModelRegistry } from '../models/model-registry.js';
import type { ServedModel } from '../models/served-models.js';
import { Problem } from '../problem.js';
import type { Work } from '../services.js';
import type { EvaluationRow, EvaluationStore } from './evaluation-store.js';

/** Which reviewed records an evaluation measures on. */
export interface EvaluationFilter {
  created_after?: string;
  created_before?: string;
  external_id?: string;
  /** Records made by this served model. */
  made_by?: string;
}

/** What a finished evaluation reports: `tosia eval --labels`' report per model, on the same records. */
export interface EvaluationReport {
  metrics: Record<string, ReturnType<typeof evaluateRecordings>['report']>;
  curves: Record<string, ReturnType<typeof evaluateRecordings>['curves']>;
  notes: Record<string, string[]>;
  /** Per model: records whose stored result was that model's (reused), and records scored again from their audio. */
  scored: Record<string, { reused: number; rescored: number; failed: number }>;
}

/** More reviewed records than this in one evaluation is refused: a small request never starts unbounded work. */
export const MAX_EVALUATION_RECORDS = 20_000;
const BEAT_MS = 5_000;
/** A running evaluation whose heartbeat is older than this was left by a process that died. */
const STALE_MS = 30_000;

export interface EvaluationsOptions {
  store: EvaluationStore;
  records: RecordStore;
  models: ModelRegistry;
  work: Work;
  now: () => Date;
  log: (msg: string, extra: Record<string, unknown>) => void;
  /** Bootstrap resamples and seed (tosia eval's defaults: 1000, 1). */
  eval?: Pick<RecordingEvalOptions, 'resamples' | 'seed'>;
}

/**
 * POST /v1/evaluations: a served model measured on what reviewers confirmed. The reviews are
 * the truth (a reviewer's label, or the record's own when they kept it; no_cough is left out);
 * each model's score is the record's own result when that model made it, else the stored audio
 * scored again on the engine's pool. Evaluations run one at a time, in the process that took
 * them; one whose process died (its heartbeat stopped) is taken up by the next sweep, here or
 * in another replica.
 */
export class Evaluations {
  private chain: Promise<void> = Promise.resolve();
  private readonly mine = new Set<string>();
  private sweeper: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(private readonly o: EvaluationsOptions) {}

  /** Accept an evaluation of `modelName` (beside the current default); it runs in the background. */
  async submit(modelName: string, filter: EvaluationFilter): Promise<EvaluationRow> {
    const { models, store, now } = this.o;
    const model = models.choose(modelName, 'body.model', 422);
    if (filter.made_by !== undefined) models.choose(filter.made_by, 'body.filter.made_by', 422);
    const row = await store.insert({ id: uuidv7(now().getTime()), model: model.name, baseline: models.default.name, filter: JSON.stringify(filter), created_at: now().toISOString() });
    this.take(row.id);
    return row;
  }

  /** Take up evaluations nobody runs (at start, then every `everyMs`). */
  start(everyMs = 10_000): void {
    const sweep = () => void this.sweep().catch((e) => this.o.log('looking for evaluations to run failed', { error: (e as Error).message }));
    sweep();
    this.sweeper ??= setInterval(sweep, everyMs);
    this.sweeper.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.sweeper) clearInterval(this.sweeper);
  }

  private async sweep(): Promise<void> {
    const stale = new Date(this.o.now().getTime() - STALE_MS).toISOString();
    for (const e of await this.o.store.orphans(stale)) this.take(e.id);
  }

  private take(id: string): void {
    if (this.mine.has(id) || this.stopped) return;
    this.mine.add(id);
    this.chain = this.chain.then(() => this.run(id)).catch((e) => this.o.log('an evaluation failed', { id, error: (e as Error).message })).finally(() => this.mine.delete(id));
  }

  private async run(id: string): Promise<void> {
    const { store, now } = this.o;
    const e = await store.claim(id, now().toISOString(), new Date(now().getTime() - STALE_MS).toISOString());
    if (!e) return;
    const beat = setInterval(() => void store.beat(id, now().toISOString()).catch(() => undefined), BEAT_MS);
    beat.unref();
    try {
      const { records, report } = await this.measure(e);
      await store.finish(id, now().toISOString(), records, report);
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'E_INTERNAL';
      await store.fail(id, now().toISOString(), code.startsWith('E_') ? code : 'E_INTERNAL', (err as Error).message);
    } finally {
      clearInterval(beat);
    }
  }

  private async measure(e: EvaluationRow): Promise<{ records: number; report: EvaluationReport }> {
    const { models } = this.o;
    const filter = JSON.parse(e.filter) as EvaluationFilter;
    const chosen = [e.model, e.baseline].filter((m, i, all) => all.indexOf(m) === i).map((name) => {
      const m = models.get(name);
      if (!m) throw new Problem(422, 'E_INPUT', `the model ${JSON.stringify(name)} is no longer served here`);
      return m;
    });
    const reviewed = await this.reviewedRecords(filter);
    const labels: LabelTable = new Map(reviewed.map(({ row, truth }) => [row.id, { value: truth, columns: {} }]));
    const report: EvaluationReport = { metrics: {}, curves: {}, notes: {}, scored: {} };
    for (const model of chosen) {
      const { results, scored } = await this.resultsOf(e.id, model, reviewed.map((r) => r.row));
      report.scored[model.name] = scored;
      if (results.length === 0) {
        report.notes[model.name] = ['no reviewed record could be scored with this model'];
        continue;
      }
      const out = await evaluateRecordingsInThread(labels, results, this.o.eval);
      report.metrics[model.name] = out.report;
      report.curves[model.name] = out.curves;
      report.notes[model.name] = out.notes.notes;
    }
    return { records: reviewed.length, report };
  }

  /** The reviewed, done records the filter selects, each with the label the reviewer confirmed. */
  private async reviewedRecords(f: EvaluationFilter): Promise<{ row: Row; truth: string }[]> {
    const out: { row: Row; truth: string }[] = [];
    let after: string | null = null;
    for (;;) {
      const page = await this.o.records.reviewed(after, 500);
      if (page.length === 0) break;
      after = page.at(-1)!.row.id;
      for (const { row, review } of page) {
        if (row.status !== 'done' || row.result === null) continue;
        if (f.created_after !== undefined && !(row.created_at > f.created_after)) continue;
        if (f.created_before !== undefined && !(row.created_at < f.created_before)) continue;
        if (f.external_id !== undefined && row.external_id !== f.external_id) continue;
        if (f.made_by !== undefined && (row.model ?? this.o.models.default.name) !== f.made_by) continue;
        const truth = review.label ?? row.label;
        if (truth === null || truth === 'no_cough') continue;
        out.push({ row, truth });
        if (out.length > MAX_EVALUATION_RECORDS) throw new Problem(422, 'E_INPUT', `the filter selects more than ${MAX_EVALUATION_RECORDS} reviewed records`, { hint: 'narrow it with created_after / created_before' });
      }
    }
    if (out.length === 0) throw new Problem(422, 'E_INPUT', 'no reviewed record matches the filter: there is nothing to measure on', { hint: 'review records first (PUT /v1/diagnoses/{id}/review), or widen the filter' });
    return out;
  }

  /** Each record's result under `model`: its own when that model made it, else its audio scored again. */
  private async resultsOf(evaluationId: string, model: ServedModel, rows: Row[]): Promise<{ results: Result[]; scored: EvaluationReport['scored'][string] }> {
    const scored = { reused: 0, rescored: 0, failed: 0 };
    const results = await Promise.all(rows.map(async (row): Promise<Result | null> => {
      const own = (row.model ?? this.o.models.default.name) === model.name && row.model_sha256 === model.sha256;
      let result: Result;
      if (own) {
        scored.reused++;
        result = JSON.parse(row.result!) as Result;
      } else {
        if (row.audio_purged_at !== null) {
          scored.failed++;
          return null;
        }
        // the job's key is a queue subject token: ids and a hex digest, never the model's name
        const outcome = await this.o.work.rescore(row, { name: model.name, sha256: model.sha256 }, `${evaluationId}-${row.id}-m${model.sha256.slice(0, 12)}`);
        if (!outcome.ok || outcome.output.kind !== 'diagnose') {
          scored.failed++;
          return null;
        }
        scored.rescored++;
        result = outcome.output.result;
      }
      // results are matched to the labels by record
      return { ...result, source: { ...result.source, path: row.id } };
    }));
    return { results: results.filter((r): r is Result => r !== null), scored };
  }
}

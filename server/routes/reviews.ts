import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Static } from 'typebox';
import { csvRow as line, type Result } from '../../runtime/index.js';
import type { Review, Row } from '../db/record-store.js';
import { readRecording } from '../audio-store/read-recording.js';
import { Problem } from '../problem.js';
import { ParamsSchema, type ReviewBodySchema } from '../schemas/diagnosis.js';
import { AUTH_PROBLEMS, empty, json, problems, text } from '../openapi/responses.js';
import { checkIfMatch, etagOf, preconditionFailed, ifNoneMatch, MatchHeaders, NoneMatchHeaders } from './conditional.js';
import type { Services } from '../services.js';

const tags = ['reviews'];


/** The name a record's recording goes by in the exports: what its result calls it. */
const fileOf = (row: Row) => (row.result ? (JSON.parse(row.result) as Result).source.path : row.filename ?? `upload-${row.id}`);

/**
 * Reviews: a reviewer marks a record reviewed, sets the label they believe, marks segments "not
 * a cough" and adds the coughs the segmenter missed. Reviewed records export as a truth CSV that
 * `tosia eval --truth` reads (with their results as the predictions), and as a label file for
 * training (`tosia extract --labels`): a served diagnosis back to evaluation and retraining.
 */
export function reviewsRoutes(s: Services) {
  return async function routes(fastify: FastifyInstance): Promise<void> {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    /** Figures being drawn, by record. */
    const drawing = new Map<string, Promise<string>>();

    app.put('/v1/diagnoses/:id/review', {
      schema: {
        tags, summary: "Store a reviewer's verdict on a record", operationId: 'putReview', params: ParamsSchema, headers: MatchHeaders, body: { $ref: 'ReviewInput' },
        description: 'Send the ETag of the review you started from in If-Match: if another reviewer saved since, the answer is 412 and nothing is overwritten. Without If-Match the last save wins.',
        response: { 200: json('Review', 'the review as stored', ['ETag']), ...problems(...AUTH_PROBLEMS, 404, [409, 'the record is not done: only a finished diagnosis can be reviewed'], 412, [415, 'the body is not application/json']) },
      },
      config: { role: 'write' },
    }, async (req, reply) => {
      const row = await s.records.get(req.params.id);
      if (!row) throw new Problem(404, 'E_NOT_FOUND', `no diagnosis ${req.params.id}`);
      if (row.status !== 'done' || !row.result) throw new Problem(409, 'E_CONFLICT', `${row.id} is ${row.status}: only a finished diagnosis can be reviewed`, { hint: 'wait for it (GET ?wait=30), or retry it if it failed' });
      const result = JSON.parse(row.result) as Result;
      const b = req.body as Static<typeof ReviewBodySchema>;
      const labels = [...result.model.labels, 'no_cough'];
      if (b.label != null && !labels.includes(b.label)) throw new Problem(400, 'E_INPUT', `label ${JSON.stringify(b.label)} is not one of ${labels.join(', ')}`);
      const notCough = [...new Set(b.not_cough ?? [])].sort((x, y) => x - y);
      const missing = notCough.filter((i) => !result.segments.some((seg) => seg.index === i));
      if (missing.length) throw new Problem(400, 'E_INPUT', `${row.id} has no segment ${missing.join(', ')} (it has ${result.segments.length})`);
      const duration = result.source.duration_s;
      for (const a of b.added ?? []) {
        if (!(a.end_s > a.start_s) || a.end_s > duration + 0.01) throw new Problem(400, 'E_INPUT', `an added cough [${a.start_s}, ${a.end_s}] must end after it starts and within the recording (${duration.toFixed(2)} s)`);
      }
      const review: Review = {
        id: row.id, reviewed: b.reviewed, label: b.label ?? null, not_cough: notCough, added: [...(b.added ?? [])].sort((x, y) => x.start_s - y.start_s),
        note: b.note ?? null, reviewer: req.caller?.name ?? 'local', reviewed_at: s.now().toISOString(),
      };
      const current = await s.records.review(row.id);
      checkIfMatch(req, current && etagOf(JSON.stringify(current)), `the review of ${row.id}`);
      // saved only over the version just checked: a save between the check and this write is a 412 too
      const ifMatch = req.headers['if-match'];
      const expected = ifMatch === undefined || ifMatch.trim() === '*' ? undefined : current!.reviewed_at;
      if (!(await s.records.setReview(review, expected))) throw preconditionFailed(`the review of ${row.id}`, ifMatch!);
      reply.header('etag', etagOf(JSON.stringify(review)));
      return review;
    });

    app.get('/v1/diagnoses/:id/figure.svg', {
      schema: {
        tags, summary: 'The whole recording as a spectrogram with each segment boxed by its score (SVG)', operationId: 'getFigure', description: 'Drawn from the stored audio the first time it is asked for, then kept. It holds no script and is served with a sandboxing CSP.', params: ParamsSchema, headers: NoneMatchHeaders,
        response: { 200: text('image/svg+xml', 'the figure (no script; drawn once per record)', ['ETag']), 304: empty('unchanged since the ETag in If-None-Match', ['ETag']), ...problems(...AUTH_PROBLEMS, 404, [409, 'the record is not done: the figure needs a finished diagnosis'], 410, 503) },
      },
      config: { role: 'read' },
    }, async (req, reply) => {
      const row = await s.records.get(req.params.id);
      if (!row) throw new Problem(404, 'E_NOT_FOUND', `no diagnosis ${req.params.id}`);
      if (row.status !== 'done' || !row.result) throw new Problem(409, 'E_CONFLICT', `${row.id} is ${row.status}: the figure needs a finished diagnosis`);
      if (row.audio_purged_at !== null) throw new Problem(410, 'E_GONE', `the audio of ${row.id} was deleted on ${row.audio_purged_at} under the retention policy`);
      // drawn once, from the stored audio, on the figure thread; kept for the next request
      let svg = await s.records.figure(row.id);
      if (!svg) {
        // drawn once however many ask at the same time: the others wait for that drawing
        let p = drawing.get(row.id);
        if (!p) {
          p = (async () => {
            const bytes = await readRecording(s.audio, row.sha256, { patienceMs: 5000 });
            const drawn = await s.figures.render({ bytes, name: row.filename ?? `upload-${row.id}` }, JSON.parse(row.result!) as Result);
            await s.records.setFigure(row.id, drawn);
            return drawn;
          })().finally(() => drawing.delete(row.id));
          drawing.set(row.id, p);
        }
        svg = await p;
      }
      reply.header('cache-control', 'private, max-age=3600');
      if (ifNoneMatch(req, reply, etagOf(svg))) return reply.send();
      return reply.type('image/svg+xml').send(svg);
    });

    app.get('/v1/diagnoses/:id/review', {
      schema: {
        tags, summary: "A record's review", operationId: 'getReview', description: 'The stored verdict, with an ETag: send it in If-Match when saving over it.', params: ParamsSchema, headers: NoneMatchHeaders,
        response: { 200: json('Review', 'the review; its ETag goes in If-Match when saving over it', ['ETag']), 304: empty('unchanged since the ETag in If-None-Match', ['ETag']), ...problems(...AUTH_PROBLEMS, [404, 'no such record, or it has no review yet']) },
      },
      config: { role: 'read' },
    }, async (req, reply) => {
      const review = await s.records.review(req.params.id);
      if (!review) throw new Problem(404, 'E_NOT_FOUND', `${req.params.id} has no review`);
      if (ifNoneMatch(req, reply, etagOf(JSON.stringify(review)))) return reply.send();
      return review;
    });

    /** Every reviewed record, in pages of 500, however many there are. */
    async function* reviewed() {
      for (let after: string | null = null; ;) {
        const page = await s.records.reviewed(after, 500);
        yield* page;
        if (page.length < 500) return;
        after = page.at(-1)!.row.id;
      }
    }

    app.get('/v1/reviews/truth.csv', {
      schema: { tags, summary: 'The reviewed coughs as a truth CSV (file,start,end) for tosia eval --truth', operationId: 'exportTruthCsv', description: 'Every reviewed record: the coughs it kept (segments not marked not_cough, plus those added) as rows of file,start,end in seconds. Cells that would start a spreadsheet formula are neutralised.', response: { 200: text('text/csv', 'file,start,end: one row per cough, empty times for a recording with none', ['Content-Disposition']), ...problems(...AUTH_PROBLEMS) } },
      config: { role: 'read' },
    }, async (_req, reply) => {
      let out = line(['file', 'start', 'end']);
      for await (const { row, review } of reviewed()) {
        const result = JSON.parse(row.result!) as Result;
        const kept = result.segments.filter((seg) => !review.not_cough.includes(seg.index)).map((seg) => ({ start_s: seg.start_s, end_s: seg.end_s }));
        const events = [...kept, ...review.added].sort((x, y) => x.start_s - y.start_s);
        // a recording with no cough is listed with empty times: zero coughs is truth too
        if (events.length === 0) out += line([fileOf(row), '', '']);
        for (const e of events) out += line([fileOf(row), e.start_s, e.end_s]);
      }
      return reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="truth.csv"').send(out);
    });

    app.get('/v1/reviews/results.jsonl', {
      schema: { tags, summary: "The reviewed records' results, one per line: the predictions for tosia eval --pred", operationId: 'exportResultsJsonl', description: 'Every reviewed record\'s result JSON, one per line, in the order of truth.csv: with it, `tosia eval --truth truth.csv --pred results.jsonl` measures the segmenter on reviewed data.', response: { 200: text('application/x-ndjson', 'one result JSON per line', ['Content-Disposition']), ...problems(...AUTH_PROBLEMS) } },
      config: { role: 'read' },
    }, async (_req, reply) => {
      let out = '';
      for await (const { row } of reviewed()) out += row.result + '\n';
      return reply.type('application/x-ndjson; charset=utf-8').header('content-disposition', 'attachment; filename="results.jsonl"').send(out);
    });

    app.get('/v1/reviews/labels.csv', {
      schema: { tags, summary: 'The reviewed labels (file,label) for training: tosia extract --labels', operationId: 'exportLabelsCsv', description: 'Every reviewed record with the label its reviewer set (or the model\'s when they set none), for `tosia extract --labels` and training.', response: { 200: text('text/csv', 'file,label: one row per reviewed recording', ['Content-Disposition']), ...problems(...AUTH_PROBLEMS) } },
      config: { role: 'read' },
    }, async (_req, reply) => {
      let out = line(['file', 'label']);
      for await (const { row, review } of reviewed()) {
        const label = review.label ?? (JSON.parse(row.result!) as Result).diagnosis.label;
        out += line([fileOf(row), label]);
      }
      return reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="labels.csv"').send(out);
    });
  };
}

import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { evaluationFigures } from '../../runtime/index.js';
import type { Static } from 'typebox';
import type { EvaluationRow } from '../evaluations/evaluation-store.js';
import type { EvaluationReport } from '../evaluations/evaluations.js';
import { AUTH_PROBLEMS, json, problems, text } from '../openapi/responses.js';
import { Problem } from '../problem.js';
import { MODEL_NAME_PATTERN, ParamsSchema } from '../schemas/diagnosis.js';
import type { EvaluationInputSchema, EvaluationSchema } from '../schemas/evaluations.js';
import type { Services } from '../services.js';

const tags = ['models'];

function renderEvaluation(e: EvaluationRow): Static<typeof EvaluationSchema> {
  const report = e.report === null ? null : (JSON.parse(e.report) as EvaluationReport);
  return {
    id: e.id, status: e.status, model: e.model, baseline: e.baseline, filter: JSON.parse(e.filter) as Record<string, string>,
    created_at: e.created_at, started_at: e.started_at, finished_at: e.finished_at, records: e.records === null ? null : Number(e.records),
    metrics: report?.metrics as unknown as Static<typeof EvaluationSchema>['metrics'] ?? null, scored: report?.scored ?? null, notes: report?.notes ?? null,
    error: e.error_code === null ? null : { code: e.error_code, message: e.error_message ?? '' },
    links: { self: `/v1/evaluations/${e.id}` },
  };
}

/** /v1/evaluations: a served model measured on the reviewed records, beside the default. */
export function evaluationsRoutes(s: Services) {
  return async function routes(app: FastifyInstance): Promise<void> {
    app.post('/v1/evaluations', {
      schema: {
        tags, summary: 'Measure a served model on the reviewed records', operationId: 'createEvaluation',
        description: "The reviews are the truth: a reviewer's label, or the record's own where they kept it (no_cough is left out). Each record is scored with the model (its stored result when that model made it, else its stored audio scored again on the engine's pool), and the same metrics as `tosia eval --labels` are reported under `metrics.<model>`, beside the current default's on the same records. Answers 202 with Location; GET it until `status` is done or failed.",
        body: { $ref: 'EvaluationInput' },
        response: { 202: json('Evaluation', 'accepted: GET Location for its progress and metrics', ['Location']), ...problems(...AUTH_PROBLEMS, [415, 'the body is not application/json'], 422, 503) },
      },
      config: { role: 'write' },
    }, async (req, reply) => {
      const body = req.body as Static<typeof EvaluationInputSchema>;
      const e = await s.evaluations.submit(body.model, (body.filter ?? {}) as Record<string, string>);
      return reply.code(202).header('location', `/v1/evaluations/${e.id}`).send(renderEvaluation(e));
    });

    app.get('/v1/evaluations', {
      schema: {
        tags, summary: 'The latest evaluations', operationId: 'listEvaluations', description: 'The 50 newest, newest first.',
        response: { 200: json('EvaluationList', 'newest first'), ...problems(...AUTH_PROBLEMS) },
      },
      config: { role: 'read' },
    }, async () => ({ items: (await s.evaluationStore.list(50)).map(renderEvaluation) }));

    app.get('/v1/evaluations/:id', {
      schema: {
        tags, summary: 'One evaluation: its progress, then its metrics', operationId: 'getEvaluation', params: ParamsSchema,
        description: 'queued, then running, then done with `metrics` per model (the one measured and the baseline), or failed with `error` (no reviewed record matched the filter, say). An evaluation whose process stopped is taken up again by another replica or the next start.',
        response: { 200: json('Evaluation', 'the evaluation as it stands'), ...problems(...AUTH_PROBLEMS, 404) },
      },
      config: { role: 'read' },
    }, async (req) => {
      const { id } = req.params as { id: string };
      const e = await s.evaluationStore.get(id);
      if (!e) throw new Problem(404, 'E_NOT_FOUND', `no evaluation ${id}`);
      return renderEvaluation(e);
    });

    app.get('/v1/evaluations/:id/roc.svg', {
      schema: {
        tags, summary: "A model's ROC curve in an evaluation, with its 95 % band", operationId: 'getEvaluationRoc', params: ParamsSchema,
        description: 'Standalone SVG (no script, no external reference), as `tosia eval --report` draws it. `model` picks the model (default: the one evaluated; the baseline is the other).',
        querystring: Type.Object({ model: Type.Optional(Type.String({ pattern: MODEL_NAME_PATTERN, maxLength: 64 })) }, { additionalProperties: false }),
        response: { 200: text('image/svg+xml', 'the ROC curve'), ...problems(...AUTH_PROBLEMS, [404, 'no such evaluation, or it did not measure that model'], [409, 'the evaluation is not done']) },
      },
      config: { role: 'read' },
    }, async (req, reply) => {
      const { id } = req.params as { id: string };
      const e = await s.evaluationStore.get(id);
      if (!e) throw new Problem(404, 'E_NOT_FOUND', `no evaluation ${id}`);
      if (e.status !== 'done' || e.report === null) throw new Problem(409, 'E_CONFLICT', `evaluation ${id} is ${e.status}; its figures exist once it is done`);
      const model = (req.query as { model?: string }).model ?? e.model;
      const report = JSON.parse(e.report) as EvaluationReport;
      const metrics = report.metrics[model], curves = report.curves[model];
      if (!metrics || !curves) throw new Problem(404, 'E_NOT_FOUND', `evaluation ${id} has no metrics for ${JSON.stringify(model)}: it measured ${Object.keys(report.metrics).join(', ') || 'no model'}`);
      return reply.type('image/svg+xml; charset=utf-8').send(evaluationFigures(metrics, curves).roc);
    });
  };
}

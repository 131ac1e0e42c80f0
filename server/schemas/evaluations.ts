import { Type } from 'typebox';
import { Id, MODEL_NAME_PATTERN, Nullable, Time } from './diagnosis.js';

/** POST /v1/evaluations and GET /v1/evaluations/{id}. */

const ModelName = Type.String({ pattern: MODEL_NAME_PATTERN, maxLength: 64 });

export const EvaluationFilterSchema = Type.Object({
  created_after: Type.Optional(Type.String({ format: 'date-time', maxLength: 64, description: 'records created after this instant' })),
  created_before: Type.Optional(Type.String({ format: 'date-time', maxLength: 64, description: 'records created before this instant' })),
  external_id: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  made_by: Type.Optional({ ...ModelName, description: 'records made by this served model' }),
}, { additionalProperties: false, description: 'which reviewed records to measure on; every reviewed record without one' });

export const EvaluationInputSchema = Type.Object({
  model: { ...ModelName, description: 'the served model to measure (GET /v1/models)' },
  filter: Type.Optional(Type.Ref('EvaluationFilter')),
}, { additionalProperties: false, description: 'a served model to measure on the reviewed records, beside the current default' });

const ModelReport = Type.Object({}, { additionalProperties: true, description: 'the keys of `tosia eval --labels --json`: n, positives, abstained, auc, pr_auc, threshold, at_target_sensitivity, at_prevalence, calibration, groups, confound, duplicates, by_quality' });

export const EvaluationSchema = Type.Object({
  id: Id,
  status: Type.Union([Type.Literal('queued'), Type.Literal('running'), Type.Literal('done'), Type.Literal('failed')]),
  model: Type.String({ description: 'the model measured' }),
  baseline: Type.String({ description: 'the default model when it was asked for, measured on the same records' }),
  filter: Type.Ref('EvaluationFilter'),
  created_at: Time,
  started_at: Nullable(Time),
  finished_at: Nullable(Time),
  records: Nullable(Type.Integer({ minimum: 0, description: 'the reviewed records measured on' })),
  metrics: Nullable(Type.Record(Type.String(), ModelReport, { description: 'per model name (the one measured and the baseline): the report `tosia eval --labels --json` gives' })),
  scored: Nullable(Type.Record(Type.String(), Type.Object({ reused: Type.Integer({ minimum: 0 }), rescored: Type.Integer({ minimum: 0 }), failed: Type.Integer({ minimum: 0 }) }), { description: "per model: records whose stored result was that model's, records scored again from their audio, and records that could not be" })),
  notes: Nullable(Type.Record(Type.String(), Type.Array(Type.String()))),
  error: Nullable(Type.Object({ code: Type.String(), message: Type.String() })),
  links: Type.Object({ self: Type.String() }),
}, { description: 'a served model measured on what reviewers confirmed' });

export const EvaluationListSchema = Type.Object({ items: Type.Array(Type.Ref('Evaluation')) }, { description: 'the latest evaluations, newest first' });

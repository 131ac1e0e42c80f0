import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { packageRoot } from '../../runtime/index.js';
import {
  DiagnosisPageSchema, DiagnosisSchema, ErrorSchema, FieldErrorSchema, OutcomeSchema, ProblemSchema, ReviewBodySchema, ReviewSchema, SourceReferenceSchema,
} from './diagnosis.js';
import { DefaultModelBodySchema, ModelListSchema, ServedModelSchema } from './models.js';
import { EvaluationFilterSchema, EvaluationInputSchema, EvaluationListSchema, EvaluationSchema } from './evaluations.js';

/** Where the result's JSON Schema lives in the package: the file users validate `tosia run --json` output against. */
export const RESULT_SCHEMA_FILE = join(packageRoot(), 'schemas/result.schema.json');

type Json = Record<string, unknown>;

/** `#/$defs/X` → `X`: a definition of the result file becomes a component of its own. */
function relink(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(relink);
  if (node === null || typeof node !== 'object') return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node as Json)) out[k] = k === '$ref' && typeof v === 'string' && v.startsWith('#/$defs/') ? v.slice('#/$defs/'.length) : relink(v);
  return out;
}

/** The result schema file split into components: Result itself and each of its $defs. */
export function resultComponents(): Record<string, Json> {
  const file = JSON.parse(readFileSync(RESULT_SCHEMA_FILE, 'utf8')) as Json & { $defs: Record<string, Json> };
  const { $schema: _s, $defs, title: _t, ...result } = file;
  const out: Record<string, Json> = { Result: relink(result) as Json };
  for (const [name, def] of Object.entries($defs)) out[name] = relink(def) as Json;
  return out;
}

/**
 * Every named schema of the API. Each is added to fastify under its name (so routes and other
 * schemas refer to it as `{ $ref: 'Name' }`) and appears in the OpenAPI document as
 * `#/components/schemas/Name`, which is what a generated client's types are named after.
 */
export function components(): Record<string, Json> {
  return {
    ...resultComponents(),
    Diagnosis: DiagnosisSchema as unknown as Json,
    Outcome: OutcomeSchema as unknown as Json,
    RecordError: ErrorSchema as unknown as Json,
    DiagnosisPage: DiagnosisPageSchema as unknown as Json,
    Problem: ProblemSchema as unknown as Json,
    FieldError: FieldErrorSchema as unknown as Json,
    Review: ReviewSchema as unknown as Json,
    ReviewInput: ReviewBodySchema as unknown as Json,
    SourceReference: SourceReferenceSchema as unknown as Json,
    ServedModel: ServedModelSchema as unknown as Json,
    ModelList: ModelListSchema as unknown as Json,
    DefaultModel: DefaultModelBodySchema as unknown as Json,
    EvaluationFilter: EvaluationFilterSchema as unknown as Json,
    EvaluationInput: EvaluationInputSchema as unknown as Json,
    Evaluation: EvaluationSchema as unknown as Json,
    EvaluationList: EvaluationListSchema as unknown as Json,
  };
}

export function addComponents(app: FastifyInstance): void {
  for (const [name, schema] of Object.entries(components())) app.addSchema({ ...schema, $id: name, title: name });
}

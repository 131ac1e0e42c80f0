import { Type, type Static } from 'typebox';
import { MODEL_NAME_PATTERN, Nullable } from './diagnosis.js';

/** GET /v1/models and PUT /v1/models/default. */

export const ServedModelSchema = Type.Object({
  name: Type.String({ description: 'the name records and ?model= use (the NAME of --model NAME=PATH, or the manifest name)' }),
  version: Type.String({ description: "the manifest's version" }),
  sha256: Type.String({ pattern: '^[0-9a-f]{64}$', description: "the ONNX file's sha256: records' model_sha256" }),
  labels: Type.Array(Type.String(), { description: 'what the model tells apart, in output order' }),
  default: Type.Boolean({ description: 'records are made with it unless a request names another' }),
  shadow: Type.Boolean({ description: 'every recording is also scored with it, never answered with' }),
  shadow_agreement: Nullable(Type.Object({
    compared: Type.Integer({ minimum: 0, description: 'records it scored as the shadow, of the latest 1000' }),
    agreeing: Type.Integer({ minimum: 0, description: "of those, records where its label was the record's own" }),
    rate: Nullable(Type.Number({ minimum: 0, maximum: 1, description: 'agreeing / compared; null before it has scored any' })),
  }, { description: "for the shadow model: how often it agrees with the model that answered; null for the others" })),
  manifest: Type.Object({
    name: Type.String(),
    positive_label: Type.String({ description: 'the label the threshold applies to' }),
    threshold: Type.Number({ minimum: 0, maximum: 1, description: 'the decision threshold the model was shipped with' }),
    input: Type.Object({ layout: Type.String(), shape: Type.Array(Type.Union([Type.Integer(), Type.String()])) }),
    sample_rate: Type.Integer({ description: 'the sample rate it was trained at' }),
  }, { description: "a summary of the model's manifest (the .json beside the .onnx)" }),
}, { description: 'a model this server serves' });
export type ServedModelView = Static<typeof ServedModelSchema>;

export const ModelListSchema = Type.Object({
  items: Type.Array(Type.Ref('ServedModel')),
}, { description: 'every model this server serves, the default first' });

export const DefaultModelBodySchema = Type.Object({
  name: Type.String({ pattern: MODEL_NAME_PATTERN, maxLength: 64, description: 'a served model (GET /v1/models)' }),
}, { additionalProperties: false, description: 'the model to make the default' });

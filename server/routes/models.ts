import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ServedModel } from '../models/served-models.js';
import { AUTH_PROBLEMS, json, problems } from '../openapi/responses.js';
import type { DefaultModelBodySchema, ServedModelView } from '../schemas/models.js';
import type { Static } from 'typebox';
import type { Services } from '../services.js';

const tags = ['models'];

/** A served model as GET /v1/models shows it. */
export async function renderModel(s: Services, m: ServedModel): Promise<ServedModelView> {
  const { manifest } = m;
  const shadow = m.name === s.models.shadow?.name;
  const agreement = shadow ? await s.records.shadowAgreement(m.name) : null;
  return {
    name: m.name, version: manifest.version, sha256: m.sha256, labels: [...manifest.labels],
    default: m.name === s.models.default.name, shadow,
    shadow_agreement: agreement && { ...agreement, rate: agreement.compared === 0 ? null : agreement.agreeing / agreement.compared },
    manifest: { name: manifest.name, positive_label: manifest.positive_label, threshold: manifest.threshold, input: { layout: manifest.input.layout, shape: [...manifest.input.shape] }, sample_rate: manifest.preprocessing.audio.sample_rate },
  };
}

/** /v1/models: the models this server serves, and promoting one to the default. */
export function modelsRoutes(s: Services) {
  return async function routes(fastify: FastifyInstance): Promise<void> {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    const list = async () => {
      const d = s.models.default;
      return { items: await Promise.all([d, ...s.models.models.filter((m) => m !== d)].map((m) => renderModel(s, m))) };
    };

    app.get('/v1/models', {
      schema: {
        tags, summary: 'The models this server serves', operationId: 'listModels',
        description: 'Each with its version, sha256, labels, a manifest summary, and whether it is the default. POST /v1/diagnoses?model=NAME runs a recording with one of them.',
        response: { 200: json('ModelList', 'every served model, the default first'), ...problems(...AUTH_PROBLEMS) },
      },
      config: { role: 'read' },
    }, async () => {
      // another replica may have promoted one
      await s.models.refresh();
      return list();
    });

    app.put('/v1/models/default', {
      schema: {
        tags, summary: 'Make a served model the default', operationId: 'setDefaultModel',
        description: 'Admin keys only. Records made from now on without ?model= use it, in every replica on this database (within a few seconds), and after a restart as long as it is still served. Records made before keep the model that made them.',
        body: { $ref: 'DefaultModel' },
        response: { 200: json('ModelList', 'every served model, the new default first'), ...problems(...AUTH_PROBLEMS, [415, 'the body is not application/json'], 422, 503) },
      },
      config: { role: 'admin' },
    }, async (req) => {
      const { name } = req.body as Static<typeof DefaultModelBodySchema>;
      await s.models.promote(name);
      req.log.info({ model: name, by: req.caller?.name }, 'default model changed');
      return list();
    });
  };
}

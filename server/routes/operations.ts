import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { ProblemSchema } from '../schemas/diagnosis.js';
import type { Services } from '../services.js';

const tags = ['operations'];

/** /health, /ready and /metrics: for load balancers, orchestrators and Prometheus. */
export function operationsRoutes(s: Services) {
  return async function routes(app: FastifyInstance): Promise<void> {
    app.get('/health', {
      schema: { tags, summary: 'The process is alive', response: { 200: Type.Object({ status: Type.Literal('ok') }) } },
    }, async () => ({ status: 'ok' as const }));

    app.get('/ready', {
      schema: {
        tags, summary: 'Ready for work: model loaded, store writable, queue reachable',
        response: { 200: Type.Object({ status: Type.Literal('ready'), queue_depth: Type.Integer(), busy_workers: Type.Integer() }), 503: ProblemSchema },
      },
    }, async (_req, reply) => {
      const why = await s.notReady();
      if (why !== null) {
        reply.header('retry-after', '5').code(503).type('application/problem+json').serializer(JSON.stringify);
        return { type: 'about:blank', title: 'Service Unavailable', status: 503, detail: why, code: 'E_UNAVAILABLE' };
      }
      return { status: 'ready' as const, queue_depth: s.dispatcher.depth, busy_workers: s.dispatcher.busy };
    });

    app.get('/metrics', {
      schema: { tags, summary: 'Prometheus metrics (loopback only, unless the server has --metrics-key)', response: { 200: Type.String(), 401: ProblemSchema, 403: ProblemSchema } },
      config: { metrics: true },
    }, async (_req, reply) => {
      reply.type(s.metrics.registry.contentType);
      return s.metrics.registry.metrics();
    });
  };
}

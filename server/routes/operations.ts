import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { jsonOf, problems, text } from '../openapi/responses.js';
import { Problem, sendProblem } from '../problem.js';
import type { Services } from '../services.js';

const tags = ['operations'];

/** /health, /ready and /metrics: for load balancers, orchestrators and Prometheus. */
export function operationsRoutes(s: Services) {
  return async function routes(app: FastifyInstance): Promise<void> {
    app.get('/health', {
      schema: {
        tags, summary: 'The process is alive', operationId: 'getHealth', description: 'For liveness probes: answers while the process runs, whatever its dependencies do.',
        response: { 200: jsonOf(Type.Object({ status: Type.Literal('ok') }), 'alive'), ...problems([400, 'the request is malformed'], [503, 'the server is shutting down']) },
      },
    }, async () => ({ status: 'ok' as const }));

    app.get('/ready', {
      schema: {
        tags, summary: 'Ready for work: model loaded, store writable, queue reachable', operationId: 'getReady',
        description: 'For readiness probes: 503 naming the dependency that is not ready (database, audio store, queue), within a few seconds however that dependency hangs.',
        response: {
          200: jsonOf(Type.Object({ status: Type.Literal('ready'), queue_depth: Type.Integer({ minimum: 0 }), busy_workers: Type.Integer({ minimum: 0 }) }), 'ready; how much work is waiting and running'),
          ...problems([400, 'the request is malformed'], [503, 'not ready: `detail` names the dependency']),
        },
      },
    }, async (_req, reply) => {
      const why = await s.notReady();
      if (why !== null) {
        return sendProblem(reply, new Problem(503, 'E_UNAVAILABLE', why, { headers: { 'retry-after': '5' } }));
      }
      return { status: 'ready' as const, queue_depth: s.dispatcher.depth, busy_workers: s.dispatcher.busy };
    });

    app.get('/metrics', {
      schema: {
        tags, summary: 'Prometheus metrics (loopback only, unless the server has --metrics-key)', operationId: 'getMetrics',
        description: 'The Prometheus text format. Open on loopback; elsewhere only with the metrics key (--metrics-key) as a bearer token.',
        security: [{ metricsKey: [] }, {}],
        response: { 200: text('text/plain', 'the metrics, in the Prometheus text exposition format 0.0.4'), ...problems([400, 'the request is malformed'], [401, 'the server has a metrics key and this request did not send it'], [403, 'not on loopback, and the server has no metrics key']) },
      },
      config: { metrics: true },
    }, async (_req, reply) => {
      reply.type(s.metrics.registry.contentType);
      return s.metrics.registry.metrics();
    });
  };
}

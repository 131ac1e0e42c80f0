import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import multipart from '@fastify/multipart';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { isLoopback, presentedKey, RANK, type Caller } from './auth/api-keys.js';
import { FailedAuth } from './auth/failed-auth.js';
import type { Role } from './db/key-store.js';
import { Problem, sendProblem, toProblem } from './problem.js';
import { diagnosesRoutes } from './routes/diagnoses.js';
import { reviewsRoutes } from './routes/reviews.js';
import { pageRoutes } from './routes/page.js';
import { operationsRoutes } from './routes/operations.js';
import { addComponents } from './schemas/components.js';
import { documentOptions } from './openapi/document.js';
import type { Services } from './services.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The least role a caller needs; routes without one are open. */
    role?: Role;
    /** /metrics: loopback only, or the metrics key. */
    metrics?: boolean;
  }
  interface FastifyRequest {
    caller?: Caller;
  }
}

export interface AppOptions {
  services: Services;
  /** Requests per minute per API key (per address without a key). */
  rateLimitPerMinute?: number;
  /** Requests without a valid key per minute per client address before it gets 429 (default 30). */
  failedAuthPerMinute?: number;
  /** With it, /metrics answers anyone presenting this key; without it, loopback only. */
  metricsKey?: string | null;
  /** A client must send its whole request within this (ms). */
  requestTimeoutMs?: number;
  /** A client must send its headers within this (ms). */
  headersTimeoutMs?: number;
  logger?: FastifyServerOptions['logger'];
}

/** The review page's policy: its own module and stylesheet, inline PNGs in the figure, the recording as a blob, calls to this origin only. */
const PAGE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";


function sameSecret(a: string, b: string): boolean {
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y);
}

/**
 * The HTTP app, built from its services and options and returned unstarted, so tests listen on
 * port 0 and `tosia serve` only parses flags and listens. Plugins go in a fixed order: the
 * external ones, then the auth hook, then the routes.
 */
export async function buildApp(o: AppOptions): Promise<FastifyInstance> {
  const s = o.services;
  const app = Fastify({
    logger: o.logger ?? false,
    // one line per request, written by the onResponse hook below
    logController: new LogController({ disableRequestLogging: true }),
    requestTimeout: o.requestTimeoutMs ?? 120_000,
    // headers must arrive within headersTimeout; Node checks both limits once a second
    http: { headersTimeout: o.headersTimeoutMs ?? 15_000, connectionsCheckingInterval: 1000 },
    connectionTimeout: 0,
    bodyLimit: 1024 * 1024,
    return503OnClosing: true,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true } },
  });

  await app.register(swagger, documentOptions());
  addComponents(app);
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list' } });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  await app.register(multipart, { limits: { fileSize: s.maxUploadBytes, files: 1, fields: 8, fieldSize: 16 * 1024, parts: 12, headerPairs: 100 } });
  await app.register(rateLimit, {
    global: true,
    max: o.rateLimitPerMinute ?? 600,
    timeWindow: 60_000,
    // by the route matched, not the raw request line: /%761/… and absolute-form URLs reach the same routes
    allowList: (req) => !(req.routeOptions.url ?? '').startsWith('/v1/'),
    keyGenerator: (req) => {
      const key = presentedKey(req.headers);
      return key ? `key:${createHash('sha256').update(key).digest('hex')}` : `ip:${req.ip}`;
    },
    errorResponseBuilder: (_req, ctx) => new Problem(429, 'E_RATE_LIMITED', `too many requests for this API key: at most ${ctx.max} a minute; try again in ${ctx.after}`),
  });

  const failures = new FailedAuth({ perMinute: o.failedAuthPerMinute ?? 30 });
  app.addHook('onClose', async () => failures.close());
  app.addHook('onRequest', async (req) => {
    const cfg = req.routeOptions.config;
    if (cfg.metrics) {
      if (o.metricsKey) {
        const key = presentedKey(req.headers);
        if (!key || !sameSecret(key, o.metricsKey)) throw new Problem(401, 'E_AUTH', '/metrics needs the metrics key (--metrics-key)', { headers: { 'www-authenticate': 'Bearer realm="tosia-metrics"' } });
      } else if (!isLoopback(req.socket.remoteAddress)) {
        throw new Problem(403, 'E_FORBIDDEN', '/metrics answers only on loopback; start the server with --metrics-key to scrape it from elsewhere');
      }
      return;
    }
    const role = cfg.role;
    if (!role) return;
    // a client that keeps failing to authenticate is slowed before any key is looked up
    const wait = failures.blocked(req.ip);
    if (wait > 0) throw new Problem(429, 'E_RATE_LIMITED', `too many requests without a valid API key from this address; try again in ${wait} s`, { headers: { 'retry-after': String(wait) } });
    const key = presentedKey(req.headers);
    if (!key) {
      const local = await s.auth.anonymous({ remoteAddress: req.socket.remoteAddress, headers: req.headers });
      if (local) {
        req.caller = local;
        return;
      }
      failures.failed(req.ip);
      throw new Problem(401, 'E_AUTH', 'this route needs an API key: send Authorization: Bearer <key> or X-API-Key (an operator makes one with `tosia keys create`)', { headers: { 'www-authenticate': 'Bearer realm="tosia"' } });
    }
    const caller = await s.auth.verify(key);
    if (!caller) failures.failed(req.ip);
    if (!caller) throw new Problem(401, 'E_AUTH', 'the API key is not valid: unknown or revoked', { headers: { 'www-authenticate': 'Bearer realm="tosia", error="invalid_token"' } });
    if (RANK[caller.role] < RANK[role]) throw new Problem(403, 'E_FORBIDDEN', `the key "${caller.name}" has role ${caller.role}; ${req.method} ${req.routeOptions.url} needs ${role}`);
    req.caller = caller;
  });

  // Every answer: never sniffed into another type, never framed, no referrer. The page gets a
  // strict CSP (its own script and style only, no inline code); API answers a sandbox, so a
  // stored recording or figure opened directly in a browser runs nothing.
  app.addHook('onSend', async (req, reply) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    const path = req.url.split('?')[0]!;
    if (path === '/' || path.startsWith('/page/')) reply.header('content-security-policy', PAGE_CSP);
    else if (!path.startsWith('/docs')) reply.header('content-security-policy', "default-src 'none'; frame-ancestors 'none'; sandbox");
    else reply.header('x-frame-options', 'DENY');
  });

  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    const labels = { route, method: req.method, status: String(reply.statusCode) };
    s.metrics.requests.inc(labels);
    s.metrics.latency.observe(labels, reply.elapsedTime / 1000);
    // one line per request
    req.log.info({ method: req.method, url: req.url.split('?')[0], route, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10, key: req.caller?.name, ip: req.ip }, 'request');
  });

  app.setErrorHandler(async (e, req, reply) => {
    const p = toProblem(e, req);
    if (p.status >= 500 && p.code === 'E_INTERNAL') req.log.error({ err: e, url: req.url }, 'internal error');
    return sendProblem(reply, p);
  });
  app.setNotFoundHandler(async (req, reply) => sendProblem(reply, new Problem(404, 'E_NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}; /docs lists the API`)));

  await app.register(operationsRoutes(s));
  await app.register(diagnosesRoutes(s));
  await app.register(reviewsRoutes(s));
  await app.register(pageRoutes());
  return app;
}

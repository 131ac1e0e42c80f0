import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { LogController, type FastifyInstance, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import multipart from '@fastify/multipart';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { isLoopback, presentedKey, RANK, type Caller } from './auth/api-keys.js';
import { SlidingWindow } from './limits/sliding-window.js';
import { AllowedMethods, clientErrorHandler, frameworkErrors } from './framework-errors.js';
import type { Role } from './db/key-store.js';
import { Problem, sendProblem, toProblem } from './problem.js';
import { diagnosesRoutes } from './routes/diagnoses.js';
import { reviewsRoutes } from './routes/reviews.js';
import { pageRoutes } from './routes/page.js';
import { operationsRoutes } from './routes/operations.js';
import { modelsRoutes } from './routes/models.js';
import { evaluationsRoutes } from './routes/evaluations.js';
import { addComponents } from './schemas/components.js';
import { documentOptions, RATE_LIMITED } from './openapi/document.js';
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
  /** Origins whose pages may call the API (CORS); none by default. */
  corsOrigins?: string[];
  logger?: FastifyServerOptions['logger'];
}

/** What a cross-origin page may read and send. */
const CORS_EXPOSED = 'Location, ETag, Retry-After, Idempotent-Replayed, Content-Range, Content-Disposition, RateLimit, RateLimit-Policy';
const CORS_ALLOWED = 'Authorization, X-API-Key, Content-Type, Idempotency-Key, If-Match, If-None-Match, Range';

/** A parsed JSON body (not an audio stream or a multipart form). */
const isPlainBody = (b: unknown) => b !== null && typeof b === 'object' && typeof (b as { pipe?: unknown }).pipe !== 'function';

/** The first string holding a NUL, as a dotted path (querystring.external_id, body.note, …). */
function findNul(v: unknown, path = ''): string | null {
  if (typeof v === 'string') return v.includes('\u0000') ? path : null;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) { const f = findNul(v[i], `${path}.${i}`); if (f) return f; }
  } else if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) { const f = findNul(x, path ? `${path}.${k}` : k) ?? (k.includes('\u0000') ? `${path}.${k}` : null); if (f) return f; }
  }
  return null;
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
    clientErrorHandler,
    frameworkErrors,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true } },
  });

  const allowed = new AllowedMethods();
  allowed.watch(app);
  await app.register(swagger, documentOptions());
  addComponents(app);
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list' } });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  await app.register(multipart, { limits: { fileSize: s.maxUploadBytes, files: 1, fields: 8, fieldSize: 16 * 1024, parts: 12, headerPairs: 100 } });

  // CORS, only for the origins the operator names: the browser may then call the API from them
  // with a key; preflights are answered here, before the rate limit and authentication
  const cors = new Set(o.corsOrigins ?? []);
  const corsFor = (req: FastifyRequest) => {
    const origin = req.headers.origin;
    return origin !== undefined && cors.has(origin) ? origin : null;
  };
  app.addHook('onRequest', async (req, reply) => {
    const origin = corsFor(req);
    if (!origin) return;
    reply.header('access-control-allow-origin', origin).header('vary', 'Origin').header('access-control-expose-headers', CORS_EXPOSED);
  });
  app.options('*', { schema: { hide: true } }, async (req, reply) => {
    const path = req.url.split('?')[0]!;
    const allow = [...allowed.of(path), 'OPTIONS'];
    if (allow.length === 1) throw new Problem(404, 'E_NOT_FOUND', `no route ${path}; /docs lists the API`);
    reply.header('allow', allow.join(', '));
    if (corsFor(req) && req.headers['access-control-request-method']) {
      reply.header('access-control-allow-methods', allow.join(', ')).header('access-control-allow-headers', CORS_ALLOWED).header('access-control-max-age', '600');
    }
    return reply.code(204).send();
  });

  // the rate limit: every /v1 route (by the route matched, so /%761/… and absolute-form request
  // lines count too), per API key, or per address without one; IETF RateLimit headers on each answer
  const requests = new SlidingWindow({ limit: o.rateLimitPerMinute ?? 600 });
  const failures = new SlidingWindow({ limit: o.failedAuthPerMinute ?? 30 });
  app.addHook('onClose', async () => { requests.close(); failures.close(); });
  app.addHook('onRequest', async (req, reply) => {
    if (!RATE_LIMITED.test(req.routeOptions.url ?? '')) return;
    const key = presentedKey(req.headers);
    const who = key ? `key:${createHash('sha256').update(key).digest('hex')}` : `ip:${req.ip}`;
    const wait = requests.wait(who);
    if (wait === 0) requests.add(who);
    const { remaining, resetS } = requests.state(who);
    reply.header('ratelimit-policy', `"default";q=${requests.limit};w=${requests.windowMs / 1000}`).header('ratelimit', `"default";r=${remaining};t=${resetS}`);
    if (wait > 0) throw new Problem(429, 'E_RATE_LIMITED', `too many requests for this ${key ? 'API key' : 'address'}: at most ${requests.limit} a minute; try again in ${wait} s`, { headers: { 'retry-after': String(wait) } });
  });

  // text fields reach SQL as parameters, but PostgreSQL refuses a NUL in text and SQLite cuts at
  // one: refused here, the same on both stores
  app.addHook('preValidation', async (req) => {
    const nul = findNul({ querystring: req.query, params: req.params, ...(isPlainBody(req.body) ? { body: req.body } : {}) });
    if (nul) throw new Problem(400, 'E_INPUT', `${nul} holds a NUL character (U+0000), which no text here may hold`, { errors: [{ field: nul, message: 'holds a NUL character' }] });
  });

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
    const wait = failures.wait(req.ip);
    if (wait > 0) throw new Problem(429, 'E_RATE_LIMITED', `too many requests without a valid API key from this address; try again in ${wait} s`, { headers: { 'retry-after': String(wait) } });
    const key = presentedKey(req.headers);
    if (!key) {
      const local = await s.auth.anonymous({ remoteAddress: req.socket.remoteAddress, headers: req.headers });
      if (local) {
        req.caller = local;
        return;
      }
      failures.add(req.ip);
      throw new Problem(401, 'E_AUTH', 'this route needs an API key: send Authorization: Bearer <key> or X-API-Key (an operator makes one with `tosia keys create`)', { headers: { 'www-authenticate': 'Bearer realm="tosia"' } });
    }
    const caller = await s.auth.verify(key);
    if (!caller) failures.add(req.ip);
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
  app.setNotFoundHandler(async (req, reply) => {
    const path = req.url.split('?')[0]!;
    const allow = allowed.of(path);
    if (allow.length > 0) return sendProblem(reply, new Problem(405, 'E_METHOD', `${path} takes ${allow.join(', ')}, not ${req.method}`, { headers: { allow: [...allow, 'OPTIONS'].join(', ') } }));
    return sendProblem(reply, new Problem(404, 'E_NOT_FOUND', `no route ${req.method} ${path}; /docs lists the API`));
  });

  await app.register(operationsRoutes(s));
  await app.register(diagnosesRoutes(s));
  await app.register(reviewsRoutes(s));
  await app.register(modelsRoutes(s));
  await app.register(evaluationsRoutes(s));
  await app.register(pageRoutes());
  return app;
}

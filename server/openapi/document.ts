import type { SwaggerOptions } from '@fastify/swagger';
import { tosiaVersion } from '../../runtime/index.js';

const SECURITY = [{ bearer: [] }, { apiKey: [] }];

/** Where the rate limit applies: every /v1 route (its headers are on every answer there). */
export const RATE_LIMITED = /^\/v1\//;

const RATE_HEADERS = {
  RateLimit: { description: 'IETF RateLimit (draft-ietf-httpapi-ratelimit-headers): `"default";r=<requests left>;t=<seconds until the window resets>`', schema: { type: 'string' as const } },
  'RateLimit-Policy': { description: 'IETF RateLimit-Policy: `"default";q=<requests>;w=<window in seconds>` per API key (per address without one)', schema: { type: 'string' as const } },
};

type Doc = { paths?: Record<string, Record<string, { responses?: Record<string, { headers?: Record<string, unknown> }> }>> } & Record<string, unknown>;

/**
 * The OpenAPI 3.1 document at /openapi.json, generated from the route schemas. Components are
 * named by their fastify $id (server/schemas/components.ts); the upload's three body forms are
 * described here because the body is read part by part, never by a body schema.
 */
export function documentOptions(): SwaggerOptions {
  return {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'tosia',
        version: tosiaVersion(),
        description: 'Cough-audio diagnosis over HTTP: upload a recording, get the coughs found in it, their scores and the recording\'s label. Research software, not a medical device.\n\nEvery error is RFC 9457 `application/problem+json` with a stable `code`. Every /v1 answer carries the IETF `RateLimit` and `RateLimit-Policy` headers.',
        license: { name: 'MIT', identifier: 'MIT' },
        contact: { name: 'tosia maintainers', url: 'https://www.npmjs.com/package/tosia' },
      },
      servers: [{ url: 'http://127.0.0.1:8080', description: '`tosia serve` on its default address; a generated client takes the real base URL' }],
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer <key> (an operator makes one with `tosia keys create`)' },
          apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'the same key in X-API-Key' },
          metricsKey: { type: 'http', scheme: 'bearer', description: "/metrics only: the server's --metrics-key as a bearer token (not needed on loopback)" },
        },
        headers: RATE_HEADERS,
      },
      tags: [
        { name: 'diagnoses', description: 'recordings and their diagnoses' },
        { name: 'reviews', description: "reviewers' verdicts, and exports of them for evaluation and training" },
        { name: 'models', description: 'the models this server serves, which is the default, and evaluations of them on the reviewed records' },
        { name: 'operations', description: 'health, readiness and metrics' },
      ],
    },
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => String((json as { $id?: string }).$id ?? `def-${i}`) },
    transform: ({ schema, url, route }) => {
      const out = { ...(schema as Record<string, unknown>) };
      const role = route.config?.role;
      if (!out.security) out.security = role ? SECURITY : [];
      if (role) out['x-tosia-role'] = role;
      if (url === '/v1/diagnoses' && route.method === 'POST') {
        out.body = {
          content: {
            'multipart/form-data': {
              schema: {
                type: 'object', required: ['file'],
                properties: {
                  file: { type: 'string', format: 'binary', description: 'the recording (audio/*)' },
                  external_id: { type: 'string', minLength: 1, maxLength: 200, description: "the caller's own id for this submission" },
                  metadata: { type: 'string', maxLength: 8192, description: 'a JSON object, kept with the record' },
                  callback_url: { type: 'string', format: 'uri', maxLength: 2048, description: 'POSTed the record when it finishes, signed with X-Tosia-Signature' },
                },
              },
            },
            'audio/*': { schema: { type: 'string', format: 'binary', description: 'the raw recording; external_id, filename and callback_url go in the query' } },
            'application/json': { schema: { $ref: 'SourceReference' } },
          },
        };
      }
      return { schema: out as never, url };
    },
    // every /v1 answer carries the rate-limit headers
    transformObject: (d) => {
      const doc = ('openapiObject' in d ? d.openapiObject : d.swaggerObject) as Doc;
      for (const [path, ops] of Object.entries(doc.paths ?? {})) {
        // a path parameter far longer than any id is refused before routing
        if (path.includes('{')) {
          for (const op of Object.values(ops)) {
            op.responses ??= {};
            op.responses['414'] ??= { description: 'a path parameter is far longer than any this API takes', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } } as never;
          }
        }
        if (!RATE_LIMITED.test(path)) continue;
        for (const op of Object.values(ops)) {
          for (const res of Object.values(op.responses ?? {})) {
            res.headers = { ...(res.headers ?? {}), RateLimit: { $ref: '#/components/headers/RateLimit' }, 'RateLimit-Policy': { $ref: '#/components/headers/RateLimit-Policy' } };
          }
        }
      }
      return doc as never;
    },
  };
}

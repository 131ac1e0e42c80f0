/**
 * How a route describes its answers: each status with its media type, its schema and its
 * headers. The same objects tell fastify how to serialise and tell the OpenAPI document what a
 * client will get, so a generated client's types are the server's answers.
 */

export interface HeaderDoc { description: string; type: 'string' | 'integer'; [k: string]: unknown }

/** The response headers the API sends, described once. */
export const HEADERS = {
  Location: { type: 'string', description: "the record's URL: GET it (with ?wait=) for the result" },
  'Retry-After': { type: 'integer', description: 'seconds to wait before trying again' },
  'Idempotent-Replayed': { type: 'string', enum: ['true'], description: 'this answer is the record an earlier request with the same Idempotency-Key made' },
  ETag: { type: 'string', description: 'the version of this representation: send it back in If-None-Match (304 when unchanged) or, for a review, If-Match' },
  'Content-Range': { type: 'string', description: 'bytes first-last/size of the part sent (or bytes */size with 416)' },
  'Accept-Ranges': { type: 'string', enum: ['bytes'], description: 'Range requests are supported' },
  'Content-Disposition': { type: 'string', description: 'the file name to save it under' },
} satisfies Record<string, HeaderDoc>;
export type HeaderName = keyof typeof HEADERS;

const pick = (names: HeaderName[]) => (names.length ? { headers: Object.fromEntries(names.map((n) => [n, HEADERS[n]])) } : {});

/** JSON of a named component. */
export const json = (component: string, description: string, headers: HeaderName[] = []) => ({
  description, ...pick(headers), content: { 'application/json': { schema: { $ref: component } } },
});

/** JSON of an inline schema. */
export const jsonOf = (schema: object, description: string, headers: HeaderName[] = []) => ({
  description, ...pick(headers), content: { 'application/json': { schema } },
});

/** Bytes in one of these media types. */
export const bytes = (types: string[], description: string, headers: HeaderName[] = []) => ({
  description, ...pick(headers), content: Object.fromEntries(types.map((t) => [t, { schema: { type: 'string', format: 'binary' } }])),
});

/** Text in this media type. */
export const text = (type: string, description: string, headers: HeaderName[] = []) => ({
  description, ...pick(headers), content: { [type]: { schema: { type: 'string' } } },
});

/** No body (204, 304). */
export const empty = (description: string, headers: HeaderName[] = []) => ({ description, ...pick(headers), type: 'null' });

const PROBLEM_TEXT: Record<number, string> = {
  400: 'the request is malformed or a parameter is invalid: `errors` names each field',
  401: 'no API key, or one that is unknown or revoked',
  403: "the key's role does not allow this",
  404: 'no such record',
  409: 'the record is not in a state that allows this',
  410: 'the audio or images were deleted under the retention policy',
  412: 'If-Match does not match the current version: someone else saved first; GET it and decide again',
  413: "the recording is larger than the server's --max-upload-mb",
  415: 'the body is not a recording (multipart/form-data, audio/*, or a JSON reference)',
  416: 'the range is outside the recording',
  422: 'the recording was read but cannot be diagnosed (not audio, damaged, too long), or the Idempotency-Key was used for a different request',
  429: 'too many requests for this key (or, without a valid key, from this address)',
  503: 'a dependency (database, audio store, queue) is unavailable or the server is shutting down; nothing was kept',
  507: 'the server has no room left to store it; nothing was kept',
};
const PROBLEM_HEADERS: Record<number, HeaderName[]> = { 429: ['Retry-After'], 503: ['Retry-After'], 507: ['Retry-After'], 416: ['Content-Range'] };

/** Problem answers (application/problem+json) for these statuses, with the usual descriptions unless given. */
export function problems(...statuses: (number | [number, string])[]): Record<number, object> {
  const out: Record<number, object> = {};
  for (const s of statuses) {
    const [status, description] = Array.isArray(s) ? s : [s, PROBLEM_TEXT[s] ?? 'an error'];
    out[status] = { description, ...pick(PROBLEM_HEADERS[status] ?? []), content: { 'application/problem+json': { schema: { $ref: 'Problem' } } } };
  }
  return out;
}

/** What any route that needs a key can also answer. */
export const AUTH_PROBLEMS = [400, 401, 403, 429] as const;

import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { isTosiaError, type TosiaError } from '../runtime/index.js';
import { StoreUnavailable } from './audio-store/audio-store.js';

/**
 * Every error the API gives is an RFC 9457 problem (application/problem+json) carrying a stable
 * `code`: tosia's pipeline codes (E_INPUT, E_DECODE, E_CONFIG, E_MODEL, E_OUTPUT, E_INTERNAL)
 * and the HTTP layer's own (E_AUTH, E_FORBIDDEN, E_NOT_FOUND, E_METHOD, E_GONE, E_CONFLICT,
 * E_IDEMPOTENCY, E_PRECONDITION, E_RANGE, E_RATE_LIMITED, E_UNAVAILABLE). Internals of a 5xx go to the log only.
 */

export type ProblemCode = TosiaError['code'] | 'E_AUTH' | 'E_FORBIDDEN' | 'E_NOT_FOUND' | 'E_METHOD' | 'E_GONE' | 'E_CONFLICT' | 'E_IDEMPOTENCY' | 'E_PRECONDITION' | 'E_RANGE' | 'E_RATE_LIMITED' | 'E_UNAVAILABLE';

export interface FieldError { field: string; message: string }

export class Problem extends Error {
  constructor(
    readonly status: number,
    readonly code: ProblemCode,
    readonly detail: string,
    readonly extra: { errors?: FieldError[]; headers?: Record<string, string>; [k: string]: unknown } = {},
  ) {
    super(detail);
  }
}

const TITLES: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 408: 'Request Timeout', 409: 'Conflict', 410: 'Gone',
  411: 'Length Required', 412: 'Precondition Failed', 413: 'Content Too Large', 414: 'URI Too Long', 431: 'Request Header Fields Too Large', 415: 'Unsupported Media Type', 416: 'Range Not Satisfiable', 422: 'Unprocessable Content',
  429: 'Too Many Requests', 500: 'Internal Server Error', 503: 'Service Unavailable', 507: 'Insufficient Storage',
};

/** The status a pipeline error answers with on a synchronous request. */
export function statusOf(code: string): number {
  switch (code) {
    case 'E_INPUT': case 'E_DECODE': return 422;
    case 'E_CONFIG': return 400;
    case 'E_MODEL': return 503;
    case 'E_OUTPUT': return 507;
    default: return 500;
  }
}

export function sendProblem(reply: FastifyReply, p: Problem): FastifyReply {
  const { errors, headers, ...rest } = p.extra;
  for (const [k, v] of Object.entries(headers ?? {})) reply.header(k, v);
  const body = {
    type: 'about:blank',
    title: TITLES[p.status] ?? 'Error',
    status: p.status,
    detail: p.detail,
    code: p.code,
    instance: reply.request.url.split('?')[0],
    ...(errors ? { errors } : {}),
    ...rest,
  };
  return reply.code(p.status).type('application/problem+json').serializer(JSON.stringify).send(body);
}

/** Fastify's own errors (validation, content type, body size, multipart limits) as problems. */
export function toProblem(e: unknown, req: FastifyRequest): Problem {
  if (e instanceof Problem) return e;
  // the database's outage is the server's, not the client's: 503 (507 for a full disk), never 500
  const outage = databaseOutage(e);
  if (outage) return new Problem(outage.status, outage.status === 507 ? 'E_OUTPUT' : 'E_UNAVAILABLE', outage.detail, { headers: { 'retry-after': '5' } });
  // the store's outage is the server's, not the client's: try again shortly, nothing was kept
  if (e instanceof StoreUnavailable) return new Problem(503, 'E_UNAVAILABLE', `${e.message}; nothing was stored, send it again shortly`, { headers: { 'retry-after': '5' } });
  if (isTosiaError(e)) return new Problem(statusOf(e.code), e.code, e.message);
  const err = e as FastifyError & { validation?: { instancePath: string; message?: string; params: Record<string, unknown> }[]; validationContext?: string };
  if (err.validation) {
    const where = err.validationContext ?? 'request';
    const errors = err.validation.map((v) => {
      const extra = (v.params.additionalProperty ?? v.params.missingProperty) as string | undefined;
      const path = [v.instancePath.replace(/^\//, '').replace(/\//g, '.'), extra].filter(Boolean).join('.');
      const message = v.params.additionalProperty !== undefined ? 'is not a known parameter' : (v.message ?? 'is invalid');
      return { field: `${where}.${path}`.replace(/\.$/, ''), message };
    });
    return new Problem(400, 'E_INPUT', errors.map((x) => `${x.field} ${x.message}`).join('; '), { errors });
  }
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new Problem(415, 'E_INPUT', `content type ${JSON.stringify(req.headers['content-type'] ?? '')} is not accepted here`, { hint: 'send multipart/form-data with a `file` part, or the raw recording with Content-Type: audio/<format>' });
    case 'FST_ERR_CTP_BODY_TOO_LARGE': case 'FST_REQ_FILE_TOO_LARGE':
      return new Problem(413, 'E_INPUT', 'the body is larger than this server accepts', { headers: { connection: 'close' } });
    case 'FST_FILES_LIMIT':
      return new Problem(400, 'E_INPUT', 'the form has more than one file part; send one recording per request', { errors: [{ field: 'file', message: 'only one file part is accepted' }] });
    case 'FST_PARTS_LIMIT': case 'FST_FIELDS_LIMIT':
      return new Problem(400, 'E_INPUT', 'the form has too many parts; send `file` and at most external_id, metadata and callback_url');
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
      return new Problem(415, 'E_INPUT', 'the body is not multipart/form-data');
    default:
      break;
  }
  // the multipart parser's own complaints: the client's form is malformed (a body that does not
  // match its boundary, a boundary missing from a hand-set Content-Type), not the server's fault
  if (/^(Unexpected end of (form|file|multipart data)|Malformed part header|Multipart: Boundary not found|Malformed content disposition|Boundary required|\w+ terminated early due to unexpected end of multipart data)/i.test(err.message ?? '')) {
    return new Problem(400, 'E_INPUT', `the multipart body is malformed: ${err.message}`, { hint: 'let the HTTP client build the form (it sets the boundary in Content-Type and ends the body with it), or send the raw audio with Content-Type: audio/<format>' });
  }
  const status = err.statusCode;
  if (status !== undefined && status >= 400 && status < 500) return new Problem(status, 'E_INPUT', err.message);
  return new Problem(500, 'E_INTERNAL', 'internal error; the server log has the details');
}

/**
 * A database error that is an outage rather than a bug: the server gone, restarting, refusing
 * connections or not answering (PostgreSQL), or the disk full or the file locked (SQLite).
 */
export function databaseOutage(e: unknown): { status: 503 | 507; detail: string } | null {
  const err = e as { code?: string; message?: string };
  const code = String(err.code ?? '');
  const msg = String(err.message ?? '');
  if (code === 'SQLITE_FULL' || /database or disk is full|ENOSPC/i.test(msg) || code === 'ENOSPC' || code === '53100') {
    return { status: 507, detail: 'the records database has no room left (disk full); nothing was stored: try again once the operator has freed space' };
  }
  if (/^(57P0[123]|08\d\d\d|53300)$/.test(code) || ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'SQLITE_BUSY'].includes(code)
    || /Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error|database is locked/i.test(msg)) {
    return { status: 503, detail: 'the records database is unavailable just now; nothing was acknowledged: try again shortly' };
  }
  return null;
}

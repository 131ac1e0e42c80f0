import type { FastifyInstance, FastifyReply } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { audioContentType } from '../../runtime/index.js';
import { decodeCursor, encodeCursor } from '../ids.js';
import { Problem, statusOf } from '../problem.js';
import type { Row } from '../db/record-store.js';
import { ListQuerySchema, ParamsSchema, PostQuerySchema, SegmentParamsSchema, WaitQuerySchema, MAX_PAGE } from '../schemas/diagnosis.js';
import { AUTH_PROBLEMS, bytes, empty, json, problems } from '../openapi/responses.js';
import { etagOf, ifNoneMatch, NoneMatchHeaders } from './conditional.js';
import type { Services } from '../services.js';
import { recordNotFound as notFound, unavailable } from '../intake/intake.js';
import { ListPages } from './list-page.js';
import { renderOne, renderRecord } from './render.js';
import { storedInstant } from './rfc3339.js';
import { readUpload, tooLarge } from './upload.js';

const tags = ['diagnoses'];
/** What the audio route may answer with: the sniffed type (runtime audioContentType). */
const AUDIO_TYPES = ['audio/wav', 'audio/flac', 'audio/ogg', 'audio/mpeg', 'audio/mp4', 'audio/webm', 'application/octet-stream'];
/** Room for the form's boundaries and fields around a file at the limit. */
const MULTIPART_SLACK = 64 * 1024;

/** /v1/diagnoses: upload a recording, read, list, retry and delete records, fetch audio and images. */
export function diagnosesRoutes(s: Services) {
  return async function routes(fastify: FastifyInstance): Promise<void> {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    // a raw audio/* body is handed on as a stream, never buffered whole
    app.addContentTypeParser(/^(audio\/|video\/|application\/ogg)/i, (_req, payload, done) => done(null, payload));
    const pages = new ListPages();
    const get = async (id: string) => (await s.records.get(id)) ?? (() => { throw notFound(id); })();

    /** Wait up to `waitS` for a record to finish and answer with it as the API says. */
    async function answer(reply: FastifyReply, row: Row, waitS: number, created: boolean, dedup?: boolean) {
      if (row.status === 'queued' || row.status === 'running') {
        await s.dispatcher.waitFor(row.id, waitS * 1000);
        row = (await s.records.get(row.id)) ?? row;
      }
      const body = await renderOne(s.records, row, dedup === undefined ? {} : { deduplicated: dedup });
      reply.header('location', body.links.self);
      if (reply.request.method === 'GET' && ifNoneMatch(reply.request, reply, etagOf(JSON.stringify(body)))) return reply.send();
      if (row.status === 'failed' && created && (row.error_code === 'E_INPUT' || row.error_code === 'E_DECODE')) {
        throw new Problem(statusOf(row.error_code), row.error_code, row.error_message ?? 'the recording failed', { record: body });
      }
      if (!created) return reply.code(200).send(body);
      return reply.code(row.status === 'done' || row.status === 'failed' ? 201 : 202).send(body);
    }

    app.post('/v1/diagnoses', {
      schema: {
        tags, summary: 'Upload one recording and diagnose it',
        description: 'multipart/form-data (`file`, optional `external_id`, `metadata`, `callback_url`), a raw audio/* body, or application/json `{"source": "azblob://container/path", "external_id", "metadata", "callback_url"}` naming a recording already in a container or bucket the server allows (--source-store): it is read once and kept like an upload. Waits up to `wait` seconds: 201 with the finished record, else 202 with Location. Each submission is a record of its own: the same bytes under the same config and model with another external_id, metadata or callback_url make a new record that reuses the result (201, deduplicated), and the very same submission again returns its record (200, deduplicated), unless `force`. An `Idempotency-Key` header makes a retried POST return the record the first one made; the key with a different request is 422 E_IDEMPOTENCY.',
        operationId: 'createDiagnosis',
        querystring: PostQuerySchema,
        headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: '^[\\x21-\\x7e]+$', description: 'makes a retried POST safe: the same key with the same request returns the record the first made; with a different request, 422' })) }),
        response: {
          200: json('Diagnosis', 'a record made before: the one this Idempotency-Key made (Idempotent-Replayed: true), or the one the same submission made (same bytes, external_id, metadata and callback_url; deduplicated: true)', ['Location', 'Idempotent-Replayed']),
          201: json('Diagnosis', "the new record, finished within `wait` (done, or failed for a reason other than the recording); deduplicated: true when the bytes had a result already and it was reused for this submission's record", ['Location']),
          202: json('Diagnosis', 'the new record, accepted and still queued or running: GET Location (with ?wait=) for the result', ['Location']),
          ...problems(...AUTH_PROBLEMS, 413, 415, 422, 503, 507),
        },
      },
      config: { role: 'write' },
      // anything but a form or audio is refused before its body is read
      onRequest: async (req) => {
        const type = String(req.headers['content-type'] ?? '');
        if (!/^multipart\/form-data/i.test(type) && !/^(audio\/|video\/|application\/ogg)/i.test(type) && !/^application\/json\b/i.test(type)) {
          throw new Problem(415, 'E_INPUT', `content type ${JSON.stringify(type)} is not a recording`, { hint: 'send multipart/form-data with a `file` part, the raw recording with Content-Type: audio/<format>, or application/json {"source": "azblob://…"} for one already in an allowed container' });
        }
      },
    }, async (req, reply) => {
      if (!s.dispatcher.isAccepting) throw unavailable('the server is shutting down; send it to another replica or try again');
      const waitS = req.query.wait ?? 30;
      // an unknown model is refused before the body is read
      const model = s.models.choose(req.query.model);
      const key = req.headers['idempotency-key'];
      const scoped = key === undefined ? null : `${req.caller!.name}:${key}`;
      const declared = Number(req.headers['content-length']);
      if (Number.isFinite(declared) && declared > s.maxUploadBytes + (req.isMultipart() ? MULTIPART_SLACK : 0)) throw tooLarge(s.maxUploadBytes);
      // a retry of a POST that already made a record is answered even when the queue is full
      // (the intake still reads it, to check that it is the same request)
      if (s.dispatcher.full && (scoped === null || !(await s.intake.replayOf(scoped)))) throw unavailable('the queue is full; try again shortly');
      const { row, created, dedup, replay } = await s.intake.submit(() => readUpload(req, s.audio, s.maxUploadBytes, req.query, s.sources), { force: req.query.force ?? false, idempotencyKey: scoped, model });
      if (replay) reply.header('idempotent-replayed', 'true');
      return answer(reply, row, waitS, created, dedup ? true : undefined);
    });

    app.get('/v1/diagnoses', {
      schema: {
        tags, summary: 'List diagnoses, newest first', operationId: 'listDiagnoses',
        description: 'Each item carries its `outcome` (label, score); the whole `result` only with ?include=result. Filters combine; `created_after`/`created_before` take RFC 3339 times with any offset and compare instants.',
        querystring: ListQuerySchema,
        response: { 200: json('DiagnosisPage', 'a page of records, newest first'), ...problems(...AUTH_PROBLEMS) },
      },
      config: { role: 'read' },
    }, async (req, reply) => {
      const q = req.query;
      let before: string | undefined;
      if (q.cursor !== undefined) {
        before = decodeCursor(q.cursor) ?? undefined;
        if (before === undefined) throw new Problem(400, 'E_INPUT', 'querystring.cursor is not a cursor this server gave out', { errors: [{ field: 'querystring.cursor', message: 'pass next_cursor from the previous page unchanged' }] });
      }
      const limit = Math.min(q.limit ?? 50, MAX_PAGE);
      const when = (field: 'created_after' | 'created_before') => {
        const text = q[field];
        if (text === undefined) return undefined;
        const at = storedInstant(text, field === 'created_after' ? 'floor' : 'ceil');
        if (at === null) throw new Problem(400, 'E_INPUT', `querystring.${field} ${JSON.stringify(text)} is not an RFC 3339 date-time`, { errors: [{ field: `querystring.${field}`, message: 'must be an RFC 3339 date-time such as 2026-12-06T09:30:00Z or 2026-12-06T10:30:00.5+01:00' }] });
        return at;
      };
      const filter = { status: q.status, label: q.label, external_id: q.external_id, flag: q.flag, model: q.model, created_after: when('created_after'), created_before: when('created_before'), before_id: before, limit };
      reply.type('application/json; charset=utf-8');
      if (q.include !== 'result') return reply.send(await pages.page(await s.records.listVersions(filter), limit, (ids) => s.records.packedRows(ids)));
      const rows = await s.records.list(filter);
      const page = rows.slice(0, limit);
      // the items are built field by field by renderRecord: plain JSON.stringify is exact, and far
      // cheaper than the schema serializer, which checks each item's nullable parts one by one
      return reply.serializer(JSON.stringify).send({ items: page.map((r) => renderRecord(r, r.flag_list ? r.flag_list.split(',') : [])), next_cursor: rows.length > limit ? encodeCursor(page.at(-1)!.id) : null });
    });

    app.get('/v1/diagnoses/:id', {
      schema: {
        tags, summary: 'One diagnosis record', operationId: 'getDiagnosis', description: 'With ?wait=N, waits up to N seconds for a queued or running record to finish. Send the ETag back in If-None-Match to get 304 while it has not changed.', params: ParamsSchema, querystring: WaitQuerySchema, headers: NoneMatchHeaders,
        response: { 200: json('Diagnosis', 'the record (after up to `wait` seconds for it to finish)', ['ETag']), 304: empty('unchanged since the ETag in If-None-Match', ['ETag']), ...problems(...AUTH_PROBLEMS, 404) },
      },
      config: { role: 'read' },
    }, async (req, reply) => answer(reply, await get(req.params.id), req.query.wait ?? 0, false));

    app.delete('/v1/diagnoses/:id', {
      schema: {
        tags, summary: 'Delete a record, its images, and its audio once no other record holds the same bytes', operationId: 'deleteDiagnosis', description: 'Admin keys only. The record, its images, figure and review go; the audio goes too unless another record holds the same bytes.', params: ParamsSchema,
        response: { 204: empty('deleted'), ...problems(...AUTH_PROBLEMS, 404, 503) },
      },
      config: { role: 'admin' },
    }, async (req, reply) => {
      if (!(await s.intake.delete(req.params.id))) throw notFound(req.params.id);
      return reply.code(204).send(null);
    });

    app.post('/v1/diagnoses/:id/retry', {
      schema: {
        tags, summary: 'Run a failed record again', operationId: 'retryDiagnosis', description: 'A record that failed for a reason other than its recording (a model or storage fault) runs again from its stored audio; ?wait= as for an upload.', params: ParamsSchema, querystring: WaitQuerySchema,
        response: {
          201: json('Diagnosis', 'run again and finished within `wait`', ['Location']),
          202: json('Diagnosis', 'queued again: GET Location for the result', ['Location']),
          ...problems(...AUTH_PROBLEMS, 404, [409, 'only a failed record can be retried'], 410, 422, 503),
        },
      },
      config: { role: 'write' },
    }, async (req, reply) => {
      if (!s.dispatcher.isAccepting) throw unavailable('the server is shutting down');
      return answer(reply, await s.intake.retry(req.params.id), req.query.wait ?? 0, true);
    });

    app.get('/v1/diagnoses/:id/audio', {
      schema: {
        tags, summary: 'The original recording, byte for byte (Range requests supported)', operationId: 'getDiagnosisAudio', params: ParamsSchema,
        description: "Served under the media type tosia reads in the bytes (never the uploader's claim); application/octet-stream when it is not one it knows.",
        headers: Type.Object({
          range: Type.Optional(Type.String({ maxLength: 200, description: 'one range: bytes=first-last, bytes=first- or bytes=-suffix (RFC 9110); others are ignored and the whole file is sent' })),
          ...NoneMatchHeaders.properties,
        }),
        response: {
          200: bytes(AUDIO_TYPES, 'the uploaded bytes', ['ETag', 'Accept-Ranges', 'Content-Disposition']),
          206: bytes(AUDIO_TYPES, 'the requested range', ['ETag', 'Accept-Ranges', 'Content-Range', 'Content-Disposition']),
          304: empty('unchanged since the ETag in If-None-Match', ['ETag']),
          ...problems(...AUTH_PROBLEMS, 404, 410, 416),
        },
      },
      config: { role: 'read' },
    }, async (req, reply) => {
      const row = await get(req.params.id);
      if (row.audio_purged_at !== null) throw new Problem(410, 'E_GONE', `the audio of ${row.id} was deleted on ${row.audio_purged_at} under the retention policy`);
      const size = await s.audio.size(row.sha256);
      if (size === null) throw new Problem(410, 'E_GONE', `the audio of ${row.id} is no longer stored`);
      // the audio's own sha256 is its version: the bytes behind a record never change
      if (ifNoneMatch(req, reply, `"${row.sha256}"`)) return reply.send();
      // the type tosia reads in the bytes, never the one the uploader claimed (video/html, say)
      const head = Buffer.concat(await (await s.audio.openRange(row.sha256, { start: 0, end: Math.min(size, 4096) - 1 })).toArray());
      reply.header('accept-ranges', 'bytes').type(audioContentType(head));
      if (row.filename) reply.header('content-disposition', `inline; filename*=UTF-8''${encodeURIComponent(row.filename)}`);
      const range = parseRange(req.headers.range, size);
      if (range === 'unsatisfiable') throw new Problem(416, 'E_RANGE', `the range ${req.headers.range} is outside the ${size} bytes of the recording`, { headers: { 'content-range': `bytes */${size}` } });
      if (range === null) return reply.header('content-length', size).send(await s.audio.openRange(row.sha256));
      return reply.code(206).header('content-range', `bytes ${range.start}-${range.end}/${size}`).header('content-length', range.end - range.start + 1)
        .send(await s.audio.openRange(row.sha256, range));
    });

    app.get('/v1/diagnoses/:id/segments/:n(^\\d+).png', {
      schema: {
        tags, summary: "A segment's model-input image (PNG)", operationId: 'getSegmentImage', description: 'The coloured mel spectrogram of segment n (0-based), exactly as the model saw it. Images are kept until the retention policy deletes the audio.', params: SegmentParamsSchema, headers: NoneMatchHeaders,
        response: { 200: bytes(['image/png'], "the segment's coloured mel spectrogram, as the model saw it", ['ETag']), 304: empty('unchanged since the ETag in If-None-Match', ['ETag']), ...problems(...AUTH_PROBLEMS, [404, 'no such record, or no such segment'], 410) },
      },
      config: { role: 'read' },
    }, async (req, reply) => {
      const row = await get(req.params.id);
      if (row.audio_purged_at !== null) throw new Problem(410, 'E_GONE', `the images of ${row.id} were deleted on ${row.audio_purged_at} under the retention policy`);
      if (req.params.n >= Number(row.images)) throw new Problem(404, 'E_NOT_FOUND', `${row.id} has ${row.images} segment image(s); there is no segment ${req.params.n}`);
      const png = await s.records.image(row.id, req.params.n);
      if (!png) throw new Problem(404, 'E_NOT_FOUND', `${row.id} has no image of segment ${req.params.n}`);
      reply.header('cache-control', 'private, max-age=86400');
      if (ifNoneMatch(req, reply, etagOf(png))) return reply.send();
      return reply.type('image/png').send(png);
    });
  };
}

/** One byte range of `bytes=a-b`, `bytes=a-` or `bytes=-n`; null for none or one not understood (RFC 9110 lets us send it all). */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | null | 'unsatisfiable' {
  if (header === undefined) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}

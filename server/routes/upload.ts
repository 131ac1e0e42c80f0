import type { Readable } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import Value from 'typebox/value';
import { TooLarge, type AudioStore, type Staged } from '../audio-store/audio-store.js';
import type { Submission } from '../intake/intake.js';
import { SourceRefused, type SourceStores } from '../audio-store/source-stores.js';
import { audioMime } from '../../runtime/index.js';
import { Problem, type FieldError } from '../problem.js';
import { MAX_METADATA_BYTES, UploadFieldsSchema, type UploadFields } from '../schemas/diagnosis.js';

/** Media types a recording may come under; the bytes themselves are sniffed at decode. */
export function isAudioType(type: string): boolean {
  const t = type.split(';')[0]!.trim().toLowerCase();
  return t.startsWith('audio/') || t.startsWith('video/') || t === 'application/ogg' || t === 'application/octet-stream';
}

const FIELDS = Object.keys(UploadFieldsSchema.properties);

/** A JSON body: a recording by reference ({"source": …}). */
export const isJson = (req: FastifyRequest) => /^application\/json\b/i.test(String(req.headers['content-type'] ?? ''));

/**
 * Read the recording and its fields from a multipart form (`file` plus external_id, metadata,
 * callback_url) or from a raw audio/* body (fields in the query) into the audio store's staging.
 * The body is hashed as it is written and never held whole in memory; reading stops at `limit`
 * bytes (413).
 */
export async function readUpload(req: FastifyRequest, audio: AudioStore, limit: number, query: { external_id?: string; filename?: string; callback_url?: string }, sources: SourceStores): Promise<Submission> {
  let received: Staged | null = null;
  try {
    let fields: Record<string, string> = {};
    let filename: string | null;
    let contentType: string;
    if (isJson(req)) {
      // a reference to a recording already in an allow-listed container: read once, kept like an upload
      const body = req.body as Record<string, unknown> | null;
      if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badField('body', 'must be a JSON object: {"source": "azblob://container/path", "external_id": …}');
      const extra = Object.keys(body).filter((k) => k !== 'source' && !FIELDS.includes(k));
      if (extra.length) throw badField(extra[0]!, `is not a known field; a reference takes source, ${FIELDS.join(', ')}`);
      if (typeof body.source !== 'string' || body.source.length === 0 || body.source.length > 2048) throw badField('source', 'must be the URL of a recording (azblob://container/path or s3://bucket/path), at most 2048 characters');
      for (const k of ['external_id', 'filename', 'callback_url'] as const) {
        if (query[k] !== undefined) throw new Problem(400, 'E_INPUT', `querystring.${k} is for raw audio bodies; put ${k === 'filename' ? 'nothing (the source names the recording)' : k} in the JSON body`, { errors: [{ field: `querystring.${k}`, message: 'not accepted with a JSON body' }] });
      }
      let object: { body: Readable; size: number };
      try {
        object = await sources.open(body.source, limit);
      } catch (e) {
        if (e instanceof SourceRefused) throw new Problem(e.status, e.status === 403 ? 'E_FORBIDDEN' : 'E_INPUT', e.message, { errors: [{ field: 'source', message: e.message }] });
        throw e;
      }
      received = await receive(audio, object.body, limit);
      for (const k of ['external_id', 'callback_url'] as const) if (body[k] !== undefined) fields[k] = body[k] as string;
      if (body.metadata !== undefined) fields.metadata = typeof body.metadata === 'string' ? body.metadata : JSON.stringify(body.metadata);
      filename = body.source;
      contentType = audioMime(body.source);
    } else if (req.isMultipart()) {
      for (const k of ['external_id', 'filename', 'callback_url'] as const) {
        if (query[k] !== undefined) throw new Problem(400, 'E_INPUT', `querystring.${k} is for raw audio bodies; send it as the form field ${k === 'filename' ? "of the file part's filename" : k}`, { errors: [{ field: `querystring.${k}`, message: 'not accepted with a multipart body' }] });
      }
      let file: { filename: string | null; type: string } | null = null;
      for await (const part of req.parts()) {
        if (part.type === 'file') {
          if (part.fieldname !== 'file') throw badField(part.fieldname, `is a file part; the recording goes in the part named "file"`);
          if (received) throw badField('file', 'appears twice; send one recording per request');
          if (!isAudioType(part.mimetype)) {
            throw new Problem(415, 'E_INPUT', `the file part's content type ${JSON.stringify(part.mimetype)} is not audio`, { errors: [{ field: 'file', message: 'must be audio/*' }] });
          }
          received = await receive(audio, part.file, limit);
          file = { filename: part.filename || null, type: part.mimetype };
        } else {
          if (!FIELDS.includes(part.fieldname)) throw badField(part.fieldname, `is not a known field; the form takes file, ${FIELDS.join(', ')}`);
          if (part.fieldname in fields) throw badField(part.fieldname, 'appears twice');
          if (part.valueTruncated) throw badField(part.fieldname, 'is too long');
          fields[part.fieldname] = String(part.value);
        }
      }
      if (!received || !file) throw badField('file', 'is missing: the form needs a part named "file" holding the recording');
      filename = file.filename;
      contentType = file.type;
    } else {
      const body = req.body as Readable | undefined;
      if (!body || typeof (body as Readable).pipe !== 'function') throw badField('body', 'is empty: send the recording as the body');
      received = await receive(audio, body, limit);
      fields = Object.fromEntries(Object.entries({ external_id: query.external_id, callback_url: query.callback_url }).filter(([, v]) => v !== undefined)) as Record<string, string>;
      filename = query.filename ?? null;
      contentType = String(req.headers['content-type']).split(';')[0]!.trim();
    }
    if (received.size === 0) throw badField(isJson(req) ? 'source' : req.isMultipart() ? 'file' : 'body', 'is empty (0 bytes): there is no recording');
    // what the JSON and query hook cannot see: the form's fields and the file part's name
    for (const [k, v] of Object.entries({ ...fields, filename: filename ?? '' })) if (v.includes('\u0000')) throw badField(k, 'holds a NUL character (U+0000), which no text here may hold');
    const checked = checkFields(fields);
    return { staged: received, filename, contentType, externalId: checked.external_id ?? null, metadata: checked.metadata ?? null, callbackUrl: checked.callback_url ?? null };
  } catch (e) {
    if (received) await audio.discard(received);
    throw e;
  }
}

async function receive(audio: AudioStore, body: Readable, limit: number): Promise<Staged> {
  // busboy says 'limit' when a file part passes its size; stop there instead of reading on
  const onLimit = () => body.destroy(new TooLarge(limit));
  body.once('limit', onLimit);
  try {
    return await audio.receive(body, limit);
  } catch (e) {
    if (e instanceof TooLarge) throw tooLarge(limit);
    throw e;
  } finally {
    body.off('limit', onLimit);
  }
}

export function tooLarge(limit: number): Problem {
  return new Problem(413, 'E_INPUT', `the recording is larger than this server's --max-upload-mb (${(limit / 1048576).toFixed(0)} MB); nothing was stored`, { headers: { connection: 'close' }, hint: 'split the recording, or ask the operator to raise --max-upload-mb' });
}

function badField(field: string, message: string): Problem {
  return new Problem(400, 'E_INPUT', `${field} ${message}`, { errors: [{ field, message }] });
}

function checkFields(fields: Record<string, string>): UploadFields {
  const errors: FieldError[] = [];
  if (!Value.Check(UploadFieldsSchema, fields)) {
    for (const e of Value.Errors(UploadFieldsSchema, fields)) {
      const field = e.instancePath.replace(/^\//, '') || String((e.params as { additionalProperties?: string[] }).additionalProperties?.[0] ?? 'form');
      errors.push({ field, message: e.message });
    }
  }
  if (fields.metadata !== undefined && !errors.some((e) => e.field === 'metadata')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(fields.metadata);
    } catch {
      // the client's mistake, answered as a 400 naming the field
      errors.push({ field: 'metadata', message: 'is not JSON' });
    }
    if (parsed !== undefined && (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))) errors.push({ field: 'metadata', message: 'must be a JSON object' });
    if (Buffer.byteLength(fields.metadata) > MAX_METADATA_BYTES) errors.push({ field: 'metadata', message: `is larger than ${MAX_METADATA_BYTES} bytes` });
  }
  if (errors.length > 0) throw new Problem(400, 'E_INPUT', errors.map((e) => `${e.field} ${e.message}`).join('; '), { errors });
  return fields as UploadFields;
}

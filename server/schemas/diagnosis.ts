import { Type, type Static } from 'typebox';

/**
 * The API's schemas. The same objects validate requests, serialise responses and make the
 * OpenAPI document (/openapi.json), so the document cannot drift from what the server does.
 */

export const MAX_EXTERNAL_ID = 200;
export const MAX_METADATA_BYTES = 8192;
export const MAX_CALLBACK_URL = 2048;
export const MAX_WAIT_S = 120;
export const MAX_PAGE = 500;
/** A served model's name (server/models/served-models.ts MODEL_NAME). */
export const MODEL_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';

export const Id = Type.String({ pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$', description: 'UUIDv7: sorts by creation time' });
export const Time = Type.String({ format: 'date-time' });
export const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

export const StatusSchema = Type.Union([Type.Literal('queued'), Type.Literal('running'), Type.Literal('done'), Type.Literal('failed')]);

export const ParamsSchema = Type.Object({ id: Id }, { additionalProperties: false });
export const SegmentParamsSchema = Type.Object({ id: Id, n: Type.Integer({ minimum: 0, maximum: 100_000 }) }, { additionalProperties: false });

export const PostQuerySchema = Type.Object({
  wait: Type.Optional(Type.Number({ minimum: 0, maximum: MAX_WAIT_S, default: 30, description: 'seconds to wait for the result before answering 202' })),
  force: Type.Optional(Type.Boolean({ default: false, description: 'run again even when the same bytes were diagnosed under the same config and model' })),
  external_id: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_EXTERNAL_ID, description: 'raw audio bodies only (multipart sends it as a field)' })),
  filename: Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: 'raw audio bodies only: the name the recording had (metadata only)' })),
  callback_url: Type.Optional(Type.String({ format: 'uri', maxLength: MAX_CALLBACK_URL, pattern: '^https?://', description: 'raw audio bodies only (multipart sends it as a field)' })),
  model: Type.Optional(Type.String({ pattern: MODEL_NAME_PATTERN, maxLength: 64, description: 'the served model to run it with (GET /v1/models); the default model without it' })),
}, { additionalProperties: false });

export const WaitQuerySchema = Type.Object({
  wait: Type.Optional(Type.Number({ minimum: 0, maximum: MAX_WAIT_S, default: 0, description: 'seconds to wait for the record to finish' })),
}, { additionalProperties: false });

/** The text fields of a multipart upload (the file part is `file`). */
export const UploadFieldsSchema = Type.Object({
  external_id: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_EXTERNAL_ID, description: "the caller's own id for this recording" })),
  metadata: Type.Optional(Type.String({ maxLength: MAX_METADATA_BYTES, description: `a JSON object of at most ${MAX_METADATA_BYTES} bytes, kept with the record` })),
  callback_url: Type.Optional(Type.String({ format: 'uri', maxLength: MAX_CALLBACK_URL, pattern: '^https?://', description: 'POSTed the record when it finishes, signed with X-Tosia-Signature' })),
}, { additionalProperties: false });
export type UploadFields = Static<typeof UploadFieldsSchema>;

export const ListQuerySchema = Type.Object({
  status: Type.Optional(StatusSchema),
  label: Type.Optional(Type.String({ maxLength: 200 })),
  external_id: Type.Optional(Type.String({ maxLength: MAX_EXTERNAL_ID })),
  flag: Type.Optional(Type.String({ maxLength: 100, description: 'a quality flag: clipped, too_quiet, too_short, low_snr, no_cough, truncated, corrupt' })),
  created_after: Type.Optional(Type.String({ format: 'date-time', maxLength: 64, description: 'records created after this instant (exclusive): RFC 3339, any offset, e.g. 2026-12-06T10:30:00+01:00' })),
  created_before: Type.Optional(Type.String({ format: 'date-time', maxLength: 64, description: 'records created before this instant (exclusive): RFC 3339, any offset' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 200, description: 'next_cursor of the previous page' })),
  model: Type.Optional(Type.String({ pattern: MODEL_NAME_PATTERN, maxLength: 64, description: 'records made by this served model' })),
  include: Type.Optional(Type.Literal('result', { description: "result: each item carries its whole result (a page is then about ten times larger); without it, each item's outcome only" })),
}, { additionalProperties: false });
export type ListQuery = Static<typeof ListQuerySchema>;

export const ErrorSchema = Type.Object({ code: Type.String({ description: "tosia's stable error code (E_INPUT, E_DECODE, …)" }), stage: Nullable(Type.String({ description: 'the pipeline stage that failed' })), message: Type.String() }, { description: 'why a record failed' });

/** A record's short verdict: what a list shows without the whole result. */
export const OutcomeSchema = Type.Object({
  label: Type.String({ description: 'the positive label, the best other label, or no_cough' }),
  score: Nullable(Type.Number({ minimum: 0, maximum: 1, description: 'the score for the positive label; null when there is no cough' })),
  n_segments: Type.Integer({ minimum: 0, description: 'coughs that counted' }),
}, { description: "the recording's label and score, from result.diagnosis" });

export const DiagnosisSchema = Type.Object({
  id: Id,
  external_id: Nullable(Type.String({ description: "the caller's own id for this submission" })),
  status: StatusSchema,
  deduplicated: Type.Optional(Type.Boolean({ description: 'true when the bytes had been diagnosed before under the same config and model, and that result was reused instead of running again' })),
  created_at: Time,
  started_at: Nullable(Time),
  finished_at: Nullable(Time),
  attempts: Type.Integer({ minimum: 0 }),
  source: Type.Object({
    filename: Nullable(Type.String()),
    content_type: Type.String({ description: 'the type the uploader declared (the audio route answers with the type tosia sniffs)' }),
    size_bytes: Type.Integer({ minimum: 0 }),
    sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
  }),
  config_sha256: Type.String(),
  model_sha256: Type.String(),
  model: Nullable(Type.String({ description: 'the served model that made it (the NAME of `tosia serve --model NAME=PATH`; GET /v1/models); null for records made before models were named' })),
  shadow: Nullable(Type.Object({
    state: Type.Union([Type.Literal('pending'), Type.Literal('done'), Type.Literal('failed')], { description: 'pending until the shadow model has scored the recording' }),
    model: Type.Optional(Type.String({ description: 'the shadow model (--shadow NAME)' })),
    model_sha256: Type.Optional(Type.String()),
    label: Type.Optional(Type.String({ description: "the shadow model's label for the recording" })),
    score: Type.Optional(Nullable(Type.Number({ minimum: 0, maximum: 1 }))),
    n_segments: Type.Optional(Type.Integer({ minimum: 0 })),
    error: Type.Optional(Type.Ref('RecordError')),
  }, { description: "the shadow model's verdict (tosia serve --shadow NAME), beside the record's own and never in place of it; null when no shadow scores it" })),
  metadata: Nullable(Type.Object({}, { additionalProperties: true, description: "the caller's JSON object, kept as it was sent" })),
  flags: Type.Array(Type.String(), { description: 'quality flags: clipped, too_quiet, too_short, low_snr, no_cough, truncated, corrupt' }),
  outcome: Nullable(Type.Ref('Outcome')),
  result: Type.Optional(Nullable(Type.Ref('Result', { description: "tosia's result JSON (schema_version 1), as `tosia run --json` prints it. On a single record always; on a list only with ?include=result" }))),
  error: Nullable(Type.Ref('RecordError')),
  webhook: Nullable(Type.Object({
    url: Type.String(),
    state: Nullable(Type.String({ description: 'pending, delivered or failed' })),
    attempts: Type.Integer({ minimum: 0 }),
    last_error: Nullable(Type.String()),
    at: Nullable(Time),
  })),
  audio_purged_at: Nullable(Time),
  links: Type.Object({
    self: Type.String(),
    audio: Nullable(Type.String()),
    segments: Type.Array(Type.String()),
  }),
}, { description: 'one submitted recording: its status, identity and, once done, its result' });
export type Diagnosis = Static<typeof DiagnosisSchema> & { result?: unknown; outcome: Static<typeof OutcomeSchema> | null; error: Static<typeof ErrorSchema> | null };

export const DiagnosisPageSchema = Type.Object({
  items: Type.Array(Type.Ref('Diagnosis')),
  next_cursor: Nullable(Type.String({ description: 'pass it as ?cursor= for the next page; null on the last' })),
}, { description: 'a page of records, newest first' });

export const FieldErrorSchema = Type.Object({ field: Type.String({ description: 'where: querystring.limit, body.label, file, …' }), message: Type.String() });

export const ProblemSchema = Type.Object({
  type: Type.String({ description: 'about:blank' }),
  title: Type.String(),
  status: Type.Integer({ minimum: 400, maximum: 599 }),
  detail: Type.String({ description: 'what went wrong, naming the thing, and what to do' }),
  code: Type.String({ description: "tosia's stable error code: E_INPUT, E_DECODE, E_CONFIG, E_MODEL, E_OUTPUT, E_AUTH, E_FORBIDDEN, E_NOT_FOUND, E_METHOD, E_GONE, E_CONFLICT, E_PRECONDITION, E_RANGE, E_RATE_LIMITED, E_UNAVAILABLE, E_INTERNAL" }),
  instance: Type.Optional(Type.String({ description: 'the path asked for' })),
  hint: Type.Optional(Type.String({ description: 'how to fix it' })),
  errors: Type.Optional(Type.Array(Type.Ref('FieldError'))),
  record: Type.Optional(Type.Ref('Diagnosis', { description: 'the record the failure was kept as (a recording that does not decode)' })),
}, { additionalProperties: true, description: 'RFC 9457 problem details' });

const Span = Type.Object({ start_s: Type.Number({ minimum: 0 }), end_s: Type.Number({ minimum: 0 }) }, { additionalProperties: false });

export const ReviewBodySchema = Type.Object({
  reviewed: Type.Boolean({ description: 'the recording has been looked at; only reviewed records are exported' }),
  label: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 100, description: "the label the reviewer believes: one of the model's labels, or no_cough; null leaves the model's" }))),
  not_cough: Type.Optional(Type.Array(Type.Integer({ minimum: 0 }), { maxItems: 10_000, description: 'indexes of segments that are not coughs' })),
  added: Type.Optional(Type.Array(Span, { maxItems: 10_000, description: 'coughs the segmenter missed, in seconds' })),
  note: Type.Optional(Nullable(Type.String({ maxLength: 2000 }))),
}, { additionalProperties: false });

export const ReviewSchema = Type.Object({
  id: Id,
  reviewed: Type.Boolean(),
  label: Nullable(Type.String()),
  not_cough: Type.Array(Type.Integer()),
  added: Type.Array(Span),
  note: Nullable(Type.String()),
  reviewer: Type.String({ description: 'the name of the API key that stored it' }),
  reviewed_at: Time,
});

/** The JSON form of an upload: a recording already in a container or bucket the server allows. */
export const SourceReferenceSchema = Type.Object({
  source: Type.String({ minLength: 1, maxLength: 2048, description: 'azblob://container/path or s3://bucket/path, under a --source-store the server allows' }),
  external_id: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_EXTERNAL_ID })),
  metadata: Type.Optional(Type.Object({}, { additionalProperties: true, description: `a JSON object of at most ${MAX_METADATA_BYTES} bytes` })),
  callback_url: Type.Optional(Type.String({ format: 'uri', maxLength: MAX_CALLBACK_URL })),
}, { additionalProperties: false, description: 'diagnose a recording by reference: it is read once and kept like an upload' });

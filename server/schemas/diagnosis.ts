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

const Id = Type.String({ pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$', description: 'UUIDv7: sorts by creation time' });
const Time = Type.String({ format: 'date-time' });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

export const StatusSchema = Type.Union([Type.Literal('queued'), Type.Literal('running'), Type.Literal('done'), Type.Literal('failed')]);

export const ParamsSchema = Type.Object({ id: Id }, { additionalProperties: false });
export const SegmentParamsSchema = Type.Object({ id: Id, n: Type.Integer({ minimum: 0, maximum: 100_000 }) }, { additionalProperties: false });

export const PostQuerySchema = Type.Object({
  wait: Type.Optional(Type.Number({ minimum: 0, maximum: MAX_WAIT_S, default: 30, description: 'seconds to wait for the result before answering 202' })),
  force: Type.Optional(Type.Boolean({ default: false, description: 'run again even when the same bytes were diagnosed under the same config and model' })),
  external_id: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_EXTERNAL_ID, description: 'raw audio bodies only (multipart sends it as a field)' })),
  filename: Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: 'raw audio bodies only: the name the recording had (metadata only)' })),
  callback_url: Type.Optional(Type.String({ format: 'uri', maxLength: MAX_CALLBACK_URL, pattern: '^https?://', description: 'raw audio bodies only (multipart sends it as a field)' })),
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
  created_after: Type.Optional(Time),
  created_before: Type.Optional(Time),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 200, description: 'next_cursor of the previous page' })),
}, { additionalProperties: false });
export type ListQuery = Static<typeof ListQuerySchema>;

export const ErrorSchema = Type.Object({ code: Type.String(), stage: Nullable(Type.String()), message: Type.String() });

export const DiagnosisSchema = Type.Object({
  id: Id,
  external_id: Nullable(Type.String()),
  status: StatusSchema,
  deduplicated: Type.Optional(Type.Boolean({ description: 'true when an existing record of the same bytes, config and model was returned' })),
  created_at: Time,
  started_at: Nullable(Time),
  finished_at: Nullable(Time),
  attempts: Type.Integer(),
  source: Type.Object({
    filename: Nullable(Type.String()),
    content_type: Type.String(),
    size_bytes: Type.Integer(),
    sha256: Type.String(),
  }),
  config_sha256: Type.String(),
  model_sha256: Type.String(),
  metadata: Nullable(Type.Object({}, { additionalProperties: true })),
  flags: Type.Array(Type.String()),
  result: Nullable(Type.Unknown({ description: "tosia's result JSON (schema_version 1), as `tosia run --json` prints it" })),
  error: Nullable(ErrorSchema),
  webhook: Nullable(Type.Object({
    url: Type.String(),
    state: Nullable(Type.String()),
    attempts: Type.Integer(),
    last_error: Nullable(Type.String()),
    at: Nullable(Time),
  })),
  audio_purged_at: Nullable(Time),
  links: Type.Object({
    self: Type.String(),
    audio: Nullable(Type.String()),
    segments: Type.Array(Type.String()),
  }),
});
export type Diagnosis = Static<typeof DiagnosisSchema>;

export const DiagnosisListSchema = Type.Object({
  items: Type.Array(DiagnosisSchema),
  next_cursor: Nullable(Type.String()),
});

export const ProblemSchema = Type.Object({
  type: Type.String(),
  title: Type.String(),
  status: Type.Integer(),
  detail: Type.String(),
  code: Type.String({ description: "tosia's stable error code" }),
  instance: Type.Optional(Type.String()),
  errors: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))),
  record: Type.Optional(DiagnosisSchema),
}, { additionalProperties: true });

/** Responses every authenticated route can give besides its own. */
export const authProblems = {
  401: ProblemSchema,
  403: ProblemSchema,
  429: ProblemSchema,
} as const;

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

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { Readable } from 'node:stream';
import createFetchClient, { type Client } from 'openapi-fetch';
import type { components, operations, paths } from './api-types.js';

/**
 * A typed client for `tosia serve`, generated at build time from the OpenAPI document the server
 * serves (openapi-typescript for the types, openapi-fetch for the calls):
 *
 *   import { createClient } from 'tosia/client';
 *   const tosia = createClient({ baseUrl: 'http://127.0.0.1:8080', apiKey: process.env.TOSIA_KEY });
 *   const d = await tosia.upload('call.ogg', { externalId: 'call-17' });
 *   const done = await tosia.wait(d.id);
 *   for await (const item of tosia.list({ status: 'done' })) console.log(item.id, item.outcome?.label);
 *
 * Every error answer becomes a TosiaProblem carrying the server's RFC 9457 problem.
 */

export type Schemas = components['schemas'];
export type Diagnosis = Schemas['Diagnosis'];
export type DiagnosisPage = Schemas['DiagnosisPage'];
export type Result = Schemas['Result'];
export type Segment = Schemas['Segment'];
export type Model = Schemas['Model'];
/** A model the server serves (GET /v1/models); `Model` is a result's model identity. */
export type ServedModel = Schemas['ServedModel'];
export type Evaluation = Schemas['Evaluation'];
export type EvaluationFilter = Schemas['EvaluationFilter'];
export type Review = Schemas['Review'];
export type ReviewInput = Schemas['ReviewInput'];
export type Problem = Schemas['Problem'];
export type ListQuery = NonNullable<operations['listDiagnoses']['parameters']['query']>;
export type { paths, components, operations };

/** An error answer: the problem the server sent, with its status and stable code. */
export class TosiaProblem extends Error {
  readonly status: number;
  readonly code: string;
  constructor(readonly problem: Problem, readonly response: Response) {
    super(`${problem.code} (${problem.status}): ${problem.detail}`);
    this.name = 'TosiaProblem';
    this.status = problem.status;
    this.code = problem.code;
  }
}

export interface ClientOptions {
  /** Where `tosia serve` listens, e.g. http://127.0.0.1:8080. */
  baseUrl: string;
  /** An API key (tosia keys create); sent as Authorization: Bearer. */
  apiKey?: string;
  /** A fetch of your own (a proxy, a test double); the global fetch by default. */
  fetch?: typeof fetch;
}

export interface UploadOptions {
  externalId?: string;
  /** A JSON object kept with the record. */
  metadata?: Record<string, unknown>;
  callbackUrl?: string;
  /** The recording's name (a path's own name by default). */
  filename?: string;
  /** The media type (from the file name by default, else application/octet-stream). */
  contentType?: string;
  /** Seconds the server may wait for the result before answering 202 (0–120; default 30). */
  wait?: number;
  /** Makes a retried upload safe: the same key with the same request gives the same record. */
  idempotencyKey?: string;
  /** Run again even when the same bytes were diagnosed. */
  force?: boolean;
  /** The served model to run it with (models() lists them); the server's default without it. */
  model?: string;
}

/** What to upload: a file path, bytes, a stream, or a recording already in an allowed container. */
export type UploadInput = string | Uint8Array | ArrayBuffer | Blob | ReadableStream<Uint8Array> | Readable | { source: string };

type Body = NonNullable<RequestInit['body']>;

const TYPES: Record<string, string> = { '.wav': 'audio/wav', '.flac': 'audio/flac', '.ogg': 'audio/ogg', '.oga': 'audio/ogg', '.opus': 'audio/ogg', '.mp3': 'audio/mpeg', '.m4a': 'audio/mp4', '.mp4': 'audio/mp4', '.webm': 'audio/webm' };

async function problemOf(response: Response, body: unknown): Promise<TosiaProblem> {
  const p = (body && typeof body === 'object' && 'code' in body ? body : { type: 'about:blank', title: response.statusText, status: response.status, detail: typeof body === 'string' ? body : `HTTP ${response.status}`, code: 'E_HTTP' }) as Problem;
  return new TosiaProblem(p, response);
}

export interface TosiaClient {
  /** The generated client itself, for any route: `api.GET('/v1/diagnoses/{id}', { params: { path: { id } } })`. */
  readonly api: Client<paths>;
  /** Upload one recording; the record as the server answered (done or failed within `wait`, else queued). */
  upload(input: UploadInput, options?: UploadOptions): Promise<Diagnosis>;
  /** One record; with `wait`, after up to that many seconds for it to finish. */
  get(id: string, options?: { wait?: number }): Promise<Diagnosis>;
  /** Poll until the record is done or failed (or `timeoutMs` passes: a TosiaProblem E_TIMEOUT). */
  wait(id: string, options?: { timeoutMs?: number }): Promise<Diagnosis>;
  /** Every record matching the filters, newest first, page after page. */
  list(query?: Omit<ListQuery, 'cursor'>): AsyncGenerator<Diagnosis>;
  /** Save a review; with `ifMatch` (the ETag of the review you saw) only over that version (412 otherwise). */
  review(id: string, review: ReviewInput, options?: { ifMatch?: string }): Promise<{ review: Review; etag: string | null }>;
  /** The review and its ETag, or null when there is none. */
  getReview(id: string): Promise<{ review: Review; etag: string | null } | null>;
  retry(id: string, options?: { wait?: number }): Promise<Diagnosis>;
  delete(id: string): Promise<void>;
  /** The models the server serves, the default first. */
  models(): Promise<ServedModel[]>;
  /** Make a served model the default (an admin key); the models as they are now. */
  setDefaultModel(name: string): Promise<ServedModel[]>;
  /**
   * Measure a served model on the reviewed records, beside the default, and wait for the result
   * (done or failed; a TosiaProblem E_TIMEOUT after `timeoutMs`, default 10 minutes).
   */
  evaluate(model: string, options?: { filter?: EvaluationFilter; timeoutMs?: number }): Promise<Evaluation>;
}

export function createClient(options: ClientOptions): TosiaClient {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const headers: Record<string, string> = options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {};
  const f = options.fetch ?? fetch;
  // a streamed body needs duplex: 'half' in Node's fetch
  const api = createFetchClient<paths>({ baseUrl, headers, fetch: (req: Request) => f(req) });

  /** The data of a 2xx, or the answer's problem thrown. */
  async function ok<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<{ data: T; response: Response }> {
    const { data, error, response } = await call;
    if (!response.ok) throw await problemOf(response, error);
    return { data: data as T, response };
  }

  async function body(input: UploadInput, o: UploadOptions): Promise<{ body: Body; type: string; filename?: string; size?: number }> {
    if (typeof input === 'string') {
      const { size } = await stat(input);
      return { body: Readable.toWeb(createReadStream(input)) as ReadableStream<Uint8Array>, type: o.contentType ?? TYPES[extname(input).toLowerCase()] ?? 'application/octet-stream', filename: o.filename ?? basename(input), size };
    }
    if (input instanceof Readable) return { body: Readable.toWeb(input) as ReadableStream<Uint8Array>, type: o.contentType ?? 'application/octet-stream', filename: o.filename };
    if (input instanceof Blob) return { body: input, type: o.contentType ?? (input.type || 'application/octet-stream'), filename: o.filename };
    return { body: input as Body, type: o.contentType ?? 'application/octet-stream', filename: o.filename };
  }

  const client: TosiaClient = {
    api,

    async upload(input, o = {}) {
      const query = { wait: o.wait, force: o.force, model: o.model };
      const header = o.idempotencyKey ? { 'idempotency-key': o.idempotencyKey } : undefined;
      if (typeof input === 'object' && input !== null && 'source' in input && typeof input.source === 'string') {
        const reference = { source: input.source, external_id: o.externalId, metadata: o.metadata, callback_url: o.callbackUrl };
        return (await ok(api.POST('/v1/diagnoses', { params: { query, header }, body: reference as never, headers: { 'content-type': 'application/json' } }))).data as Diagnosis;
      }
      const b = await body(input as Exclude<UploadInput, { source: string }>, o);
      const raw = { ...query, external_id: o.externalId, filename: b.filename, callback_url: o.callbackUrl };
      if (o.metadata !== undefined) {
        // metadata travels only in a form: the recording goes as its file part
        const form = new FormData();
        const blob = b.body instanceof Blob ? b.body : new Blob([new Uint8Array(await new Response(b.body).arrayBuffer())], { type: b.type });
        form.set('file', blob, b.filename ?? 'recording');
        form.set('metadata', JSON.stringify(o.metadata));
        if (o.externalId !== undefined) form.set('external_id', o.externalId);
        if (o.callbackUrl !== undefined) form.set('callback_url', o.callbackUrl);
        return (await ok(api.POST('/v1/diagnoses', { params: { query, header }, body: form as never, bodySerializer: (x: unknown) => x as FormData }))).data as Diagnosis;
      }
      return (await ok(api.POST('/v1/diagnoses', {
        params: { query: raw, header }, body: b.body as never, bodySerializer: (x: unknown) => x as Body,
        headers: { 'content-type': b.type, ...(b.size !== undefined ? { 'content-length': String(b.size) } : {}) },
        duplex: 'half',
      } as never))).data as Diagnosis;
    },

    async get(id, o = {}) {
      return (await ok(api.GET('/v1/diagnoses/{id}', { params: { path: { id }, query: o.wait === undefined ? undefined : { wait: o.wait } } }))).data as Diagnosis;
    },

    async wait(id, o = {}) {
      const until = Date.now() + (o.timeoutMs ?? 600_000);
      for (;;) {
        const left = until - Date.now();
        const d = await client.get(id, { wait: Math.max(0, Math.min(120, Math.floor(left / 1000))) });
        if (d.status === 'done' || d.status === 'failed') return d;
        if (Date.now() >= until) {
          throw new TosiaProblem({ type: 'about:blank', title: 'Timeout', status: 0, detail: `${id} is still ${d.status} after ${o.timeoutMs ?? 600_000} ms`, code: 'E_TIMEOUT' }, new Response(null));
        }
      }
    },

    async *list(query = {}) {
      let cursor: string | undefined;
      do {
        const page = (await ok(api.GET('/v1/diagnoses', { params: { query: { ...query, cursor } } }))).data as DiagnosisPage;
        yield* page.items;
        cursor = page.next_cursor ?? undefined;
      } while (cursor);
    },

    async review(id, review, o = {}) {
      const r = await ok(api.PUT('/v1/diagnoses/{id}/review', { params: { path: { id }, header: o.ifMatch ? { 'if-match': o.ifMatch } : undefined }, body: review }));
      return { review: r.data as Review, etag: r.response.headers.get('etag') };
    },

    async getReview(id) {
      const { data, error, response } = await api.GET('/v1/diagnoses/{id}/review', { params: { path: { id } } });
      if (response.status === 404 && (error as Problem | undefined)?.code === 'E_NOT_FOUND' && /has no review/.test((error as Problem).detail)) return null;
      if (!response.ok) throw await problemOf(response, error);
      return { review: data as Review, etag: response.headers.get('etag') };
    },

    async retry(id, o = {}) {
      return (await ok(api.POST('/v1/diagnoses/{id}/retry', { params: { path: { id }, query: o.wait === undefined ? undefined : { wait: o.wait } } }))).data as Diagnosis;
    },

    async delete(id) {
      await ok(api.DELETE('/v1/diagnoses/{id}', { params: { path: { id } } }));
    },

    async models() {
      return ((await ok(api.GET('/v1/models'))).data as { items: ServedModel[] }).items;
    },

    async evaluate(model, o = {}) {
      const accepted = (await ok(api.POST('/v1/evaluations', { body: { model, filter: o.filter } }))).data as Evaluation;
      const until = Date.now() + (o.timeoutMs ?? 600_000);
      for (let e = accepted; ; ) {
        if (e.status === 'done' || e.status === 'failed') return e;
        if (Date.now() >= until) throw new TosiaProblem({ type: 'about:blank', title: 'Timeout', status: 0, detail: `evaluation ${e.id} is still ${e.status} after ${o.timeoutMs ?? 600_000} ms`, code: 'E_TIMEOUT' }, new Response(null));
        await new Promise((r) => setTimeout(r, 500));
        e = (await ok(api.GET('/v1/evaluations/{id}', { params: { path: { id: accepted.id } } }))).data as Evaluation;
      }
    },

    async setDefaultModel(name) {
      return ((await ok(api.PUT('/v1/models/default', { body: { name } }))).data as { items: ServedModel[] }).items;
    },
  };
  return client;
}

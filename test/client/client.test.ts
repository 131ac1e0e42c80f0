import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, TosiaProblem, type Diagnosis, type TosiaClient } from '../../dist/client/index.js';
import { SAMPLE, SAMPLE_BYTES, startServer, variant, type Harness } from '../server/harness.js';

// Issue 24: tosia/client, generated at build time from the served document, against a real
// server over HTTP: every upload form, wait, paging, reviews with If-Match, and problems as
// typed errors.

describe('tosia/client', () => {
  let h: Harness;
  let tosia: TosiaClient;
  beforeAll(async () => {
    h = await startServer();
    tosia = createClient({ baseUrl: h.url, apiKey: h.keys.admin });
  });
  afterAll(async () => h?.close());

  it('uploads a path, a Buffer, a stream and a Blob; each a record with its result', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tosia-client-'));
    const path = join(dir, 'call-17.wav');
    writeFileSync(path, variant(900));
    const fromPath = await tosia.upload(path, { externalId: 'call-17', wait: 60 });
    expect(fromPath).toMatchObject({ status: 'done', external_id: 'call-17', source: { filename: 'call-17.wav', content_type: 'audio/wav' } });
    expect(fromPath.result?.segments.length).toBeGreaterThan(0);
    const fromBuffer = await tosia.upload(variant(901), { contentType: 'audio/wav', filename: 'b.wav', wait: 60 });
    expect(fromBuffer.status).toBe('done');
    const fromStream = await tosia.upload(createReadStream(SAMPLE), { contentType: 'audio/wav', wait: 60, force: true });
    expect(fromStream.source.sha256).toBe(createHash('sha256').update(SAMPLE_BYTES).digest('hex'));
    expect(fromStream.source.size_bytes).toBe(SAMPLE_BYTES.length);
    const fromBlob = await tosia.upload(new Blob([variant(902)], { type: 'audio/wav' }), { metadata: { ward: 7, site: 'north' }, externalId: 'blob-1', wait: 60 });
    expect(fromBlob).toMatchObject({ status: 'done', external_id: 'blob-1', metadata: { ward: 7, site: 'north' } });
  });

  it('wait polls until the record is finished; a short upload wait gives a queued record first', async () => {
    const queued = await tosia.upload(variant(910), { contentType: 'audio/wav', wait: 0 });
    expect(['queued', 'running', 'done']).toContain(queued.status);
    const done = await tosia.wait(queued.id, { timeoutMs: 60_000 });
    expect(done.status).toBe('done');
    expect(done.outcome?.label).toBe(done.result?.diagnosis.label);
  });

  it('list pages through every record matching the filters', async () => {
    for (let i = 0; i < 7; i++) await tosia.upload(variant(920 + i), { contentType: 'audio/wav', externalId: 'paged', wait: 60 });
    const seen: Diagnosis[] = [];
    for await (const d of tosia.list({ external_id: 'paged', limit: 3 })) seen.push(d);
    expect(seen).toHaveLength(7);
    expect(new Set(seen.map((d) => d.id)).size).toBe(7);
    expect(seen.every((d) => d.result === undefined && d.outcome !== null)).toBe(true);
  });

  it('errors are TosiaProblem with the status and stable code', async () => {
    const e = await tosia.get('01a2b396-f0fb-704e-81b1-ac003793cecb').catch((x) => x);
    expect(e).toBeInstanceOf(TosiaProblem);
    expect(e).toMatchObject({ status: 404, code: 'E_NOT_FOUND' });
    const bad = await tosia.upload(Buffer.from('not audio at all'), { contentType: 'audio/wav', wait: 60 }).catch((x) => x);
    expect(bad).toMatchObject({ status: 422, code: 'E_DECODE' });
    expect((bad as TosiaProblem).problem.record?.status).toBe('failed');
    const ref = await tosia.upload({ source: 'azblob://calls/a.ogg' }).catch((x) => x);
    // a server with no --source-store reads no references, and says so
    expect(ref).toBeInstanceOf(TosiaProblem);
    expect(ref).toMatchObject({ status: 403, code: 'E_FORBIDDEN' });
    const unauth = await createClient({ baseUrl: h.url, apiKey: 'wrong' }).get('01a2b396-f0fb-704e-81b1-ac003793cecb').catch((x) => x);
    expect(unauth).toMatchObject({ status: 401, code: 'E_AUTH' });
  });

  it('reviews with If-Match: a stale save is a 412 TosiaProblem; retry and delete', async () => {
    const d = await tosia.upload(variant(930), { contentType: 'audio/wav', wait: 60 });
    expect(await tosia.getReview(d.id)).toBeNull();
    const first = await tosia.review(d.id, { reviewed: true, note: 'one' });
    expect(first.etag).toMatch(/^"/);
    const second = await tosia.review(d.id, { reviewed: true, note: 'two' }, { ifMatch: first.etag! });
    const stale = await tosia.review(d.id, { reviewed: true, note: 'three' }, { ifMatch: first.etag! }).catch((x) => x);
    expect(stale).toMatchObject({ status: 412, code: 'E_PRECONDITION' });
    expect((await tosia.getReview(d.id))?.review.note).toBe('two');
    expect((await tosia.getReview(d.id))?.etag).toBe(second.etag);
    const notFailed = await tosia.retry(d.id).catch((x) => x);
    expect(notFailed).toMatchObject({ status: 409, code: 'E_CONFLICT' });
    await tosia.delete(d.id);
    expect(await tosia.get(d.id).catch((x) => x.code)).toBe('E_NOT_FOUND');
  });

  it('models lists the served models; upload takes a model by name; setDefaultModel needs a served one', async () => {
    const models = await tosia.models();
    expect(models).toHaveLength(1);
    expect(models[0]).toMatchObject({ name: 'tosia-cough-demo', default: true });
    const d = await tosia.upload(variant(950), { contentType: 'audio/wav', wait: 60, model: 'tosia-cough-demo' });
    expect(d).toMatchObject({ status: 'done', model: 'tosia-cough-demo' });
    expect(await tosia.upload(variant(951), { contentType: 'audio/wav', model: 'nope' }).catch((x) => x)).toMatchObject({ status: 400, code: 'E_INPUT' });
    expect((await tosia.setDefaultModel('tosia-cough-demo'))[0]).toMatchObject({ name: 'tosia-cough-demo', default: true });
    expect(await tosia.setDefaultModel('nope').catch((x) => x)).toMatchObject({ status: 422, code: 'E_INPUT' });
    // with nothing reviewed, an evaluation ends failed, saying why
    expect(await tosia.evaluate('tosia-cough-demo', { filter: { external_id: 'nobody' }, timeoutMs: 60_000 })).toMatchObject({ status: 'failed', error: { code: 'E_INPUT' } });
    expect(await tosia.evaluate('nope').catch((x) => x)).toMatchObject({ status: 422, code: 'E_INPUT' });
  });

  it('the raw generated client reaches any route, typed', async () => {
    const { data, response } = await tosia.api.GET('/ready');
    expect(response.status).toBe(200);
    expect(data?.status).toBe('ready');
  });
});

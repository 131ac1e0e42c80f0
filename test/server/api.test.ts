import { createHmac } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer as createHttpServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../runtime/index.js';
import { revokeKey } from '../../server/index.js';
import { form, problem, requirePostgres, SAMPLE_BYTES, scratchDatabase, startServer, variant, type Harness, type Role } from './harness.js';
import { answerChecker, type ApiDocument } from '../helpers/openapi.js';
import { REPO_ROOT } from '../helpers/shared.js';
import { tosia } from '../helpers/cli.js';

// Every route over real HTTP on loopback, against SQLite always and PostgreSQL where reachable.
const pgMissing = await requirePostgres();
const STORES = [{ store: 'sqlite' }, ...(pgMissing ? [] : [{ store: 'postgres' }])];

const RANK: Record<Role, number> = { read: 1, write: 2, admin: 3 };
const OPEN_ROUTES = new Set(['get /health', 'get /ready', 'get /metrics']);


describe.each(STORES)('tosia serve on $store', ({ store }) => {
  let h: Harness;
  let drop: (() => Promise<void>) | null = null;
  let clock = Date.now();
  let received: { headers: IncomingMessage['headers']; body: string }[] = [];
  let failFirst = 0;
  let receiver: ReturnType<typeof createHttpServer>;
  let hookUrl = '';

  beforeAll(async () => {
    let db: string | undefined;
    if (store === 'postgres') {
      const s = await scratchDatabase();
      db = s.url;
      drop = s.drop;
    }
    receiver = createHttpServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.statusCode = failFirst-- > 0 ? 500 : 204;
        res.end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    h = await startServer({ db, now: () => new Date(clock), retainAudioDays: 30, webhookSecret: 'a-test-secret-of-32-characters!!', webhook: { backoffMs: 40 }, maxUploadMb: 1, allowCallbackHosts: ['127.0.0.1'] });
  });
  afterAll(async () => {
    await h?.close();
    await new Promise((r) => receiver?.close(r));
    await drop?.();
  });

  const post = (body: BodyInit, query = '', headers: Record<string, string> = {}, role: Role = 'write') => h.call(`/v1/diagnoses${query}`, { method: 'POST', body, headers, role });
  const raw = (bytes: Uint8Array, query = '?wait=30', headers: Record<string, string> = {}) => post(bytes, query, { 'content-type': 'audio/wav', ...headers });

  it('POST a raw audio body: 201 with the finished record, its result, audio and segment images', async () => {
    const res = await raw(variant(1), '?wait=60&external_id=call-1&filename=cough.wav');
    expect(res.status).toBe(201);
    const rec = await res.json();
    expect(rec).toMatchObject({ status: 'done', external_id: 'call-1', attempts: 1, source: { filename: 'cough.wav', content_type: 'audio/wav', size_bytes: SAMPLE_BYTES.length } });
    expect(rec.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
    expect(res.headers.get('location')).toBe(`/v1/diagnoses/${rec.id}`);
    expect(rec.result.schema_version).toBe(1);
    expect(rec.result.source.path).toBe('cough.wav');
    expect(rec.result.segments.length).toBe(3);
    expect(rec.links.segments).toHaveLength(3);

    const got = await (await h.call(rec.links.self, { role: 'read' })).json();
    expect(got).toEqual(rec);
    const audio = await h.call(rec.links.audio, { role: 'read' });
    expect(audio.status).toBe(200);
    expect(audio.headers.get('accept-ranges')).toBe('bytes');
    expect(Buffer.from(await audio.arrayBuffer()).equals(variant(1))).toBe(true);
    const part = await h.call(rec.links.audio, { role: 'read', headers: { range: 'bytes=4-11' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 4-11/${SAMPLE_BYTES.length}`);
    expect(Buffer.from(await part.arrayBuffer()).toString('latin1')).toBe(variant(1).subarray(4, 12).toString('latin1'));
    const tail = await h.call(rec.links.audio, { role: 'read', headers: { range: 'bytes=-4' } });
    expect(Buffer.from(await tail.arrayBuffer()).readUInt32LE(0)).toBe(1);
    await problem(await h.call(rec.links.audio, { role: 'read', headers: { range: `bytes=${SAMPLE_BYTES.length}-` } }), 416, 'E_RANGE');
    const png = await h.call(rec.links.segments[2], { role: 'read' });
    expect(png.status).toBe(200);
    expect(png.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await png.arrayBuffer()).subarray(1, 4).toString()).toBe('PNG');
    await problem(await h.call(`${rec.links.self}/segments/3.png`, { role: 'read' }), 404, 'E_NOT_FOUND');
  });

  it('POST multipart with external_id, metadata and a file name that is only metadata', async () => {
    const res = await post(form(variant(2), { external_id: "it's; drop table diagnoses", metadata: JSON.stringify({ caller: 'x', n: 3 }) }, '../../etc/passwd; rm -rf $(x).wav'), '?wait=60');
    expect(res.status).toBe(201);
    const rec = await res.json();
    expect(rec).toMatchObject({ status: 'done', external_id: "it's; drop table diagnoses", metadata: { caller: 'x', n: 3 }, source: { filename: 'passwd; rm -rf $(x).wav' } });
    // the bytes live at their content address, nowhere the name points
    expect(existsSync(join(h.dir, 'audio', rec.source.sha256.slice(0, 2), rec.source.sha256))).toBe(true);
  });

  it('wait=0 answers 202 with Location; GET ?wait= waits for the result', async () => {
    const res = await raw(variant(3), '?wait=0');
    expect(res.status).toBe(202);
    const rec = await res.json();
    expect(['queued', 'running']).toContain(rec.status);
    expect(res.headers.get('location')).toBe(`/v1/diagnoses/${rec.id}`);
    const done = await (await h.call(`/v1/diagnoses/${rec.id}?wait=60`, { role: 'read' })).json();
    expect(done.status).toBe('done');
  });

  it('the same submission again gets its record back (200, deduplicated); another submission of the same bytes gets its own record with the result reused (201); force runs again', async () => {
    const first = await (await raw(variant(4))).json();
    const again = await raw(variant(4));
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ id: first.id, deduplicated: true, status: 'done' });
    // another submission of the same bytes keeps its own identity: a record of its own, the result reused
    const other = await raw(variant(4), `?wait=60&external_id=second-${store}&filename=second.wav`);
    expect(other.status).toBe(201);
    const o = await other.json();
    expect(o).toMatchObject({ deduplicated: true, status: 'done', external_id: `second-${store}` });
    expect(o.id).not.toBe(first.id);
    expect(o.result.source.path).toBe('second.wav');
    expect({ ...o.result, source: { ...o.result.source, path: null } }).toEqual({ ...first.result, source: { ...first.result.source, path: null } });
    expect(o.links.segments.length).toBe(first.links.segments.length);
    const png = async (d: { links: { segments: string[] } }) => Buffer.from(await (await h.call(d.links.segments[0]!, { role: 'read' })).arrayBuffer());
    expect((await png(o)).equals(await png(first))).toBe(true);
    const found = await (await h.call(`/v1/diagnoses?external_id=second-${store}`, { role: 'read' })).json();
    expect(found.items.map((d: { id: string }) => d.id)).toEqual([o.id]);
    expect(found.items[0].flags).toEqual(first.flags);
    // and sending that second submission again gives its record back
    const twice = await raw(variant(4), `?wait=60&external_id=second-${store}`);
    expect(twice.status).toBe(200);
    expect((await twice.json()).id).toBe(o.id);
    const forced = await raw(variant(4), '?wait=60&force=true');
    expect(forced.status).toBe(201);
    const f = await forced.json();
    expect(f.id).not.toBe(first.id);
    expect(f.source.sha256).toBe(first.source.sha256);
  });

  it('Idempotency-Key: a retried POST gets the record the first one made, even while the first is still uploading', async () => {
    const key = { 'idempotency-key': `retry-${store}-1` };
    const [a, b] = await Promise.all([raw(variant(5), '?wait=60', key), raw(variant(5), '?wait=60', key)]);
    const ra = await a.json();
    const rb = await b.json();
    expect(ra.id).toBe(rb.id);
    expect([a.status, b.status].sort()).toEqual([200, 201]);
    // the same request again: the same record, marked replayed
    const again = await raw(variant(5), '?wait=60', key);
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect((await again.json()).id).toBe(ra.id);
    // the key with a different request (other bytes, or another external_id): 422, nothing made
    const c = await problem(await raw(variant(6), '?wait=60', key), 422, 'E_IDEMPOTENCY');
    expect(c.record_id).toBe(ra.id);
    expect(c.detail).toMatch(/was used for a different request \(other bytes\)/);
    await problem(await raw(variant(5), '?wait=60&external_id=someone-else', key), 422, 'E_IDEMPOTENCY');
    expect((await h.call(`/v1/diagnoses?external_id=someone-else`, { role: 'read' }).then((r) => r.json())).items).toEqual([]);
    const list = await (await h.call(`/v1/diagnoses?limit=500`, { role: 'read' })).json();
    expect(list.items.filter((r: { source: { sha256: string } }) => r.source.sha256 === ra.source.sha256)).toHaveLength(1);
    await problem(await raw(variant(6), '?wait=0', { 'idempotency-key': 'x'.repeat(201) }), 400, 'E_INPUT');
  });

  it('pagination: every record once, newest first, no duplicates or gaps; filters', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 11; i++) ids.push((await (await raw(variant(100 + i), `?wait=0&external_id=page-${store}`)).json()).id);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: { items: { id: string }[]; next_cursor: string | null } = await (await h.call(`/v1/diagnoses?external_id=page-${store}&limit=4${cursor ? `&cursor=${cursor}` : ''}`, { role: 'read' })).json();
      seen.push(...page.items.map((r) => r.id));
      cursor = page.next_cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual([...ids].reverse());
    for (const id of ids) await h.call(`/v1/diagnoses/${id}?wait=60`, { role: 'read' });
    const done = await (await h.call(`/v1/diagnoses?status=done&external_id=page-${store}&limit=500`, { role: 'read' })).json();
    expect(done.items).toHaveLength(11);
    const label = done.items[0].outcome.label;
    const byLabel = await (await h.call(`/v1/diagnoses?label=${label}&external_id=page-${store}`, { role: 'read' })).json();
    expect(byLabel.items.length).toBe(11);
    const after = await (await h.call(`/v1/diagnoses?created_after=${encodeURIComponent(new Date(clock - 1000).toISOString())}&created_before=${encodeURIComponent(new Date(clock + 1000).toISOString())}&limit=500`, { role: 'read' })).json();
    expect(after.items.length).toBeGreaterThanOrEqual(11);
  });

  it('filters reach SQL only as parameters: quotes and ; in every filter', async () => {
    const evil = ["' or '1'='1", "x'; drop table diagnoses; --", '"; delete from api_keys; --', '%', '_'];
    for (const v of evil) {
      for (const f of ['label', 'external_id', 'flag']) {
        const res = await h.call(`/v1/diagnoses?${f}=${encodeURIComponent(v)}`, { role: 'read' });
        expect(res.status).toBe(200);
        expect((await res.json()).items).toEqual([]);
      }
      for (const f of ['status', 'created_after', 'created_before', 'cursor']) {
        await problem(await h.call(`/v1/diagnoses?${f}=${encodeURIComponent(v)}`, { role: 'read' }), 400, 'E_INPUT');
      }
    }
    // the table and the keys are still there
    expect((await (await h.call('/v1/diagnoses?limit=1', { role: 'read' })).json()).items).toHaveLength(1);
  });

  it('flag filter finds records by quality flag', async () => {
    // a short quiet recording raises too_short
    const short = Buffer.from(SAMPLE_BYTES.subarray(0, 44 + 2 * 4000));
    short.writeUInt32LE(short.length - 8, 4);
    short.writeUInt32LE(short.length - 44, 40);
    const rec = await (await raw(short)).json();
    expect(rec.flags).toContain('too_short');
    const list = await (await h.call('/v1/diagnoses?flag=too_short', { role: 'read' })).json();
    expect(list.items.map((r: { id: string }) => r.id)).toContain(rec.id);
    expect(list.items.every((r: { flags: string[] }) => r.flags.includes('too_short'))).toBe(true);
  });

  it('DELETE removes the record and its images; audio shared with another record stays until nothing refers to it', async () => {
    const a = await (await raw(variant(7))).json();
    const b = await (await raw(variant(7), '?wait=60&force=true')).json();
    const audioFile = join(h.dir, 'audio', a.source.sha256.slice(0, 2), a.source.sha256);
    expect((await h.call(`/v1/diagnoses/${a.id}`, { method: 'DELETE' })).status).toBe(204);
    await problem(await h.call(`/v1/diagnoses/${a.id}`, { role: 'read' }), 404, 'E_NOT_FOUND');
    expect(existsSync(audioFile)).toBe(true);
    expect((await h.call(b.links.audio, { role: 'read' })).status).toBe(200);
    expect((await h.call(`/v1/diagnoses/${b.id}`, { method: 'DELETE' })).status).toBe(204);
    expect(existsSync(audioFile)).toBe(false);
    await problem(await h.call(`/v1/diagnoses/${b.id}`, { method: 'DELETE' }), 404, 'E_NOT_FOUND');
  });

  it('a recording that cannot be decoded is a failed record: 422 problem on a synchronous POST, retry runs it again', async () => {
    const res = await raw(Buffer.from('this is not audio at all, just text in a wav costume'));
    const p = await problem(res, 422, 'E_DECODE');
    expect(p.record).toMatchObject({ status: 'failed', error: { code: 'E_DECODE' } });
    const again = await h.call(`/v1/diagnoses/${p.record.id}/retry?wait=60`, { method: 'POST', role: 'write' });
    const p2 = await problem(again, 422, 'E_DECODE');
    expect(p2.record.attempts).toBe(2);
    const done = await (await raw(variant(8))).json();
    await problem(await h.call(`/v1/diagnoses/${done.id}/retry`, { method: 'POST', role: 'write' }), 409, 'E_CONFLICT');
    // asynchronously it is simply failed
    const later = await (await raw(Buffer.from('more text that is not audio'), '?wait=0')).json();
    const failed = await (await h.call(`/v1/diagnoses/${later.id}?wait=60`, { role: 'read' })).json();
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'E_DECODE', stage: expect.any(String) } });
  });

  it('bad requests: each a 400/413/415 problem naming the field', async () => {
    const big = Buffer.alloc(1024 * 1024 + 10, 1);
    await problem(await raw(big), 413, 'E_INPUT');
    await problem(await post(form(big)), 413, 'E_INPUT');
    const noFile = new FormData();
    noFile.set('external_id', 'x');
    expect((await problem(await post(noFile), 400, 'E_INPUT')).errors[0].field).toBe('file');
    const two = form(variant(9));
    two.append('file', new Blob([variant(10)], { type: 'audio/wav' }), 'b.wav');
    await problem(await post(two), 400, 'E_INPUT');
    await problem(await post('hello', '', { 'content-type': 'text/plain' }), 415, 'E_INPUT');
    // JSON is a reference to a recording in blob storage ({"source": …}): anything else in it is a 400 naming the field
    expect((await problem(await post(JSON.stringify({ a: 1 }), '', { 'content-type': 'application/json' }), 400, 'E_INPUT')).errors[0].field).toBe('a');
    await problem(await post(form(variant(9), {}, 'a.txt', 'text/plain')), 415, 'E_INPUT');
    for (const [metadata, why] of [['[1,2]', 'must be a JSON object'], ['not json', 'is not JSON'], [JSON.stringify({ a: 'x'.repeat(9000) }), 'metadata']] as const) {
      const p = await problem(await post(form(variant(9), { metadata })), 400, 'E_INPUT');
      expect(p.errors[0].field).toBe('metadata');
      expect(p.detail).toContain(why);
    }
    expect((await problem(await post(form(variant(9), { external_id: 'x'.repeat(201) })), 400, 'E_INPUT')).errors[0].field).toBe('external_id');
    expect((await problem(await post(form(variant(9), { colour: 'red' })), 400, 'E_INPUT')).errors[0].field).toBe('colour');
    expect((await problem(await post(form(variant(9), { callback_url: 'ftp://x' })), 400, 'E_INPUT')).errors[0].field).toBe('callback_url');
    expect((await problem(await raw(variant(9), '?wait=500'), 400, 'E_INPUT')).errors[0].field).toBe('querystring.wait');
    expect((await problem(await raw(variant(9), '?colour=red'), 400, 'E_INPUT')).errors[0].field).toBe('querystring.colour');
    await problem(await post(form(variant(9)), '?external_id=x'), 400, 'E_INPUT');
    await problem(await h.call('/v1/diagnoses?cursor=bm9wZQ', { role: 'read' }), 400, 'E_INPUT');
    await problem(await h.call('/v1/diagnoses?limit=501', { role: 'read' }), 400, 'E_INPUT');
    await problem(await h.call('/v1/diagnoses/not-an-id', { role: 'read' }), 400, 'E_INPUT');
    await problem(await h.call('/v1/nothing-here', { role: 'read' }), 404, 'E_NOT_FOUND');
    await problem(await raw(new Uint8Array(0)), 400, 'E_INPUT');
  });

  it('413 stops reading at the limit: a body far over it is not read to the end', async () => {
    const port = Number(new URL(h.url).port);
    const total = 64 * 1024 * 1024;
    let sent = 0;
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/diagnoses', headers: { authorization: `Bearer ${h.keys.write}`, 'content-type': 'audio/wav', 'transfer-encoding': 'chunked' } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
        req.destroy();
      });
      req.on('error', (e) => (sent >= total ? reject(e) : undefined));
      const chunk = Buffer.alloc(64 * 1024, 7);
      const pump = () => {
        while (sent < total) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
    });
    expect(status).toBe(413);
    expect(sent).toBeLessThan(total);
    expect(await (await h.call('/health')).json()).toEqual({ status: 'ok' });
  });

  it('a recording over --max-duration is a failed record with E_INPUT', async () => {
    const short = await startServer({ db: undefined, config: { ...defaultConfig(), audio: { ...defaultConfig().audio, max_duration_s: 1 } } });
    try {
      const p = await problem(await short.call('/v1/diagnoses?wait=60', { method: 'POST', body: variant(11), headers: { 'content-type': 'audio/wav' } }), 422, 'E_INPUT');
      expect(p.record).toMatchObject({ status: 'failed', error: { code: 'E_INPUT' } });
      expect(p.detail).toMatch(/max_duration/);
    } finally {
      await short.close();
    }
  });

  it('reviews: a reviewer\'s verdict is stored with the record, validated, and exported as a truth CSV that tosia eval reads, with the results as predictions, and as training labels', async () => {
    const put = (id: string, body: unknown, role: Role = 'write') => h.call(`/v1/diagnoses/${id}/review`, { method: 'PUT', role, body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    const a = await (await raw(variant(500), '?wait=60&filename=review-a.wav')).json();
    const b = await (await raw(variant(501), '?wait=60&filename=review-b.wav')).json();
    expect(a.result.segments).toHaveLength(3);
    // the figure, drawn by the worker with the diagnosis
    const fig = await h.call(`/v1/diagnoses/${a.id}/figure.svg`, { role: 'read' });
    expect(fig.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
    expect(((await fig.text()).match(/<rect class="seg"/g) ?? []).length).toBe(3);
    await problem(await h.call(`/v1/diagnoses/${a.id}/review`), 404, 'E_NOT_FOUND');
    // the second segment is not a cough; a cough was missed at 3.0-3.3 s; the reviewer believes covid19
    const stored = await put(a.id, { reviewed: true, label: 'covid19', not_cough: [1], added: [{ start_s: 3.0, end_s: 3.3 }], note: 'breath at 1.5 s' });
    expect(stored.status).toBe(200);
    const review = await stored.json();
    expect(review).toMatchObject({ id: a.id, reviewed: true, label: 'covid19', not_cough: [1], added: [{ start_s: 3, end_s: 3.3 }], note: 'breath at 1.5 s', reviewer: expect.any(String) });
    expect(await (await h.call(`/v1/diagnoses/${a.id}/review`, { role: 'read' })).json()).toEqual(review);
    // reviewed without changes: its segments are the truth; an unreviewed draft is not exported
    expect((await put(b.id, { reviewed: true })).status).toBe(200);
    const c = await (await raw(variant(502), '?wait=60&filename=review-c.wav')).json();
    expect((await put(c.id, { reviewed: false, not_cough: [0] })).status).toBe(200);
    // bad reviews
    await problem(await put(a.id, { reviewed: true, label: 'influenza' }), 400, 'E_INPUT');
    await problem(await put(a.id, { reviewed: true, not_cough: [7] }), 400, 'E_INPUT');
    await problem(await put(a.id, { reviewed: true, added: [{ start_s: 2, end_s: 1 }] }), 400, 'E_INPUT');
    await problem(await put(a.id, { reviewed: true, added: [{ start_s: 2, end_s: 99 }] }), 400, 'E_INPUT');
    await problem(await put(a.id, { reviewed: 'yes' }), 400, 'E_INPUT');
    await problem(await put('01a2b396-f0fb-704e-81b1-ac003793cecb', { reviewed: true }), 404, 'E_NOT_FOUND');
    await problem(await put(a.id, { reviewed: true }, 'read'), 403, 'E_FORBIDDEN');
    const failed = await (await raw(Buffer.from('not audio'), '?wait=60')).json();
    await problem(await put(failed.record.id, { reviewed: true }), 409, 'E_CONFLICT');
    // the exports
    const truth = await (await h.call('/v1/reviews/truth.csv', { role: 'read' })).text();
    const rows = truth.trim().split('\r\n');
    expect(rows[0]).toBe('file,start,end');
    const ofA = rows.filter((r) => r.startsWith('review-a.wav,'));
    expect(ofA).toHaveLength(3);
    expect(ofA.at(-1)).toBe('review-a.wav,3,3.3');
    expect(rows.filter((r) => r.startsWith('review-b.wav,'))).toHaveLength(3);
    expect(rows.some((r) => r.startsWith('review-c.wav'))).toBe(false);
    const labels = await (await h.call('/v1/reviews/labels.csv', { role: 'read' })).text();
    expect(labels.trim().split('\r\n')).toEqual(['file,label', 'review-a.wav,covid19', `review-b.wav,${b.result.diagnosis.label}`]);
    const results = await (await h.call('/v1/reviews/results.jsonl', { role: 'read' })).text();
    const dir = mkdtempSync(join(tmpdir(), 'tosia-review-export-'));
    writeFileSync(join(dir, 'truth.csv'), truth);
    writeFileSync(join(dir, 'results.jsonl'), results);
    writeFileSync(join(dir, 'labels.csv'), labels);
    const ev = await tosia(['eval', '--truth', join(dir, 'truth.csv'), '--pred', join(dir, 'results.jsonl'), '--json']);
    expect(ev.code, ev.stderr).toBe(0);
    const report = JSON.parse(ev.stdout);
    // a: 3 coughs found, one of them not a cough, one missed: 2 hits, 1 false, 1 missed; b: 3 of 3
    expect(report.total).toMatchObject({ files: 2, truth: 6, predicted: 6, tp: 5, fp: 1, fn: 1 });
    const { readLabels } = await import('../../runtime/index.js');
    expect([...(await readLabels(join(dir, 'labels.csv')))]).toEqual([['review-a.wav', 'covid19'], ['review-b.wav', b.result.diagnosis.label]]);
  });

  it('a damaged recording: flagged in the record under on_damage warn (the default), a failed record with E_DECODE under error', async () => {
    const flac = readFileSync(join(REPO_ROOT, 'samples/coughs-3-bout_snr-20db_pink_44k.flac'));
    const half = flac.subarray(0, flac.length >> 1);
    const warn = await (await h.call('/v1/diagnoses?wait=60', { method: 'POST', body: half, headers: { 'content-type': 'audio/flac' } })).json();
    expect(warn).toMatchObject({ status: 'done', flags: expect.arrayContaining(['truncated']), result: { quality: { truncated_missing_s: 1.64 } } });
    const strict = await startServer({ db: undefined, config: { ...defaultConfig(), audio: { ...defaultConfig().audio, on_damage: 'error' } } });
    try {
      const p = await problem(await strict.call('/v1/diagnoses?wait=60', { method: 'POST', body: half, headers: { 'content-type': 'audio/flac' } }), 422, 'E_DECODE');
      expect(p.detail).toMatch(/is truncated: the stream ends at 1.36 s/);
    } finally {
      await strict.close();
    }
  });

  it('authentication: every route in the OpenAPI document, with no key, a wrong key, a revoked key and each role', async () => {
    const doc = await (await h.call('/openapi.json', { role: null })).json();
    const rec = await (await raw(variant(12))).json();
    const victim = await (await raw(variant(13))).json();
    const revoked = (await import('../../server/index.js')).createKey;
    const where = store === 'postgres' ? null : { dataDir: h.dir };
    let revokedKey: string | null = null;
    if (where) {
      revokedKey = (await revoked(where, `gone-${Date.now()}`, 'admin')).key;
      await revokeKey(where, (await import('../../server/index.js')).listKeys ? (await (await import('../../server/index.js')).listKeys(where)).find((k) => k.name.startsWith('gone-'))!.name : '');
    }
    let checked = 0;
    for (const [path, ops] of Object.entries<Record<string, { security?: unknown[]; 'x-tosia-role'?: Role }>>(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const url = path.replace('{id}', method === 'delete' ? victim.id : rec.id).replace('{n}', '0');
        const init = (extra: Record<string, string>): RequestInit => ({ method: method.toUpperCase(), headers: { ...extra, ...(method === 'post' && path === '/v1/diagnoses' ? { 'content-type': 'audio/wav' } : {}) }, body: method === 'post' && path === '/v1/diagnoses' ? variant(12) : undefined });
        if (!op['x-tosia-role']) {
          expect(OPEN_ROUTES.has(`${method} ${path}`), `${method} ${path} is open`).toBe(true);
          continue;
        }
        const role = op['x-tosia-role']!;
        expect(['read', 'write', 'admin']).toContain(role);
        const noKey = await fetch(h.url + url, init({}));
        await problem(noKey, 401, 'E_AUTH');
        expect(noKey.headers.get('www-authenticate')).toMatch(/^Bearer/);
        await problem(await fetch(h.url + url, init({ authorization: 'Bearer tosia_wrong' })), 401, 'E_AUTH');
        await problem(await fetch(h.url + url, init({ 'x-api-key': 'tosia_wrong' })), 401, 'E_AUTH');
        if (revokedKey) await problem(await fetch(h.url + url, init({ authorization: `Bearer ${revokedKey}` })), 401, 'E_AUTH');
        for (const r of ['read', 'write', 'admin'] as const) {
          const res = await fetch(h.url + url, init({ 'x-api-key': h.keys[r] }));
          if (RANK[r] < RANK[role]) await problem(res, 403, 'E_FORBIDDEN');
          else expect([401, 403], `${r} on ${method} ${url}`).not.toContain(res.status);
          await res.arrayBuffer().catch(() => undefined);
        }
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(7);
  });

  it('/health, /ready, /metrics, /openapi.json and /docs', async () => {
    expect(await (await fetch(`${h.url}/health`)).json()).toEqual({ status: 'ok' });
    expect(await (await fetch(`${h.url}/ready`)).json()).toMatchObject({ status: 'ready' });
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    expect(metrics).toMatch(/tosia_http_requests_total\{route="\/v1\/diagnoses",method="POST",status="201"\} \d+/);
    expect(metrics).toMatch(/tosia_http_request_duration_seconds_bucket/);
    expect(metrics).toMatch(/tosia_diagnoses\{status="done",label="[a-z_0-9]+"\} \d+/);
    expect(metrics).toMatch(/tosia_pipeline_stage_duration_seconds_count\{stage="mel"\} \d+/);
    expect(metrics).toMatch(/tosia_queue_depth \d+/);
    expect(metrics).toMatch(/tosia_busy_workers \d+/);
    const doc = await (await fetch(`${h.url}/openapi.json`)).json();
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.paths['/v1/diagnoses'].post.requestBody.content['multipart/form-data'].schema.properties.file.format).toBe('binary');
    expect((await fetch(`${h.url}/docs`)).status).toBe(200);
  });

  it('a signed callback to callback_url, retried with backoff until the receiver takes it', async () => {
    received = [];
    failFirst = 2;
    const rec = await (await post(form(variant(14), { callback_url: hookUrl }), '?wait=60')).json();
    expect(rec.webhook).toMatchObject({ url: hookUrl });
    let got = rec;
    for (let i = 0; i < 100 && got.webhook.state !== 'delivered'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      got = await (await h.call(`/v1/diagnoses/${rec.id}`, { role: 'read' })).json();
    }
    expect(got.webhook).toMatchObject({ state: 'delivered', attempts: 3, last_error: null });
    expect(received).toHaveLength(3);
    const last = received[2]!;
    const [t, v1] = String(last.headers['x-tosia-signature']).split(',').map((x) => x.split('=')[1]);
    expect(v1).toBe(createHmac('sha256', 'a-test-secret-of-32-characters!!').update(`${t}.${last.body}`).digest('hex'));
    expect(JSON.parse(last.body)).toMatchObject({ id: rec.id, status: 'done' });
    // a receiver that never takes it: 5 tries, then failed, recorded on the record
    received = [];
    failFirst = 100;
    const rec2 = await (await post(form(variant(15), { callback_url: hookUrl }), '?wait=60')).json();
    for (let i = 0; i < 200 && got.webhook.state !== 'failed'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      got = await (await h.call(`/v1/diagnoses/${rec2.id}`, { role: 'read' })).json();
    }
    expect(got.webhook).toMatchObject({ state: 'failed', attempts: 5, last_error: expect.stringContaining('500') });
    expect(received).toHaveLength(5);
    failFirst = 0;
  });

  it('a submission of bytes already diagnosed, with a callback of its own: a record finished at once, and its callback delivered', async () => {
    received = [];
    const first = await (await post(form(variant(17)), '?wait=60')).json();
    expect(first.status).toBe('done');
    const res = await post(form(variant(17), { callback_url: hookUrl, external_id: `hooked-${store}` }), '?wait=60');
    expect(res.status).toBe(201);
    const rec = await res.json();
    expect(rec).toMatchObject({ deduplicated: true, status: 'done', external_id: `hooked-${store}`, webhook: { url: hookUrl } });
    let got = rec;
    for (let i = 0; i < 100 && got.webhook.state !== 'delivered'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      got = await (await h.call(`/v1/diagnoses/${rec.id}`, { role: 'read' })).json();
    }
    expect(got.webhook).toMatchObject({ state: 'delivered', attempts: 1 });
    expect(received.map((x) => JSON.parse(x.body).id)).toEqual([rec.id]);
  });

  it('retention: audio and images older than --retain-audio-days go, the records stay', async () => {
    const rec = await (await raw(variant(16))).json();
    const audioFile = join(h.dir, 'audio', rec.source.sha256.slice(0, 2), rec.source.sha256);
    expect(await h.srv.purgeAudio()).toBe(0);
    clock += 31 * 86400_000;
    const fresh = await (await raw(variant(17))).json();
    expect(await h.srv.purgeAudio()).toBeGreaterThanOrEqual(1);
    const kept = await (await h.call(`/v1/diagnoses/${rec.id}`, { role: 'read' })).json();
    expect(kept).toMatchObject({ status: 'done', links: { audio: null, segments: [] } });
    expect(kept.audio_purged_at).not.toBeNull();
    expect(kept.result.segments.length).toBe(3);
    expect(existsSync(audioFile)).toBe(false);
    await problem(await h.call(`/v1/diagnoses/${rec.id}/audio`, { role: 'read' }), 410, 'E_GONE');
    await problem(await h.call(`/v1/diagnoses/${rec.id}/segments/0.png`, { role: 'read' }), 410, 'E_GONE');
    await problem(await h.call(`/v1/diagnoses/${rec.id}/retry`, { method: 'POST', role: 'write' }), 410, 'E_GONE');
    expect((await h.call(fresh.links.audio, { role: 'read' })).status).toBe(200);
    // the same bytes again are a new record (the old one has no audio to run again)
    const again = await raw(variant(16));
    expect(again.status).toBe(201);
  });
});

describe('tosia serve limits', () => {
  it('queue full: 503 with Retry-After; rate limit: 429 with Retry-After', async () => {
    const h = await startServer({ maxQueue: 1, rateLimitPerMinute: 8 });
    try {
      const res = await Promise.all(Array.from({ length: 6 }, (_, i) => h.call('/v1/diagnoses?wait=0', { method: 'POST', body: variant(200 + i), headers: { 'content-type': 'audio/wav' } })));
      const statuses = res.map((r) => r.status);
      expect(statuses).toContain(503);
      const full = res.find((r) => r.status === 503)!;
      expect(full.headers.get('retry-after')).toBe('5');
      expect((await full.json()).code).toBe('E_UNAVAILABLE');
      let limited: Response | null = null;
      for (let i = 0; i < 10 && !limited; i++) {
        const r = await h.call('/v1/diagnoses?limit=1', { role: 'read' });
        if (r.status === 429) limited = r;
      }
      expect(limited).not.toBeNull();
      expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await limited!.json()).toMatchObject({ status: 429, code: 'E_RATE_LIMITED' });
      // another key has its own budget
      expect((await h.call('/v1/diagnoses?limit=1', { role: 'write' })).status).toBe(200);
    } finally {
      await h.close();
    }
  });

  it('callback_url without --webhook-secret is refused; /metrics with --metrics-key needs it', async () => {
    const h = await startServer({ metricsKey: 'metrics-secret' });
    try {
      const fd = form(variant(300), { callback_url: 'http://127.0.0.1:9/x' });
      const p = await (await h.call('/v1/diagnoses', { method: 'POST', body: fd })).json();
      expect(p).toMatchObject({ status: 400, code: 'E_INPUT', errors: [{ field: 'callback_url' }] });
      expect((await fetch(`${h.url}/metrics`)).status).toBe(401);
      expect((await fetch(`${h.url}/metrics`, { headers: { authorization: 'Bearer metrics-secret' } })).status).toBe(200);
    } finally {
      await h.close();
    }
  });

  it('refuses to listen beyond loopback with no key, and says how to make one', async () => {
    const { createServer } = await import('../../server/index.js');
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'tosia-open-'));
    const srv = await createServer({ config: defaultConfig(), dataDir: dir, concurrency: 1 });
    try {
      await expect(srv.listen('0.0.0.0', 0)).rejects.toThrow(/tosia keys create/);
      // on loopback with no key yet, the local user needs none
      const url = await srv.listen('127.0.0.1', 0);
      expect((await fetch(`${url}/v1/diagnoses`)).status).toBe(200);
    } finally {
      await srv.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the OpenAPI document', () => {
  it('every route answers with a status and a body its entry documents', async () => {
    const h = await startServer({ webhookSecret: 'another-secret-of-enough-length' });
    try {
      const doc = await (await fetch(`${h.url}/openapi.json`)).json() as ApiDocument;
      const checker = answerChecker(doc);
      const done = await (await h.call('/v1/diagnoses?wait=60', { method: 'POST', body: variant(400), headers: { 'content-type': 'audio/wav' } })).json();
      const failed = await (await h.call('/v1/diagnoses?wait=60', { method: 'POST', body: Buffer.from('not audio'), headers: { 'content-type': 'audio/wav' } })).json();
      const gone = await (await h.call('/v1/diagnoses?wait=60', { method: 'POST', body: variant(401), headers: { 'content-type': 'audio/wav' } })).json();
      // a request per route, the good case and a bad one
      const calls: [string, string, RequestInit?][] = [
        ['post', '/v1/diagnoses', { body: variant(402), headers: { 'content-type': 'audio/wav' } }],
        ['post', '/v1/diagnoses', { body: 'x', headers: { 'content-type': 'text/plain' } }],
        ['get', '/v1/diagnoses'], ['get', '/v1/diagnoses?status=nope'],
        ['get', `/v1/diagnoses/${done.id}`], ['get', '/v1/diagnoses/01a2b396-f0fb-704e-81b1-ac003793cecb'],
        ['post', `/v1/diagnoses/${failed.record.id}/retry`], ['post', `/v1/diagnoses/${done.id}/retry`],
        ['get', `/v1/diagnoses/${done.id}/audio`], ['get', `/v1/diagnoses/${done.id}/segments/0.png`], ['get', `/v1/diagnoses/${done.id}/segments/99.png`],
        ['delete', `/v1/diagnoses/${gone.id}`], ['delete', `/v1/diagnoses/${gone.id}`],
        ['get', '/health'], ['get', '/ready'], ['get', '/metrics'],
        ['put', `/v1/diagnoses/${done.id}/review`, { body: JSON.stringify({ reviewed: true, not_cough: [0] }), headers: { 'content-type': 'application/json' } }],
        ['put', `/v1/diagnoses/${done.id}/review`, { body: JSON.stringify({ reviewed: 1 }), headers: { 'content-type': 'application/json' } }],
        ['get', `/v1/diagnoses/${done.id}/review`], ['get', `/v1/diagnoses/${failed.record.id}/review`],
        ['get', `/v1/diagnoses/${done.id}/figure.svg`], ['get', `/v1/diagnoses/${failed.record.id}/figure.svg`],
        ['get', '/v1/reviews/truth.csv'], ['get', '/v1/reviews/results.jsonl'], ['get', '/v1/reviews/labels.csv'],
        ['get', '/v1/models'],
        ['put', '/v1/models/default', { body: JSON.stringify({ name: 'tosia-cough-demo' }), headers: { 'content-type': 'application/json' } }],
        ['put', '/v1/models/default', { body: JSON.stringify({ name: 'v9' }), headers: { 'content-type': 'application/json' } }],
        ['post', '/v1/evaluations', { body: JSON.stringify({ model: 'tosia-cough-demo' }), headers: { 'content-type': 'application/json' } }],
        ['post', '/v1/evaluations', { body: JSON.stringify({ model: 'v9' }), headers: { 'content-type': 'application/json' } }],
        ['post', '/v1/evaluations', { body: 'model=v1', headers: { 'content-type': 'text/plain' } }],
        ['get', '/v1/evaluations'],
        ['get', '/v1/evaluations/01a2b396-f0fb-704e-81b1-ac003793cecb'],
        ['get', '/v1/evaluations/01a2b396-f0fb-704e-81b1-ac003793cecb/roc.svg'], ['get', '/v1/evaluations/01a2b396-f0fb-704e-81b1-ac003793cecb/roc.svg?model=..'],
      ];
      const covered = new Set<string>();
      for (const [method, url, init] of calls) {
        const res = await h.call(url, { method: method.toUpperCase(), ...init });
        const path = checker.pathOf(url)!;
        expect(path, url).toBeDefined();
        covered.add(`${method} ${path}`);
        expect(checker.check(method, path, res.status, res.headers.get('content-type') ?? '', Buffer.from(await res.arrayBuffer()))).toBeNull();
      }
      const all = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops as object).map((m) => `${m} ${p}`));
      expect(all.filter((r) => !covered.has(r))).toEqual([]);
    } finally {
      await h.close();
    }
  });
});

describe('slow clients', () => {
  it('a client that trickles its headers or its body is cut off (408) instead of holding the server', async () => {
    const { connect } = await import('node:net');
    const h = await startServer({ headersTimeoutMs: 500, requestTimeoutMs: 1500 });
    try {
      const port = Number(new URL(h.url).port);
      const slow = (parts: string[], gapMs: number) => new Promise<{ answer: string; ms: number }>((resolve) => {
        const t0 = Date.now();
        const sock = connect(port, '127.0.0.1');
        let answer = '';
        let i = 0;
        const timer = setInterval(() => (i < parts.length ? sock.write(parts[i++]!) : undefined), gapMs);
        sock.on('data', (d) => (answer += d));
        sock.on('error', () => undefined);
        sock.on('close', () => {
          clearInterval(timer);
          resolve({ answer, ms: Date.now() - t0 });
        });
      });
      const headers = await slow(['POST /v1/diagnoses HTTP/1.1\r\n', 'Host: x\r\n', 'Content-Type: audio/wav\r\n', 'X-A: 1\r\n', 'X-B: 2\r\n', 'X-C: 3\r\n', 'X-D: 4\r\n'], 200);
      expect(headers.answer).toMatch(/^HTTP\/1\.1 408/);
      expect(headers.ms).toBeLessThan(5000);
      const body = await slow([`POST /v1/diagnoses HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${h.keys.write}\r\nContent-Type: audio/wav\r\nContent-Length: 100000\r\n\r\n`, ...Array.from({ length: 40 }, () => 'RIFF')], 200);
      expect(body.answer).toMatch(/^HTTP\/1\.1 408/);
      expect(body.ms).toBeLessThan(6000);
      expect((await fetch(`${h.url}/health`)).status).toBe(200);
    } finally {
      await h.close();
    }
  });
});

import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { form, problem, requirePostgres, scratchDatabase, startServer, variant, type Harness } from './harness.js';

// Issue 24: every error the framework raises is a problem too; NUL in text is a 400 on both
// stores; time filters compare instants; 405 with Allow; the IETF RateLimit headers; CORS only
// when asked for; ETag with If-None-Match and If-Match; a compact list.

const pgMissing = await requirePostgres();
const STORES = [{ store: 'sqlite' }, ...(pgMissing ? [] : [{ store: 'postgres' }])];


/** Send raw bytes and read the raw answer (for requests fetch will not make). */
function raw(url: string, text: string): Promise<{ status: number; headers: string; body: string }> {
  const port = Number(new URL(url).port);
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    let out = '';
    sock.on('data', (d) => (out += d));
    sock.on('error', () => undefined);
    sock.on('close', () => {
      const [head = '', body = ''] = out.split('\r\n\r\n');
      resolve({ status: Number(head.split(' ')[1]), headers: head, body });
    });
    sock.write(text);
    setTimeout(() => sock.end(), 1000);
  });
}

describe('answers from below the routes are problems', () => {
  let h: Harness;
  beforeAll(async () => { h = await startServer(); });
  afterAll(async () => h?.close());

  it.each([
    ['headers larger than the server reads', (id: string) => `GET /v1/diagnoses/${id} HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431],
    ['a request line larger than the server reads', () => `GET /v1/diagnoses?external_id=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`, 431],
    ['a path parameter far too long', () => `GET /v1/diagnoses/${'a'.repeat(300)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, 414],
    ['a URL that does not decode', () => 'GET /v1/diagnoses/%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 400],
    ['a Content-Length that is not a number', () => 'POST /v1/diagnoses HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n', 400],
    ['two different Content-Lengths', () => 'POST /v1/diagnoses HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabc', 400],
    ['a request that is not HTTP', () => 'HELLO\r\n\r\n', 400],
  ])('%s: %i problem+json, E_INPUT', async (_what, request, status) => {
    const r = await raw(h.url, request('01a2b396-f0fb-704e-81b1-ac003793cecb'));
    expect(r.status).toBe(status);
    expect(r.headers).toMatch(/content-type: application\/problem\+json/i);
    expect(JSON.parse(r.body)).toMatchObject({ status, code: 'E_INPUT', type: 'about:blank' });
  });

  it('a method the path does not take: 405 with Allow; OPTIONS lists the methods', async () => {
    for (const [method, path, allow] of [['PATCH', '/v1/diagnoses', 'GET, HEAD, POST, OPTIONS'], ['PUT', '/health', 'GET, HEAD, OPTIONS'], ['DELETE', '/v1/reviews/truth.csv', 'GET, HEAD, OPTIONS'], ['POST', '/v1/diagnoses/01a2b396-f0fb-704e-81b1-ac003793cecb/segments/0.png', 'GET, HEAD, OPTIONS']] as const) {
      const res = await h.call(path, { method });
      await problem(res, 405, 'E_METHOD');
      expect(res.headers.get('allow')).toBe(allow);
    }
    const opt = await fetch(`${h.url}/v1/diagnoses/01a2b396-f0fb-704e-81b1-ac003793cecb`, { method: 'OPTIONS' });
    expect(opt.status).toBe(204);
    expect(opt.headers.get('allow')).toBe('DELETE, GET, HEAD, OPTIONS');
    await problem(await h.call('/v2/nothing', { method: 'PATCH' }), 404, 'E_NOT_FOUND');
  });
});

describe.each(STORES)('text, times and lists on $store', ({ store }) => {
  let h: Harness;
  let drop: (() => Promise<void>) | null = null;
  let clock = Date.parse('2026-12-06T09:00:00.000Z');
  beforeAll(async () => {
    let db: string | undefined;
    if (store === 'postgres') ({ url: db, drop } = await scratchDatabase());
    h = await startServer({ db, now: () => new Date(clock) });
  });
  afterAll(async () => {
    await h?.close();
    await drop?.();
  });

  it('a NUL character in any text is a 400 naming the field, the same on both stores, and nothing is stored', async () => {
    const rec = await (await h.call('/v1/diagnoses?wait=60', { method: 'POST', body: variant(800), headers: { 'content-type': 'audio/wav' } })).json();
    const cases: [string, RequestInit, string][] = [
      ['/v1/diagnoses?external_id=a%00b', { method: 'POST', body: variant(801), headers: { 'content-type': 'audio/wav' } }, 'querystring.external_id'],
      ['/v1/diagnoses?filename=a%00.wav', { method: 'POST', body: variant(802), headers: { 'content-type': 'audio/wav' } }, 'querystring.filename'],
      ['/v1/diagnoses', { method: 'POST', body: form(variant(803), { external_id: 'a\u0000b' }) }, 'external_id'],
      ['/v1/diagnoses', { method: 'POST', body: form(variant(804), {}, 'a\u0000.wav') }, 'filename'],
      ['/v1/diagnoses?label=x%00', {}, 'querystring.label'],
      ['/v1/diagnoses?flag=x%00', {}, 'querystring.flag'],
      ['/v1/diagnoses?external_id=x%00', {}, 'querystring.external_id'],
      [`/v1/diagnoses/${rec.id}/review`, { method: 'PUT', body: JSON.stringify({ reviewed: true, note: 'a\u0000b' }), headers: { 'content-type': 'application/json' } }, 'body.note'],
    ];
    for (const [url, init, field] of cases) {
      const p = await problem(await h.call(url, init), 400, 'E_INPUT');
      expect(p.errors, url).toEqual([expect.objectContaining({ field })]);
    }
    const all = await (await h.call('/v1/diagnoses?limit=500')).json();
    expect(all.items.map((d: { id: string }) => d.id)).toEqual([rec.id]);
    expect((await h.call(`/v1/diagnoses/${rec.id}/review`)).status).toBe(404);
  });

  it('created_after / created_before take RFC 3339 in any offset or case, and compare instants', async () => {
    const made: string[] = [];
    for (let i = 0; i < 3; i++) {
      clock = Date.parse(`2026-12-06T10:0${i}:00.500Z`);
      made.push((await (await h.call('/v1/diagnoses?wait=60', { method: 'POST', body: variant(810 + i), headers: { 'content-type': 'audio/wav' } })).json()).id);
    }
    const ids = async (q: string) => {
      const res = await h.call(`/v1/diagnoses?limit=500&${q}`);
      expect(res.status, await res.clone().text()).toBe(200);
      return (await res.json()).items.map((d: { id: string }) => d.id).filter((id: string) => made.includes(id)).reverse();
    };
    // the same instant, 10:01:00.500Z, written five ways
    for (const t of ['2026-12-06T10:01:00.500Z', '2026-12-06T11:01:00.5+01:00', '2026-12-06t10:01:00.5z', '2026-12-06T05:31:00.500-04:30', '2026-12-06 10:01:00.500Z']) {
      expect(await ids(`created_after=${encodeURIComponent(t)}`), t).toEqual([made[2]]);
      expect(await ids(`created_before=${encodeURIComponent(t)}`), t).toEqual([made[0]]);
    }
    // no fraction: 10:01:00 is before 10:01:00.500; a finer fraction is compared exactly
    expect(await ids('created_after=2026-12-06T10:01:00Z')).toEqual([made[1], made[2]]);
    expect(await ids('created_before=2026-12-06T10:01:00.5001Z')).toEqual([made[0], made[1]]);
    expect(await ids('created_after=2026-12-06T10:01:00.4999Z')).toEqual([made[1], made[2]]);
    for (const bad of ['2026-12-06', '2026-13-01T00:00:00Z', '2026-02-30T00:00:00Z', '2026-12-06T10:00:00', 'yesterday']) {
      await problem(await h.call(`/v1/diagnoses?created_after=${encodeURIComponent(bad)}`), 400, 'E_INPUT');
    }
  });

  it('a list item carries its outcome and no result unless ?include=result; the page is far smaller', async () => {
    const compact = await h.call('/v1/diagnoses?limit=50');
    const full = await h.call('/v1/diagnoses?limit=50&include=result');
    const [c, f] = [await compact.text(), await full.text()];
    const [ci, fi] = [JSON.parse(c).items, JSON.parse(f).items];
    expect(ci.length).toBeGreaterThan(2);
    expect(ci.length).toBe(fi.length);
    for (const [i, item] of ci.entries()) {
      expect(item.result).toBeUndefined();
      expect(fi[i].result.diagnosis.label).toBe(item.outcome.label);
      expect(item.outcome).toEqual({ label: fi[i].result.diagnosis.label, score: fi[i].result.diagnosis.score, n_segments: fi[i].result.diagnosis.n_segments });
    }
    expect(c.length * 2).toBeLessThan(f.length);
    await problem(await h.call('/v1/diagnoses?include=everything'), 400, 'E_INPUT');
  });

  it('a list item is the record as GET shows it, without its result, before and after the record changes', async () => {
    // list items are rendered once per version of their row and kept (routes/list-page.ts): a
    // record that changes must never be listed as it was
    const item = async (id: string) => (await (await h.call('/v1/diagnoses?limit=500')).json()).items.find((d: { id: string }) => d.id === id);
    const record = async (id: string, wait = 0) => {
      const { result: _, ...rest } = await (await h.call(`/v1/diagnoses/${id}?wait=${wait}`)).json();
      return rest;
    };
    const queued = await (await h.call('/v1/diagnoses?wait=0', { method: 'POST', body: variant(840), headers: { 'content-type': 'audio/wav' } })).json();
    const early = await item(queued.id);
    expect(['queued', 'running', 'done']).toContain(early.status);
    const done = await record(queued.id, 60);
    expect(done.status).toBe('done');
    expect(await item(queued.id)).toEqual(done);
    // a second listing, from what was kept, is the same bytes
    const pageText = async () => (await h.call('/v1/diagnoses?limit=500')).text();
    expect(await pageText()).toBe(await pageText());
    // the row changes below the API (the audio purged by the retention sweep): the list shows it at once
    await h.srv.services.records.purgeAudioBefore('9999-01-01T00:00:00.000Z', '2026-12-07T06:00:01.000Z');
    const purged = await record(queued.id);
    expect(purged.audio_purged_at).toBe('2026-12-07T06:00:01.000Z');
    expect(purged.links.audio).toBeNull();
    expect(await item(queued.id)).toEqual(purged);
    await h.call(`/v1/diagnoses/${queued.id}`, { method: 'DELETE' });
    expect(await item(queued.id)).toBeUndefined();
  });

  it('ETag: 304 for an unchanged record, review, image, figure and recording; a changed record gets a new one', async () => {
    const rec = await (await h.call('/v1/diagnoses?wait=60', { method: 'POST', body: variant(820), headers: { 'content-type': 'audio/wav' } })).json();
    for (const path of [`/v1/diagnoses/${rec.id}`, `/v1/diagnoses/${rec.id}/segments/0.png`, `/v1/diagnoses/${rec.id}/figure.svg`, `/v1/diagnoses/${rec.id}/audio`]) {
      const first = await h.call(path);
      const body = Buffer.from(await first.arrayBuffer());
      const etag = first.headers.get('etag')!;
      expect(etag, path).toMatch(/^"[^"]+"$/);
      const again = await h.call(path, { headers: { 'if-none-match': etag } });
      expect(again.status, path).toBe(304);
      expect((await again.arrayBuffer()).byteLength).toBe(0);
      expect(again.headers.get('etag')).toBe(etag);
      const other = await h.call(path, { headers: { 'if-none-match': '"something-else", W/"older"' } });
      expect(other.status).toBe(200);
      expect(Buffer.from(await other.arrayBuffer()).equals(body)).toBe(true);
    }
    const before = (await h.call(`/v1/diagnoses/${rec.id}`)).headers.get('etag');
    await h.call(`/v1/diagnoses/${rec.id}`, { method: 'DELETE', role: 'admin' });
    expect((await h.call(`/v1/diagnoses/${rec.id}`, { headers: { 'if-none-match': before! } })).status).toBe(404);
  });

  it('If-Match on the review: the save goes only over the version the reviewer saw; 412 when another reviewer saved first', async () => {
    const rec = await (await h.call('/v1/diagnoses?wait=60', { method: 'POST', body: variant(830), headers: { 'content-type': 'audio/wav' } })).json();
    const put = (body: object, ifMatch?: string) => h.call(`/v1/diagnoses/${rec.id}/review`, { method: 'PUT', body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...(ifMatch ? { 'if-match': ifMatch } : {}) } });
    // none yet: If-Match with a tag (or *) cannot match
    await problem(await put({ reviewed: true }, '"abc"'), 412, 'E_PRECONDITION');
    await problem(await put({ reviewed: true }, '*'), 412, 'E_PRECONDITION');
    const first = await put({ reviewed: true, note: 'first' });
    expect(first.status).toBe(200);
    const v1 = first.headers.get('etag')!;
    expect((await h.call(`/v1/diagnoses/${rec.id}/review`)).headers.get('etag')).toBe(v1);
    // two reviewers start from v1; the first to save wins, the second is told
    clock += 1000;
    const a = await put({ reviewed: true, note: 'reviewer a' }, v1);
    expect(a.status).toBe(200);
    clock += 1000;
    await problem(await put({ reviewed: true, note: 'reviewer b' }, v1), 412, 'E_PRECONDITION');
    expect((await (await h.call(`/v1/diagnoses/${rec.id}/review`)).json()).note).toBe('reviewer a');
    // saving from the current version works, and so does * now that one exists
    clock += 1000;
    expect((await put({ reviewed: true, note: 'reviewer b, again' }, a.headers.get('etag')!)).status).toBe(200);
    clock += 1000;
    expect((await put({ reviewed: true, note: 'anyone' }, '*')).status).toBe(200);
    // many saves at once from the same version: exactly one succeeds
    const current = (await h.call(`/v1/diagnoses/${rec.id}/review`)).headers.get('etag')!;
    clock += 1000;
    const racing = await Promise.all(Array.from({ length: 6 }, (_, i) => put({ reviewed: true, note: `racer ${i}` }, current)));
    expect(racing.map((r) => r.status).sort()).toEqual([200, 412, 412, 412, 412, 412]);
  });
});

describe('rate limit headers and CORS', () => {
  let h: Harness;
  beforeAll(async () => { h = await startServer({ rateLimitPerMinute: 5, corsOrigins: ['https://app.example.org'] }); });
  afterAll(async () => h?.close());

  it('every /v1 answer carries RateLimit-Policy and RateLimit; past the limit, 429 with Retry-After', async () => {
    const seen: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await h.call('/v1/diagnoses', { role: 'read' });
      expect(res.status).toBe(200);
      expect(res.headers.get('ratelimit-policy')).toBe('"default";q=5;w=60');
      const m = /^"default";r=(\d+);t=(\d+)$/.exec(res.headers.get('ratelimit') ?? '');
      expect(m).not.toBeNull();
      seen.push(Number(m![1]));
      expect(Number(m![2])).toBeGreaterThan(0);
    }
    expect(seen).toEqual([4, 3, 2, 1, 0]);
    const over = await h.call('/v1/diagnoses', { role: 'read' });
    await problem(over, 429, 'E_RATE_LIMITED');
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(over.headers.get('ratelimit')).toMatch(/^"default";r=0;t=\d+$/);
    // another key has its own window; /health is not limited
    expect((await h.call('/v1/diagnoses', { role: 'write' })).headers.get('ratelimit')).toMatch(/r=4;/);
    expect((await fetch(`${h.url}/health`)).headers.get('ratelimit')).toBeNull();
  });

  it('CORS: the listed origin gets a preflight and exposed headers; any other origin gets none', async () => {
    const pre = await fetch(`${h.url}/v1/diagnoses`, { method: 'OPTIONS', headers: { origin: 'https://app.example.org', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, idempotency-key' } });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('https://app.example.org');
    expect(pre.headers.get('access-control-allow-methods')).toMatch(/POST/);
    expect(pre.headers.get('access-control-allow-headers')).toMatch(/Authorization.*Idempotency-Key/);
    const get = await fetch(`${h.url}/health`, { headers: { origin: 'https://app.example.org' } });
    expect(get.headers.get('access-control-allow-origin')).toBe('https://app.example.org');
    expect(get.headers.get('access-control-expose-headers')).toMatch(/ETag.*RateLimit/);
    expect(get.headers.get('vary')).toMatch(/Origin/);
    for (const origin of ['https://evil.example', 'https://app.example.org.evil.example', 'null']) {
      const other = await fetch(`${h.url}/v1/diagnoses`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' } });
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
      expect((await fetch(`${h.url}/health`, { headers: { origin } })).headers.get('access-control-allow-origin')).toBeNull();
    }
  });

  it('without --cors-origin no CORS header is sent; a bad --cors-origin is E_CONFIG naming the flag', async () => {
    const plain = await startServer();
    try {
      const res = await fetch(`${plain.url}/v1/diagnoses`, { method: 'OPTIONS', headers: { origin: 'https://app.example.org', 'access-control-request-method': 'GET' } });
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await plain.close();
    }
    for (const bad of ['*', 'https://app.example.org/', 'app.example.org', 'ftp://x.example']) {
      await expect(startServer({ corsOrigins: [bad] })).rejects.toMatchObject({ code: 'E_CONFIG', message: expect.stringContaining('--cors-origin') });
    }
  });
});

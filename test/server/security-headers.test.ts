import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE_BYTES, startServer, type Harness } from './harness.js';

// Issue 25, finding 3: the server's half. The audio route answered with whatever type the
// uploader claimed (video/html, say), and nothing said not to sniff, frame or refer.
describe('security headers and served types', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startServer();
  });
  afterAll(() => h?.close());

  it('the audio route answers with the type tosia reads in the bytes, never the uploader\'s', async () => {
    const wav = await (await h.call('/v1/diagnoses?wait=60', { method: 'POST', body: SAMPLE_BYTES, headers: { 'content-type': 'video/html' } })).json();
    const audio = await h.call(wav.links.audio, { role: 'read' });
    expect(audio.headers.get('content-type')).toBe('audio/wav');
    expect(audio.headers.get('x-content-type-options')).toBe('nosniff');
    // bytes that are no audio at all: kept as a failed record, served as opaque bytes in a sandbox
    const html = Buffer.from('<html><script>alert(document.domain)</script></html>'.padEnd(200, ' '));
    const bad = await (await h.call('/v1/diagnoses?wait=60', { method: 'POST', body: html, headers: { 'content-type': 'video/html' } })).json();
    const raw = await h.call(`/v1/diagnoses/${bad.record.id}/audio`, { role: 'read' });
    expect(raw.headers.get('content-type')).toBe('application/octet-stream');
    expect(raw.headers.get('content-security-policy')).toMatch(/sandbox/);
  }, 60_000);

  it('every answer says nosniff and no-referrer; API answers are sandboxed and unframeable; the page has its own strict policy', async () => {
    for (const path of ['/health', '/v1/diagnoses', '/openapi.json', '/no-such-route']) {
      const res = await h.call(path, { role: 'read' });
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(res.headers.get('referrer-policy'), path).toBe('no-referrer');
      expect(res.headers.get('content-security-policy'), path).toBe("default-src 'none'; frame-ancestors 'none'; sandbox");
    }
    const page = await fetch(`${h.url}/`);
    expect(page.headers.get('content-security-policy')).toMatch(/^default-src 'none'; script-src 'self'; style-src 'self';.*frame-ancestors 'none'/);
  });
});

describe('figures are drawn once per record (issue 25, finding 6)', () => {
  it('20 concurrent requests for a figure not drawn yet: one drawing, the same SVG for all', async () => {
    const h = await startServer();
    try {
      const rec = await (await h.call('/v1/diagnoses?wait=60', { method: 'POST', body: SAMPLE_BYTES, headers: { 'content-type': 'audio/wav' } })).json();
      let renders = 0;
      const render = h.srv.services.figures.render.bind(h.srv.services.figures);
      h.srv.services.figures.render = (...args) => (renders++, render(...args));
      const svgs = await Promise.all(Array.from({ length: 20 }, async () => (await h.call(`/v1/diagnoses/${rec.id}/figure.svg`, { role: 'read' })).text()));
      expect(new Set(svgs).size).toBe(1);
      expect(renders).toBe(1);
    } finally {
      await h.close();
    }
  }, 60_000);
});

describe('malformed multipart (issue 24) and parts with many headers (issue 25, finding 9)', () => {
  it.each([
    ['part headers that never end', (h: string) => `--B\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\nContent-Type: audio/wav\r\n${h}`, 'multipart/form-data; boundary=B'],
    ['no closing boundary', () => '--B\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\nContent-Type: audio/wav\r\n\r\nRIFF....', 'multipart/form-data; boundary=B'],
    ['a boundary the body does not use', () => '--X\r\nContent-Disposition: form-data; name="file"\r\n\r\nabc\r\n--X--\r\n', 'multipart/form-data; boundary=B'],
    ['no boundary in Content-Type', () => '--B\r\nContent-Disposition: form-data; name="file"\r\n\r\nabc\r\n--B--\r\n', 'multipart/form-data'],
  ])('%s: a 400 problem, never a 500 or a hang', async (_what, body, type) => {
    const h = await startServer();
    try {
      const extra = Array.from({ length: 150 }, (_, i) => `X-H${i}: v\r\n`).join('');
      const res = await h.call('/v1/diagnoses?wait=0', { method: 'POST', body: body(extra), headers: { 'content-type': type }, signal: AbortSignal.timeout(30_000) });
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect((await res.json()).code).toBe('E_INPUT');
    } finally {
      await h.close();
    }
  }, 60_000);

  it('a file part with 150 extra headers is answered (the parser keeps to its header limit)', async () => {
    const h = await startServer();
    try {
      const extra = Array.from({ length: 150 }, (_, i) => `X-H${i}: v\r\n`).join('');
      const body = Buffer.concat([Buffer.from(`--B\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\nContent-Type: audio/wav\r\n${extra}\r\n`), SAMPLE_BYTES, Buffer.from('\r\n--B--\r\n')]);
      const res = await h.call('/v1/diagnoses?wait=0', { method: 'POST', body, headers: { 'content-type': 'multipart/form-data; boundary=B' }, signal: AbortSignal.timeout(30_000) });
      expect([200, 201, 202]).toContain(res.status);
    } finally {
      await h.close();
    }
  }, 60_000);
});

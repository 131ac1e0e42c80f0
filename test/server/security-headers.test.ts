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

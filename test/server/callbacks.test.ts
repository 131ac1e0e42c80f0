import { createServer, type Server } from 'node:http';
import { lookup } from 'node:dns/promises';
import { hostname } from 'node:os';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPublicAddress } from '../../server/work/callback-guard.js';
import { form, startServer, variant, type Harness } from './harness.js';

// Issue 25, finding 4: callback_url reached loopback, link-local, private ranges, internal names
// and credentials, and its last_error told a read key which ports were open.

describe('where callbacks may go', () => {
  let h: Harness;
  let receiver: Server;
  let port = 0;
  let hits = 0;
  beforeAll(async () => {
    receiver = createServer((req, res) => {
      hits++;
      req.resume();
      // a receiver that redirects elsewhere: never followed
      res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data' }).end();
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    port = (receiver.address() as AddressInfo).port;
    h = await startServer({ webhookSecret: 'a-test-secret-of-32-characters!!', webhook: { backoffMs: 20, maxTries: 2 } });
  });
  afterAll(async () => {
    await h?.close();
    receiver?.close();
  });
  const post = (callback: string, n: number) => h.call('/v1/diagnoses?wait=60', { method: 'POST', body: form(variant(7100 + n), { callback_url: callback }) });

  it.each([
    'http://127.0.0.1:PORT/hook', 'http://2130706433:PORT/hook', 'http://0x7f000001:PORT/hook', 'http://0177.0.0.1:PORT/hook', 'http://127.1:PORT/hook',
    'http://[::1]:PORT/hook', 'http://[::ffff:127.0.0.1]:PORT/hook', 'http://169.254.169.254/latest/meta-data', 'http://10.0.0.5/', 'http://192.168.1.1/',
    'http://172.16.0.1/', 'http://100.64.0.1/', 'http://[fd00::1]/', 'http://[fe80::1]/', 'http://0.0.0.0:PORT/', 'http://localhost:PORT/hook',
    'http://intranet.internal/hook', 'http://printer.local/', 'https://user:pw@example.org/hook', 'ftp://example.org/x', 'javascript:alert(1)',
  ])('%s is refused at submission (400 naming callback_url)', async (url) => {
    const res = await post(url.replace('PORT', String(port)), 1);
    expect(res.status).toBe(400);
    const p = await res.json();
    expect(p.code).toBe('E_INPUT');
    expect(p.errors[0].field).toBe('callback_url');
  });

  it('a name that resolves to a private address is refused when the connection is made, and the record says only that', async () => {
    // this machine's own name resolves to loopback here (/etc/hosts)
    const name = hostname();
    const addrs = await lookup(name, { all: true }).catch(() => []);
    if (addrs.length === 0 || addrs.some((a) => isPublicAddress(a.address))) {
      console.warn(`skipping: ${name} does not resolve to loopback on this machine`);
      return;
    }
    const before = hits;
    const res = await post(`http://${name}:${port}/hook`, 2);
    expect(res.status).toBe(201);
    const rec = await res.json();
    let got = rec;
    for (let i = 0; i < 100 && got.webhook?.state !== 'failed'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      got = await (await h.call(`/v1/diagnoses/${rec.id}`, { role: 'read' })).json();
    }
    expect(got.webhook).toMatchObject({ state: 'failed', attempts: 1 });
    expect(got.webhook.last_error).toMatch(/does not resolve to a public address/);
    expect(got.webhook.last_error).not.toMatch(/127\.0\.0\.1|ECONN/);
    expect(hits).toBe(before);
  });

  it('an allowed internal host gets its callback; a redirect is not followed; delivery ids are stable per attempt', async () => {
    const allowed = await startServer({ webhookSecret: 'a-test-secret-of-32-characters!!', webhook: { backoffMs: 20, maxTries: 2 }, allowCallbackHosts: ['127.0.0.1'] });
    try {
      const before = hits;
      const rec = await (await allowed.call('/v1/diagnoses?wait=60', { method: 'POST', body: form(variant(7200), { callback_url: `http://127.0.0.1:${port}/hook` }) })).json();
      let got = rec;
      for (let i = 0; i < 100 && got.webhook?.state !== 'failed'; i++) {
        await new Promise((r) => setTimeout(r, 50));
        got = await (await allowed.call(`/v1/diagnoses/${rec.id}`, { role: 'read' })).json();
      }
      // the 302 is an answer, not a delivery: tried twice at the receiver, never at the redirect's target
      expect(hits - before).toBe(2);
      expect(got.webhook).toMatchObject({ state: 'failed', attempts: 2, last_error: expect.stringContaining('the receiver answered HTTP 302') });
    } finally {
      await allowed.close();
    }
  });

  it('a closed port and a refused connection read the same to a read key: no port scanning through last_error', async () => {
    const allowed = await startServer({ webhookSecret: 'a-test-secret-of-32-characters!!', webhook: { backoffMs: 20, maxTries: 1, timeoutMs: 500 }, allowCallbackHosts: ['127.0.0.1'] });
    try {
      const closed = await (await allowed.call('/v1/diagnoses?wait=60', { method: 'POST', body: form(variant(7300), { callback_url: 'http://127.0.0.1:9/hook' }) })).json();
      let got = closed;
      for (let i = 0; i < 100 && got.webhook?.state !== 'failed'; i++) {
        await new Promise((r) => setTimeout(r, 50));
        got = await (await allowed.call(`/v1/diagnoses/${closed.id}`, { role: 'read' })).json();
      }
      expect(got.webhook.last_error).toMatch(/no answer: the connection failed or timed out/);
      expect(got.webhook.last_error).not.toMatch(/ECONNREFUSED|refused/i);
    } finally {
      await allowed.close();
    }
  });
});

describe('isPublicAddress', () => {
  it.each([['8.8.8.8', true], ['2606:4700:4700::1111', true], ['127.0.0.1', false], ['::ffff:7f00:1', false], ['64:ff9b::10.0.0.1', false], ['169.254.169.254', false], ['::', false], ['not-an-ip', false]])('%s → %s', (a, ok) => {
    expect(isPublicAddress(a)).toBe(ok);
  });
});

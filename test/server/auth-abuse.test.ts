import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE_BYTES, startServer, type Harness } from './harness.js';

// Issue 25, findings 7 and 10: route aliases passed the rate limit, failed authentications were
// never limited, and the keyless loopback mode trusted anyone a local proxy or page forwarded.

/** A raw request line (the router accepts forms fetch() would normalise away). */
function raw(url: string, line: string, headers: Record<string, string>): Promise<number> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, method: 'GET', path: line, headers }, (res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('rate limits on every alias, and on failed authentication', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startServer({ rateLimitPerMinute: 5, failedAuthPerMinute: 4 });
  });
  afterAll(() => h?.close());

  it('a key over its limit gets 429 through /%761/… and absolute-form request lines too', async () => {
    const auth = { authorization: `Bearer ${h.keys.read}` };
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push(await raw(h.url, '/v1/diagnoses', auth));
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
    expect(await raw(h.url, '/v1/diagnoses', auth)).toBe(429);
    expect(await raw(h.url, '/%761/diagnoses', auth)).toBe(429);
    expect(await raw(h.url, `${h.url}/v1/diagnoses`, auth)).toBe(429);
  });

  it('requests with no key or a wrong key are limited per address: 429 with Retry-After, before any key lookup', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await fetch(`${h.url}/v1/diagnoses/whatever`, { headers: { authorization: `Bearer wrong-${i}` } })).status);
    expect(statuses).toEqual([401, 401, 401, 401]);
    const limited = await fetch(`${h.url}/v1/diagnoses`, { headers: { authorization: `Bearer ${h.keys.admin}` } });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await limited.json()).code).toBe('E_RATE_LIMITED');
  });
});

describe('the keyless loopback mode', () => {
  let h: Harness;
  beforeAll(async () => {
    // no key exists: createKey is the harness's, so use a server of its own with none
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { createServer } = await import('../../server/index.js');
    const { defaultConfig } = await import('../../runtime/index.js');
    const dir = mkdtempSync(join(tmpdir(), 'tosia-keyless-'));
    const srv = await createServer({ config: defaultConfig(), concurrency: 1, dataDir: dir });
    const url = await srv.listen('127.0.0.1', 0);
    h = { srv, url, dir, keys: {} as Harness['keys'], call: (p, i = {}) => fetch(url + p, i), close: () => srv.close() };
  });
  afterAll(() => h?.close());

  it('answers the local user with no key, as admin', async () => {
    expect((await fetch(`${h.url}/v1/diagnoses`)).status).toBe(200);
  });

  it.each([
    ['X-Forwarded-For', { 'x-forwarded-for': '203.0.113.9' }],
    ['Forwarded', { forwarded: 'for=203.0.113.9' }],
    ['X-Real-IP', { 'x-real-ip': '203.0.113.9' }],
    ['a page of another origin', { origin: 'https://evil.example' }],
    ['Sec-Fetch-Site: cross-site', { 'sec-fetch-site': 'cross-site' }],
  ])('refuses a request that came through %s (401): a proxy or another site is not the local user', async (_what, headers) => {
    expect((await fetch(`${h.url}/v1/diagnoses`, { headers })).status).toBe(401);
    const post = await fetch(`${h.url}/v1/diagnoses?wait=0`, { method: 'POST', body: SAMPLE_BYTES, headers: { ...headers, 'content-type': 'audio/wav' } });
    expect(post.status).toBe(401);
  });
});

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { chromiumMissing, launch } from '../helpers/browser.js';
import { serve, type Served } from '../server/harness.js';

// Issue 25, finding 3: a stored upload made to look like a record and a figure, reached through
// an id taken from the URL, ran script in a reviewer's session (where the API key is kept).
const missing = chromiumMissing();
const KEY = 'page-security-key-0123456789abcdef';

/** Bytes that are JSON shaped like a finished record, carrying markup that runs script if it is ever parsed as HTML. */
function hostileUpload(): Buffer {
  const html = '<img src=x onerror="window.__pwned=(window.__pwned||0)+1;fetch(\'/steal?\'+sessionStorage.getItem(\'tosia-key\'))">';
  const result = {
    source: { path: html, duration_s: 1, sample_rate: 16000, codec: 'pcm', sha256: '0' }, model: { name: 'm', version: '1', sha256: '0', labels: ['a', 'b'] },
    config_sha256: '0', segments: [], warnings: [html], diagnosis: { label: 'a', score: 0.5, positive_label: 'a', n_segments: 0 }, quality: { flags: [], snr_db: null, peak_dbfs: 0, clipped_fraction: 0 },
  };
  return Buffer.from(JSON.stringify({ id: html, external_id: html, status: 'done', created_at: '2026-01-01T00:00:00Z', source: { filename: html }, flags: [], result, error: null, links: { audio: null }, note: html }));
}

describe.skipIf(missing)('the review page against a hostile upload', () => {
  let browser: Browser;
  let server: Served;
  beforeAll(async () => {
    browser = await launch();
    server = await serve(mkdtempSync(join(tmpdir(), 'tosia-page-sec-')), [], { TOSIA_API_KEY: KEY });
  });
  afterAll(async () => {
    await browser?.close();
    server?.proc.kill('SIGTERM');
    await server?.exited;
  });

  it('an id from the URL that is not a record id is refused before any request; the stored bytes never reach the DOM as HTML', async () => {
    // kept as a failed record: the bytes are not audio
    const res = await fetch(`${server.url}/v1/diagnoses?wait=30`, { method: 'POST', body: hostileUpload(), headers: { authorization: `Bearer ${KEY}`, 'content-type': 'audio/wav' } });
    expect(res.status).toBe(422);
    const id = (await res.json()).record.id as string;
    const page = await browser.newPage();
    const requests: string[] = [];
    page.on('request', (r) => requests.push(new URL(r.url()).pathname));
    await page.goto(server.url);
    await page.locator('#key').fill(KEY);
    await page.locator('form button[type=submit]').click();
    await page.waitForSelector('#list');
    requests.length = 0;
    // the chain of the finding: #/d/<id>/audio# made every fetch of the detail view return the raw upload
    await page.goto(`${server.url}/#/d/${id}/audio#`);
    await page.waitForSelector('p.error');
    await page.waitForTimeout(300);
    expect(await page.locator('p.error').allTextContents()).toEqual([expect.stringMatching(/is not a diagnosis id/)]);
    await page.waitForTimeout(500);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(requests.filter((p) => p.startsWith('/v1/') || p.startsWith('/steal'))).toEqual([]);
    // the failed record itself, by its real id: shown as text
    await page.goto(`${server.url}/#/d/${id}`);
    await page.waitForSelector('h2');
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.locator('img').count()).toBe(0);
    await page.close();
  }, 60_000);

  it('the page runs under a strict CSP: no inline script runs even if one is put in the DOM', async () => {
    const page = await browser.newPage();
    const res = await page.goto(server.url);
    const csp = res!.headers()['content-security-policy']!;
    expect(csp).toMatch(/script-src 'self'/);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(csp).toMatch(/frame-ancestors 'none'/);
    const ran = await page.evaluate(async () => {
      const s = document.createElement('script');
      s.textContent = 'window.__inline = 1';
      document.body.append(s);
      const img = document.createElement('img');
      img.setAttribute('src', 'x');
      img.setAttribute('onerror', 'window.__inline = 2');
      document.body.append(img);
      await new Promise((r) => setTimeout(r, 300));
      return (window as unknown as { __inline?: number }).__inline;
    });
    expect(ran).toBeUndefined();
    await page.close();
  }, 60_000);
});

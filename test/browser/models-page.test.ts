import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { defaultModelPath } from '../../runtime/index.js';
import { axe, chromiumMissing, launch } from '../helpers/browser.js';
import { deriveModel } from '../helpers/models.js';
import { serve, variant, type Served } from '../server/harness.js';

// Issue 26, part 4: the review page's Models view (each model, the default, the shadow's
// agreement, each evaluation with its ROC figures) and the shadow's verdict on a record, in real
// headless Chromium against a real tosia serve with two models and a shadow.
const missing = chromiumMissing();
const KEY = 'models-page-key-0123456789abcdef';


describe.skipIf(missing)('the review page: models and evaluations', () => {
  let browser: Browser;
  let server: Served;
  const dir = mkdtempSync(join(tmpdir(), 'tosia-models-page-'));
  const call = (path: string, init: RequestInit = {}) => fetch(server.url + path, { ...init, headers: { authorization: `Bearer ${KEY}`, ...(init.headers as Record<string, string>) } });
  let recordId = '';
  let evaluationId = '';

  beforeAll(async () => {
    browser = await launch();
    const v2 = deriveModel(dir, 'cough-v2');
    server = await serve(join(dir, 'data'), ['--model', `v1=${defaultModelPath()}`, '--model', `v2=${v2}`, '--shadow', 'v2'], { TOSIA_API_KEY: KEY });
    for (let i = 0; i < 6; i++) {
      const d = await (await call('/v1/diagnoses?wait=60', { method: 'POST', body: variant(2900 + i), headers: { 'content-type': 'audio/wav' } })).json();
      recordId = d.id;
      await call(`/v1/diagnoses/${d.id}/review`, { method: 'PUT', body: JSON.stringify({ reviewed: true, label: i % 2 ? 'covid19' : 'not_covid19' }), headers: { 'content-type': 'application/json' } });
    }
    for (let i = 0; i < 600; i++) {
      const m = await (await call('/v1/models')).json();
      if (m.items[1].shadow_agreement?.compared === 6) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    evaluationId = (await (await call('/v1/evaluations', { method: 'POST', body: JSON.stringify({ model: 'v2' }), headers: { 'content-type': 'application/json' } })).json()).id;
    for (let i = 0; i < 1200; i++) {
      if ((await (await call(`/v1/evaluations/${evaluationId}`)).json()).status === 'done') break;
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    server?.proc.kill('SIGTERM');
    await server?.exited;
  });

  it('lists each model with its role and the shadow agreement, and each evaluation with its metrics and ROC figures; a record shows the shadow verdict beside its own', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' && !/status of 401/.test(m.text()) && !(/status of 404/.test(m.text()) && /\/review$/.test(m.location().url))) errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(server.url);
    await page.locator('#key').fill(KEY);
    await page.locator('form button[type=submit]').click();
    await page.waitForSelector('#list tbody tr');
    // the list shows each record's shadow verdict beside its own
    expect(await page.locator('#list thead th').last().textContent()).toBe('shadow');
    expect(await page.locator('#list tbody tr td.shadow').first().textContent()).toMatch(/^(covid19|not_covid19) 0\.\d{3}$/);
    await page.goto(`${server.url}/#/models`);
    await page.waitForSelector('#models tbody tr');
    const rows = await page.locator('#models tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    expect(rows.map((r) => [r[0], r[4]])).toEqual([['v1', 'default'], ['v2', 'shadow']]);
    expect(rows[1]![5]).toMatch(/^\d+\.\d % of 6$/);
    const section = page.locator(`section.evaluation[data-id="${evaluationId}"]`);
    await section.locator('figure svg').first().waitFor();
    expect(await section.locator('h3').textContent()).toBe('v2 beside v1 · done');
    expect(await section.locator('tbody tr').count()).toBe(2);
    expect(await section.locator('tbody td').nth(2).textContent()).toMatch(/^0\.\d{3} \(\d\.\d{3}–\d\.\d{3}\)|^[01]\.\d{3}/);
    // each ROC drawn from the server's SVG, rebuilt element by element: curve, band and all
    expect(await section.locator('figure').count()).toBe(2);
    expect(await section.locator('figure svg polyline').count()).toBeGreaterThan(0);
    expect(await axe(page)).toEqual([]);
    // starting an evaluation from the page
    await page.locator('#eval-model').selectOption('v1');
    await page.locator('#evaluate button[type=submit]').click();
    await page.waitForFunction(() => /evaluation .* (queued|running|done)/.test(document.getElementById('eval-started')?.textContent ?? ''));
    // the shadow's verdict on a record, never as its diagnosis
    await page.goto(`${server.url}/#/d/${recordId}`);
    await page.waitForSelector('#shadow');
    expect(await page.locator('#shadow').textContent()).toMatch(/^Shadow model v2: (covid19|not_covid19) · score 0\.\d{3} \(not the diagnosis\)$/);
    expect(errors).toEqual([]);
  }, 120_000);
});

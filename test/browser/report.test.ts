import { mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { chromiumMissing, launch } from '../helpers/browser.js';
import { tosia } from '../helpers/cli.js';
import { REPO_ROOT } from '../helpers/shared.js';

// The report, opened from disk in real headless Chromium, with no server.
const missing = chromiumMissing();
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

describe.skipIf(missing)('the HTML report in a browser', () => {
  let browser: Browser;
  const dir = mkdtempSync(join(tmpdir(), 'tosia-report-browser-'));
  beforeAll(async () => {
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('opened from disk: three boxes; clicking the second plays that segment and the playhead follows; no console error; no serious accessibility violation', async () => {
    const file = join(dir, 'one.html');
    expect((await tosia(['run', join(REPO_ROOT, 'samples/coughs-3_snr-25db_white_16k.wav'), '--report', file])).code).toBe(0);
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(pathToFileURL(file).href);
    const boxes = page.locator('rect.seg');
    expect(await boxes.count()).toBe(3);
    const [start, end] = await boxes.nth(1).evaluate((r) => [Number((r as SVGElement).dataset.start), Number((r as SVGElement).dataset.end)]);
    await boxes.nth(1).click({ force: true });
    await page.waitForFunction(() => { const a = document.querySelector('audio')!; return !a.paused && a.currentTime > 0; });
    const state = await page.evaluate(() => { const a = document.querySelector('audio')!; return { t: a.currentTime, paused: a.paused }; });
    expect(state.paused).toBe(false);
    expect(state.t).toBeGreaterThanOrEqual(start! - 0.05);
    expect(state.t).toBeLessThanOrEqual(end! + 0.05);
    // the playhead moves with timeupdate (about 4 times a second)
    await page.waitForFunction(() => document.querySelector('.playhead')!.getAttribute('visibility') === 'visible');
    const x = Number(await page.locator('.playhead').getAttribute('x1'));
    const [x0, w] = await boxes.nth(1).evaluate((r) => [Number(r.getAttribute('x')), Number(r.getAttribute('width'))]);
    expect(x).toBeGreaterThanOrEqual(x0! - 2);
    expect(x).toBeLessThanOrEqual(x0! + w! + 6);
    // it stops at the segment's end
    await page.waitForFunction(() => document.querySelector('audio')!.paused, undefined, { timeout: 5000 });
    expect(await page.evaluate(() => document.querySelector('audio')!.currentTime)).toBeLessThan(end! + 0.35);
    // a row and its box light up together
    await page.locator('tbody tr[data-index="2"]').hover();
    expect(await page.locator('rect.seg[data-index="2"]').getAttribute('class')).toMatch(/hot/);
    await page.addScriptTag({ content: axeSource });
    const violations = await page.evaluate(async () => (await (window as unknown as { axe: { run(): Promise<{ violations: { id: string; impact: string }[] }> } }).axe.run()).violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id));
    expect(violations).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });
});

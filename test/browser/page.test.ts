import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { axe, chromiumMissing, launch } from '../helpers/browser.js';
import { tosia } from '../helpers/cli.js';
import { REPO_ROOT } from '../helpers/shared.js';
import { serve, type Served } from '../server/harness.js';

// The review page against a real `tosia serve` on loopback, in real headless Chromium.
const missing = chromiumMissing();
const KEY = 'page-test-key-0123456789abcdef';
const SAMPLE = join(REPO_ROOT, 'samples/coughs-3_snr-25db_white_16k.wav');

describe.skipIf(missing)('the review page', () => {
  let browser: Browser;
  let server: Served;
  const dir = mkdtempSync(join(tmpdir(), 'tosia-page-'));
  beforeAll(async () => {
    browser = await launch();
    server = await serve(join(dir, 'data'), [], { TOSIA_API_KEY: KEY });
  });
  afterAll(async () => {
    await browser?.close();
    server?.proc.kill('SIGTERM');
    await server?.exited;
  });

  it('is built small: its JavaScript is under 100 KB gzipped', () => {
    expect(gzipSync(readFileSync(join(REPO_ROOT, 'dist/page/app.js'))).length).toBeLessThan(100 * 1024);
  });

  it('key, upload, three boxes, a box plays its segment, a review kept across a reload, the truth export read by tosia eval; keyboard list; no console error; accessible', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors: string[] = [];
    // a 401 before the key is given and a 404 for a record with no review yet are answers, not errors
    page.on('console', (m) => {
      if (m.type() !== 'error') return;
      if (/status of 401/.test(m.text()) || (/status of 404/.test(m.text()) && /\/review$/.test(m.location().url))) return;
      errors.push(`${m.text()} (${m.location().url})`);
    });
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(server.url);
    // the key, asked once, kept in sessionStorage
    await page.locator('#key').fill(KEY);
    await page.locator('form button[type=submit]').click();
    await page.waitForSelector('#list');
    // upload the bundled 3-cough sample and watch it finish
    await page.goto(`${server.url}/#/upload`);
    await page.locator('#file').setInputFiles(SAMPLE);
    await page.locator('#uploads li a').click({ timeout: 60_000 });
    await page.waitForSelector('rect.seg');
    expect(await page.locator('rect.seg').count()).toBe(3);
    // the second box plays exactly that segment
    await page.waitForFunction(() => (document.querySelector('audio') as HTMLAudioElement).readyState >= 1);
    const box = page.locator('rect.seg').nth(1);
    const [start, end] = await box.evaluate((r) => [Number((r as SVGElement).dataset.start), Number((r as SVGElement).dataset.end)]);
    await box.click({ force: true });
    await page.waitForFunction(() => { const a = document.querySelector('audio')!; return !a.paused && a.currentTime > 0; });
    const t = await page.evaluate(() => document.querySelector('audio')!.currentTime);
    expect(t).toBeGreaterThanOrEqual(start! - 0.05);
    expect(t).toBeLessThanOrEqual(end! + 0.05);
    expect(await axe(page)).toEqual([]);
    // review: segment 1 is not a cough; a missed cough dragged across 3.05-3.35 s; reviewed
    await page.locator('#segments tbody tr[data-index="1"] input[type=checkbox]').check();
    await page.locator('.figure svg').scrollIntoViewIfNeeded();
    const svg = await page.locator('.figure svg').boundingBox();
    // the plot spans the SVG's full width; 3.5 s of audio
    const x = (s: number) => svg!.x + (s / 3.5) * svg!.width;
    await page.mouse.move(x(3.05), svg!.y + 40);
    await page.mouse.down();
    await page.mouse.move(x(3.35), svg!.y + 40, { steps: 4 });
    await page.mouse.up();
    expect(await page.locator('#added li').count()).toBe(1);
    await page.locator('#reviewed').check();
    await page.locator('#label').selectOption('covid19');
    await page.locator('form.review button[type=submit]').click();
    await page.waitForFunction(() => /saved/.test(document.getElementById('saved')!.textContent ?? ''));
    await page.reload();
    await page.waitForSelector('#segments');
    expect(await page.locator('#segments tbody tr[data-index="1"] input[type=checkbox]').isChecked()).toBe(true);
    expect(await page.locator('#added li').count()).toBe(1);
    expect(await page.locator('#added li').textContent()).toMatch(/^3\.0\d–3\.3\d s/);
    expect(await page.locator('#reviewed').isChecked()).toBe(true);
    await page.screenshot({ path: join(dir, 'detail.png'), fullPage: true });
    // the export, read by tosia eval
    const get = async (path: string) => (await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${KEY}` } })).text();
    writeFileSync(join(dir, 'truth.csv'), await get('/v1/reviews/truth.csv'));
    writeFileSync(join(dir, 'results.jsonl'), await get('/v1/reviews/results.jsonl'));
    const ev = await tosia(['eval', '--truth', join(dir, 'truth.csv'), '--pred', join(dir, 'results.jsonl'), '--json']);
    expect(ev.code, ev.stderr).toBe(0);
    expect(JSON.parse(ev.stdout).total).toMatchObject({ truth: 3, predicted: 3, tp: 2, fp: 1, fn: 1 });
    // the list, by keyboard alone
    await page.goto(`${server.url}/#/`);
    await page.waitForSelector('#list tbody tr');
    await page.keyboard.press('j');
    await page.keyboard.press('k');
    await page.keyboard.press('Enter');
    await page.waitForSelector('rect.seg');
    await page.goto(`${server.url}/#/`);
    await page.waitForSelector('#list tbody tr');
    expect(await axe(page)).toEqual([]);
    // a phone's width
    await page.setViewportSize({ width: 390, height: 800 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1)).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);
});

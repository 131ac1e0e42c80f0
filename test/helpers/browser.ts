import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.TOSIA_CHROMIUM ?? '/usr/bin/chromium';

/** Browser tests skip where Debian's chromium is absent, except under CI=true, where that is a failure. */
export function chromiumMissing(): string | null {
  if (existsSync(CHROMIUM)) return null;
  const why = `${CHROMIUM} is absent (apt-get install chromium)`;
  if (process.env.CI === 'true') throw new Error(`${why}; CI=true requires it (.ci/run installs it)`);
  console.warn(`skipping browser tests: ${why}`);
  return why;
}

/**
 * Debian's chromium, headless, never a downloaded browser, in a fresh profile (playwright makes
 * one per launch). Without the background-networking
 * flags it floods this machine's closed network with refused connections.
 */
export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required'],
  });
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core's serious and critical violations on the page, by rule id. */
export async function axe(page: Page): Promise<string[]> {
  // evaluated through the debugging protocol: the page's CSP rightly refuses an inline script tag
  await page.evaluate(axeSource);
  return page.evaluate(async () => (await (window as unknown as { axe: { run(): Promise<{ violations: { id: string; impact: string }[] }> } }).axe.run()).violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id));
}

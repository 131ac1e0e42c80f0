import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

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

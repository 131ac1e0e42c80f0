import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './shared.js';

export const SAMPLES_DIR = join(REPO_ROOT, 'samples');

export interface BundledSample {
  file: string;
  name: string;
  truth: { start: number; end: number }[];
  background: string;
  sampleRate: number;
  channels: number;
}

/** Every bundled sample with its ground-truth sidecar. */
export function bundledSamples(): BundledSample[] {
  return readdirSync(SAMPLES_DIR)
    .filter((f) => /\.(wav|mp3|ogg|oga|flac)$/.test(f))
    .sort()
    .map((f) => {
      const side = JSON.parse(readFileSync(join(SAMPLES_DIR, f.replace(/\.[^.]+$/, '.json')), 'utf8'));
      return {
        file: join(SAMPLES_DIR, f),
        name: f,
        truth: side.coughs.map((c: { start_s: number; end_s: number }) => ({ start: c.start_s, end: c.end_s })),
        background: side.spec.background,
        sampleRate: side.sample_rate,
        channels: side.channels,
      };
    });
}

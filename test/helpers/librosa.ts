import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { amplitudeToDb, MelPlan, melFilterBank, powerToDb, type RealFftFactory } from '../../algos/index.js';
import { LIBROSA_DIR, SKIP_SHARED, hasShared, readF32 } from './shared.js';

export interface LibrosaCase {
  name: string;
  params: Record<string, unknown>;
  db: string;
  files: Record<'input' | 'melfb' | 'mel' | 'db', { file: string; shape: number[] }>;
}

export function librosaCases(): LibrosaCase[] {
  if (!hasShared) return [];
  return readdirSync(LIBROSA_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => ({ name: f.replace(/\.json$/, ''), ...JSON.parse(readFileSync(join(LIBROSA_DIR, f), 'utf8')) }));
}

export function librosaOptions(p: Record<string, unknown>) {
  const nFft = p.n_fft as number;
  return {
    sampleRate: p.sr as number,
    nFft,
    hopLength: (p.hop_length as number | null) ?? Math.floor(nFft / 4),
    winLength: (p.win_length as number | null) ?? nFft,
    window: 'hann' as const,
    center: p.center as boolean,
    padMode: p.pad_mode as 'constant' | 'reflect',
    power: p.power as number,
    nMels: p.n_mels as number,
    fmin: p.fmin as number,
    fmax: (p.fmax as number | null) ?? null,
    htk: p.htk as boolean,
    norm: p.norm as 'slaney' | null,
  };
}

/** The four reference cases at the tolerances of ../shared/reference/librosa/README.md. */
export function describeLibrosaCases(title: string, fft: () => RealFftFactory | undefined): void {
  const cases = librosaCases();
  describe.skipIf(!hasShared)(`${title} ${hasShared ? '' : `(${SKIP_SHARED})`}`, () => {
    it('finds all four cases', () => expect(cases.length).toBe(4));
    for (const c of cases) {
      describe(c.name, () => {
        const opts = librosaOptions(c.params);
        const file = (k: keyof LibrosaCase['files']) => readF32(join(LIBROSA_DIR, c.files[k].file));
        const mel = () => new MelPlan(opts, fft()).run(file('input'));

        it('filter bank: max abs difference <= 1e-6', () => {
          const ref = file('melfb');
          const fb = melFilterBank(opts);
          expect(fb.length).toBe(ref.length);
          let worst = 0;
          for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(fb[i]! - ref[i]!));
          expect(worst).toBeLessThanOrEqual(1e-6);
        });

        it('mel: shape and relative difference <= 1e-4 where ref > 1e-6 * max', () => {
          const ref = file('mel');
          const [nMels, nFrames] = c.files.mel.shape as [number, number];
          const got = mel();
          expect([got.nMels, got.nFrames]).toEqual([nMels, nFrames]);
          let max = 0;
          for (const v of ref) max = Math.max(max, v);
          let worst = 0;
          for (let i = 0; i < ref.length; i++) {
            if (ref[i]! > 1e-6 * max) worst = Math.max(worst, Math.abs(got.data[i]! - ref[i]!) / ref[i]!);
          }
          expect(worst).toBeLessThanOrEqual(1e-4);
        });

        it('dB: max abs difference <= 0.01 dB', () => {
          const ref = file('db');
          const got = mel();
          const db = c.db.startsWith('amplitude')
            ? amplitudeToDb(got.data, { ref: 'max', amin: 1e-5, topDb: 80 })
            : powerToDb(got.data, { ref: 'max', amin: 1e-10, topDb: 80 });
          let worst = 0;
          for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(db[i]! - ref[i]!));
          expect(worst).toBeLessThanOrEqual(0.01);
        });
      });
    }
  });
}

import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { amplitudeToDb, melFilterBank, melSpectrogram, powerToDb, MelPlan } from '../../algos/index.js';
import { LIBROSA_DIR, SKIP_SHARED, hasShared, readF32 } from '../helpers/shared.js';

interface Case {
  name: string;
  params: Record<string, unknown>;
  db: string;
  files: Record<'input' | 'melfb' | 'mel' | 'db', { file: string; shape: number[] }>;
}

const cases: Case[] = hasShared
  ? readdirSync(LIBROSA_DIR)
      .filter((f) => f.endsWith('.json'))
      .map((f) => ({ name: f.replace(/\.json$/, ''), ...JSON.parse(readFileSync(join(LIBROSA_DIR, f), 'utf8')) }))
  : [];

function toOptions(p: Record<string, unknown>) {
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

describe.skipIf(!hasShared)(`librosa 0.11 reference vectors ${hasShared ? '' : `(${SKIP_SHARED})`}`, () => {
  it('finds all four cases', () => expect(cases.length).toBe(4));

  for (const c of cases) {
    describe(c.name, () => {
      const opts = toOptions(c.params);
      const file = (k: keyof Case['files']) => readF32(join(LIBROSA_DIR, c.files[k].file));

      it('filter bank: max abs difference <= 1e-6', () => {
        const ref = file('melfb');
        const fb = melFilterBank(opts);
        expect(fb.length).toBe(ref.length);
        let worst = 0;
        for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(fb[i]! - ref[i]!));
        expect(worst).toBeLessThanOrEqual(1e-6);
      });

      const mel = () => melSpectrogram(file('input'), opts);

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
        const db = c.db.startsWith('amplitude') ? amplitudeToDb(got.data, { ref: 'max', amin: 1e-5, topDb: 80 }) : powerToDb(got.data, { ref: 'max', amin: 1e-10, topDb: 80 });
        let worst = 0;
        for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(db[i]! - ref[i]!));
        expect(worst).toBeLessThanOrEqual(0.01);
      });
    });
  }
});

describe('melSpectrogram closed forms', () => {
  const sr = 16000;
  it('silence gives zeros and the librosa frame count', () => {
    const out = melSpectrogram(new Float32Array(16000), { sampleRate: sr, nFft: 512, hopLength: 160, nMels: 40 });
    expect(out.nFrames).toBe(1 + Math.floor(16000 / 160));
    expect(out.data.every((v) => v === 0)).toBe(true);
  });

  it('a 1 kHz sine peaks in the mel band whose centre is nearest 1 kHz', () => {
    const x = new Float32Array(sr);
    for (let i = 0; i < x.length; i++) x[i] = Math.sin((2 * Math.PI * 1000 * i) / sr);
    const plan = new MelPlan({ sampleRate: sr, nFft: 1024, hopLength: 256, nMels: 64 });
    const { data, nFrames } = plan.run(x);
    const t = Math.floor(nFrames / 2);
    let best = 0;
    for (let m = 1; m < 64; m++) if (data[m * nFrames + t]! > data[best * nFrames + t]!) best = m;
    const fb = plan.filterBank;
    // the band with the largest weight at the 1 kHz bin
    const bin = Math.round((1000 * 1024) / sr);
    let expected = 0;
    for (let m = 1; m < 64; m++) if (fb.weights[m * fb.nBins + bin]! > fb.weights[expected * fb.nBins + bin]!) expected = m;
    expect(best).toBe(expected);
  });

  it.each([16, 17, 100, 400, 960, 1000])('nFft=%i (non powers of two too) agrees with a direct DFT', (nFft) => {
    const x = new Float32Array(3 * nFft);
    let seed = 7;
    for (let i = 0; i < x.length; i++) { seed = (seed * 16807) % 2147483647; x[i] = seed / 2147483647 - 0.5; }
    const opts = { sampleRate: 8000, nFft, hopLength: Math.max(1, nFft >> 2), nMels: 8, center: false };
    const plan = new MelPlan(opts);
    const fast = plan.run(x);
    // direct DFT power spectrum of frame 1 through the same filter bank
    const win = new Float64Array(nFft);
    for (let n = 0; n < nFft; n++) win[n] = 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / nFft);
    const t = 1, origin = t * opts.hopLength;
    const bins = 1 + (nFft >> 1);
    const spec = new Float64Array(bins);
    for (let k = 0; k < bins; k++) {
      let re = 0, im = 0;
      for (let n = 0; n < nFft; n++) {
        const v = x[origin + n]! * win[n]!;
        re += v * Math.cos((2 * Math.PI * k * n) / nFft);
        im -= v * Math.sin((2 * Math.PI * k * n) / nFft);
      }
      spec[k] = re * re + im * im;
    }
    for (let m = 0; m < 8; m++) {
      let acc = 0;
      for (let k = 0; k < bins; k++) acc += plan.filterBank.weights[m * bins + k]! * spec[k]!;
      expect(fast.data[m * fast.nFrames + t]!).toBeCloseTo(acc, 6);
    }
  });

  it('rejects nFft < 16 with a named value', () => {
    expect(() => melSpectrogram(new Float32Array(100), { nFft: 8 })).toThrow(/nFft=8 must be an integer >= 16/);
  });

  it('reports empty bands when n_mels is too large, as librosa warns', () => {
    const plan = new MelPlan({ sampleRate: 8000, nFft: 64, nMels: 128 });
    expect(plan.emptyBands.length).toBeGreaterThan(0);
  });

  it('reflect padding mirrors without repeating the edge', () => {
    const x = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
    const a = melSpectrogram(x, { sampleRate: 8000, nFft: 16, hopLength: 4, nMels: 4, padMode: 'reflect' });
    expect(a.nFrames).toBe(1 + Math.floor(20 / 4));
    expect(Array.from(a.data).every(Number.isFinite)).toBe(true);
  });
});

import { describe, expect, it } from 'vitest';
import { melSpectrogram, MelPlan } from '../../algos/index.js';
import { describeLibrosaCases } from '../helpers/librosa.js';

describeLibrosaCases('librosa 0.11 reference vectors, TypeScript FFT', () => undefined);

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

describe('powerToDb / amplitudeToDb skip the logarithm below the floor, exactly', () => {
  // the plain definition: every cell's log, then the top_db clamp
  const plain = (data: Float32Array, ref: 'max' | number, amin: number, topDb: number | null, factor: number) => {
    let refValue = 0;
    if (ref === 'max') { for (const x of data) if (x > refValue) refValue = x; } else refValue = Math.abs(ref);
    const offset = factor * Math.log10(Math.max(amin, refValue));
    const out = new Float32Array(data.length);
    let peak = -Infinity;
    data.forEach((x, i) => { out[i] = factor * Math.log10(Math.max(amin, x)) - offset; if (out[i]! > peak) peak = out[i]!; });
    if (topDb !== null) out.forEach((v, i) => { if (v < peak - topDb) out[i] = peak - topDb; });
    return out;
  };
  it.each([['max', 80], ['max', 20], [0.5, 60], ['max', null]] as const)('ref %s, top_db %s', async (ref, topDb) => {
    const { powerToDb, amplitudeToDb } = await import('../../algos/melspec/db.js');
    let s = 9;
    const data = new Float32Array(5000).map(() => { s = (s * 16807) % 2147483647; const u = s / 2147483647; return u < 0.05 ? 0 : 10 ** (-12 * u); });
    data[7] = NaN;
    for (const [fn, factor, amin] of [[powerToDb, 10, 1e-10], [amplitudeToDb, 20, 1e-5]] as const) {
      const got = fn(data, { ref, topDb, amin });
      const want = plain(data, ref, amin, topDb, factor);
      for (let i = 0; i < data.length; i++) expect(Object.is(got[i], want[i]) || got[i] === want[i]).toBe(true);
    }
  });
});

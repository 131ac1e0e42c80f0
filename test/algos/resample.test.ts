import { describe, expect, it } from 'vitest';
import { Resampler, resample } from '../../algos/index.js';

const sine = (f: number, sr: number, seconds: number, amp = 0.5) => Float32Array.from({ length: Math.round(sr * seconds) }, (_, i) => amp * Math.sin((2 * Math.PI * f * i) / sr));
const rms = (x: Float32Array, from = 0, to = x.length) => { let s = 0; for (let i = from; i < to; i++) s += x[i]! * x[i]!; return Math.sqrt(s / (to - from)); };

describe('Resampler (windowed sinc, polyphase)', () => {
  it('is the identity at equal rates', () => {
    const x = sine(440, 8000, 0.1);
    expect(resample(x, 8000, 8000)).toBe(x);
  });

  it.each([[48000, 8000], [44100, 8000], [22050, 8000], [16000, 8000], [8000, 16000], [11025, 16000]])('%i → %i Hz: length ceil(n·L/M), DC gain 1', (from, to) => {
    const r = new Resampler(from, to);
    const x = new Float32Array(from).fill(0.25);
    const y = r.run(x);
    expect(y.length).toBe(Math.ceil((x.length * to) / from));
    const mid = y.subarray(y.length >> 2, (3 * y.length) >> 2);
    for (const v of mid) expect(v).toBeCloseTo(0.25, 3);
  });

  it('keeps a passband sine (1 kHz, 48 → 8 kHz) within 0.01 dB and in phase', () => {
    const y = resample(sine(1000, 48000, 1), 48000, 8000);
    const ref = sine(1000, 8000, 1);
    const a = 1000, b = y.length - 1000;
    expect(20 * Math.log10(rms(y, a, b) / rms(ref, a, b))).toBeCloseTo(0, 2);
    let err = 0;
    for (let i = a; i < b; i++) err += (y[i]! - ref[i]!) ** 2;
    expect(10 * Math.log10(rms(ref, a, b) ** 2 * (b - a) / err)).toBeGreaterThan(60);
  });

  // the documented quality (RESAMPLE_DEFAULTS), 48 kHz → 8 kHz
  const gainDb = (f: number) => {
    const y = resample(sine(f, 48000, 1), 48000, 8000);
    return 20 * Math.log10(rms(y, 1000, y.length - 1000) / rms(sine(f, 48000, 1)));
  };
  it.each([500, 1500, 3000])('flat within 0.1 dB at %i Hz', (f) => expect(Math.abs(gainDb(f))).toBeLessThan(0.1));
  it('about -6 dB at 0.95 × Nyquist (3.8 kHz)', () => expect(gainDb(3800)).toBeCloseTo(-6, 0));
  it.each([[4200, -60], [4500, -90], [5000, -90], [12000, -90]])('rejects what would alias: %i Hz at least %i dB down', (f, db) => expect(gainDb(f)).toBeLessThan(db));

  it('names bad rates', () => {
    expect(() => new Resampler(0, 8000)).toThrow(/rates must be positive integers/);
  });
});

describe('ResampleStream: a signal resampled in pieces', () => {
  it.each([[44100, 8000], [48000, 8000], [22050, 16000], [8000, 16000], [11025, 8000], [8000, 8000]])('%i -> %i Hz equals the whole-signal direct sum, sample for sample, whatever the piece sizes', (from, to) => {
    const r = new Resampler(from, to);
    for (const n of [0, 1, 5, 300, 20011]) {
      const x = new Float32Array(n);
      let s = n + 3;
      for (let i = 0; i < n; i++) { s = (s * 16807) % 2147483647; x[i] = s / 2147483647 - 0.5; }
      const whole = r.run(x);
      for (const piece of [1, 7, 1000, 65536]) {
        const stream = r.stream();
        const parts: Float32Array[] = [];
        for (let at = 0; at < n; at += piece) parts.push(stream.push(x.subarray(at, at + piece)));
        parts.push(stream.end());
        const joined = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
        let o = 0;
        for (const p of parts) { joined.set(p, o); o += p.length; }
        expect(joined, `${n} samples in pieces of ${piece}`).toEqual(whole);
      }
    }
  });
});

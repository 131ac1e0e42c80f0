import { describe, expect, it } from 'vitest';
import { ComplexFFT, RealFFT, TsRealFftKernel } from '../../algos/index.js';

/** The DFT by its definition, in double precision. */
function dft(re: ArrayLike<number>, im: ArrayLike<number>): { re: Float64Array; im: Float64Array } {
  const n = re.length, outRe = new Float64Array(n), outIm = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    let sr = 0, si = 0;
    for (let t = 0; t < n; t++) {
      const a = (-2 * Math.PI * ((k * t) % n)) / n, c = Math.cos(a), s = Math.sin(a);
      sr += re[t]! * c - im[t]! * s;
      si += re[t]! * s + im[t]! * c;
    }
    outRe[k] = sr; outIm[k] = si;
  }
  return { re: outRe, im: outIm };
}

function signal(n: number, seed: number): Float64Array {
  const x = new Float64Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) { s = (s * 16807) % 2147483647; x[i] = s / 2147483647 - 0.5; }
  return x;
}

const worst = (a: ArrayLike<number>, b: ArrayLike<number>) => { let w = 0; for (let i = 0; i < a.length; i++) w = Math.max(w, Math.abs(a[i]! - b[i]!)); return w; };

describe('FFT plans against the DFT by definition', () => {
  it.each([1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 3, 5, 12, 100, 400])('complex, n = %i', (n) => {
    const re = signal(n, 3), im = signal(n, 7);
    const want = dft(re, im);
    new ComplexFFT(n).transform(re, im);
    expect(worst(re, want.re)).toBeLessThan(1e-10 * n);
    expect(worst(im, want.im)).toBeLessThan(1e-10 * n);
  });

  it.each([2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 6, 10, 400, 17])('real, n = %i: the 1 + n/2 bins', (n) => {
    const x = signal(n, 11);
    const want = dft(x, new Float64Array(n));
    const f = new RealFFT(n), re = new Float64Array(f.bins), im = new Float64Array(f.bins);
    f.transform(x, re, im);
    expect(worst(re, want.re.subarray(0, f.bins))).toBeLessThan(1e-10 * n);
    expect(worst(im, want.im.subarray(0, f.bins))).toBeLessThan(1e-10 * n);
  });

  it.each([16, 64, 512, 2048, 400])('the TypeScript kernel, n = %i, in the ordered real layout', (n) => {
    const x = signal(n, 5);
    const want = dft(x, new Float64Array(n));
    const k = new TsRealFftKernel(n);
    k.input.set(x);
    k.transform();
    const s = k.spectrum, o = k.spectrumOffset, half = n / 2;
    expect(Math.abs(s[o]! - want.re[0]!)).toBeLessThan(1e-10 * n);
    expect(Math.abs(s[o + 1]! - want.re[half]!)).toBeLessThan(1e-10 * n);
    for (let b = 1; b < half; b++) {
      expect(Math.abs(s[o + 2 * b]! - want.re[b]!)).toBeLessThan(1e-10 * n);
      expect(Math.abs(s[o + 2 * b + 1]! - want.im[b]!)).toBeLessThan(1e-10 * n);
    }
  });
});

/**
 * FFT plans. Tables are built once in the constructor; `transform` writes into caller buffers
 * and allocates nothing. Powers of two use an iterative radix-2 transform; any other size
 * uses Bluestein's chirp-z algorithm on top of a power-of-two plan, so every size is O(n log n).
 */

function isPowerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p <<= 1;
  return p;
}

/** In-place complex FFT of a power-of-two size on split real/imaginary arrays. */
class Radix2Plan {
  readonly size: number;
  private readonly bitrev: Uint32Array;
  private readonly cos: Float64Array;
  private readonly sin: Float64Array;

  constructor(size: number) {
    if (!isPowerOfTwo(size)) throw new RangeError(`Radix2Plan size ${size} must be a power of two`);
    this.size = size;
    const bits = Math.round(Math.log2(size));
    this.bitrev = new Uint32Array(size);
    for (let i = 0; i < size; i++) {
      let r = 0;
      for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
      this.bitrev[i] = r;
    }
    const half = size >> 1;
    this.cos = new Float64Array(Math.max(half, 1));
    this.sin = new Float64Array(Math.max(half, 1));
    for (let k = 0; k < half; k++) {
      this.cos[k] = Math.cos((2 * Math.PI * k) / size);
      this.sin[k] = -Math.sin((2 * Math.PI * k) / size);
    }
  }

  /** Forward transform, e^{-2πi kn/N}, in place. */
  transform(re: Float64Array, im: Float64Array): void {
    const n = this.size;
    const rev = this.bitrev;
    for (let i = 0; i < n; i++) {
      const j = rev[i]!;
      if (j > i) {
        const tr = re[i]!; re[i] = re[j]!; re[j] = tr;
        const ti = im[i]!; im[i] = im[j]!; im[j] = ti;
      }
    }
    const cosT = this.cos;
    const sinT = this.sin;
    for (let len = 2; len <= n; len <<= 1) {
      const halfLen = len >> 1;
      const step = n / len;
      for (let start = 0; start < n; start += len) {
        for (let k = 0, t = 0; k < halfLen; k++, t += step) {
          const wr = cosT[t]!;
          const wi = sinT[t]!;
          const a = start + k;
          const b = a + halfLen;
          const br = re[b]!;
          const bi = im[b]!;
          const xr = br * wr - bi * wi;
          const xi = br * wi + bi * wr;
          const ar = re[a]!;
          const ai = im[a]!;
          re[b] = ar - xr;
          im[b] = ai - xi;
          re[a] = ar + xr;
          im[a] = ai + xi;
        }
      }
    }
  }
}

/** In-place complex FFT of any size >= 1. */
export class ComplexFFT {
  readonly size: number;
  private readonly radix2?: Radix2Plan;
  // Bluestein state
  private readonly conv?: Radix2Plan;
  private readonly chirpRe?: Float64Array;
  private readonly chirpIm?: Float64Array;
  private readonly kernelRe?: Float64Array;
  private readonly kernelIm?: Float64Array;
  private readonly workRe?: Float64Array;
  private readonly workIm?: Float64Array;

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`FFT size ${size} must be a positive integer`);
    this.size = size;
    if (isPowerOfTwo(size)) {
      this.radix2 = new Radix2Plan(size);
      return;
    }
    const m = nextPowerOfTwo(2 * size - 1);
    this.conv = new Radix2Plan(m);
    this.chirpRe = new Float64Array(size);
    this.chirpIm = new Float64Array(size);
    for (let k = 0; k < size; k++) {
      // k^2 mod 2n keeps the angle small, so the chirp stays exact for large n.
      const k2 = (k * k) % (2 * size);
      const angle = (Math.PI * k2) / size;
      this.chirpRe[k] = Math.cos(angle);
      this.chirpIm[k] = -Math.sin(angle);
    }
    this.kernelRe = new Float64Array(m);
    this.kernelIm = new Float64Array(m);
    this.kernelRe[0] = this.chirpRe[0]!;
    this.kernelIm[0] = -this.chirpIm[0]!;
    for (let k = 1; k < size; k++) {
      this.kernelRe[k] = this.kernelRe[m - k] = this.chirpRe[k]!;
      this.kernelIm[k] = this.kernelIm[m - k] = -this.chirpIm[k]!;
    }
    this.conv.transform(this.kernelRe, this.kernelIm);
    this.workRe = new Float64Array(m);
    this.workIm = new Float64Array(m);
  }

  transform(re: Float64Array, im: Float64Array): void {
    if (this.radix2) {
      this.radix2.transform(re, im);
      return;
    }
    const n = this.size;
    const conv = this.conv!;
    const m = conv.size;
    const cr = this.chirpRe!, ci = this.chirpIm!;
    const wr = this.workRe!, wi = this.workIm!;
    const kr = this.kernelRe!, ki = this.kernelIm!;
    for (let k = 0; k < n; k++) {
      const xr = re[k]!, xi = im[k]!;
      wr[k] = xr * cr[k]! - xi * ci[k]!;
      wi[k] = xr * ci[k]! + xi * cr[k]!;
    }
    wr.fill(0, n);
    wi.fill(0, n);
    conv.transform(wr, wi);
    // Multiply by the kernel spectrum, conjugate, forward FFT again = inverse FFT (up to 1/m and conj).
    for (let k = 0; k < m; k++) {
      const ar = wr[k]!, ai = wi[k]!;
      const br = kr[k]!, bi = ki[k]!;
      wr[k] = ar * br - ai * bi;
      wi[k] = -(ar * bi + ai * br);
    }
    conv.transform(wr, wi);
    const scale = 1 / m;
    for (let k = 0; k < n; k++) {
      const yr = wr[k]! * scale;
      const yi = -wi[k]! * scale;
      re[k] = yr * cr[k]! - yi * ci[k]!;
      im[k] = yr * ci[k]! + yi * cr[k]!;
    }
  }
}

/**
 * Real-input FFT of any size >= 2, returning the 1 + n/2 non-negative-frequency bins.
 * Even sizes use the half-length complex transform (two real samples per complex one).
 */
export class RealFFT {
  readonly size: number;
  readonly bins: number;
  private readonly half: ComplexFFT | null;
  private readonly full: ComplexFFT | null;
  private readonly zr: Float64Array;
  private readonly zi: Float64Array;
  private readonly twr: Float64Array;
  private readonly twi: Float64Array;

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 2) throw new RangeError(`real FFT size ${size} must be an integer >= 2`);
    this.size = size;
    this.bins = (size >> 1) + 1;
    if (size % 2 === 0) {
      const h = size >> 1;
      this.half = new ComplexFFT(h);
      this.full = null;
      this.zr = new Float64Array(h);
      this.zi = new Float64Array(h);
      this.twr = new Float64Array(h + 1);
      this.twi = new Float64Array(h + 1);
      for (let k = 0; k <= h; k++) {
        this.twr[k] = Math.cos((2 * Math.PI * k) / size);
        this.twi[k] = -Math.sin((2 * Math.PI * k) / size);
      }
    } else {
      this.half = null;
      this.full = new ComplexFFT(size);
      this.zr = new Float64Array(size);
      this.zi = new Float64Array(size);
      this.twr = new Float64Array(0);
      this.twi = new Float64Array(0);
    }
  }

  /** Transform `input` (length `size`) into `outRe`/`outIm` (length >= bins). */
  transform(input: ArrayLike<number>, outRe: Float64Array, outIm: Float64Array): void {
    const zr = this.zr, zi = this.zi;
    if (this.full) {
      for (let i = 0; i < this.size; i++) { zr[i] = input[i]!; zi[i] = 0; }
      this.full.transform(zr, zi);
      for (let k = 0; k < this.bins; k++) { outRe[k] = zr[k]!; outIm[k] = zi[k]!; }
      return;
    }
    const h = this.size >> 1;
    for (let i = 0; i < h; i++) {
      zr[i] = input[2 * i]!;
      zi[i] = input[2 * i + 1]!;
    }
    this.half!.transform(zr, zi);
    const twr = this.twr, twi = this.twi;
    for (let k = 0; k <= h; k++) {
      const a = k === h ? 0 : k;
      const b = k === 0 ? 0 : h - k;
      const zkr = zr[a]!, zki = zi[a]!;
      const znr = zr[b]!, zni = -zi[b]!; // conj(Z[h-k])
      const er = 0.5 * (zkr + znr), ei = 0.5 * (zki + zni);
      // (Z[k] - conj(Z[h-k])) / (2i)  =  (dr + i di) / (2i)  =  (di - i dr) / 2
      const dr = zkr - znr, di = zki - zni;
      const or = 0.5 * di, oi = -0.5 * dr;
      outRe[k] = er + (twr[k]! * or - twi[k]! * oi);
      outIm[k] = ei + (twr[k]! * oi + twi[k]! * or);
    }
  }
}

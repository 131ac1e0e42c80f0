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

/**
 * In-place complex FFT of a power-of-two size on split real/imaginary arrays. Pairs of radix-2
 * stages run as one pass (a radix-4 butterfly built from two radix-2 ones), so each element is
 * loaded and stored once per two stages, with each pass's twiddles stored contiguously.
 */
class Radix2Plan {
  readonly size: number;
  /** i's bit-reversed index: where input i goes before the passes. */
  readonly bitrev: Uint32Array;
  /** Whether log2(size) is odd: one plain radix-2 pass (twiddle 1) comes first. */
  private readonly oddStage: boolean;
  /** Per fused pass, for k < q: cos and -sin of 2πk/(2q) (first half) and of 2πk/(4q) (second half), interleaved as [cA, sA, cB, sB]. */
  private readonly passes: { q: number; tw: Float64Array }[] = [];

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
    this.oddStage = bits % 2 === 1;
    // after the optional radix-2 pass, blocks of length 2 (or 1) grow fourfold per fused pass
    for (let q = this.oddStage ? 2 : 1; 4 * q <= size; q *= 4) {
      const tw = new Float64Array(4 * q);
      for (let k = 0; k < q; k++) {
        const a = (2 * Math.PI * k) / (2 * q), b = (2 * Math.PI * k) / (4 * q);
        tw[4 * k] = Math.cos(a); tw[4 * k + 1] = -Math.sin(a);
        tw[4 * k + 2] = Math.cos(b); tw[4 * k + 3] = -Math.sin(b);
      }
      this.passes.push({ q, tw });
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
    this.transformPermuted(re, im);
  }

  /** The transform of an input already placed in bit-reversed order (`bitrev`). */
  transformPermuted(re: Float64Array, im: Float64Array): void {
    const n = this.size;
    if (this.oddStage) {
      for (let a = 0; a < n; a += 2) {
        const xr = re[a + 1]!, xi = im[a + 1]!, ar = re[a]!, ai = im[a]!;
        re[a] = ar + xr; im[a] = ai + xi;
        re[a + 1] = ar - xr; im[a + 1] = ai - xi;
      }
    }
    for (const { q, tw } of this.passes) {
      const len = 4 * q;
      if (q === 1) {
        // the first fused pass has only unit twiddles: additions alone
        for (let i0 = 0; i0 < n; i0 += 4) {
          const x0r = re[i0]!, x0i = im[i0]!, x1r = re[i0 + 1]!, x1i = im[i0 + 1]!;
          const x2r = re[i0 + 2]!, x2i = im[i0 + 2]!, x3r = re[i0 + 3]!, x3i = im[i0 + 3]!;
          const y0r = x0r + x1r, y0i = x0i + x1i, y1r = x0r - x1r, y1i = x0i - x1i;
          const y2r = x2r + x3r, y2i = x2i + x3i, y3r = x2r - x3r, y3i = x2i - x3i;
          re[i0] = y0r + y2r; im[i0] = y0i + y2i;
          re[i0 + 2] = y0r - y2r; im[i0 + 2] = y0i - y2i;
          // (i1, i3) with −i
          re[i0 + 1] = y1r + y3i; im[i0 + 1] = y1i - y3r;
          re[i0 + 3] = y1r - y3i; im[i0 + 3] = y1i + y3r;
        }
        continue;
      }
      for (let s = 0; s < n; s += len) {
        for (let k = 0; k < q; k++) {
          const i0 = s + k, i1 = i0 + q, i2 = i1 + q, i3 = i2 + q;
          const war = tw[4 * k]!, wai = tw[4 * k + 1]!, wbr = tw[4 * k + 2]!, wbi = tw[4 * k + 3]!;
          // the first radix-2 stage (blocks of 2q): (i0, i1) and (i2, i3), twiddle wA
          const x1r = re[i1]!, x1i = im[i1]!, x3r = re[i3]!, x3i = im[i3]!;
          const t1r = x1r * war - x1i * wai, t1i = x1r * wai + x1i * war;
          const t3r = x3r * war - x3i * wai, t3i = x3r * wai + x3i * war;
          const x0r = re[i0]!, x0i = im[i0]!, x2r = re[i2]!, x2i = im[i2]!;
          const y0r = x0r + t1r, y0i = x0i + t1i, y1r = x0r - t1r, y1i = x0i - t1i;
          const y2r = x2r + t3r, y2i = x2i + t3i, y3r = x2r - t3r, y3i = x2i - t3i;
          // the second (blocks of 4q): (i0, i2) with wB, (i1, i3) with wB·(−i)
          const u2r = y2r * wbr - y2i * wbi, u2i = y2r * wbi + y2i * wbr;
          const u3r = y3r * wbi + y3i * wbr, u3i = y3i * wbi - y3r * wbr;
          re[i0] = y0r + u2r; im[i0] = y0i + u2i;
          re[i2] = y0r - u2r; im[i2] = y0i - u2i;
          re[i1] = y1r + u3r; im[i1] = y1i + u3i;
          re[i3] = y1r - u3r; im[i3] = y1i - u3i;
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
  /** The half-size plan when it is a power of two: the input is then packed in bit-reversed order directly. */
  private readonly pow2: Radix2Plan | null;
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
      this.pow2 = isPowerOfTwo(h) ? new Radix2Plan(h) : null;
      this.half = this.pow2 ? null : new ComplexFFT(h);
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
      this.pow2 = null;
      this.full = new ComplexFFT(size);
      this.zr = new Float64Array(size);
      this.zi = new Float64Array(size);
      this.twr = new Float64Array(0);
      this.twi = new Float64Array(0);
    }
  }

  /** Transform `input` (length `size`) into `outRe`/`outIm` (length >= bins). */
  transform(input: ArrayLike<number>, outRe: Float64Array, outIm: Float64Array): void {
    if (this.full) {
      const zr = this.zr, zi = this.zi;
      for (let i = 0; i < this.size; i++) { zr[i] = input[i]!; zi[i] = 0; }
      this.full.transform(zr, zi);
      for (let k = 0; k < this.bins; k++) { outRe[k] = zr[k]!; outIm[k] = zi[k]!; }
      return;
    }
    this.halfTransform(input);
    const h = this.size >> 1;
    for (let k = 0; k <= h; k++) {
      const [r, i] = this.bin(k);
      outRe[k] = r;
      outIm[k] = i;
    }
  }

  /**
   * Transform an even-size `input` into `out` in the ordered real layout [X0, X(n/2), re1, im1,
   * ..., re(n/2-1), im(n/2-1)] (the FFT kernels' layout), with no intermediate arrays.
   */
  transformOrdered(input: ArrayLike<number>, out: Float64Array): void {
    if (this.full) throw new RangeError(`transformOrdered needs an even size, not ${this.size}`);
    this.halfTransform(input);
    const h = this.size >> 1, zr = this.zr, zi = this.zi, twr = this.twr, twi = this.twi;
    out[0] = zr[0]! + zi[0]!;
    out[1] = zr[0]! - zi[0]!;
    for (let k = 1; k < h; k++) {
      const b = h - k;
      const zkr = zr[k]!, zki = zi[k]!, znr = zr[b]!, zni = -zi[b]!;
      const er = 0.5 * (zkr + znr), ei = 0.5 * (zki + zni);
      const or = 0.5 * (zki - zni), oi = -0.5 * (zkr - znr);
      out[2 * k] = er + (twr[k]! * or - twi[k]! * oi);
      out[2 * k + 1] = ei + (twr[k]! * oi + twi[k]! * or);
    }
  }

  /** The half-length complex transform of the even/odd samples of `input`, into zr/zi. */
  private halfTransform(input: ArrayLike<number>): void {
    const zr = this.zr, zi = this.zi, h = this.size >> 1;
    if (this.pow2) {
      const rev = this.pow2.bitrev;
      for (let i = 0; i < h; i++) {
        const j = rev[i]!;
        zr[j] = input[2 * i]!;
        zi[j] = input[2 * i + 1]!;
      }
      this.pow2.transformPermuted(zr, zi);
      return;
    }
    for (let i = 0; i < h; i++) {
      zr[i] = input[2 * i]!;
      zi[i] = input[2 * i + 1]!;
    }
    this.half!.transform(zr, zi);
  }

  /** Bin k (0..n/2) of an even-size transform from the half-length one in zr/zi. */
  private bin(k: number): [number, number] {
    const h = this.size >> 1, zr = this.zr, zi = this.zi, twr = this.twr, twi = this.twi;
    const a = k === h ? 0 : k;
    const b = k === 0 ? 0 : h - k;
    const zkr = zr[a]!, zki = zi[a]!;
    const znr = zr[b]!, zni = -zi[b]!; // conj(Z[h-k])
    const er = 0.5 * (zkr + znr), ei = 0.5 * (zki + zni);
    // (Z[k] - conj(Z[h-k])) / (2i)  =  (dr + i di) / (2i)  =  (di - i dr) / 2
    const dr = zkr - znr, di = zki - zni;
    const or = 0.5 * di, oi = -0.5 * dr;
    return [er + (twr[k]! * or - twi[k]! * oi), ei + (twr[k]! * oi + twi[k]! * or)];
  }
}

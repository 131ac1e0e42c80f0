import type { RgbImage } from './colorize.js';

export type ResizeKernel = 'nearest' | 'linear' | 'cubic' | 'mitchell' | 'lanczos2' | 'lanczos3';

const sinc = (x: number) => (x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x));

/** Keys' cubic with B, C (Mitchell–Netravali form). */
function bcCubic(b: number, c: number): (x: number) => number {
  return (t) => {
    const x = Math.abs(t);
    if (x < 1) return ((12 - 9 * b - 6 * c) * x ** 3 + (-18 + 12 * b + 6 * c) * x ** 2 + (6 - 2 * b)) / 6;
    if (x < 2) return ((-b - 6 * c) * x ** 3 + (6 * b + 30 * c) * x ** 2 + (-12 * b - 48 * c) * x + (8 * b + 24 * c)) / 6;
    return 0;
  };
}

/** Each kernel's radius (in input samples at scale 1) and shape. */
const KERNELS: Record<Exclude<ResizeKernel, 'nearest'>, { radius: number; f: (x: number) => number }> = {
  linear: { radius: 1, f: (x) => Math.max(0, 1 - Math.abs(x)) },
  cubic: { radius: 2, f: bcCubic(0, 0.5) }, // Catmull-Rom
  mitchell: { radius: 2, f: bcCubic(1 / 3, 1 / 3) },
  lanczos2: { radius: 2, f: (x) => (Math.abs(x) < 2 ? sinc(x) * sinc(x / 2) : 0) },
  lanczos3: { radius: 3, f: (x) => (Math.abs(x) < 3 ? sinc(x) * sinc(x / 3) : 0) },
};

/** Per output sample: `count` input indices (edges clamped) and their normalised weights. */
interface Taps { index: Int32Array; count: number; weights: Float64Array }

/** Drop the taps that are zero for every output sample (a kernel's edges), to save work. */
function trimZeros(t: Taps, outSize: number): Taps {
  let lead = t.count, tail = t.count;
  for (let j = 0; j < outSize; j++) {
    let a = 0, b = 0;
    while (a < t.count && t.weights[j * t.count + a] === 0) a++;
    while (b < t.count - a && t.weights[j * t.count + t.count - 1 - b] === 0) b++;
    lead = Math.min(lead, a);
    tail = Math.min(tail, b);
  }
  const count = t.count - lead - tail;
  if (count === t.count || count <= 0) return t;
  const index = new Int32Array(outSize * count), weights = new Float64Array(outSize * count);
  for (let j = 0; j < outSize; j++) {
    for (let k = 0; k < count; k++) {
      index[j * count + k] = t.index[j * t.count + lead + k]!;
      weights[j * count + k] = t.weights[j * t.count + lead + k]!;
    }
  }
  return { index, count, weights };
}

const clampIndex = (i: number, n: number) => (i < 0 ? 0 : i >= n ? n - 1 : i);

const tapCache = new Map<string, Taps>();

/** Taps for one axis; an axis that keeps its size gets a single weight of 1 per sample. */
function taps(inSize: number, outSize: number, kernel: ResizeKernel): Taps {
  const key = `${inSize}:${outSize}:${kernel}`;
  let t = tapCache.get(key);
  if (!t) {
    if (tapCache.size > 256) tapCache.clear();
    t = inSize === outSize ? { index: Int32Array.from({ length: outSize }, (_, i) => i), count: 1, weights: new Float64Array(outSize).fill(1) } : computeTaps(inSize, outSize, kernel);
    tapCache.set(key, t);
  }
  return t;
}

function computeTaps(inSize: number, outSize: number, kernel: ResizeKernel): Taps {
  const scale = inSize / outSize;
  if (kernel === 'nearest') {
    const index = new Int32Array(outSize);
    for (let j = 0; j < outSize; j++) index[j] = Math.min(inSize - 1, Math.floor((j + 0.5) * scale));
    return { index, count: 1, weights: new Float64Array(outSize).fill(1) };
  }
  const { radius, f } = KERNELS[kernel];
  // shrinking widens the kernel by the scale, so every input sample contributes (antialiasing)
  const stretch = Math.max(1, scale);
  const support = radius * stretch;
  const count = Math.ceil(2 * support) + 1;
  const index = new Int32Array(outSize * count);
  const weights = new Float64Array(outSize * count);
  for (let j = 0; j < outSize; j++) {
    const centre = (j + 0.5) * scale - 0.5;
    const lo = Math.ceil(centre - support);
    let sum = 0;
    for (let k = 0; k < count; k++) {
      const w = f((lo + k - centre) / stretch);
      index[j * count + k] = clampIndex(lo + k, inSize);
      weights[j * count + k] = w;
      sum += w;
    }
    for (let k = 0; k < count; k++) weights[j * count + k]! /= sum;
  }
  return trimZeros({ index, count, weights }, outSize);
}

/**
 * Resize a row-major h0 × w0 image of `channels` interleaved values to height × width with a
 * separable filter: horizontal pass, then vertical, each sample centre-aligned, edges clamped,
 * the kernel widened by the shrink factor when shrinking. Float in, float out.
 */
export function resizePlanes(src: ArrayLike<number>, w0: number, h0: number, channels: number, width: number, height: number, kernel: ResizeKernel): Float32Array {
  const hx = taps(w0, width, kernel), hy = taps(h0, height, kernel);
  const ch = channels;
  const stride = width * ch;
  const mid = new Float32Array(h0 * stride);
  const xi = hx.index, xw = hx.weights, xc = hx.count;
  for (let y = 0; y < h0; y++) {
    const row = y * w0 * ch;
    let o = y * stride;
    for (let x = 0, t0 = 0; x < width; x++, t0 += xc, o += ch) {
      for (let c = 0; c < ch; c++) {
        let acc = 0;
        for (let k = 0, t = t0; k < xc; k++, t++) acc += xw[t]! * src[row + ch * xi[t]! + c]!;
        mid[o + c] = acc;
      }
    }
  }
  if (h0 === height) return mid;
  const out = new Float32Array(height * stride);
  const acc = new Float64Array(stride);
  const yi = hy.index, yw = hy.weights, yc = hy.count;
  for (let y = 0, t = 0; y < height; y++) {
    acc.fill(0);
    for (let k = 0; k < yc; k++, t++) {
      const w = yw[t]!, s = yi[t]! * stride;
      if (w === 0) continue;
      for (let i = 0; i < stride; i++) acc[i] = acc[i]! + w * mid[s + i]!;
    }
    out.set(acc, y * stride);
  }
  return out;
}

/** Resize an RGB image to width × height (aspect ratio not kept), as resizePlanes, rounded and clamped to 0..255. */
export function resizeRgb(img: RgbImage, width: number, height: number, kernel: ResizeKernel): RgbImage {
  if (img.width === width && img.height === height) return img;
  const f = resizePlanes(img.data, img.width, img.height, 3, width, height, kernel);
  const out = new Uint8Array(f.length);
  for (let i = 0; i < f.length; i++) {
    const v = Math.round(f[i]!);
    out[i] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
  return { data: out, width, height };
}

import { TosiaError } from '../errors.js';

/** How image pixels become the model's float input. */
export interface Normalisation {
  /** Pixels are divided by this first (255 maps uint8 to [0, 1]). */
  scale: number;
  /** Per-channel mean subtracted after scaling (length 3). */
  mean: readonly number[];
  /** Per-channel standard deviation divided after the mean (length 3, each > 0). */
  std: readonly number[];
}

export type Layout = 'NCHW' | 'NHWC';

/**
 * Pack equally sized RGB images (row-major H×W×3 uint8) into one float32 batch tensor in
 * `layout`, normalised as ((pixel / scale) - mean[c]) / std[c].
 */
export function imagesToTensor(
  images: readonly { data: Uint8Array; width: number; height: number }[],
  options: { layout: Layout; normalisation: Normalisation },
): { data: Float32Array; dims: [number, number, number, number] } {
  const { layout, normalisation: norm } = options;
  if (norm.mean.length !== 3 || norm.std.length !== 3 || norm.std.some((s) => !(s > 0)) || !(norm.scale > 0)) {
    throw new TosiaError('E_MODEL', `normalisation needs 3 means, 3 positive stds and a positive scale, got ${JSON.stringify(norm)}`, { stage: 'classify' });
  }
  const n = images.length;
  const h = images[0]?.height ?? 0;
  const w = images[0]?.width ?? 0;
  const plane = h * w;
  const out = new Float32Array(n * 3 * plane);
  const mul = [0, 1, 2].map((c) => 1 / (norm.scale * norm.std[c]!));
  const add = [0, 1, 2].map((c) => -norm.mean[c]! / norm.std[c]!);
  images.forEach((img, b) => {
    if (img.width !== w || img.height !== h) {
      throw new TosiaError('E_INTERNAL', `image ${b} is ${img.width}×${img.height}, expected ${w}×${h}`, { stage: 'classify' });
    }
    const base = b * 3 * plane, d = img.data;
    const [m0, m1, m2] = mul as [number, number, number], [a0, a1, a2] = add as [number, number, number];
    if (layout === 'NCHW') {
      for (let p = 0, q = 0; p < plane; p++, q += 3) {
        out[base + p] = d[q]! * m0 + a0;
        out[base + plane + p] = d[q + 1]! * m1 + a1;
        out[base + 2 * plane + p] = d[q + 2]! * m2 + a2;
      }
    } else {
      for (let p = 0, q = 0; p < plane; p++, q += 3) {
        out[base + q] = d[q]! * m0 + a0;
        out[base + q + 1] = d[q + 1]! * m1 + a1;
        out[base + q + 2] = d[q + 2]! * m2 + a2;
      }
    }
  });
  const dims: [number, number, number, number] = layout === 'NCHW' ? [n, 3, h, w] : [n, h, w, 3];
  return { data: out, dims };
}

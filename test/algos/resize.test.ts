import { describe, expect, it } from 'vitest';
import { resizeRgb, type ResizeKernel } from '../../algos/index.js';
import { resizeImage } from '../../runtime/image/png.js';

const KERNELS: ResizeKernel[] = ['nearest', 'linear', 'cubic', 'mitchell', 'lanczos2', 'lanczos3'];
const image = (w: number, h: number, f: (x: number, y: number, c: number) => number) => {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) data[3 * (y * w + x) + c] = f(x, y, c);
  return { data, width: w, height: h };
};

describe('resizeRgb', () => {
  it.each(KERNELS)('%s: keeps a constant image constant, up and down, and returns the same image at the same size', (k) => {
    const img = image(37, 64, () => 173);
    for (const [w, h] of [[64, 64], [16, 64], [64, 20], [200, 130]]) {
      const out = resizeRgb(img, w!, h!, k);
      expect(out.width).toBe(w);
      expect(out.height).toBe(h);
      expect(out.data.every((v) => v === 173)).toBe(true);
    }
    expect(resizeRgb(img, 37, 64, k)).toBe(img);
  });

  it('linear upsampling of a ramp is monotonic and stays within the ramp; channels stay separate', () => {
    const img = image(10, 4, (x, _y, c) => (c === 0 ? 20 * x : c === 1 ? 200 - 20 * x : 7));
    const out = resizeRgb(img, 64, 4, 'linear');
    for (let x = 1; x < 64; x++) {
      expect(out.data[3 * x]!).toBeGreaterThanOrEqual(out.data[3 * (x - 1)]!);
      expect(out.data[3 * x + 1]!).toBeLessThanOrEqual(out.data[3 * (x - 1) + 1]!);
      expect(out.data[3 * x + 2]!).toBe(7);
    }
    expect(out.data[0]).toBe(0);
    expect(out.data[3 * 63]).toBe(180);
  });

  it('shrinking by 2 with linear averages neighbours (the kernel widens, so nothing aliases)', () => {
    const img = image(64, 2, (x) => (x % 2 ? 200 : 0));
    const out = resizeRgb(img, 32, 2, 'linear');
    for (let x = 1; x < 31; x++) expect(out.data[3 * x]).toBe(100);
  });

  it.each(KERNELS)('%s: shrinking agrees with libvips (sharp) within one level', async (k) => {
    const img = image(130, 128, (x, y, c) => Math.round(127 + 60 * Math.sin(x / 9 + c) + 60 * Math.cos(y / 13)));
    const a = resizeRgb(img, 64, 64, k), b = await resizeImage(img, 64, 64, k);
    const sharp = (await import('sharp')).default;
    const { data } = await sharp(img.data, { raw: { width: 130, height: 128, channels: 3 } }).resize(64, 64, { fit: 'fill', kernel: k }).raw().toBuffer({ resolveWithObject: true });
    expect(b.data).toEqual(a.data);
    let worst = 0;
    for (let i = 0; i < a.data.length; i++) worst = Math.max(worst, Math.abs(a.data[i]! - data[i]!));
    expect(worst).toBeLessThanOrEqual(k === 'mitchell' ? 2 : 1);
  });
});

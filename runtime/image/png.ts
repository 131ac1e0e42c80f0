import type { RgbImage } from '../../algos/color/colorize.js';
import { resizeRgb, type ResizeKernel } from '../../algos/color/resize.js';
import { writeFileAtomic } from '../io/atomic-write.js';


type Sharp = typeof import('sharp');
let sharpPromise: Promise<Sharp> | undefined;
// sharp is loaded on first use only; it costs tens of milliseconds at start-up.
async function loadSharp(): Promise<Sharp> {
  sharpPromise ??= import('sharp').then((m) => ((m as unknown as { default?: Sharp }).default ?? (m as unknown as Sharp)));
  return sharpPromise;
}

/** Limit libvips to `threads` (batch workers use 1: the workers already use every core). */
export async function setImagingThreads(threads: number): Promise<void> {
  (await loadSharp()).concurrency(threads);
}

/** Start loading sharp ahead of need (it takes tens of milliseconds). */
export function preloadImaging(): Promise<unknown> {
  return loadSharp().catch(() => undefined);
}

/** Resize an RGB image to width × height (aspect ratio not kept); see algos' resizeRgb. */
export async function resizeImage(img: RgbImage, width: number, height: number, kernel: ResizeKernel): Promise<RgbImage> {
  return resizeRgb(img, width, height, kernel);
}

export async function encodePng(img: RgbImage): Promise<Uint8Array> {
  const sharp = await loadSharp();
  const buf = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } }).png().toBuffer();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
}

/** Write an RGB image as a PNG, atomically. */
export async function writePng(path: string, img: RgbImage): Promise<void> {
  await writeFileAtomic(path, await encodePng(img));
}

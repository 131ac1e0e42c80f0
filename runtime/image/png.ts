import { deflateSync } from 'node:zlib';
import type { RgbImage } from '../../algos/color/colorize.js';
import { resizeRgb, type ResizeKernel } from '../../algos/color/resize.js';
import { writeFileAtomic } from '../io/atomic-write.js';

/**
 * PNG encoding with node:zlib. The model-input images are small (64 × 64 here), where a call
 * into libvips (sharp) cost about 1 ms of fixed overhead per image, more than the encoding:
 * with three images a recording that was a third of its whole pipeline time in the server.
 */

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(bytes: Uint8Array, crc = 0xffffffff): number {
  for (let i = 0; i < bytes.length; i++) crc = CRC_TABLE[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return crc;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE((crc32(out.subarray(4, 8 + data.length)) ^ 0xffffffff) >>> 0, 8 + data.length);
  return out;
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * Encode an RGB image as an 8-bit truecolour PNG (each row Sub-filtered, deflate `level`,
 * default 6; a large noisy spectrogram encodes four times faster at 1 for a few percent more bytes).
 * The options are an object, so `images.map(encodePng)` (which passes an index) keeps the default.
 */
export async function encodePng(img: RgbImage, options: { level?: number } | number = {}): Promise<Uint8Array> {
  const level = typeof options === 'object' ? options.level ?? 6 : 6;
  const { width, height, data } = img;
  const stride = width * 3;
  const raw = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    const o = y * (stride + 1);
    const row = y * stride;
    raw[o] = 1; // Sub: each byte minus the same channel of the pixel to its left
    for (let x = 0; x < stride; x++) raw[o + 1 + x] = (data[row + x]! - (x >= 3 ? data[row + x - 3]! : 0)) & 0xff;
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // truecolour
  const png = Buffer.concat([SIGNATURE, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw, { level })), chunk('IEND', new Uint8Array(0))]);
  return new Uint8Array(png.buffer, png.byteOffset, png.length);
}

/** Resize an RGB image to width × height (aspect ratio not kept); see algos' resizeRgb. */
export async function resizeImage(img: RgbImage, width: number, height: number, kernel: ResizeKernel): Promise<RgbImage> {
  return resizeRgb(img, width, height, kernel);
}

/** Write an RGB image as a PNG, atomically. */
export async function writePng(path: string, img: RgbImage): Promise<void> {
  await writeFileAtomic(path, await encodePng(img));
}

import { TosiaError } from '../errors.js';
import { colormapLut, type ColormapName } from './colormaps.js';

export interface ColorizeOptions {
  /** Colour map: viridis, magma, inferno, plasma, gray or jet. Default 'viridis'. */
  colormap: ColormapName;
  /**
   * How dB values become [0, 1]:
   * - 'fixed': (dB - dbMin) / (dbMax - dbMin), clipped; the same dB gives the same colour in every image.
   * - 'minmax': (dB - min) / (max - min) over this image; a constant image maps to 0.
   * Default 'fixed'.
   */
  scale: 'fixed' | 'minmax';
  /** dB mapped to 0 with scale 'fixed'. Default -80 (the usual top_db below a ref=max peak). */
  dbMin: number;
  /** dB mapped to 1 with scale 'fixed' (> dbMin). Default 0. */
  dbMax: number;
}

export const COLORIZE_DEFAULTS: Readonly<ColorizeOptions> = Object.freeze({
  colormap: 'viridis',
  scale: 'fixed',
  dbMin: -80,
  dbMax: 0,
});

export interface RgbImage {
  /** Row-major height × width × 3, uint8. */
  data: Uint8Array;
  width: number;
  height: number;
}

/**
 * Colour a spectrogram (row-major nMels × nFrames, band 0 = lowest frequency) into an RGB image
 * of nMels rows by nFrames columns, low frequencies at the bottom. The scaled value v in [0, 1]
 * picks LUT entry round(255 · v).
 */
export function colorize(
  spec: { data: ArrayLike<number>; nMels: number; nFrames: number },
  options: Partial<ColorizeOptions> = {},
): RgbImage {
  const o = { ...COLORIZE_DEFAULTS, ...options };
  const { nMels, nFrames, data } = spec;
  if (data.length !== nMels * nFrames) {
    throw new TosiaError('E_INTERNAL', `spectrogram holds ${data.length} values, expected ${nMels}×${nFrames}`, { stage: 'colour' });
  }
  let lo: number, hi: number;
  if (o.scale === 'fixed') {
    if (!(o.dbMax > o.dbMin)) throw new TosiaError('E_CONFIG', `db_max=${o.dbMax} must be greater than db_min=${o.dbMin}`, { stage: 'colour' });
    lo = o.dbMin;
    hi = o.dbMax;
  } else if (o.scale === 'minmax') {
    lo = Infinity;
    hi = -Infinity;
    for (let i = 0; i < data.length; i++) { const v = data[i]!; if (v < lo) lo = v; if (v > hi) hi = v; }
  } else {
    throw new TosiaError('E_CONFIG', `scale='${String(o.scale)}' must be 'fixed' or 'minmax'`, { stage: 'colour' });
  }
  const lut = colormapLut(o.colormap);
  const range = hi - lo;
  const k = range > 0 ? 255 / range : 0;
  const out = new Uint8Array(nMels * nFrames * 3);
  for (let m = 0; m < nMels; m++) {
    const row = nMels - 1 - m;
    for (let t = 0; t < nFrames; t++) {
      let idx = Math.round((data[m * nFrames + t]! - lo) * k);
      if (!(idx >= 0)) idx = 0; // also maps NaN to 0
      else if (idx > 255) idx = 255;
      const dst = (row * nFrames + t) * 3;
      out[dst] = lut[idx * 3]!;
      out[dst + 1] = lut[idx * 3 + 1]!;
      out[dst + 2] = lut[idx * 3 + 2]!;
    }
  }
  return { data: out, width: nFrames, height: nMels };
}

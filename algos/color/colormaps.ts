import { TosiaError } from '../errors.js';
import { COLORMAP_HEX } from './colormap-data.js';

export type ColormapName = keyof typeof COLORMAP_HEX;
export const COLORMAP_NAMES = Object.keys(COLORMAP_HEX) as ColormapName[];

const cache = new Map<ColormapName, Uint8Array>();

/** The 256-entry RGB lookup table of a colour map: 768 bytes, entry i at [3i, 3i+3). */
export function colormapLut(name: ColormapName): Uint8Array {
  const hit = cache.get(name);
  if (hit) return hit;
  const hex = COLORMAP_HEX[name] as string | undefined;
  if (hex === undefined) {
    throw new TosiaError('E_CONFIG', `unknown colour map '${String(name)}'`, {
      stage: 'colour',
      hint: `use one of ${COLORMAP_NAMES.join(', ')}`,
    });
  }
  const lut = new Uint8Array(768);
  for (let i = 0; i < 768; i++) lut[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  cache.set(name, lut);
  return lut;
}

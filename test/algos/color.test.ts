import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { colorize, colormapLut, COLORMAP_NAMES } from '../../algos/index.js';
import { COLORMAPS_JSON, hasShared, SKIP_SHARED } from '../helpers/shared.js';

/** Python's round(): halves go to the even neighbour (the reference note's "round(255 * value)"). */
function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

describe.skipIf(!hasShared)(`colour maps equal matplotlib's LUTs ${hasShared ? '' : SKIP_SHARED}`, () => {
  const ref = hasShared ? (JSON.parse(readFileSync(COLORMAPS_JSON, 'utf8')) as { maps: Record<string, number[][]> }).maps : {};

  it('has exactly the six maps of the reference', () => {
    expect([...COLORMAP_NAMES].sort()).toEqual(Object.keys(ref).sort());
  });

  for (const name of COLORMAP_NAMES) {
    it(`${name}: all 256 entries equal round(255 * matplotlib)`, () => {
      const lut = colormapLut(name);
      const want = ref[name]!;
      expect(want).toHaveLength(256);
      for (let i = 0; i < 256; i++) {
        for (let c = 0; c < 3; c++) expect(lut[i * 3 + c], `${name}[${i}][${c}]`).toBe(roundHalfEven(255 * want[i]![c]!));
      }
    });
  }
});

describe('colour-map spot checks (fixed values, no reference needed)', () => {
  it.each([
    ['viridis', 0, [68, 1, 84]],
    ['viridis', 255, [253, 231, 37]],
    ['magma', 0, [0, 0, 4]],
    ['inferno', 255, [252, 255, 164]],
    ['plasma', 0, [13, 8, 135]],
    ['gray', 128, [128, 128, 128]],
    ['jet', 0, [0, 0, 128]],
    ['jet', 255, [128, 0, 0]],
  ] as const)('%s[%i] = %j', (name, i, rgb) => {
    const lut = colormapLut(name);
    expect([lut[i * 3], lut[i * 3 + 1], lut[i * 3 + 2]]).toEqual(rgb);
  });

  it('rejects an unknown colour map, naming the choices', () => {
    expect(() => colormapLut('rainbow' as never)).toThrow(/unknown colour map 'rainbow'.*viridis, magma/);
  });
});

describe('colorize', () => {
  it('puts low frequencies at the bottom and maps db_min..db_max to the LUT ends', () => {
    // 2 mel bands × 1 frame: band 0 (low) at -80 dB, band 1 (high) at 0 dB
    const img = colorize({ data: Float32Array.from([-80, 0]), nMels: 2, nFrames: 1 }, { colormap: 'gray' });
    expect(img.height).toBe(2);
    expect(img.width).toBe(1);
    expect(Array.from(img.data.subarray(0, 3))).toEqual([255, 255, 255]); // top row = high band = 0 dB
    expect(Array.from(img.data.subarray(3, 6))).toEqual([0, 0, 0]); // bottom row = low band = -80 dB
  });

  it('fixed scale clips values outside the range; minmax uses the image range', () => {
    const spec = { data: Float32Array.from([-200, -40, 50]), nMels: 3, nFrames: 1 };
    const fixed = colorize(spec, { colormap: 'gray' });
    expect([fixed.data[6], fixed.data[3], fixed.data[0]]).toEqual([0, 128, 255]);
    const mm = colorize(spec, { colormap: 'gray', scale: 'minmax' });
    expect([mm.data[6], mm.data[3], mm.data[0]]).toEqual([0, Math.round((160 / 250) * 255), 255]);
  });

  it('a constant image under minmax maps to the first entry', () => {
    const img = colorize({ data: new Float32Array(4).fill(-3), nMels: 2, nFrames: 2 }, { colormap: 'viridis', scale: 'minmax' });
    expect(Array.from(img.data.subarray(0, 3))).toEqual([68, 1, 84]);
  });
});

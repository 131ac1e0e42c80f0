import { describe, expect, it } from 'vitest';
import { encodePng } from '../../runtime/index.js';

describe('encodePng', () => {
  it('writes a PNG that libvips (sharp) decodes to exactly the same pixels', async () => {
    const sharp = (await import('sharp')).default;
    for (const [width, height] of [[64, 64], [1, 1], [130, 7]] as const) {
      const data = new Uint8Array(width * height * 3);
      let s = width * 7919 + height;
      for (let i = 0; i < data.length; i++) data[i] = (s = (s * 1103515245 + 12345) >>> 0) >>> 24;
      const png = await encodePng({ width, height, data });
      const { data: back, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
      expect([info.width, info.height, info.channels]).toEqual([width, height, 3]);
      expect(Buffer.from(back).equals(Buffer.from(data))).toBe(true);
    }
  });
});

describe('encodePng as a map callback', () => {
  it('images.map(encodePng) keeps the default level whatever the index (an index of 10 once became level 10)', async () => {
    const img = { width: 4, height: 2, data: new Uint8Array(24).fill(7) };
    const pngs = await Promise.all(Array.from({ length: 12 }, () => img).map(encodePng));
    expect(pngs).toHaveLength(12);
    expect(new Set(pngs.map((p) => Buffer.from(p).toString('hex'))).size).toBe(1);
  });
});

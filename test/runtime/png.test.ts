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

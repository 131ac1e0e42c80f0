import { writeFileSync } from 'node:fs';

export interface WavSpec {
  channels: number;
  rate: number;
  bits: 8 | 16 | 24 | 32;
  /** 1 = PCM integer, 3 = IEEE float. */
  format: 1 | 3;
  frames: number;
  fill: (frame: number, channel: number) => number;
  /** Bytes the data chunk header claims beyond what is written (a truncated file). */
  claimExtra?: number;
}

/** Write a WAV file with exactly the given layout; values are in [-1, 1] (floats may be anything). */
export function writeWav(path: string, s: WavSpec): string {
  const bytes = s.bits / 8, align = s.channels * bytes, data = s.frames * align;
  const b = Buffer.alloc(44 + data);
  b.write('RIFF', 0); b.writeUInt32LE(36 + data, 4); b.write('WAVE', 8); b.write('fmt ', 12); b.writeUInt32LE(16, 16);
  b.writeUInt16LE(s.format, 20); b.writeUInt16LE(s.channels, 22); b.writeUInt32LE(s.rate, 24); b.writeUInt32LE(s.rate * align, 28);
  b.writeUInt16LE(align, 32); b.writeUInt16LE(s.bits, 34); b.write('data', 36); b.writeUInt32LE(data + (s.claimExtra ?? 0), 40);
  for (let f = 0; f < s.frames; f++) {
    for (let c = 0; c < s.channels; c++) {
      const at = 44 + f * align + c * bytes, v = s.fill(f, c);
      if (s.format === 3) b.writeFloatLE(v, at);
      else if (s.bits === 8) b.writeUInt8(Math.round(v * 127 + 128), at);
      else if (s.bits === 16) b.writeInt16LE(Math.round(Math.max(-1, Math.min(1, v)) * 32767), at);
      else if (s.bits === 24) b.writeIntLE(Math.round(Math.max(-1, Math.min(1, v)) * 8388607), at, 3);
      else b.writeInt32LE(Math.round(Math.max(-1, Math.min(1, v)) * 2147483647), at);
    }
  }
  writeFileSync(path, b);
  return path;
}

/** A cough-like noise burst every `period` seconds, on a faint noise floor. */
export function burstySignal(rate: number, period = 1.5, seed = 7): (f: number) => number {
  let s = seed;
  return (f: number) => {
    s = (s * 16807) % 2147483647;
    const noise = s / 2147483647 - 0.5;
    const t = (f / rate) % period;
    return noise * (t > 0.3 && t < 0.6 ? 0.8 * Math.exp(-(t - 0.3) / 0.1) : 0.002);
  };
}

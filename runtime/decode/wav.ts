/** A WAV (RIFF) parser for PCM integer and IEEE float data; other encodings return null. */
export interface WavPcm {
  channels: Float32Array[];
  sampleRate: number;
  codec: string;
  /** Bytes the data chunk declares beyond the end of the file (0 when whole). */
  missingBytes: number;
  bytesPerSecond: number;
}

/** Where a WAV's data chunk is, what it declares and how many bytes are there; null when it has none. */
export function wavDataExtent(b: Uint8Array): { declared: number; available: number; bytesPerSecond: number } | null {
  if (b.length < 12) return null;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let bytesPerSecond = 0;
  for (let pos = 12; pos + 8 <= b.length;) {
    const id = String.fromCharCode(b[pos]!, b[pos + 1]!, b[pos + 2]!, b[pos + 3]!);
    const size = v.getUint32(pos + 4, true);
    if (id === 'fmt ' && pos + 24 <= b.length) bytesPerSecond = v.getUint32(pos + 16, true);
    if (id === 'data') {
      const available = b.length - pos - 8;
      return { declared: size === 0xffffffff || size === 0 ? available : size, available, bytesPerSecond };
    }
    pos += 8 + size + (size & 1);
  }
  return null;
}

export function parseWav(b: Uint8Array): WavPcm | null {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let pos = 12;
  let fmt: { format: number; channels: number; rate: number; bits: number; align: number } | null = null;
  while (pos + 8 <= b.length) {
    const id = String.fromCharCode(b[pos]!, b[pos + 1]!, b[pos + 2]!, b[pos + 3]!);
    const size = v.getUint32(pos + 4, true);
    const body = pos + 8;
    if (id === 'fmt ' && body + 16 <= b.length) {
      let format = v.getUint16(body, true);
      if (format === 0xfffe && size >= 26 && body + 26 <= b.length) format = v.getUint16(body + 24, true); // WAVE_FORMAT_EXTENSIBLE sub-format
      fmt = { format, channels: v.getUint16(body + 2, true), rate: v.getUint32(body + 4, true), bits: v.getUint16(body + 14, true), align: v.getUint16(body + 12, true) };
    } else if (id === 'data') {
      if (!fmt || fmt.channels < 1 || fmt.rate < 1) return null;
      const { format, channels, bits } = fmt;
      const bytesPer = bits / 8;
      const supported = (format === 1 && [8, 16, 24, 32].includes(bits)) || (format === 3 && (bits === 32 || bits === 64));
      if (!supported || fmt.align !== channels * bytesPer) return null;
      const available = Math.max(0, b.length - body);
      const declared = size === 0xffffffff || size === 0 ? available : size;
      const usable = Math.min(declared, available);
      const frames = Math.floor(usable / fmt.align);
      const out = Array.from({ length: channels }, () => new Float32Array(frames));
      for (let f = 0; f < frames; f++) {
        for (let c = 0; c < channels; c++) {
          const at = body + f * fmt.align + c * bytesPer;
          let x: number;
          if (format === 3) x = bits === 32 ? v.getFloat32(at, true) : v.getFloat64(at, true);
          else if (bits === 16) x = v.getInt16(at, true) / 32768;
          else if (bits === 8) x = (b[at]! - 128) / 128;
          else if (bits === 24) x = ((b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16)) << 8 >> 8) / 8388608;
          else x = v.getInt32(at, true) / 2147483648;
          out[c]![f] = x;
        }
      }
      return { channels: out, sampleRate: fmt.rate, codec: format === 3 ? `pcm_f${bits}le` : bits === 8 ? 'pcm_u8' : `pcm_s${bits}le`, missingBytes: Math.max(0, declared - available), bytesPerSecond: fmt.rate * fmt.align };
    }
    pos = body + size + (size & 1);
  }
  return null;
}

/** The container/codec a file's first bytes announce, for choosing the in-process decoder. */
export type Sniffed = 'wav' | 'flac' | 'opus' | 'vorbis' | 'mp3' | null;

const ascii = (b: Uint8Array, at: number, s: string) => s.split('').every((c, i) => b[at + i] === c.charCodeAt(0));

/** Channels from the first MPEG audio frame header (mode 3 = mono), after any ID3v2 tag. */
export function mp3Channels(b: Uint8Array): number | null {
  let i = 0;
  if (b.length >= 10 && b[0] === 0x49 && b[1] === 0x44 && b[2] === 0x33) {
    i = 10 + ((b[6]! & 0x7f) << 21 | (b[7]! & 0x7f) << 14 | (b[8]! & 0x7f) << 7 | (b[9]! & 0x7f));
  }
  for (const end = Math.min(b.length - 4, i + 65536); i < end; i++) {
    if (b[i] === 0xff && (b[i + 1]! & 0xe0) === 0xe0 && ((b[i + 1]! >> 1) & 3) !== 0 && (b[i + 2]! >> 4) !== 15) return (b[i + 3]! >> 6) === 3 ? 1 : 2;
  }
  return null;
}

/**
 * The granule position of the last Ogg page in `tail` (the file's last bytes): for Vorbis, the
 * stream's exact length in samples. null when no page header is found.
 */
export function lastOggGranule(tail: Uint8Array): number | null {
  for (let i = tail.length - 27; i >= 0; i--) {
    if (tail[i] === 0x4f && tail[i + 1] === 0x67 && tail[i + 2] === 0x67 && tail[i + 3] === 0x53 && tail[i + 4] === 0) {
      const v = new DataView(tail.buffer, tail.byteOffset + i + 6, 8);
      const g = v.getUint32(0, true) + v.getUint32(4, true) * 2 ** 32;
      return g === 2 ** 64 - 1 ? null : g;
    }
  }
  return null;
}

export function sniffFormat(b: Uint8Array): Sniffed {
  if (b.length < 12) return null;
  if (ascii(b, 0, 'RIFF') && ascii(b, 8, 'WAVE')) return 'wav';
  if (ascii(b, 0, 'fLaC')) return 'flac';
  if (ascii(b, 0, 'OggS')) {
    // the first page's payload starts after 27 header bytes and the segment table
    const payload = 27 + (b[26] ?? 0);
    if (ascii(b, payload, 'OpusHead')) return 'opus';
    if (b[payload] === 1 && ascii(b, payload + 1, 'vorbis')) return 'vorbis';
    return null;
  }
  if (ascii(b, 0, 'ID3')) return 'mp3';
  // an MPEG audio frame sync (11 set bits), layer III
  if (b[0] === 0xff && (b[1]! & 0xe0) === 0xe0 && ((b[1]! >> 1) & 3) === 1) return 'mp3';
  return null;
}

/**
 * The media type a recording's first bytes show it to be, for serving it back: tosia's own
 * reading, never what an uploader declared. What it does not recognise is served as
 * application/octet-stream (which no browser renders as a page).
 */
export function audioContentType(b: Uint8Array): string {
  const f = sniffFormat(b);
  if (f === 'wav') return 'audio/wav';
  if (f === 'flac') return 'audio/flac';
  if (f === 'opus' || f === 'vorbis') return 'audio/ogg';
  if (f === 'mp3') return 'audio/mpeg';
  if (b.length >= 12 && ascii(b, 4, 'ftyp')) return 'audio/mp4';
  if (b.length >= 4 && b[0] === 0x1a && b[1] === 0x45 && b[2] === 0xdf && b[3] === 0xa3) return 'audio/webm';
  return 'application/octet-stream';
}

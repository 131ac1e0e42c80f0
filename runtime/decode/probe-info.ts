/** Parsing of ffmpeg's stream description ("mp3, 48000 Hz, stereo, fltp, 128 kb/s"). */

const LAYOUT_CHANNELS: Record<string, number> = {
  mono: 1, stereo: 2, downmix: 2, '2.1': 3, '3.0': 3, '3.0(back)': 3, '4.0': 4, quad: 4, 'quad(side)': 4,
  '3.1': 4, '5.0': 5, '5.0(side)': 5, '4.1': 5, '5.1': 6, '5.1(side)': 6, '6.0': 6, '6.0(front)': 6,
  hexagonal: 6, '6.1': 7, '6.1(back)': 7, '6.1(front)': 7, '7.0': 7, '7.0(front)': 7, '7.1': 8,
  '7.1(wide)': 8, '7.1(wide-side)': 8, octagonal: 8, hexadecagonal: 16, '22.2': 24,
};

export function channelsFromLayout(layout: string | undefined): number | null {
  if (!layout) return null;
  const l = layout.trim().toLowerCase();
  if (l in LAYOUT_CHANNELS) return LAYOUT_CHANNELS[l]!;
  const m = /^(\d+) channels?/.exec(l);
  return m ? Number(m[1]) : null;
}

export interface StreamInfo {
  codec: string;
  sampleRate: number | null;
  channels: number | null;
}

/** From ffmpeg's stream line ("Audio: mp3 (mp3float), 48000 Hz, stereo, fltp, 128 kb/s", split at ', '): the codec, the rate, the channels. */
export function parseAudioDetails(audio: string | undefined, details: readonly string[] | undefined): StreamInfo {
  const d = details ?? [];
  const codec = (audio ?? d[0] ?? 'unknown').split(' ')[0] ?? 'unknown';
  let sampleRate: number | null = null;
  let channels: number | null = null;
  for (const part of d) {
    const hz = /^(\d+) Hz$/.exec(part.trim());
    if (hz) { sampleRate = Number(hz[1]); continue; }
    const ch = channelsFromLayout(part);
    if (ch !== null && channels === null) channels = ch;
  }
  return { codec, sampleRate, channels };
}

import { mp3Channels, sniffFormat, type Sniffed } from './sniff.js';
import { parseWav } from './wav.js';

export interface NativePcm {
  /** One Float32Array per channel, at `sampleRate`. */
  channels: Float32Array[];
  sampleRate: number;
  codec: string;
  /** Problems the decoder reported; in auto mode any of them sends the file to ffmpeg. */
  problems: string[];
}

interface WasmResult { channelData: Float32Array[]; samplesDecoded: number; sampleRate: number; errors?: { message: string }[] }
interface WasmDecoder { ready: Promise<void>; free(): void; decode?(d: Uint8Array): WasmResult | Promise<WasmResult>; decodeFile?(d: Uint8Array): Promise<WasmResult> }

/** Each WASM decoder loads on first use only. */
async function wasmDecoder(kind: Exclude<Sniffed, 'wav' | null>): Promise<WasmDecoder> {
  switch (kind) {
    case 'mp3': { const { MPEGDecoder } = await import('mpg123-decoder'); return new MPEGDecoder() as unknown as WasmDecoder; }
    case 'opus': { const { OggOpusDecoder } = await import('ogg-opus-decoder'); return new OggOpusDecoder() as unknown as WasmDecoder; }
    case 'vorbis': { const { OggVorbisDecoder } = await import('@wasm-audio-decoders/ogg-vorbis'); return new OggVorbisDecoder() as unknown as WasmDecoder; }
    case 'flac': { const { FLACDecoder } = await import('@wasm-audio-decoders/flac'); return new FLACDecoder() as unknown as WasmDecoder; }
  }
}

const CODEC: Record<string, string> = { mp3: 'mp3', opus: 'opus', vorbis: 'vorbis', flac: 'flac' };

/**
 * Decode in-process when the bytes are wav, mp3, ogg/opus, ogg/vorbis or flac. Returns null for
 * anything else (the caller then uses ffmpeg); throws when the decoder itself fails.
 */
export async function decodeNative(bytes: Uint8Array): Promise<NativePcm | null> {
  const kind = sniffFormat(bytes);
  if (kind === null) return null;
  if (kind === 'wav') {
    const w = parseWav(bytes);
    if (!w) return null;
    return { channels: w.channels, sampleRate: w.sampleRate, codec: w.codec, problems: w.truncated ? ['the data chunk is shorter than its header says'] : [] };
  }
  const d = await wasmDecoder(kind);
  try {
    await d.ready;
    const r = await (d.decodeFile ? d.decodeFile(bytes) : d.decode!(bytes));
    const problems = (r.errors ?? []).map((e) => e.message);
    if (r.samplesDecoded === 0) problems.push('no audio samples decoded');
    let channels = r.channelData.map((c) => (c.length === r.samplesDecoded ? c : c.subarray(0, r.samplesDecoded)));
    // mpg123 always gives two channels; a mono stream's are identical, so keep one
    if (kind === 'mp3' && channels.length === 2 && mp3Channels(bytes) === 1) channels = [channels[0]!];
    return { channels, sampleRate: r.sampleRate, codec: CODEC[kind]!, problems };
  } finally {
    d.free();
  }
}

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
    case 'mp3': return reusableMp3Decoder();
    case 'opus': { const { OggOpusDecoder } = await import('ogg-opus-decoder'); return new OggOpusDecoder() as unknown as WasmDecoder; }
    case 'vorbis': { const { OggVorbisDecoder } = await import('@wasm-audio-decoders/ogg-vorbis'); return new OggVorbisDecoder() as unknown as WasmDecoder; }
    case 'flac': { const { FLACDecoder } = await import('@wasm-audio-decoders/flac'); return new FLACDecoder() as unknown as WasmDecoder; }
  }
}

/** mpg123-decoder's internals that a fresh decoding handle needs (checked at run time). */
interface MpegInternals { _common?: { wasm?: { mpeg_frame_decoder_create?: (ptr: number, gapless: number) => number; mpeg_frame_decoder_destroy?: (h: number) => void }; allocateTypedArray?: (n: number, t: Uint32ArrayConstructor) => { ptr: number; buf: Uint32Array } }; _decoder?: number }

let mp3Instance: Promise<{ decoder: WasmDecoder; handlePtr: { ptr: number; buf: Uint32Array } } | null> | undefined;

/**
 * An mp3 decoder whose WASM instance is kept for the whole thread. A new MPEGDecoder costs about
 * 1.9 ms (a WebAssembly instance and mpg123's tables), more than decoding a short clip; a fresh
 * mpg123 handle inside the same instance costs microseconds and decodes identically
 * (test/runtime/decode-native.test.ts). If the package's internals ever change shape, each file
 * gets its own MPEGDecoder as before.
 */
async function reusableMp3Decoder(): Promise<WasmDecoder> {
  const { MPEGDecoder } = await import('mpg123-decoder');
  mp3Instance ??= (async () => {
    const decoder = new MPEGDecoder() as unknown as WasmDecoder & MpegInternals;
    await decoder.ready;
    const c = decoder._common;
    if (!c?.wasm?.mpeg_frame_decoder_create || !c.wasm.mpeg_frame_decoder_destroy || !c.allocateTypedArray || typeof decoder._decoder !== 'number') {
      decoder.free();
      return null;
    }
    return { decoder, handlePtr: c.allocateTypedArray(1, Uint32Array) };
  })();
  const shared = await mp3Instance;
  if (!shared) return new MPEGDecoder() as unknown as WasmDecoder;
  const d = shared.decoder as WasmDecoder & MpegInternals;
  const wasm = d._common!.wasm!;
  return {
    ready: Promise.resolve(),
    // a fresh mpg123 handle per file, created and used synchronously, so concurrent calls on
    // one thread cannot interleave
    decode(bytes: Uint8Array) {
      // destroy frees the handle's own memory too (a further free() corrupts the heap)
      wasm.mpeg_frame_decoder_destroy!(d._decoder!);
      const err = wasm.mpeg_frame_decoder_create!(shared.handlePtr.ptr, 1);
      if (err) throw new Error(`mpg123 could not create a decoder (${err})`);
      d._decoder = shared.handlePtr.buf[0]!;
      return d.decode!(bytes) as WasmResult;
    },
    free() { /* the instance lives as long as the thread */ },
  };
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

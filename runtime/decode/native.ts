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
interface WasmArray<T> { ptr: number; len: number; buf: T }
interface MpegInternals {
  _common?: {
    wasm?: {
      mpeg_frame_decoder_create?: (ptr: number, gapless: number) => number;
      mpeg_frame_decoder_destroy?: (h: number) => void;
      mpeg_decoder_feed?: (h: number, input: number, len: number) => number;
      mpeg_decoder_read?: (h: number, out: number, outLen: number, samples: number, rate: number, err: number) => number;
    };
    allocateTypedArray?: (n: number, t: Uint32ArrayConstructor) => WasmArray<Uint32Array>;
  };
  _decoder?: number;
  _input?: WasmArray<Uint8Array>;
  _output?: WasmArray<Float32Array>;
  _samplesDecodedPtr?: WasmArray<Uint32Array>;
  _sampleRatePtr?: WasmArray<Uint32Array>;
  _errorStringPtr?: WasmArray<Uint32Array>;
  _getErrorMessage?: (code: number) => string;
}

const MPG123_NEED_MORE = -10, MPG123_NEW_FORMAT = -11;

/**
 * mpg123-decoder's own feed/read loop, writing straight into one growing buffer per channel
 * (the package copies every chunk twice, then joins them) and, for a mono stream, keeping one
 * channel only. Errors are collected, not printed.
 */
function decodeMp3Into(d: MpegInternals, bytes: Uint8Array, channels: 1 | 2): WasmResult {
  const wasm = d._common!.wasm!, input = d._input!, output = d._output!, h = d._decoder!;
  const samplesPtr = d._samplesDecodedPtr!, ratePtr = d._sampleRatePtr!, errPtr = d._errorStringPtr!;
  let data = Array.from({ length: channels }, () => new Float32Array(1 << 16));
  let n = 0;
  const errors: { message: string }[] = [];
  for (let off = 0; off < bytes.length;) {
    const chunk = bytes.subarray(off, off + input.len);
    off += chunk.length;
    input.buf.set(chunk);
    if (wasm.mpeg_decoder_feed!(h, input.ptr, chunk.length) === MPG123_NEED_MORE) continue;
    for (;;) {
      samplesPtr.buf[0] = 0;
      const err = wasm.mpeg_decoder_read!(h, output.ptr, output.len, samplesPtr.ptr, ratePtr.ptr, errPtr.ptr);
      const k = samplesPtr.buf[0]!;
      if (k > 0) {
        if (n + k > data[0]!.length) {
          const grown = data.map((c) => { const g = new Float32Array(Math.max(2 * c.length, n + k)); g.set(c.subarray(0, n)); return g; });
          data = grown;
        }
        for (let c = 0; c < channels; c++) data[c]!.set(output.buf.subarray(c * k, (c + 1) * k), n);
        n += k;
      }
      if (err === MPG123_NEW_FORMAT) continue;
      if (err === MPG123_NEED_MORE) break;
      if (err) errors.push({ message: d._getErrorMessage ? d._getErrorMessage(err) : `mpg123 error ${err}` });
    }
  }
  return { channelData: data.map((c) => c.subarray(0, n)), samplesDecoded: n, sampleRate: ratePtr.buf[0]!, errors };
}

let mp3Instance: Promise<{ decoder: WasmDecoder; handlePtr: { ptr: number; buf: Uint32Array } } | null> | undefined;

/**
 * An mp3 decoder whose WASM instance is kept for the whole thread. A new MPEGDecoder costs about
 * 1.9 ms (a WebAssembly instance and mpg123's tables), more than decoding a short clip; a fresh
 * mpg123 handle inside the same instance costs microseconds and decodes identically
 * (test/runtime/decode.test.ts). If the package's internals ever change shape, each file
 * gets its own MPEGDecoder as before.
 */
async function reusableMp3Decoder(): Promise<WasmDecoder> {
  const { MPEGDecoder } = await import('mpg123-decoder');
  mp3Instance ??= (async () => {
    const decoder = new MPEGDecoder() as unknown as WasmDecoder & MpegInternals;
    await decoder.ready;
    const c = decoder._common;
    const ok = c?.wasm?.mpeg_frame_decoder_create && c.wasm.mpeg_frame_decoder_destroy && c.wasm.mpeg_decoder_feed && c.wasm.mpeg_decoder_read && c.allocateTypedArray &&
      typeof decoder._decoder === 'number' && decoder._input && decoder._output && decoder._samplesDecodedPtr && decoder._sampleRatePtr && decoder._errorStringPtr;
    if (!ok) {
      decoder.free();
      return null;
    }
    return { decoder, handlePtr: c!.allocateTypedArray!(1, Uint32Array) };
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
      return decodeMp3Into(d, bytes, mp3Channels(bytes) === 1 ? 1 : 2);
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
    // a short data chunk is damage, reported by the integrity check, not a reason to try ffmpeg
    return { channels: w.channels, sampleRate: w.sampleRate, codec: w.codec, problems: [] };
  }
  const d = await wasmDecoder(kind);
  try {
    await d.ready;
    const r = await (d.decodeFile ? d.decodeFile(bytes) : d.decode!(bytes));
    const problems = (r.errors ?? []).map((e) => e.message);
    if (r.samplesDecoded === 0) problems.push('no audio samples decoded');
    let channels = r.channelData.map((c) => (c.length === r.samplesDecoded ? c : c.subarray(0, r.samplesDecoded)));
    // mpg123 always gives two channels; a mono stream's are identical, so keep one (the
    // reusable decoder already did)
    if (kind === 'mp3' && channels.length === 2 && mp3Channels(bytes) === 1) channels = [channels[0]!];
    return { channels, sampleRate: r.sampleRate, codec: CODEC[kind]!, problems };
  } finally {
    d.free();
  }
}

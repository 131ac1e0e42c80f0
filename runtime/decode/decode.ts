import { readFileSync, statSync } from 'node:fs';
import { mkdtemp, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256Hex, sha256OfFile } from '../io/sha256.js';
import { downmix, downmixPlanar } from '../../algos/audio/downmix.js';
import { Resampler, type ResampleStream } from '../../algos/audio/resample.js';
import { loadPffft } from '../dsp/pffft.js';
import { TosiaError } from '../../algos/errors.js';
import { decodeWithFfmpeg } from './ffmpeg-decoder.js';
import { NEEDS_FFMPEG, NoFfmpegError } from './ffmpeg-path.js';
import { decodeNative, type NativePcm } from './native.js';
import { gapsFor, inspectFlac, inspectMp3, inspectOgg, inspectWav, withGaps, type Damage, type Inspection } from './integrity.js';
import { lastOggGranule, sniffFormat, type Sniffed } from './sniff.js';
import { wavDataExtent } from './wav.js';

export type DecoderChoice = 'auto' | 'native' | 'ffmpeg';

/**
 * What to decode: a file, or bytes already in memory (an upload, a queue message) with the name
 * they came under. A name is only ever metadata: it never becomes a path or an ffmpeg argument.
 */
export type DecodeInput = { path: string } | { bytes: Uint8Array; name: string };

/** Where resamplers come from; an Engine keeps them (built once per rate pair), else each call builds its own. */
export interface ResamplerSource { resampler(from: number, to: number): Promise<Resampler> }

const NO_NATIVE = 'its format has no in-process decoder';

/** Files above this size always stream through ffmpeg rather than being read whole. */
const NATIVE_MAX_BYTES = 256 * 1024 * 1024;

export interface DecodedAudio {
  /** Mono samples at `sampleRate` (the mean of the source channels). */
  samples: Float32Array;
  sampleRate: number;
  source: {
    path: string;
    sha256: string;
    duration_s: number;
    sample_rate: number | null;
    channels: number | null;
    codec: string;
    size_bytes: number;
    /** Which path decoded it: 'native' (in-process) or 'ffmpeg'. */
    decoder: 'native' | 'ffmpeg';
  };
  /** Non-fatal oddities found while decoding. */
  warnings: string[];
  /** Truncation or corruption found in the container (the same whichever decoder ran); null when intact or not checked (ffmpeg-only formats, streamed files). */
  damage: Damage | null;
  /** Measured on the source-rate mono signal, before resampling (which would smooth clipping). */
  stats: { peak: number; clippedFraction: number };
}

export interface DecodeOptions {
  sampleRate: number;
  /** auto: in-process for wav/mp3/ogg/opus/flac, ffmpeg for the rest or when that fails. Default auto. */
  decoder?: DecoderChoice;
  ffmpegPath?: string | null;
  timeoutS?: number;
  maxDurationS?: number;
  maxFileSizeMb?: number;
  /**
   * Read the file with blocking calls. An Engine sets it from its own `blockingReads` (batch
   * worker threads): each has its own thread, and a blocking read of a small file costs less than
   * the trips through libuv's thread pool that would leave the core idle. Default false.
   */
  blockingReads?: boolean;
  /** A truncated or corrupt recording: 'warn' (default) decodes what is intact and reports it; 'error' fails it with E_DECODE. */
  onDamage?: 'warn' | 'error';
  /** Reused resamplers (an Engine's); default: a new one per call. */
  resamplers?: ResamplerSource;
  /**
   * Files larger than this (bytes) are not read whole: ffmpeg decodes them as a stream,
   * downmixed and resampled piece by piece, so memory follows the output rate. Default 256 MB.
   */
  streamAboveBytes?: number;
}

/** Check that `file` is a readable, non-empty regular file within the size limit. */
export async function checkInputFile(file: string, maxFileSizeMb = Infinity, options: { blocking?: boolean } = {}): Promise<{ size: number }> {
  let st;
  try {
    st = options.blocking ? statSync(file) : await stat(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'cannot be read (permission denied)' : `cannot be read (${code ?? String(e)})`;
    throw new TosiaError('E_INPUT', why, { file, stage: 'input', hint: 'check the path and its permissions' });
  }
  if (st.isDirectory()) throw new TosiaError('E_INPUT', 'is a directory, not an audio file', { file, stage: 'input', hint: 'pass the audio files inside it' });
  if (!st.isFile()) throw new TosiaError('E_INPUT', 'is not a regular file', { file, stage: 'input', hint: 'pass a regular audio file' });
  checkSize(file, st.size, maxFileSizeMb);
  return { size: st.size };
}

function checkSize(name: string, size: number, maxFileSizeMb: number): void {
  if (size === 0) throw new TosiaError('E_INPUT', 'is empty (0 bytes)', { file: name, stage: 'input', hint: 'the recording was not saved; export it again' });
  if (size > maxFileSizeMb * 1024 * 1024) {
    throw new TosiaError('E_INPUT', `is ${(size / 1048576).toFixed(1)} MB, more than audio.max_file_size_mb=${maxFileSizeMb}`, { file: name, stage: 'input', hint: 'split the file, or raise audio.max_file_size_mb / --max-file-size' });
  }
}

async function readAll(file: string, blocking: boolean): Promise<Buffer> {
  try {
    return blocking ? readFileSync(file) : await readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new TosiaError('E_INPUT', code === 'EACCES' ? 'cannot be read (permission denied)' : `cannot be read (${code ?? String(e)})`, { file, stage: 'input', hint: 'check the file permissions' });
  }
}

async function readBytes(file: string, length: number, fromEnd: boolean): Promise<Uint8Array> {
  const fh = await open(file, 'r');
  try {
    const size = (await fh.stat()).size;
    const n = Math.min(length, size);
    const buf = new Uint8Array(n);
    const { bytesRead } = await fh.read(buf, 0, n, fromEnd ? size - n : 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

const readHead = (file: string) => readBytes(file, 4096, false);
const readTail = (file: string, n: number) => readBytes(file, n, true);


async function resampleTo(samples: Float32Array, from: number, to: number, source?: ResamplerSource): Promise<Float32Array> {
  if (from === to) return samples;
  const r = source ? await source.resampler(from, to) : new Resampler(from, to, {}, await loadPffft());
  return r.run(samples);
}

/**
 * ffmpeg reads files only, so bytes without a file go through a private temp file (seekable,
 * as m4a needs), removed afterwards.
 */
async function withFile<T>(input: DecodeInput, use: (path: string) => Promise<T>): Promise<T> {
  if ('path' in input) return use(input.path);
  const dir = await mkdtemp(join(tmpdir(), 'tosia-decode-'));
  try {
    const path = join(dir, 'input');
    await writeFile(path, input.bytes);
    return await use(path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

interface Pcm { mono: Float32Array; rate: number; channels: number | null; sourceRate: number | null; codec: string; decoder: 'native' | 'ffmpeg' }

/** The container's integrity, from its bytes: the same verdict whichever decoder then runs. */
function inspect(bytes: Uint8Array, kind: Sniffed): Inspection {
  switch (kind) {
    case 'mp3': return inspectMp3(bytes);
    case 'flac': return inspectFlac(bytes);
    case 'opus':
    case 'vorbis': return inspectOgg(bytes, kind);
    case 'wav': {
      const w = wavDataExtent(bytes);
      return w && w.bytesPerSecond > 0 ? inspectWav(w.declared - w.available, w.bytesPerSecond) : { damage: null };
    }
    default: return { damage: null };
  }
}

function refuseDamage(file: string, damage: Damage | null, onDamage: DecodeOptions['onDamage']): void {
  if (!damage || onDamage !== 'error') return;
  const what = [damage.truncated ? 'truncated' : '', damage.corrupt.length || damage.unlocated ? 'corrupt' : ''].filter(Boolean).join(' and ');
  throw new TosiaError('E_DECODE', `the recording is ${what}: ${damage.details.join('; ')}`, {
    file, stage: 'decode', hint: 'get a complete copy of the recording, or set audio.on_damage: warn (--on-damage warn) to run what is intact',
  });
}

function fromNative(n: NativePcm): Pcm {
  return { mono: downmixPlanar(n.channels), rate: n.sampleRate, channels: n.channels.length, sourceRate: n.sampleRate, codec: n.codec, decoder: 'native' };
}

/** `decode({ path: file }, options)`. */
export function decodeFile(file: string, options: DecodeOptions): Promise<DecodedAudio> {
  return decode({ path: file }, options);
}

/**
 * Decode any recording, from a file or from bytes, into mono float32 at `sampleRate`:
 * in-process for wav, mp3, ogg/vorbis, opus and flac, ffmpeg for everything else and for any
 * input the in-process path rejects. Both paths give the source's own rate and channels; the
 * channel mean and tosia's resampler follow.
 */
export async function decode(input: DecodeInput, options: DecodeOptions): Promise<DecodedAudio> {
  const choice = options.decoder ?? 'auto';
  const file = 'path' in input ? input.path : input.name;
  let size: number;
  if ('path' in input) ({ size } = await checkInputFile(input.path, options.maxFileSizeMb, { blocking: options.blockingReads }));
  else checkSize(file, (size = input.bytes.length), options.maxFileSizeMb ?? Infinity);
  const maxDurationS = options.maxDurationS ?? 7200;
  let pcm: Pcm | null = null;
  let sha256: string;
  let nativeWhy = '';
  let sniffed: ReturnType<typeof sniffFormat> = null;
  let bytes: Uint8Array | null = 'bytes' in input ? input.bytes : null;
  const streamAbove = options.streamAboveBytes ?? NATIVE_MAX_BYTES;
  let inspection: Inspection = { damage: null };
  if (size <= streamAbove) {
    bytes ??= await readAll(file, options.blockingReads ?? false);
    sniffed = sniffFormat(bytes);
    inspection = inspect(bytes, sniffed);
    refuseDamage(file, inspection.damage, options.onDamage);
  }
  // damaged pages and frames are cut out before any decoder sees them
  const decodable: DecodeInput = inspection.cleaned ? { bytes: inspection.cleaned, name: file } : input;
  if (choice !== 'ffmpeg' && size <= streamAbove) {
    bytes = bytes!;
    sha256 = sha256Hex(bytes);
    try {
      const bound = (gaps: { frames: number }[], decodedFrames: number, rate: number) => boundFill(gaps, decodedFrames, rate, file, maxDurationS);
      const n = inspection.runs ? await decodeRuns(inspection.runs, inspection.gaps ?? [], bound) : await decodeNative(inspection.cleaned ?? bytes);
      if (n === null) nativeWhy = NO_NATIVE;
      else if (n.problems.length > 0) nativeWhy = n.problems.slice(0, 3).join('; ');
      else if (inspection.runs) pcm = fromNative(n);
      else {
        const gaps = gapsFor(inspection, n.channels[0]?.length ?? 0);
        bound(gaps, n.channels[0]?.length ?? 0, n.sampleRate);
        pcm = fromNative({ ...n, channels: withGaps(n.channels, gaps) });
      }
    } catch (e) {
      // a verdict on the file itself (mostly missing, too long) is final: ffmpeg would fill the same
      if (e instanceof TosiaError) throw e;
      nativeWhy = (e as Error).message ?? String(e);
    }
    if (!pcm && choice === 'native') {
      throw new TosiaError('E_DECODE', `the in-process decoder rejected it: ${nativeWhy}`, { file, stage: 'decode', hint: 'use --decoder auto or ffmpeg to decode it with ffmpeg' });
    }
  } else {
    sniffed = sniffFormat(bytes ? bytes.subarray(0, 4096) : await readHead(file));
    if (choice === 'native') throw new TosiaError('E_INPUT', `is ${(size / 1048576).toFixed(0)} MB, too large to decode in-process`, { file, stage: 'decode', hint: 'use --decoder auto or ffmpeg' });
    const digest = bytes ? sha256Hex(bytes) : await sha256OfFile(file);
    if (digest === undefined) throw new TosiaError('E_INPUT', 'cannot be read', { file, stage: 'input', hint: 'check the file permissions' });
    sha256 = digest;
  }
  const ffmpegOptions = { name: file, inputCodec: sniffed === 'opus' ? 'libopus' : undefined, ffmpegPath: options.ffmpegPath ?? null, timeoutS: options.timeoutS ?? 120, maxDurationS };
  // ffmpeg does not trim Vorbis to the last page's granule position; libvorbis does
  const granule = async () => (sniffed === 'vorbis' ? lastOggGranule(bytes ? bytes.subarray(Math.max(0, bytes.length - 65536)) : await readTail(file, 65536)) : null);
  // why this file needs ffmpeg, for the error when there is none
  const noFfmpeg = (e: unknown): never => {
    if (!(e instanceof NoFfmpegError)) throw e;
    const why = size > streamAbove ? `it is ${(size / 1048576).toFixed(0)} MB, and files above ${(streamAbove / 1048576).toFixed(0)} MB stream through ffmpeg`
      : nativeWhy && nativeWhy !== NO_NATIVE ? `the in-process decoder rejected it (${nativeWhy}), and only ffmpeg could try it`
        : `${NEEDS_FFMPEG}, and this one is none of those`;
    throw new NoFfmpegError(why, file);
  };
  let decoded: Decoded;
  if (pcm) {
    decoded = await whole(file, pcm, options);
  } else if (!bytes && size > streamAbove) {
    // a large file streams: decoded, downmixed and resampled piece by piece, so that memory
    // grows with the output (audio.sample_rate), not with the source's rate and channels
    decoded = await streamed(file, ffmpegOptions, await granule(), options).catch(noFfmpeg);
  } else {
    const raw = await withFile(decodable, (path) => decodeWithFfmpeg(path, ffmpegOptions)).catch((e) => {
      // nothing of a damaged recording decodes: the damage is the reason to give
      if (!inspection.damage) return noFfmpeg(e);
      throw new TosiaError('E_DECODE', `the recording is damaged and nothing of it decodes: ${inspection.damage.details.join('; ')}`, { file, stage: 'decode', hint: 'get a complete copy of the recording', cause: e });
    });
    let interleaved = raw.interleaved;
    const gaps = gapsFor(inspection, interleaved.length / raw.channels);
    boundFill(gaps, interleaved.length / raw.channels, raw.sampleRate, file, maxDurationS);
    if (gaps.length) interleaved = withGapsInterleaved(interleaved, raw.channels, gaps);
    const g = await granule();
    if (g !== null && g * raw.channels < interleaved.length) interleaved = interleaved.subarray(0, g * raw.channels);
    decoded = { ...(await whole(file, { mono: downmix(interleaved, raw.channels), rate: raw.sampleRate, channels: raw.source.channels, sourceRate: raw.source.sampleRate, codec: raw.source.codec, decoder: 'ffmpeg' }, options)), damageLines: raw.damageLines };
  }
  // formats only ffmpeg decodes, and files too large to inspect: ffmpeg's own error lines are the verdict
  const inspected = size <= streamAbove && (['wav', 'mp3', 'flac', 'opus', 'vorbis'] as Sniffed[]).includes(sniffed);
  if (!inspected && decoded.damageLines.length > 0) {
    const cut = decoded.damageLines.some((l) => /partial file|Truncat|End of file/i.test(l));
    inspection = {
      damage: {
        truncated: cut ? { missing_s: null } : null, corrupt: [], unlocated: cut ? 0 : decoded.damageLines.length,
        details: [`ffmpeg reported ${decoded.damageLines.length} decoding error${decoded.damageLines.length === 1 ? '' : 's'} (${decoded.damageLines.slice(0, 2).join('; ')}): the recording is ${cut ? 'cut short' : 'damaged somewhere it does not say'}`],
      },
    };
    refuseDamage(file, inspection.damage, options.onDamage);
  }
  const warnings: string[] = [];
  if (decoded.nonFinite > 0) warnings.push(`${decoded.nonFinite} NaN or infinite samples were replaced by 0`);
  for (const d of inspection.damage?.details ?? []) warnings.push(`damaged recording: ${d}`);
  if (nativeWhy && choice === 'auto' && sniffed !== null) warnings.push(`decoded with ffmpeg: the in-process decoder rejected it (${nativeWhy})`);
  const { samples, frames, peak, clipped } = decoded;
  const src = decoded.pcm;
  if (samples.length === 0) {
    throw new TosiaError('E_DECODE', 'decoded to 0 samples of audio', { file, stage: 'decode', hint: 'the file holds no audio data; check the recording' });
  }
  return {
    samples,
    sampleRate: options.sampleRate,
    source: {
      path: file,
      sha256,
      duration_s: frames / src.rate,
      sample_rate: src.sourceRate,
      channels: src.channels,
      codec: src.codec,
      size_bytes: size,
      decoder: src.decoder,
    },
    warnings,
    damage: inspection.damage,
    stats: { peak, clippedFraction: frames ? clipped / frames : 0 },
  };
}

/** Decoded audio at the target rate, with what was measured on the source-rate mono signal. */
interface Decoded { samples: Float32Array; pcm: Omit<Pcm, 'mono'>; frames: number; peak: number; clipped: number; nonFinite: number; /** ffmpeg's damage lines, when ffmpeg decoded. */ damageLines: string[] }

const tooLong = (file: string, seconds: number, max: number) => new TosiaError('E_INPUT', `recording is ${seconds.toFixed(0)} s, longer than audio.max_duration_s=${max} s`, {
  file, stage: 'decode', hint: 'split the recording, or raise audio.max_duration_s / --max-duration',
});

/**
 * The peak and the clipped samples of a mono piece in one branch-light pass (Math.max carries a
 * NaN through); only a piece with NaN or infinite samples takes a second pass, replacing them
 * by 0. Measured before resampling, which would smooth clipping.
 */
function measure(mono: Float32Array): { peak: number; clipped: number; nonFinite: number } {
  const pass = () => {
    let peak = 0, clipped = 0;
    for (let i = 0; i < mono.length; i++) {
      const a = Math.abs(mono[i]!);
      peak = Math.max(peak, a);
      clipped += a >= 0.999 ? 1 : 0;
    }
    return { peak, clipped };
  };
  let { peak, clipped } = pass();
  let nonFinite = 0;
  if (!(peak < Infinity)) {
    for (let i = 0; i < mono.length; i++) if (mono[i]! - mono[i]! !== 0) { mono[i] = 0; nonFinite++; }
    ({ peak, clipped } = pass());
  }
  return { peak, clipped, nonFinite };
}

/** A whole decoded signal: its length checked, measured, then resampled. */
async function whole(file: string, pcm: Pcm, options: DecodeOptions): Promise<Decoded> {
  const { mono, ...rest } = pcm;
  const max = options.maxDurationS ?? 7200;
  if (mono.length / pcm.rate > max) throw tooLong(file, mono.length / pcm.rate, max);
  const m = measure(mono);
  return { samples: await resampleTo(mono, pcm.rate, options.sampleRate, options.resamplers), pcm: rest, frames: mono.length, ...m, damageLines: [] };
}

/**
 * A file decoded by ffmpeg as a stream: each piece is downmixed, measured and resampled (the
 * same filter's direct sum, see ResampleStream) as it arrives, into an output that grows with
 * the target rate only. `granule`: the Vorbis length in frames to keep, when known.
 */
async function streamed(file: string, ffmpegOptions: Parameters<typeof decodeWithFfmpeg>[1], granule: number | null, options: DecodeOptions): Promise<Decoded> {
  let frames = 0, peak = 0, clipped = 0, nonFinite = 0;
  let resampler: ResampleStream | null = null;
  let out = new Float32Array(0), outLen = 0;
  const keep = (piece: Float32Array) => {
    if (outLen + piece.length > out.length) {
      const grown = new Float32Array(Math.max(1 << 20, Math.ceil((outLen + piece.length) * 1.25)));
      grown.set(out.subarray(0, outLen));
      out = grown;
    }
    out.set(piece, outLen);
    outLen += piece.length;
  };
  let rate = 0;
  const raw = await decodeWithFfmpeg(file, {
    ...ffmpegOptions,
    onPcm: (interleaved, channels, sampleRate, durationS) => {
      // sized once from the declared duration (a little over), so that no growth copies the whole output
      // (a header may lie: never beyond the duration limit)
      if (rate === 0 && durationS) out = new Float32Array(Math.ceil(Math.min(durationS, ffmpegOptions.maxDurationS) * options.sampleRate * 1.001) + 4096);
      rate = sampleRate;
      let mono = downmix(interleaved, channels);
      if (granule !== null && frames + mono.length > granule) mono = mono.subarray(0, Math.max(0, granule - frames));
      if (mono.length === 0) return;
      frames += mono.length;
      if (frames / sampleRate > ffmpegOptions.maxDurationS) throw tooLong(file, frames / sampleRate, ffmpegOptions.maxDurationS);
      const m = measure(mono);
      peak = Math.max(peak, m.peak);
      clipped += m.clipped;
      nonFinite += m.nonFinite;
      if (sampleRate === options.sampleRate) keep(mono);
      else keep((resampler ??= new Resampler(sampleRate, options.sampleRate).stream()).push(mono));
    },
  });
  if (resampler) keep((resampler as ResampleStream).end());
  rate ||= raw.sampleRate;
  return {
    samples: out.subarray(0, outLen),
    pcm: { rate, channels: raw.source.channels, sourceRate: raw.source.sampleRate, codec: raw.source.codec, decoder: 'ffmpeg' },
    frames, peak, clipped, nonFinite, damageLines: raw.damageLines,
  };
}

/**
 * Silence put back where a damaged file lost audio is bounded before any of it is allocated:
 * at most MOSTLY_MISSING times what the file still holds (or FILL_FLOOR_S, for a short file that
 * lost its middle), and never past audio.max_duration_s. A file whose headers claim more is
 * mostly missing, not hours of silence: a 10 kB file claiming 7,000 s once took 20 s and 4 GB.
 */
const MOSTLY_MISSING = 4;
const FILL_FLOOR_S = 30;

function boundFill(gaps: { frames: number }[], decodedFrames: number, rate: number, file: string, maxDurationS: number): void {
  const add = gaps.reduce((t, g) => t + g.frames, 0);
  if (add <= 0 || !(rate > 0)) return;
  const held = decodedFrames / rate;
  const total = (decodedFrames + add) / rate;
  if (add > Math.max(MOSTLY_MISSING * decodedFrames, FILL_FLOOR_S * rate)) {
    throw new TosiaError('E_DECODE', `is mostly missing: it holds ${held.toFixed(2)} s of audio and its headers claim ${total.toFixed(0)} s; the ${(add / rate).toFixed(0)} s not there are not put back as silence`, {
      file, stage: 'decode', hint: 'get a complete copy of the recording',
    });
  }
  if (total > maxDurationS) throw tooLong(file, total, maxDurationS);
}

/** Streams decoded one by one and joined, with `gaps[i].frames` of silence after stream i (bounded first). */
async function decodeRuns(runs: Uint8Array[], gaps: { frames: number }[], bound: (gaps: { frames: number }[], decodedFrames: number, rate: number) => void): Promise<NativePcm | null> {
  const parts: NativePcm[] = [];
  for (const r of runs) {
    const n = await decodeNative(r);
    if (!n || n.problems.length > 0) return n;
    parts.push(n);
  }
  bound(gaps, parts.reduce((t, p) => t + p.channels[0]!.length, 0), parts[0]!.sampleRate);
  const channels = parts[0]!.channels.length;
  const total = parts.reduce((t, p) => t + p.channels[0]!.length, 0) + gaps.reduce((t, g) => t + g.frames, 0);
  const out = Array.from({ length: channels }, () => new Float32Array(total));
  let at = 0;
  for (const [i, p] of parts.entries()) {
    for (let c = 0; c < channels; c++) out[c]!.set(p.channels[c] ?? p.channels[0]!, at);
    at += p.channels[0]!.length + (gaps[i]?.frames ?? 0);
  }
  return { ...parts[0]!, channels: out };
}

/** withGaps for interleaved samples (what ffmpeg gives). */
function withGapsInterleaved(x: Float32Array, channels: number, gaps: { at: number; frames: number }[]): Float32Array {
  const planes = Array.from({ length: channels }, (_, c) => {
    const p = new Float32Array(x.length / channels);
    for (let i = 0; i < p.length; i++) p[i] = x[i * channels + c]!;
    return p;
  });
  const filled = withGaps(planes, gaps);
  const out = new Float32Array(filled[0]!.length * channels);
  for (let c = 0; c < channels; c++) for (let i = 0; i < filled[c]!.length; i++) out[i * channels + c] = filled[c]![i]!;
  return out;
}

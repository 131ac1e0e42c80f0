import { createHash } from 'node:crypto';
import { open, stat } from 'node:fs/promises';
import { downmix, countNonFinite } from '../../algos/audio/downmix.js';
import { TosiaError } from '../../algos/errors.js';
import { decodeWithFfmpeg } from './ffmpeg-decoder.js';

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
  };
  /** Non-fatal oddities found while decoding. */
  warnings: string[];
}

export interface DecodeOptions {
  sampleRate: number;
  ffmpegPath?: string | null;
  timeoutS?: number;
  maxDurationS?: number;
  maxFileSizeMb?: number;
}

/** Check that `file` is a readable, non-empty regular file, and hash it. */
export async function checkInputFile(file: string, maxFileSizeMb = Infinity): Promise<{ size: number; sha256: string }> {
  let st;
  try {
    st = await stat(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'cannot be read (permission denied)' : `cannot be read (${code ?? String(e)})`;
    throw new TosiaError('E_INPUT', why, { file, stage: 'input', hint: 'check the path and its permissions' });
  }
  if (st.isDirectory()) throw new TosiaError('E_INPUT', 'is a directory, not an audio file', { file, stage: 'input', hint: 'pass the audio files inside it' });
  if (!st.isFile()) throw new TosiaError('E_INPUT', 'is not a regular file', { file, stage: 'input', hint: 'pass a regular audio file' });
  if (st.size === 0) throw new TosiaError('E_INPUT', 'is empty (0 bytes)', { file, stage: 'input', hint: 'the recording was not saved; export it again' });
  if (st.size > maxFileSizeMb * 1024 * 1024) {
    throw new TosiaError('E_INPUT', `is ${(st.size / 1048576).toFixed(1)} MB, more than audio.max_file_size_mb=${maxFileSizeMb}`, { file, stage: 'input', hint: 'split the file, or raise audio.max_file_size_mb / --max-file-size' });
  }
  const hash = createHash('sha256');
  let fh;
  try {
    fh = await open(file, 'r');
    for await (const chunk of fh.createReadStream()) hash.update(chunk as Buffer);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new TosiaError('E_INPUT', code === 'EACCES' ? 'cannot be read (permission denied)' : `cannot be read (${code ?? String(e)})`, { file, stage: 'input', hint: 'check the file permissions' });
  } finally {
    await fh?.close().catch(() => undefined);
  }
  return { size: st.size, sha256: hash.digest('hex') };
}

/** Decode any recording ffmpeg reads into mono float32 at `sampleRate`. */
export async function decodeFile(file: string, options: DecodeOptions): Promise<DecodedAudio> {
  const { size, sha256 } = await checkInputFile(file, options.maxFileSizeMb);
  const raw = await decodeWithFfmpeg(file, {
    sampleRate: options.sampleRate,
    ffmpegPath: options.ffmpegPath ?? null,
    timeoutS: options.timeoutS ?? 120,
    maxDurationS: options.maxDurationS ?? 7200,
  });
  const samples = downmix(raw.interleaved, raw.channels);
  const warnings: string[] = [];
  const bad = countNonFinite(samples);
  if (bad > 0) {
    for (let i = 0; i < samples.length; i++) if (!Number.isFinite(samples[i]!)) samples[i] = 0;
    warnings.push(`${bad} NaN or infinite samples were replaced by 0`);
  }
  if (samples.length === 0) {
    throw new TosiaError('E_DECODE', 'decoded to 0 samples of audio', { file, stage: 'decode', hint: 'the file holds no audio data; check the recording' });
  }
  return {
    samples,
    sampleRate: raw.sampleRate,
    source: {
      path: file,
      sha256,
      duration_s: samples.length / raw.sampleRate,
      sample_rate: raw.source.sampleRate,
      channels: raw.source.channels,
      codec: raw.source.codec,
      size_bytes: size,
    },
    warnings,
  };
}

import { colorize, type RgbImage } from '../../algos/color/colorize.js';
import type { RealFftFactory } from '../../algos/fft/kernel.js';
import type { MelPlan } from '../../algos/melspec/melspectrogram.js';
import type { MelOptions } from '../../algos/melspec/options.js';
import { powerToDb, amplitudeToDb } from '../../algos/melspec/db.js';
import { segmentCoughs } from '../../algos/segment/hysteresis.js';
import { segmentCoughsOnset } from '../../algos/segment/onset.js';
import type { Segmentation } from '../../algos/segment/types.js';
import { segmentCoughsAdaptive } from '../../algos/segment/adaptive.js';
import type { Config } from '../config/schema.js';
import { decode, type DecodedAudio, type DecodeInput } from '../decode/decode.js';
import { defaultEngine, type Engine } from '../engine/engine.js';
import { resizePlanes } from '../../algos/color/resize.js';

/**
 * Decode a recording (a path, or `{ bytes, name }`) as the config says, with the engine's
 * resamplers and read mode (default: the shared engine).
 */
export function decodeStage(input: string | DecodeInput, cfg: Config, engine: Engine = defaultEngine()): Promise<DecodedAudio> {
  return decode(typeof input === 'string' ? { path: input } : input, {
    blockingReads: engine.blockingReads,
    resamplers: engine,
    sampleRate: cfg.audio.sample_rate,
    decoder: cfg.audio.decoder,
    ffmpegPath: cfg.audio.ffmpeg_path,
    timeoutS: cfg.audio.decode_timeout_s,
    maxDurationS: cfg.audio.max_duration_s,
    maxFileSizeMb: cfg.audio.max_file_size_mb,
    onDamage: cfg.audio.on_damage,
  });
}

/** Segment the decoded audio as the config says; `fft` is an optional faster FFT backend. */
export function segmentStage(audio: { samples: Float32Array; sampleRate: number }, cfg: Config, fft?: RealFftFactory): Segmentation {
  const s = cfg.segmentation;
  if (s.method === 'onset') {
    return segmentCoughsOnset(audio.samples, audio.sampleRate, {
      hopLength: s.hop_length_s, fmin: s.fmin_hz, fmax: s.fmax_hz, bands: s.bands, floorPercentile: s.band_floor_percentile,
      highDb: s.excess_high_db, lowDb: s.excess_low_db, smoothing: s.smoothing_s, hangover: s.hangover_s,
      onsetDb: s.onset_flux_db, highOnsetDb: s.onset_high_db, dipDb: s.bout_dip_db, tail: s.tail_s,
      minLength: s.min_length_s, padding: s.padding_s, ...(s.reject_below_score === null ? {} : { minScore: s.reject_below_score }),
    }, fft);
  }
  if (s.method === 'adaptive') {
    return segmentCoughsAdaptive(audio.samples, audio.sampleRate, {
      hopLength: s.hop_length_s, fmin: s.fmin_hz, fmax: s.fmax_hz, bands: s.bands, floorPercentile: s.band_floor_percentile,
      highDb: s.excess_high_db, lowDb: s.excess_low_db, smoothing: s.smoothing_s, hangover: s.hangover_s,
      minLength: s.min_length_s, maxLength: s.max_length_s, padding: s.padding_s, maxBelowPeakDb: s.max_below_peak_db,
      ...(s.reject_below_score === null ? {} : { minCoughScore: s.reject_below_score }), splitDb: s.split_db,
    }, fft);
  }
  return segmentCoughs(audio.samples, audio.sampleRate, {
    frameLength: s.frame_length_s,
    hopLength: s.hop_length_s,
    smoothing: s.smoothing_s,
    noisePercentile: s.noise_percentile,
    floorDb: s.floor_db,
    highDb: s.high_db,
    lowDb: s.low_db,
    maxBelowPeakDb: s.max_below_peak_db,
    hangover: s.hangover_s,
    minLength: s.min_length_s,
    maxLength: s.max_length_s,
    padding: s.padding_s,
  });
}

/**
 * The legacy methods stay selectable only to reproduce earlier results; a result made with one
 * says so. Null for the default.
 */
export function segmentationMethodWarning(cfg: Config): string | null {
  const m = cfg.segmentation.method;
  return m === 'onset' ? null : `segmentation.method=${m} is kept to reproduce earlier results: the onset method (the default) finds coughs better on every kind of input measured (README, Segmentation), and the demo model learnt from its segments`;
}

/** The mel options a config gives, in librosa's semantics. */
export function melOptionsFor(cfg: Config): MelOptions {
  const m = cfg.mel_spec;
  return {
    sampleRate: cfg.audio.sample_rate, nFft: m.n_fft, hopLength: m.hop_length, winLength: m.win_length ?? m.n_fft,
    window: m.window, center: m.center, padMode: m.pad_mode, power: m.power, nMels: m.n_mels,
    fmin: m.fmin, fmax: m.fmax, htk: m.htk, norm: m.norm,
  };
}

/** The mel plan for a config and FFT backend, built once per engine (default: the shared one). */
export function melPlanFor(cfg: Config, fft?: RealFftFactory, engine: Engine = defaultEngine()): MelPlan {
  return engine.melPlan(melOptionsFor(cfg), fft);
}

/** librosa's "Empty filters detected" warning, in words, or null. */
export function emptyFilterWarning(cfg: Config, fft?: RealFftFactory, engine?: Engine): string | null {
  const empty = melPlanFor(cfg, fft, engine).emptyBands;
  if (empty.length === 0) return null;
  return `mel_spec.n_mels=${cfg.mel_spec.n_mels} is too many for n_fft=${cfg.mel_spec.n_fft}: ${empty.length} mel bands are empty (all zero), as librosa warns; lower n_mels or raise n_fft`;
}

export interface SegmentSpectrogram {
  /** dB, row-major nMels × nFrames, band 0 lowest. */
  db: Float32Array;
  nMels: number;
  nFrames: number;
}

/** Mel spectrogram in dB of samples [a, b), as librosa's melspectrogram + power_to_db (ref=max). */
export function melStage(samples: Float32Array, a: number, b: number, cfg: Config, fft?: RealFftFactory, engine?: Engine): SegmentSpectrogram {
  const plan = melPlanFor(cfg, fft, engine);
  const { data, nMels, nFrames } = plan.run(samples.subarray(a, b));
  const m = cfg.mel_spec;
  const toDb = m.power === 1 ? amplitudeToDb : powerToDb;
  const amin = m.power === 1 ? Math.sqrt(m.amin) : m.amin;
  toDb(data, { ref: m.ref, amin, topDb: m.top_db }, data);
  return { db: data, nMels, nFrames };
}

/**
 * The model-input image of a segment: the dB spectrogram resized to width × height (time and
 * mel axes alike), then coloured. Resizing the dB values rather than the colours keeps the
 * colour map's own entries (no blends of unrelated colours) and costs a third of the work.
 */
export function colourStage(spec: SegmentSpectrogram, cfg: Config): { image: RgbImage } {
  const c = cfg.color_spec;
  const sized = spec.nFrames === c.width && spec.nMels === c.height ? spec.db : resizePlanes(spec.db, spec.nFrames, spec.nMels, 1, c.width, c.height, c.resize_kernel);
  const image = colorize({ data: sized, nMels: c.height, nFrames: c.width }, {
    colormap: c.colormap, scale: c.scale, dbMin: c.db_min, dbMax: c.db_max,
  });
  return { image };
}

import { basename, extname, join } from 'node:path';
import type { RgbImage } from '../../algos/color/colorize.js';
import { aggregate } from '../../algos/classify/aggregate.js';
import { sigmoid, softmax } from '../../algos/classify/activation.js';
import { imagesToTensor } from '../../algos/classify/tensor.js';
import { TosiaError } from '../../algos/errors.js';
import type { Config } from '../config/schema.js';
import { writePng } from '../image/png.js';
import { compareWithConfig, describeMismatches } from '../model/manifest.js';
import type { Classifier } from '../model/model.js';
import { tosiaVersion } from '../paths.js';
import { defaultEngine, type Engine } from '../engine/engine.js';
import { prepareSegments } from './prepare-segments.js';
import { DISCLAIMER, SCHEMA_VERSION, type QualityResult, type Result, type SegmentResult } from './result.js';
import { coughLikeness } from '../../algos/segment/cough-score.js';
import type { Segmentation } from '../../algos/segment/types.js';
import type { DecodedAudio } from '../decode/decode.js';
import { decodeStage, emptyFilterWarning, segmentationMethodWarning, segmentStage } from './stages.js';
import type { WorkUnit } from './work-unit.js';

export interface RunOptions {
  /** A preloaded model (or one being loaded); default: the engine's session for the config's model. */
  model?: Classifier | Promise<Classifier>;
  /** Where plans, resamplers and model sessions are kept; default: the shared engine. */
  engine?: Engine;
}

export interface ExecuteOptions extends RunOptions {
  /**
   * Where segment PNGs go when output.save_images is set: `${imagePrefix}.seg000.png`, ...
   * Default: the save_images folder plus the recording's file name.
   */
  imagePrefix?: string;
}

/** A recording's result and the model-input image of each of its segments, in order. */
export interface RecordingRun { result: Result; images: RgbImage[] }

const round = (x: number, digits = 4) => Math.round(x * 10 ** digits) / 10 ** digits;

/**
 * Check the config against what the model was trained with. Differences are an E_CONFIG error
 * naming each one, or warnings when classifier.allow_config_mismatch is set.
 */
export function checkModelConfig(model: Classifier, cfg: Config): string[] {
  const diffs = compareWithConfig(model.manifest, cfg);
  if (diffs.length === 0) return [];
  const text = describeMismatches(diffs);
  if (!cfg.classifier.allow_config_mismatch) {
    throw new TosiaError('E_CONFIG', `config disagrees with the model's training preprocessing: ${text}`, {
      file: model.path, stage: 'config', hint: "use the model's values, or pass --allow-config-mismatch (classifier.allow_config_mismatch: true) to run anyway",
    });
  }
  return [`config differs from the model's training preprocessing: ${text}`];
}

/** Quality flags of one recording (thresholds documented in QualityResult). */
function qualityOf(audio: DecodedAudio, seg: Segmentation, nSegments: number): QualityResult {
  const peakDbfs = audio.stats.peak > 0 ? 20 * Math.log10(audio.stats.peak) : -Infinity;
  const snr = nSegments > 0 ? seg.peakDb - seg.noiseFloorDb : null;
  const flags: string[] = [];
  if (audio.stats.clippedFraction > 0.001) flags.push('clipped');
  if (peakDbfs < -40) flags.push('too_quiet');
  if (audio.source.duration_s < 0.5) flags.push('too_short');
  if (snr !== null && snr < 10) flags.push('low_snr');
  if (nSegments === 0) flags.push('no_cough');
  const damage = audio.damage;
  if (damage?.truncated) flags.push('truncated');
  if (damage?.corrupt.length || damage?.unlocated) flags.push('corrupt');
  return {
    clipped_fraction: round(audio.stats.clippedFraction, 6), peak_dbfs: Number.isFinite(peakDbfs) ? round(peakDbfs, 2) : -999, snr_db: snr === null ? null : round(snr, 2),
    ...(damage?.truncated ? { truncated_missing_s: damage.truncated.missing_s } : {}),
    ...(damage?.corrupt.length ? { corrupt_spans: damage.corrupt } : {}),
    flags,
  };
}

/**
 * Run one recording through decode, segmentation, mel, colour and classification, and write
 * its segment images when output.save_images is set.
 */
export async function execute(work: WorkUnit, options: ExecuteOptions = {}): Promise<Result> {
  const cfg = work.config;
  const { result, images } = await runRecording(work, options);
  if (cfg.output.save_images) {
    const prefix = options.imagePrefix ?? join(cfg.output.save_images, basename(work.sourceFile, extname(work.sourceFile)));
    await Promise.all(images.map((image, i) => writePng(`${prefix}.seg${String(i).padStart(3, '0')}.png`, image)));
  }
  return result;
}

/**
 * `execute` without writing anything: the result and the segments' model-input images, for
 * callers that store them themselves (batch workers, the server).
 */
export async function runRecording(work: WorkUnit, options: RunOptions = {}): Promise<RecordingRun> {
  const t0 = performance.now();
  const cfg = work.config;
  const engine = options.engine ?? defaultEngine();
  // the model is awaited only when the segments are ready for it: it loads meanwhile (in another
  // thread when options.model is served from one), as ffmpeg decodes in its own process
  const decoding = decodeStage(work.sourceBytes ? { bytes: work.sourceBytes, name: work.sourceFile } : work.sourceFile, cfg, engine);
  decoding.catch(() => undefined);
  const modelLoading = Promise.resolve(options.model ?? engine.modelFor(cfg));
  modelLoading.catch(() => undefined);
  const fftLoading = engine.fft();
  const timings = { decode: 0, segment: 0, mel: 0, colour: 0, classify: 0, total: 0 };

  let t = performance.now();
  let audio: Awaited<typeof decoding>;
  try {
    audio = await decoding;
  } catch (e) {
    await modelLoading; // a model error, if any, is reported first
    throw e;
  }
  timings.decode = performance.now() - t0;
  const warnings: string[] = [...audio.warnings];

  const fft = await fftLoading;
  t = performance.now();
  const segmentation = segmentStage(audio, cfg, fft);
  const { segments } = segmentation;
  timings.segment = performance.now() - t;

  const emptyBands = emptyFilterWarning(cfg, fft, engine);
  if (emptyBands) warnings.push(emptyBands);
  const legacy = segmentationMethodWarning(cfg);
  if (legacy) warnings.push(legacy);
  const prepared = prepareSegments(audio, segments, cfg, timings, fft, engine);

  const model: Classifier = await modelLoading;
  warnings.unshift(...checkModelConfig(model, cfg));
  const manifest = model.manifest;
  const threshold = cfg.classifier.threshold ?? manifest.threshold;
  t = performance.now();
  const labels = manifest.labels;
  let probs: Float32Array = new Float32Array(0);
  if (prepared.length > 0) {
    const tensor = imagesToTensor(prepared.map((p) => p.image), { layout: manifest.input.layout, normalisation: manifest.input.normalisation });
    const raw = await model.run(tensor.data, tensor.dims);
    probs = manifest.output.activation === 'softmax' ? softmax(raw, labels.length) : sigmoid(raw);
  }
  const aggOptions = { method: cfg.classifier.aggregate, topK: cfg.classifier.top_k, positiveLabel: manifest.positive_label, threshold };
  const minScore = cfg.classifier.min_cough_score;
  const included: number[] = [];
  const segResults: SegmentResult[] = prepared.map((p, i) => {
    const row = probs.subarray(i * labels.length, (i + 1) * labels.length);
    const own = aggregate(row, labels, { ...aggOptions, method: 'mean' });
    const f = p.segment.features;
    // the onset segmenter scores its own events; other methods fall back on the descriptors
    const likeness = p.segment.score ? { score: p.segment.score.value, reason: p.segment.score.reason } : coughLikeness(f);
    const excluded = likeness.score < minScore;
    if (!excluded) included.push(i);
    return {
      index: i,
      start_s: round(p.segment.start),
      end_s: round(p.segment.end),
      peak_s: round(p.segment.peak),
      features: {
        rms: round(f.rms, 6), zcr: round(f.zcr, 6), spectral_centroid_hz: round(f.spectralCentroid, 1),
        spectral_flatness: round(f.spectralFlatness, 6), duration_s: round(f.duration),
      },
      probabilities: Object.fromEntries(labels.map((l, c) => [l, round(row[c]!, 6)])),
      label: own.label,
      cough_score: round(likeness.score, 4),
      excluded,
      exclude_reason: excluded ? `cough_score ${likeness.score.toFixed(3)} < min_cough_score ${minScore}: ${likeness.reason}` : null,
    };
  });
  if (prepared.length > 0 && included.length === 0) warnings.push(`all ${prepared.length} segments were excluded by classifier.min_cough_score=${minScore}`);
  const kept = new Float32Array(included.length * labels.length);
  included.forEach((s, j) => kept.set(probs.subarray(s * labels.length, (s + 1) * labels.length), j * labels.length));
  const diag = included.length > 0 ? aggregate(kept, labels, aggOptions) : null;
  timings.classify = performance.now() - t;
  timings.total = performance.now() - t0;

  const result: Result = {
    schema_version: SCHEMA_VERSION,
    tosia_version: tosiaVersion(),
    source: {
      path: audio.source.path, sha256: audio.source.sha256, duration_s: round(audio.source.duration_s),
      sample_rate: audio.source.sample_rate, channels: audio.source.channels, codec: audio.source.codec, decoder: audio.source.decoder,
    },
    config_sha256: work.configSha256,
    model: { name: manifest.name, version: manifest.version, sha256: model.sha256, labels: [...labels], execution_provider: model.executionProvider },
    segments: segResults,
    quality: qualityOf(audio, segmentation, segResults.length),
    diagnosis: diag
      ? { label: diag.label, score: round(diag.score, 6), probabilities: Object.fromEntries(Object.entries(diag.probabilities).map(([k, v]) => [k, round(v, 6)])), aggregate: cfg.classifier.aggregate, threshold, positive_label: manifest.positive_label, n_segments: diag.n_segments }
      : { label: 'no_cough', score: null, probabilities: {}, aggregate: cfg.classifier.aggregate, threshold, positive_label: manifest.positive_label, n_segments: 0 },
    timings_ms: Object.fromEntries(Object.entries(timings).map(([k, v]) => [k, round(v, 2)])) as Result['timings_ms'],
    warnings,
    disclaimer: DISCLAIMER,
  };
  return { result, images: prepared.map((p) => p.image) };
}

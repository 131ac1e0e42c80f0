export const SCHEMA_VERSION = 1;

export const DISCLAIMER =
  'tosia is research software, not a medical device. Its output is not a diagnosis and must not be used for clinical decisions.';

export interface SegmentResult {
  index: number;
  start_s: number;
  end_s: number;
  peak_s: number;
  features: { rms: number; zcr: number; spectral_centroid_hz: number; spectral_flatness: number; duration_s: number };
  probabilities: Record<string, number>;
  label: string;
  /** 0..1: with the onset segmenter, the probability that this is one cough (algos coughProbability); with the legacy methods, the descriptor cough-likeness (algos coughLikeness). */
  cough_score: number;
  /** True when cough_score < classifier.min_cough_score: kept here, left out of the diagnosis. */
  excluded: boolean;
  /** Why it was excluded (the score, the threshold and the main way it is unlike a cough), else null. */
  exclude_reason: string | null;
}

/** Per-recording quality flags. */
export interface QualityResult {
  /** Fraction of source samples at full scale (|x| >= 0.999), before resampling. */
  clipped_fraction: number;
  /** Peak level of the source, in dBFS. */
  peak_dbfs: number;
  /** Loudest envelope frame over the noise floor (10th percentile of frame energy), in dB; null without a cough. */
  snr_db: number | null;
  /** Seconds missing from the end where the recording is truncated (null: truncated, length not declared); absent when whole. */
  truncated_missing_s?: number | null;
  /** Damaged stretches dropped from a corrupt recording (never decoded; silence stands in where the length is known). */
  corrupt_spans?: { start_s: number; end_s: number }[];
  /**
   * Names of the flags raised: clipped (> 0.1 % of samples), too_quiet (peak < -40 dBFS),
   * too_short (< 0.5 s), low_snr (< 10 dB), no_cough, truncated (the stream ends before its end),
   * corrupt (damaged stretches were dropped).
   */
  flags: string[];
}

export interface DiagnosisResult {
  /** The positive label, the best other label, or 'no_cough' when no segment was found. */
  label: string;
  /** The recording's score for the positive label; null when there is no cough. */
  score: number | null;
  probabilities: Record<string, number>;
  aggregate: string;
  threshold: number;
  positive_label: string;
  n_segments: number;
}

/** The result of one recording (JSON, versioned by schema_version). */
export interface Result {
  schema_version: number;
  tosia_version: string;
  /**
   * The recording: where it came from, its sha256, and, for an object read from a container or
   * bucket, `version` (the object's ETag), which a resumed batch compares instead of reading the
   * object again.
   */
  source: { path: string; sha256: string; duration_s: number; sample_rate: number | null; channels: number | null; codec: string; decoder: 'native' | 'ffmpeg'; version?: string };
  config_sha256: string;
  model: { name: string; version: string; sha256: string; labels: string[]; execution_provider: string };
  segments: SegmentResult[];
  diagnosis: DiagnosisResult;
  quality: QualityResult;
  timings_ms: { decode: number; segment: number; mel: number; colour: number; classify: number; total: number };
  warnings: string[];
  disclaimer: string;
}

import { TosiaError } from '../errors.js';
import type { RealFftFactory } from '../fft/kernel.js';
import { assembleSegments, paddedSpans } from './assemble.js';
import { analyseBands, hysteresis, movingAverage, type BandAnalysis, type BandLevelOptions } from './core.js';
import { coughProbability, type CandidateFeatures } from './cough-score.js';
import { DescriptorPlan, type SegmentFeatures } from './descriptors.js';
import { percentile } from './envelope.js';
import type { Segmentation, Span } from './types.js';

/** Options of the onset segmenter. Times in seconds, levels in dB. */
export interface OnsetOptions extends BandLevelOptions {
  /** A frame is an onset candidate where the spectral flux peaks at or above this (dB). Default 4. */
  onsetDb: number;
  /** A later onset in one sound starts a new cough only after a dip this deep below the peaks around it (dB), or a rise of 10 dB above all before it. Default 3. */
  dipDb: number;
  /** Within this time of a cough's onset, only a broadband onset (high-band flux >= highOnsetDb) starts another: the voiced tail stays inside. Default 0.4 s / 6 dB. */
  tail: number;
  highOnsetDb: number;
  /** Candidates shorter than this (before padding) are dropped. Default 0.08 s. */
  minLength: number;
  /** Padding on each side, never past the midpoint to a neighbour. Default 0.05 s. */
  padding: number;
  /** Candidates scoring below this are not coughs: a tail joins the cough before it, anything else is dropped (0 keeps all). Default 0.5. */
  minScore: number;
}

export const ONSET_DEFAULTS: Readonly<OnsetOptions> = Object.freeze({
  hopLength: 0.01, fmin: 250, fmax: 3800, bands: 16, floorPercentile: 20, highDb: 6, lowDb: 3, hangover: 0.04, smoothing: 0.03,
  onsetDb: 4, dipDb: 3, tail: 0.4, highOnsetDb: 6, minLength: 0.08, padding: 0.05, minScore: 0.5,
});

/** The high bands start here: the explosive phase is broadband, a voiced tail's energy sits lower. */
const HIGH_HZ = 1500;
/** Spectral flux over 2 frames (20 ms at the default hop): the rise time of an explosive onset. */
const FLUX_LAG = 2;
/** An event's onset strength is the flux peak from 2 frames before its onset to 6 after. */
const ONSET_WINDOW: readonly [number, number] = [2, 6];
/** An event needs at least this much flux near its start to be a candidate at all (dB). */
const MIN_ONSET_FLUX = 3;

/** One candidate event: its frames, onset and loudest frame, padded span, descriptors and features. */
export interface OnsetCandidate extends Span {
  /** The flux peak that opens it (frame). */
  onsetFrame: number;
  /** Its loudest frame. */
  peakFrame: number;
  /** Its span in s, padded as a segment would be among the candidates, and that span's descriptors. */
  start: number;
  end: number;
  descriptors: SegmentFeatures;
  features: CandidateFeatures;
}

function checkOptions(o: OnsetOptions): void {
  const fail = (key: keyof OnsetOptions, rule: string) => { throw new TosiaError('E_CONFIG', `${key}=${o[key]} must be ${rule}`, { stage: 'segment' }); };
  if (!(o.hopLength > 0)) fail('hopLength', '> 0');
  if (!(o.bands >= 4)) fail('bands', '>= 4');
  if (!(o.fmax > o.fmin && o.fmin >= 0)) fail('fmax', `> fmin (${o.fmin})`);
  if (!(o.highDb > o.lowDb)) fail('highDb', `> lowDb (${o.lowDb})`);
  if (!(o.minScore >= 0 && o.minScore <= 1)) fail('minScore', 'in 0..1');
  if (!(o.onsetDb > 0)) fail('onsetDb', '> 0');
  for (const k of ['dipDb', 'tail', 'highOnsetDb', 'minLength', 'padding', 'hangover', 'smoothing'] as const) if (!(o[k] >= 0)) fail(k, '>= 0');
}

/**
 * The events a recording's sounds break into, one per explosive onset, each with the features
 * its cough score is computed from. Exported so the score's fitting script sees exactly what the
 * segmenter sees.
 */
export function onsetCandidates(samples: Float32Array, sampleRate: number, options: Partial<OnsetOptions> = {}, fftFactory?: RealFftFactory): { analysis: BandAnalysis; level: Float64Array; candidates: OnsetCandidate[] } {
  const o = { ...ONSET_DEFAULTS, ...options };
  checkOptions(o);
  const A = analyseBands(samples, sampleRate, { hopLength: o.hopLength, fmin: o.fmin, fmax: o.fmax, bands: o.bands, floorPercentile: o.floorPercentile, flux: { lag: FLUX_LAG, highHz: HIGH_HZ } }, fftFactory);
  const { flux, fluxHigh } = A;
  const E = movingAverage(A.excess, 2 * Math.floor(Math.round(o.smoothing / o.hopLength) / 2) + 1);
  const hopF = o.hopLength;
  const minGap = Math.round(0.08 / hopF), tailFrames = Math.round(o.tail / hopF);
  const events: { a: number; b: number; onset: number }[] = [];
  for (const s of hysteresis(E, o.highDb, o.lowDb, Math.round(o.hangover / hopF))) {
    const onsets: number[] = [];
    for (let t = Math.max(1, s.a - 2); t < s.b; t++) if (flux[t]! >= o.onsetDb && flux[t]! >= flux[t - 1]! && flux[t]! >= (flux[t + 1] ?? 0)) onsets.push(t);
    // the sound's first event opens at its start; its onset is the first flux peak if it comes early
    let cur = { a: s.a, b: s.b, onset: onsets.length > 0 && onsets[0]! - s.a < 6 ? onsets[0]! : -1 };
    events.push(cur);
    // the current event's peak so far, kept as a running maximum so a long sound costs linear time
    let peakBefore = 0, scanned = cur.a;
    for (const t of onsets) {
      const since = t - (cur.onset >= 0 ? cur.onset : cur.a);
      if (since < minGap) continue;
      for (; scanned < t; scanned++) peakBefore = Math.max(peakBefore, E[scanned]!);
      let dip = Infinity, dipAt = t;
      for (let k = Math.max(cur.a, t - 15); k <= t; k++) if (E[k]! < dip) { dip = E[k]!; dipAt = k; }
      let after = 0;
      for (let k = t; k < Math.min(s.b, t + 8); k++) after = Math.max(after, E[k]!);
      const depth = Math.min(peakBefore, after) - dip, rise = after - dip;
      const newSound = depth >= o.dipDb || (rise >= 10 && after > peakBefore + 5);
      const broadband = fluxHigh[t]! >= o.highOnsetDb;
      if (newSound && (broadband || since >= tailFrames)) {
        cur.b = dipAt;
        cur = { a: dipAt, b: s.b, onset: t };
        events.push(cur);
        peakBefore = 0;
        for (scanned = dipAt; scanned < t; scanned++) peakBefore = Math.max(peakBefore, E[scanned]!);
      }
    }
  }
  const duration = samples.length / sampleRate;
  const describer = new DescriptorPlan(sampleRate, fftFactory);
  const raw: (OnsetCandidate & { os: number; osHigh: number; peakE: number })[] = [];
  events.forEach((e) => {
    const start0 = e.a * A.hopS, end0 = Math.min(duration, (e.b - 1) * A.hopS + A.frameS);
    if (end0 - start0 < o.minLength) return;
    const from = e.onset >= 0 ? e.onset : e.a;
    let os = 0, osHigh = 0, onsetFrame = from;
    for (let k = Math.max(0, from - ONSET_WINDOW[0]); k < Math.min(e.b, from + ONSET_WINDOW[1]); k++) {
      if (flux[k]! >= flux[onsetFrame]!) onsetFrame = k;
      os = Math.max(os, flux[k]!); osHigh = Math.max(osHigh, fluxHigh[k]!);
    }
    if (os < MIN_ONSET_FLUX) return;
    let peakFrame = e.a;
    for (let t = e.a; t < e.b; t++) if (E[t]! > E[peakFrame]!) peakFrame = t;
    raw.push({ a: e.a, b: e.b, onsetFrame, peakFrame, start: 0, end: 0, os, osHigh, peakE: E[peakFrame]!, descriptors: undefined as unknown as SegmentFeatures, features: undefined as unknown as CandidateFeatures });
  });
  paddedSpans(raw, { duration, hopS: A.hopS, frameS: A.frameS, padding: o.padding }).forEach((p, i) => { raw[i]!.start = p.start; raw[i]!.end = p.end; });
  let loudest = 0, strongestHigh = 0;
  for (const c of raw) { loudest = Math.max(loudest, c.peakE); strongestHigh = Math.max(strongestHigh, c.osHigh); }
  raw.forEach((c, i) => {
    const prev = raw[i - 1];
    const joined = prev !== undefined && prev.b === c.a;
    const d = (c.descriptors = describer.describe(samples, Math.round(c.start * sampleRate), Math.round(c.end * sampleRate)));
    c.features = {
      onset: c.os,
      onsetHigh: c.osHigh,
      peak: c.peakE,
      belowLoudest: loudest - c.peakE,
      duration: (c.b - c.a) * hopF,
      centroid: d.spectralCentroid,
      zcr: d.zcr,
      flatness: d.spectralFlatness,
      riseTime: (c.peakFrame - c.onsetFrame) * hopF,
      dipBefore: joined ? prev.peakE - E[c.a]! : c.peakE,
      onsetVsPrevious: joined ? Math.log1p(c.osHigh) - Math.log1p(prev.osHigh) : 0,
      inTail: joined && (c.a - prev.a) * hopF < 0.35 ? 1 : 0,
      onsetBelowStrongest: Math.log1p(strongestHigh) - Math.log1p(c.osHigh),
      peakOverStart: c.peakE - E[c.a]!,
      highShare: fluxHigh[c.onsetFrame]! / (flux[c.onsetFrame]! + 1),
      peakVsPrevious: joined ? c.peakE - prev.peakE : 0,
    };
  });
  return { analysis: A, level: E, candidates: raw.map(({ os: _o, osHigh: _h, peakE: _p, ...c }) => c) };
}

/** A kept cough: frames, loudest frame, and its score. */
export interface KeptCough extends Span { peak: number; score: number; reason: string }

/**
 * Keep the candidates scoring at least `minScore`; one below it that follows a kept cough with no
 * gap is its tail and extends it, any other is dropped. `level` picks a grown cough's loudest frame.
 */
export function selectCoughs(candidates: readonly OnsetCandidate[], level: ArrayLike<number>, score: (f: CandidateFeatures) => { value: number; reason: string }, minScore: number): KeptCough[] {
  const kept: KeptCough[] = [];
  for (const c of candidates) {
    const p = score(c.features);
    const last = kept[kept.length - 1];
    if (p.value >= minScore) kept.push({ a: c.a, b: c.b, peak: c.peakFrame, score: p.value, reason: p.reason });
    else if (last && last.b >= c.a) {
      last.b = c.b;
      if (level[c.peakFrame]! > level[last.peak]!) last.peak = c.peakFrame;
    }
  }
  return kept;
}

/**
 * Find coughs as the annotated recordings define them: one event per explosive onset, its
 * voiced or noisy tail kept inside. Sounds are found by a hysteresis comparator on the excess
 * over per-band noise floors; each sound breaks at every sharp broadband rise after a dip (a new
 * cough of a bout), not at the voiced packet that often closes a cough. Each event is then scored
 * (`coughProbability`: its onset strength and shape, its loudness against the recording's
 * loudest, its spectrum); one scoring below `minScore` is not a cough: joined to the cough before
 * it when it follows without a gap (a tail), dropped otherwise (speech, breaths, clicks, noise).
 */
export function segmentCoughsOnset(samples: Float32Array, sampleRate: number, options: Partial<OnsetOptions> = {}, fftFactory?: RealFftFactory): Segmentation {
  const o = { ...ONSET_DEFAULTS, ...options };
  const { analysis: A, level, candidates } = onsetCandidates(samples, sampleRate, o, fftFactory);
  if (A.frames === 0) return { segments: [], noiseFloorDb: -120, peakDb: -120 };
  const kept = selectCoughs(candidates, level, coughProbability, o.minScore);
  // a kept cough that is one candidate with the same neighbours spans what that candidate spanned
  const byStart = new Map(candidates.map((c) => [c.a, c]));
  const known = (i: number, from: number, to: number) => {
    const c = byStart.get(kept[i]!.a);
    return c && c.b === kept[i]!.b && Math.round(c.start * sampleRate) === from && Math.round(c.end * sampleRate) === to ? c.descriptors : undefined;
  };
  const segments = assembleSegments(kept, { samples, sampleRate, hopS: A.hopS, frameS: A.frameS, padding: o.padding, fft: fftFactory, known })
    .map((s, i) => ({ ...s, score: { value: kept[i]!.score, reason: kept[i]!.reason } }));
  let peakDb = -120;
  for (const v of A.broadband) peakDb = Math.max(peakDb, v);
  return { segments, noiseFloorDb: percentile(A.broadband, 10), peakDb };
}



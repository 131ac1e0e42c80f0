import { TosiaError } from '../errors.js';
import { assembleSegments } from './assemble.js';
import type { SegmentFeatures } from './descriptors.js';
import { energyEnvelope, percentile, type Envelope } from './envelope.js';
import { SEGMENT_DEFAULTS, type SegmentOptions } from './options.js';

export interface Segment {
  /** Start, in s, padding included. */
  start: number;
  /** End, in s, padding included. */
  end: number;
  /** Time of the envelope's maximum, in s. */
  peak: number;
  features: SegmentFeatures;
}

export interface Segmentation {
  segments: Segment[];
  /** Estimated noise floor of the recording, in dBFS. */
  noiseFloorDb: number;
  /** Loudest envelope value, in dBFS. */
  peakDb: number;
}

function checkOptions(o: SegmentOptions): void {
  const fail = (key: string, rule: string) => {
    throw new TosiaError('E_CONFIG', `${key}=${(o as unknown as Record<string, unknown>)[key]} must be ${rule}`, { stage: 'segment' });
  };
  if (!(o.frameLength > 0)) fail('frameLength', '> 0');
  if (!(o.hopLength > 0 && o.hopLength <= o.frameLength)) fail('hopLength', `> 0 and <= frameLength (${o.frameLength})`);
  if (!(o.smoothing >= 0)) fail('smoothing', '>= 0');
  if (!(o.noisePercentile >= 0 && o.noisePercentile <= 100)) fail('noisePercentile', 'in 0..100');
  if (!(o.lowDb >= 0)) fail('lowDb', '>= 0');
  if (!(o.highDb > o.lowDb)) fail('highDb', `> lowDb (${o.lowDb})`);
  if (!(o.maxBelowPeakDb > 0)) fail('maxBelowPeakDb', '> 0');
  if (!(o.hangover >= 0)) fail('hangover', '>= 0');
  if (!(o.minLength >= 0)) fail('minLength', '>= 0');
  if (!(o.maxLength > 2 * o.minLength)) fail('maxLength', `> 2 × minLength (${2 * o.minLength})`);
  if (!(o.padding >= 0)) fail('padding', '>= 0');
}

interface Span { a: number; b: number } // frame indices, [a, b)

/** Split [a, b) at the deepest envelope dip until no part is longer than maxFrames. */
function splitLong(span: Span, env: Float64Array, maxFrames: number, minFrames: number, out: Span[]): void {
  const len = span.b - span.a;
  if (len <= maxFrames) { out.push(span); return; }
  const lo = span.a + Math.max(1, minFrames);
  const hi = span.b - Math.max(1, minFrames);
  let cut = -1;
  for (let f = lo; f < hi; f++) if (cut < 0 || env[f]! < env[cut]!) cut = f;
  if (cut < 0) { out.push(span); return; }
  splitLong({ a: span.a, b: cut }, env, maxFrames, minFrames, out);
  splitLong({ a: cut, b: span.b }, env, maxFrames, minFrames, out);
}

/**
 * Find coughs with a hysteresis comparator on a smoothed short-time energy envelope.
 * The noise floor is a low percentile of the envelope (never below `floorDb`); a cough starts
 * where the envelope crosses floor + highDb (extended back to where it first rose above
 * floor + lowDb) and ends once it has stayed below floor + lowDb for `hangover`.
 */
export function segmentCoughs(samples: Float32Array, sampleRate: number, options: Partial<SegmentOptions> = {}): Segmentation {
  const o = { ...SEGMENT_DEFAULTS, ...options };
  checkOptions(o);
  if (!(sampleRate > 0)) throw new TosiaError('E_CONFIG', `sampleRate=${sampleRate} must be > 0`, { stage: 'segment' });
  const frame = Math.max(1, Math.round(o.frameLength * sampleRate));
  const hop = Math.max(1, Math.round(o.hopLength * sampleRate));
  const env: Envelope = energyEnvelope(samples, frame, hop, Math.max(1, Math.round(o.smoothing / o.hopLength)));
  const db = env.db;
  if (db.length === 0) return { segments: [], noiseFloorDb: -120, peakDb: -120 };
  const floor = Math.max(o.floorDb, percentile(db, o.noisePercentile));
  let peakDb = -Infinity;
  for (const v of db) peakDb = Math.max(peakDb, v);
  const high = floor + o.highDb;
  const low = floor + o.lowDb;
  const hangFrames = Math.round(o.hangover / o.hopLength);

  const raw: Span[] = [];
  let active = false, start = 0, below = 0, lastAbove = 0;
  for (let f = 0; f < db.length; f++) {
    const v = db[f]!;
    if (!active) {
      if (v > high) {
        active = true;
        start = f;
        while (start > 0 && db[start - 1]! > low && (raw.length === 0 || start - 1 >= raw[raw.length - 1]!.b)) start--;
        below = 0;
        lastAbove = f;
      }
    } else if (v < low) {
      below++;
      if (below > hangFrames) { raw.push({ a: start, b: lastAbove + 1 }); active = false; }
    } else {
      below = 0;
      lastAbove = f;
    }
  }
  if (active) raw.push({ a: start, b: lastAbove + 1 });

  const hopS = hop / sampleRate;
  const frameS = frame / sampleRate;
  const maxFrames = Math.max(1, Math.floor((o.maxLength - frameS) / hopS) + 1);
  const minFrames = Math.max(1, Math.ceil((o.minLength - frameS) / hopS) + 1);
  const spans: Span[] = [];
  for (const s of raw) splitLong(s, db, maxFrames, minFrames, spans);

  let loudest = -Infinity;
  const kept: { span: Span; peakFrame: number }[] = [];
  for (const span of spans) {
    let pk = span.a;
    for (let f = span.a; f < span.b; f++) if (db[f]! > db[pk]!) pk = f;
    const dur = (span.b - span.a - 1) * hopS + frameS;
    if (dur + 1e-9 < o.minLength) continue;
    kept.push({ span, peakFrame: pk });
    loudest = Math.max(loudest, db[pk]!);
  }
  const accepted = kept.filter((k) => db[k.peakFrame]! >= loudest - o.maxBelowPeakDb);

  const segments = assembleSegments(accepted.map((k) => ({ a: k.span.a, b: k.span.b, peak: k.peakFrame })), {
    samples, sampleRate, hopS, frameS, padding: o.padding,
  });
  return { segments, noiseFloorDb: floor, peakDb };
}

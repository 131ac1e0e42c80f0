import { TosiaError } from '../errors.js';
import { assembleSegments } from './assemble.js';
import { hysteresis, splitLong } from './core.js';
import { energyEnvelope, percentile, type Envelope } from './envelope.js';
import { SEGMENT_DEFAULTS, type SegmentOptions } from './options.js';
import type { Segmentation, Span } from './types.js';

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

  const raw = hysteresis(db, high, low, hangFrames);

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

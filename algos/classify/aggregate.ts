import { TosiaError } from '../errors.js';

export type AggregateMethod = 'mean' | 'max' | 'vote' | 'topk_mean';
export const AGGREGATE_METHODS: readonly AggregateMethod[] = ['mean', 'max', 'vote', 'topk_mean'];

export interface AggregateOptions {
  /** How per-segment probabilities become one per recording. Default 'mean'. */
  method: AggregateMethod;
  /** Segments averaged by 'topk_mean' (>= 1). Default 3. */
  topK: number;
  /** The positive label: a recording is positive when its score for it is >= threshold. */
  positiveLabel: string;
  /** Decision threshold on the positive label's score, in [0, 1]. Default 0.5. */
  threshold: number;
}

export interface Diagnosis {
  label: string;
  /** The recording's score for the positive label. */
  score: number;
  probabilities: Record<string, number>;
  n_segments: number;
}

/**
 * Aggregate per-segment probabilities (rows of `labels.length`) into a recording diagnosis.
 * - mean: average of each label over segments.
 * - max: maximum of each label over segments (then renormalised to sum to 1 when they are a distribution).
 * - vote: the fraction of segments whose own argmax is each label.
 * - topk_mean: per label, the mean of the k highest segment probabilities.
 * The label is `positiveLabel` when its score reaches `threshold`, otherwise the most probable other label.
 */
export function aggregate(probs: ArrayLike<number>, labels: readonly string[], options: AggregateOptions): Diagnosis {
  const nl = labels.length;
  const ns = nl === 0 ? 0 : probs.length / nl;
  if (!Number.isInteger(ns)) throw new TosiaError('E_INTERNAL', `${probs.length} probabilities do not split into rows of ${nl}`, { stage: 'classify' });
  const pos = labels.indexOf(options.positiveLabel);
  if (pos < 0) throw new TosiaError('E_CONFIG', `positive label '${options.positiveLabel}' is not among the model's labels (${labels.join(', ')})`, { stage: 'classify' });
  if (!(options.threshold >= 0 && options.threshold <= 1)) throw new TosiaError('E_CONFIG', `threshold=${options.threshold} must be in [0, 1]`, { stage: 'classify' });
  const agg = new Float64Array(nl);
  if (ns > 0) {
    switch (options.method) {
      case 'mean':
        for (let s = 0; s < ns; s++) for (let c = 0; c < nl; c++) agg[c]! += probs[s * nl + c]! / ns;
        break;
      case 'max':
        agg.fill(-Infinity);
        for (let s = 0; s < ns; s++) for (let c = 0; c < nl; c++) agg[c] = Math.max(agg[c]!, probs[s * nl + c]!);
        break;
      case 'vote':
        for (let s = 0; s < ns; s++) {
          let best = 0;
          for (let c = 1; c < nl; c++) if (probs[s * nl + c]! > probs[s * nl + best]!) best = c;
          agg[best]! += 1 / ns;
        }
        break;
      case 'topk_mean': {
        if (!(Number.isInteger(options.topK) && options.topK >= 1)) throw new TosiaError('E_CONFIG', `top_k=${options.topK} must be an integer >= 1`, { stage: 'classify' });
        const k = Math.min(options.topK, ns);
        const col = new Float64Array(ns);
        for (let c = 0; c < nl; c++) {
          for (let s = 0; s < ns; s++) col[s] = probs[s * nl + c]!;
          col.sort();
          let sum = 0;
          for (let i = ns - k; i < ns; i++) sum += col[i]!;
          agg[c] = sum / k;
        }
        break;
      }
      default:
        throw new TosiaError('E_CONFIG', `aggregate='${String(options.method)}' must be one of ${AGGREGATE_METHODS.join(', ')}`, { stage: 'classify' });
    }
  }
  const probabilities: Record<string, number> = {};
  labels.forEach((l, c) => { probabilities[l] = agg[c]!; });
  const score = agg[pos]!;
  let label = options.positiveLabel;
  if (!(score >= options.threshold)) {
    let best = -1;
    for (let c = 0; c < nl; c++) if (c !== pos && (best < 0 || agg[c]! > agg[best]!)) best = c;
    label = best >= 0 ? labels[best]! : `not_${options.positiveLabel}`;
  }
  return { label, score, probabilities, n_segments: ns };
}

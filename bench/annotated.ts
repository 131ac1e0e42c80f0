/**
 * The hand-annotated covid19-cough recordings (../shared/data/covid19-cough/annotations) as the
 * segmentation work uses them: decoded at the pipeline's rate, with their events, and split in
 * two halves. `dev` is what the segmenter and its score were tuned and fitted on; `test` is
 * held out and only reported. The split alternates recordings of each source in the order of
 * coughs.json; byte-identical recordings (same sha256) always fall in the same half.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TimeSpan } from '../algos/events/match.js';
import { defaultConfig } from '../runtime/config/schema.js';
import { decodeStage } from '../runtime/pipeline/stages.js';

export interface AnnotatedRecording {
  file: string;
  source: string;
  part: 'dev' | 'test';
  sha256: string;
  samples: Float32Array;
  sampleRate: number;
  events: (TimeSpan & { confidence: 'high' | 'low' })[];
}

/** The annotated set under `dataDir` (the covid19-cough folder), or null when it is absent. */
export async function loadAnnotated(dataDir: string): Promise<AnnotatedRecording[] | null> {
  const annFile = join(dataDir, 'annotations/coughs.json');
  if (!existsSync(annFile)) return null;
  const ann = JSON.parse(readFileSync(annFile, 'utf8')) as Record<string, { events: AnnotatedRecording['events'] }>;
  const meta = new Map((JSON.parse(readFileSync(join(dataDir, 'metadata.json'), 'utf8')) as { filename: string; source: string }[]).map((m) => [m.filename, m.source]));
  const cfg = defaultConfig();
  const out: AnnotatedRecording[] = [];
  const groupPart = new Map<string, 'dev' | 'test'>();
  const count = new Map<string, number>();
  for (const [file, rec] of Object.entries(ann)) {
    const path = join(dataDir, 'raw', file);
    const sha256 = createHash('sha256').update(readFileSync(path)).digest('hex');
    const source = meta.get(file) ?? 'unknown';
    let part = groupPart.get(sha256);
    if (!part) {
      const k = count.get(source) ?? 0;
      count.set(source, k + 1);
      part = k % 2 === 0 ? 'dev' : 'test';
      groupPart.set(sha256, part);
    }
    const audio = await decodeStage(path, cfg);
    out.push({ file, source, part, sha256, samples: audio.samples, sampleRate: audio.sampleRate, events: rec.events });
  }
  return out;
}

/**
 * Which candidates open an annotated cough: an annotated start lies between the candidate's
 * first frame and its onset (the flux peak), give or take `tolerance` s, one to one, nearest
 * onset first. (Onsets are annotated to about 20 ms; a gradual rise peaks in flux late.)
 */
export function onsetLabels(candidates: readonly { first: number; onset: number }[], truth: readonly TimeSpan[], tolerance = 0.08): boolean[] {
  const pairs: [number, number, number][] = [];
  candidates.forEach((c, i) => truth.forEach((e, j) => {
    if (e.start >= Math.min(c.first, c.onset) - tolerance && e.start <= c.onset + tolerance) pairs.push([Math.abs(e.start - c.onset), i, j]);
  }));
  pairs.sort((x, y) => x[0] - y[0]);
  const pos = candidates.map(() => false), used = new Set<number>();
  for (const [, i, j] of pairs) if (!pos[i] && !used.has(j)) { pos[i] = true; used.add(j); }
  return pos;
}

/** A candidate's first frame and onset frame centre, in s, for onsetLabels. */
export const candidateTimes = (c: { a: number; onsetFrame: number }, a: { hopS: number; frameS: number }) => ({ first: c.a * a.hopS + a.frameS / 2, onset: c.onsetFrame * a.hopS + a.frameS / 2 });

/** ROC AUC of `scores` for `labels` (ties count half). */
export function rocAuc(scores: readonly number[], labels: readonly boolean[]): number {
  const idx = scores.map((s, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  let rankSum = 0, nPos = 0;
  for (let k = 0; k < idx.length;) {
    let e = k;
    while (e + 1 < idx.length && scores[idx[e + 1]!] === scores[idx[k]!]) e++;
    const rank = (k + e) / 2 + 1;
    for (let q = k; q <= e; q++) if (labels[idx[q]!]) { rankSum += rank; nPos++; }
    k = e + 1;
  }
  const nNeg = scores.length - nPos;
  return nPos && nNeg ? (rankSum - (nPos * (nPos + 1)) / 2) / (nPos * nNeg) : NaN;
}

import { rng, type Background, type Distractor, type RecordingSpec } from './synth.js';

export interface EvalSpec extends RecordingSpec {
  name: string;
  group: { snr: number; distractor: Distractor | 'babble'; level: 'normal' | 'quiet' | 'clipped'; band: 'full' | 'telephone'; coughFree: boolean };
}

/**
 * The harder segmentation evaluation set, deterministic: bouts of 2-6 coughs 50-150 ms apart at
 * SNRs 0-30 dB, with each distractor (babble, clicks, bangs, hum), quiet and clipped levels, in
 * the 8 kHz telephone band and in full band (16 kHz); plus 30 s cough-free recordings of each
 * distractor and of silence, for false segments per minute. `scale` repeats it with new seeds.
 * `seeds` draws another set of the same design (the segmenter's score is fitted on one drawn
 * with TRAINING_SEEDS, never on the evaluation set's own recordings).
 */
/** The evaluation set's seeds, and those of the disjoint training draw. */
export const EVAL_SEEDS = Object.freeze({ rng: 4242, first: 1000 });
export const TRAINING_SEEDS = Object.freeze({ rng: 9191, first: 500000 });

export function evalSet(scale = 1, seeds: { rng: number; first: number } = EVAL_SEEDS): EvalSpec[] {
  const out: EvalSpec[] = [];
  const r = rng(seeds.rng);
  const distractors = ['none', 'babble', 'clicks', 'bangs', 'hum'] as const;
  const levels = ['normal', 'quiet', 'clipped'] as const;
  let seed = seeds.first;
  for (let rep = 0; rep < scale; rep++) {
    for (const snr of [0, 5, 10, 15, 20, 25, 30]) {
      for (const d of distractors) {
        for (const band of ['full', 'telephone'] as const) {
          const boutSize = 2 + Math.floor(r() * 5);
          const level = levels[seed % 3]!;
          const background: Background = d === 'babble' ? 'babble' : r() < 0.5 ? 'white' : 'pink';
          out.push({
            name: `eval-${seed}_coughs-${2 * boutSize}_bout-${boutSize}_snr-${snr}_${d}_${level}_${band}`,
            seed: seed++, sampleRate: band === 'telephone' ? 8000 : 16000, duration: 4 + 0.4 * 2 * boutSize,
            coughs: 2 * boutSize, boutSize, boutGap: 0.05 + 0.1 * r(), voiced: r() < 0.3, background, snrDb: snr,
            distractor: d === 'babble' ? 'none' : d, level, band,
            group: { snr, distractor: d, level, band, coughFree: false },
          });
        }
      }
    }
    for (const d of ['babble', 'hum', 'clicks', 'bangs', 'silence'] as const) {
      for (const band of ['full', 'telephone'] as const) {
        out.push({
          name: `eval-${seed}_coughs-0_${d}_${band}`,
          seed: seed++, sampleRate: band === 'telephone' ? 8000 : 16000, duration: 30, coughs: 0, boutGap: null, voiced: false,
          background: d === 'babble' ? 'babble' : d === 'silence' ? 'silence' : 'white', snrDb: d === 'silence' ? 0 : 40,
          distractor: d === 'hum' || d === 'clicks' || d === 'bangs' ? d : 'none', level: 'normal', band,
          group: { snr: 0, distractor: d === 'silence' ? 'none' : d, level: 'normal', band, coughFree: true },
        });
      }
    }
  }
  return out;
}

/**
 * Indices into evalSet(1) of the recordings committed under samples/eval: a 0 dB and a 5 dB
 * bout, and one of each distractor, in both bands and all three levels.
 */
export const EVAL_COMMITTED = [1, 11, 22, 35, 46, 54, 68, 69];

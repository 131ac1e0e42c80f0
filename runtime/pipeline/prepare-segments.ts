import type { RgbImage } from '../../algos/color/colorize.js';
import type { RealFftFactory } from '../../algos/fft/kernel.js';
import type { Segment } from '../../algos/segment/types.js';
import type { Config } from '../config/schema.js';
import type { DecodedAudio } from '../decode/decode.js';
import type { Engine } from '../engine/engine.js';
import { colourStage, melStage } from './stages.js';

export interface PreparedSegment {
  segment: Segment;
  /** The model-input image, colour_spec.width × height. */
  image: RgbImage;
}

/**
 * The per-segment front end shared by `execute` and `tosia extract`, so that training sees
 * exactly what inference sees: mel spectrogram in dB, colour map, resize.
 */
export function prepareSegments(
  audio: DecodedAudio,
  segments: Segment[],
  cfg: Config,
  timings: { mel: number; colour: number },
  fft?: RealFftFactory,
  engine?: Engine,
): PreparedSegment[] {
  let t = performance.now();
  const specs = segments.map((segment) => {
    const a = Math.max(0, Math.round(segment.start * audio.sampleRate));
    const b = Math.min(audio.samples.length, Math.round(segment.end * audio.sampleRate));
    return melStage(audio.samples, a, b, cfg, fft, engine);
  });
  timings.mel += performance.now() - t;
  t = performance.now();
  const images = specs.map((spec) => colourStage(spec, cfg).image);
  timings.colour += performance.now() - t;
  return segments.map((segment, i) => ({ segment, image: images[i]! }));
}

import { resolveMelOptions, type MelSpectrogram } from '../../algos/melspec/melspectrogram.js';
import type { MelOptions } from '../../algos/melspec/options.js';
import { defaultEngine, type Engine } from '../engine/engine.js';
import { loadPffftSync } from './pffft.js';

/**
 * librosa.feature.melspectrogram, on the fast path by default: the plan (window, filter bank,
 * FFT tables) is built once per option set and kept by the engine, and the FFT is PFFFT's WASM
 * SIMD kernel. Same options and output as `tosia/algos`' melSpectrogram, which stays pure and
 * runs the TypeScript FFT unless given a faster one.
 */
export function melSpectrogram(samples: ArrayLike<number>, options: Partial<MelOptions> = {}, engine: Engine = defaultEngine()): MelSpectrogram {
  return engine.melPlan(resolveMelOptions(options), loadPffftSync()).run(samples);
}

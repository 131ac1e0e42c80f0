/**
 * tosia/algos: the pure algorithms. Typed arrays and plain objects in and out; no I/O, no
 * environment, no global state. Importing this module has no side effects.
 */
export * from './melspec/index.js';
export * from './segment/index.js';
export { colorize, COLORIZE_DEFAULTS, type ColorizeOptions, type RgbImage } from './color/colorize.js';
export { resizeRgb, resizePlanes, type ResizeKernel } from './color/resize.js';
export { colormapLut, COLORMAP_NAMES, type ColormapName } from './color/colormaps.js';
export { imagesToTensor, type Normalisation, type Layout } from './classify/tensor.js';
export { softmax, sigmoid } from './classify/activation.js';
export { aggregate, AGGREGATE_METHODS, type AggregateMethod, type AggregateOptions, type Diagnosis } from './classify/aggregate.js';
export { downmix, downmixPlanar } from './audio/downmix.js';
export { matchEvents, MATCH_DEFAULTS, type MatchOptions, type MatchResult, type TimeSpan } from './events/match.js';
export { RealFFT, ComplexFFT } from './fft/fft.js';
export { TsRealFftKernel, makeKernel, type RealFftKernel, type RealFftFactory } from './fft/kernel.js';
export { TosiaError, isTosiaError, ERROR_CODES, type ErrorCode, type TosiaErrorDetails } from './errors.js';
export { Resampler, resample, RESAMPLE_DEFAULTS, type ResampleOptions } from './audio/resample.js';

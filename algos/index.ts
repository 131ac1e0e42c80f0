/**
 * tosia/algos: the pure algorithms. Typed arrays and plain objects in and out; no I/O, no
 * environment, no global state. Importing this module has no side effects.
 */
export * from './melspec/index.js';
export { RealFFT, ComplexFFT } from './fft/fft.js';
export { TosiaError, isTosiaError, ERROR_CODES, type ErrorCode, type TosiaErrorDetails } from './errors.js';

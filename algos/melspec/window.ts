/**
 * The periodic Hann window of `winLength`, zero-padded to `nFft` and centred, as librosa's
 * `get_window('hann', win_length, fftbins=True)` followed by `pad_center(..., size=n_fft)`.
 */
export function hannWindow(winLength: number, nFft: number = winLength): Float64Array {
  const out = new Float64Array(nFft);
  const offset = Math.floor((nFft - winLength) / 2);
  for (let n = 0; n < winLength; n++) out[offset + n] = 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / winLength);
  return out;
}

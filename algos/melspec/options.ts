/** Options of the mel spectrogram, with librosa 0.11 semantics and camelCase names. */
export interface MelOptions {
  /** Sample rate of the input, in Hz (> 0). librosa: sr. Default 22050. */
  sampleRate: number;
  /** FFT size, in samples (>= 16; powers of two are fastest). librosa: n_fft. Default 2048. */
  nFft: number;
  /** Hop between frames, in samples (> 0). librosa: hop_length. Default nFft / 4. */
  hopLength: number;
  /** Window length, in samples (1..nFft); the window is zero-padded to nFft, centred. librosa: win_length. Default nFft. */
  winLength: number;
  /** Window function. Only the periodic Hann window ('hann') is supported. librosa: window. Default 'hann'. */
  window: 'hann';
  /** Pad the signal by nFft/2 on both sides so frame t is centred at t * hopLength. librosa: center. Default true. */
  center: boolean;
  /** How `center` pads: 'constant' (zeros) or 'reflect' (mirror, edge excluded). librosa: pad_mode. Default 'constant'. */
  padMode: 'constant' | 'reflect';
  /** Exponent of the magnitude: 1 for amplitude, 2 for power (> 0). librosa: power. Default 2. */
  power: number;
  /** Number of mel bands (>= 1). librosa: n_mels. Default 128. */
  nMels: number;
  /** Lowest band edge, in Hz (>= 0). librosa: fmin. Default 0. */
  fmin: number;
  /** Highest band edge, in Hz (<= sampleRate / 2); null means sampleRate / 2. librosa: fmax. Default null. */
  fmax: number | null;
  /** Use the HTK mel formula instead of Slaney's. librosa: htk. Default false. */
  htk: boolean;
  /** Filter normalisation: 'slaney' (unit area per band) or null (peak 1). librosa: norm. Default 'slaney'. */
  norm: 'slaney' | null;
}

export const MEL_DEFAULTS: Readonly<Omit<MelOptions, 'hopLength' | 'winLength'>> = Object.freeze({
  sampleRate: 22050,
  nFft: 2048,
  window: 'hann',
  center: true,
  padMode: 'constant',
  power: 2,
  nMels: 128,
  fmin: 0,
  fmax: null,
  htk: false,
  norm: 'slaney',
});

export type FilterBankOptions = Pick<MelOptions, 'sampleRate' | 'nFft' | 'nMels' | 'fmin' | 'fmax' | 'htk' | 'norm'>;

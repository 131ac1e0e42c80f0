/**
 * The single source of truth for config.yml: every key's type, default, range and one-line doc.
 * Validation, `tosia config`, the CLI override flags and the TypeScript `Config` type all derive
 * from this table.
 */

/**
 * What a field is to a result's identity:
 * - analysis: it can change a result, so it is part of `config_sha256` (every field is, unless
 *   tagged otherwise; a new field cannot be left out by mistake);
 * - limit: it decides whether an input is accepted at all (size, duration, time), not what its
 *   result is; a failure it caused is retried when it changes;
 * - deployment: where and how the work runs (paths, device, artifacts asked for).
 */
export type FieldRole = 'analysis' | 'limit' | 'deployment';

interface Base<T> { readonly default: T; readonly doc: string; readonly nullable?: boolean; readonly role: FieldRole }
export interface NumberField extends Base<number | null> {
  readonly kind: 'number' | 'integer';
  readonly min?: number;
  readonly max?: number;
  /** min is exclusive (value must be > min). */
  readonly minExclusive?: boolean;
  readonly unit?: string;
}
export interface BooleanField extends Base<boolean> { readonly kind: 'boolean' }
export interface StringField extends Base<string | null> { readonly kind: 'string' }
export interface EnumField extends Base<string | null> { readonly kind: 'enum'; readonly values: readonly string[] }
/** Several of `values` at once: a YAML list, or the same comma-separated (`audacity,raven`). */
export interface SetField extends Base<readonly string[] | null> { readonly kind: 'set'; readonly values: readonly string[] }
export type Field = NumberField | BooleanField | StringField | EnumField | SetField;

const num = <const F extends Omit<NumberField, 'kind'>>(f: F) => ({ kind: 'number', ...f }) as const;
const int = <const F extends Omit<NumberField, 'kind'>>(f: F) => ({ kind: 'integer', ...f }) as const;
const bool = <const F extends Omit<BooleanField, 'kind'>>(f: F) => ({ kind: 'boolean', ...f }) as const;
const str = <const F extends Omit<StringField, 'kind'>>(f: F) => ({ kind: 'string', ...f }) as const;
const oneOf = <const F extends Omit<EnumField, 'kind'>>(f: F) => ({ kind: 'enum', ...f }) as const;
const someOf = <const F extends Omit<SetField, 'kind'>>(f: F) => ({ kind: 'set', ...f }) as const;

export const SCHEMA = {
  audio: {
    sample_rate: int({ role: 'analysis', default: 8000, min: 4000, max: 192000, unit: 'Hz', doc: 'Rate every recording is resampled to before analysis (librosa: sr). 8000 band-limits all sources to 4 kHz, like a phone line.' }),
    decoder: oneOf({ role: 'analysis', default: 'auto', values: ['auto', 'native', 'ffmpeg'], doc: 'auto decodes wav, mp3, ogg/vorbis, opus and flac in-process and the rest (or any file that fails there) with ffmpeg; native or ffmpeg force one path.' }),
    ffmpeg_path: str({ role: 'deployment', default: null, nullable: true, doc: 'Explicit ffmpeg binary; null resolves ffmpeg-static, then @ffmpeg-installer/ffmpeg, then ffmpeg on PATH.' }),
    decode_timeout_s: num({ role: 'limit', default: 120, min: 0, minExclusive: true, unit: 's', doc: 'ffmpeg is killed and the file reported as E_DECODE after this long.' }),
    max_duration_s: num({ role: 'limit', default: 7200, min: 0, minExclusive: true, unit: 's', doc: 'Recordings longer than this are rejected with E_INPUT instead of exhausting memory.' }),
    on_damage: oneOf({ role: 'limit', default: 'warn', values: ['warn', 'error'], doc: 'A truncated or corrupt recording (checked in every in-process format: Ogg page CRCs, FLAC frame CRCs, MP3 frame sync and declared length, WAV data length): warn runs what is intact and flags it (quality flags truncated and corrupt); error fails it with E_DECODE.' }),
    max_file_size_mb: num({ role: 'limit', default: 2048, min: 0, minExclusive: true, unit: 'MB', doc: 'Files larger than this are rejected with E_INPUT before decoding.' }),
  },
  segmentation: {
    method: oneOf({ role: 'analysis', default: 'onset', values: ['onset', 'adaptive', 'hysteresis'], doc: "onset: one event per explosive broadband onset, its voiced tail kept inside, each event scored and non-coughs (speech, breaths, clicks, tails) rejected, measured best on hand-annotated real recordings; adaptive (hysteresis on the excess over per-band noise floors with valley splitting) and hysteresis (the original comparator on the broadband energy envelope) are kept to reproduce earlier results, with a warning in each result." }),
    frame_length_s: num({ role: 'analysis', default: 0.025, min: 0, minExclusive: true, max: 1, unit: 's', doc: 'Analysis frame of the energy envelope (hysteresis; adaptive uses about 32 ms).' }),
    hop_length_s: num({ role: 'analysis', default: 0.01, min: 0, minExclusive: true, max: 1, unit: 's', doc: 'Hop between envelope frames (<= frame_length_s).' }),
    smoothing_s: num({ role: 'analysis', default: 0.03, min: 0, max: 1, unit: 's', doc: 'Moving-average smoothing of the envelope.' }),
    noise_percentile: num({ role: 'analysis', default: 10, min: 0, max: 100, doc: 'Percentile of the envelope taken as the noise floor (hysteresis).' }),
    floor_db: num({ role: 'analysis', default: -75, min: -160, max: 0, unit: 'dBFS', doc: 'Lowest noise floor assumed; quieter frames count as digital silence (hysteresis).' }),
    high_db: num({ role: 'analysis', default: 12, min: 0, minExclusive: true, max: 100, unit: 'dB', doc: 'A cough starts when the envelope rises this far above the noise floor, > low_db (hysteresis).' }),
    low_db: num({ role: 'analysis', default: 6, min: 0, max: 100, unit: 'dB', doc: 'A cough ends when the envelope stays below this level above the floor (hysteresis).' }),
    fmin_hz: num({ role: 'analysis', default: 250, min: 0, unit: 'Hz', doc: 'Lowest frequency analysed; mains hum below is ignored (adaptive).' }),
    fmax_hz: num({ role: 'analysis', default: 3800, min: 0, minExclusive: true, unit: 'Hz', doc: 'Highest frequency analysed, capped below sample_rate/2 (adaptive).' }),
    bands: int({ role: 'analysis', default: 16, min: 4, max: 128, doc: 'Log-spaced bands between fmin_hz and fmax_hz, each with its own noise floor (adaptive).' }),
    band_floor_percentile: num({ role: 'analysis', default: 20, min: 0, max: 100, doc: "Percentile of a band's level over the recording taken as its noise floor (adaptive)." }),
    excess_high_db: num({ role: 'analysis', default: 6, min: 0, minExclusive: true, max: 100, unit: 'dB', doc: 'A cough starts when the mean band excess over the floors exceeds this, > excess_low_db (adaptive).' }),
    excess_low_db: num({ role: 'analysis', default: 3, min: 0, max: 100, unit: 'dB', doc: 'A cough ends when the mean band excess stays below this (adaptive).' }),
    onset_flux_db: num({ role: 'analysis', default: 4, min: 0, minExclusive: true, max: 100, unit: 'dB', doc: 'A frame is an onset candidate where the spectral flux of the band excess peaks at or above this (onset).' }),
    onset_high_db: num({ role: 'analysis', default: 6, min: 0, max: 100, unit: 'dB', doc: "Within tail_s of a cough's onset, only an onset with this much flux above 1.5 kHz starts another cough (onset)." }),
    bout_dip_db: num({ role: 'analysis', default: 3, min: 0, max: 100, unit: 'dB', doc: 'A later onset in one sound starts a new cough of a bout after a dip this deep below the peaks around it (onset).' }),
    tail_s: num({ role: 'analysis', default: 0.4, min: 0, max: 5, unit: 's', doc: "How long after a cough's onset a voiced or noisy packet without a broadband onset counts as its tail (onset)." }),
    split_db: num({ role: 'analysis', default: 8, min: 0, minExclusive: true, max: 100, unit: 'dB', doc: 'A valley this far below the peaks on both sides splits a segment: the next cough of a bout (adaptive).' }),
    reject_below_score: num({ role: 'analysis', default: null, nullable: true, min: 0, max: 1, doc: "Candidates scoring below this are not reported: onset joins a low-scoring tail to its cough and drops the rest (its score is a probability: 0.5 is its decision boundary); adaptive drops segments below this cough-likeness. null: the method's own default (onset 0.5, adaptive 0.3); 0 keeps all." }),
    max_below_peak_db: num({ role: 'analysis', default: 40, min: 0, minExclusive: true, max: 160, unit: 'dB', doc: 'Segments whose peak is further than this below the loudest are ignored.' }),
    hangover_s: num({ role: 'analysis', default: 0.04, min: 0, max: 2, unit: 's', doc: 'How long the envelope must stay below low_db before a cough ends.' }),
    min_length_s: num({ role: 'analysis', default: 0.08, min: 0, max: 10, unit: 's', doc: 'Shorter segments (before padding) are dropped.' }),
    max_length_s: num({ role: 'analysis', default: 1.0, min: 0, minExclusive: true, max: 60, unit: 's', doc: 'Longer segments are split at their deepest energy dip, > 2 × min_length_s (adaptive, hysteresis; onset keeps a long cough whole).' }),
    padding_s: num({ role: 'analysis', default: 0.05, min: 0, max: 2, unit: 's', doc: 'Added before and after each segment, never into a neighbour.' }),
  },
  mel_spec: {
    n_fft: int({ role: 'analysis', default: 512, min: 16, max: 65536, unit: 'samples', doc: 'FFT size (librosa: n_fft); powers of two are fastest.' }),
    hop_length: int({ role: 'analysis', default: 64, min: 1, max: 65536, unit: 'samples', doc: 'Hop between frames (librosa: hop_length); must be <= n_fft.' }),
    win_length: int({ role: 'analysis', default: null, nullable: true, min: 1, max: 65536, unit: 'samples', doc: 'Window length (librosa: win_length); null means n_fft.' }),
    window: oneOf({ role: 'analysis', default: 'hann', values: ['hann'], doc: 'Window function (librosa: window).' }),
    center: bool({ role: 'analysis', default: true, doc: 'Pad by n_fft/2 so frames are centred (librosa: center).' }),
    pad_mode: oneOf({ role: 'analysis', default: 'constant', values: ['constant', 'reflect'], doc: 'Padding used when center is true (librosa: pad_mode).' }),
    power: num({ role: 'analysis', default: 2, min: 0, minExclusive: true, max: 4, doc: 'Exponent of the magnitude: 1 amplitude, 2 power (librosa: power).' }),
    n_mels: int({ role: 'analysis', default: 64, min: 1, max: 1024, doc: 'Number of mel bands (librosa: n_mels).' }),
    fmin: num({ role: 'analysis', default: 0, min: 0, unit: 'Hz', doc: 'Lowest band edge (librosa: fmin).' }),
    fmax: num({ role: 'analysis', default: null, nullable: true, min: 0, minExclusive: true, unit: 'Hz', doc: 'Highest band edge, <= sample_rate/2 (librosa: fmax); null means sample_rate/2.' }),
    htk: bool({ role: 'analysis', default: false, doc: 'Use the HTK mel formula instead of Slaney (librosa: htk).' }),
    norm: oneOf({ role: 'analysis', default: 'slaney', nullable: true, values: ['slaney'], doc: "Filter normalisation, 'slaney' or null (librosa: norm)." }),
    ref: oneOf({ role: 'analysis', default: 'max', values: ['max'], doc: 'dB reference: the loudest cell of each segment is 0 dB (librosa: ref=np.max).' }),
    amin: num({ role: 'analysis', default: 1e-10, min: 0, minExclusive: true, doc: 'Floor before the log (librosa: amin).' }),
    top_db: num({ role: 'analysis', default: 80, nullable: true, min: 0, minExclusive: true, unit: 'dB', doc: 'Dynamic range kept below the peak (librosa: top_db); null keeps all.' }),
  },
  color_spec: {
    colormap: oneOf({ role: 'analysis', default: 'viridis', values: ['viridis', 'magma', 'inferno', 'plasma', 'gray', 'jet'], doc: "matplotlib colour map for the spectrogram image." }),
    scale: oneOf({ role: 'analysis', default: 'fixed', values: ['fixed', 'minmax'], doc: "dB to [0,1]: 'fixed' maps db_min..db_max, 'minmax' each image's own range." }),
    db_min: num({ role: 'analysis', default: -80, min: -300, max: 300, unit: 'dB', doc: "dB shown as the colour map's first entry (scale fixed)." }),
    db_max: num({ role: 'analysis', default: 0, min: -300, max: 300, unit: 'dB', doc: "dB shown as the colour map's last entry (scale fixed); > db_min." }),
    width: int({ role: 'analysis', default: 64, min: 1, max: 4096, unit: 'px', doc: "Image width fed to the model; must equal the model's input width." }),
    height: int({ role: 'analysis', default: 64, min: 1, max: 4096, unit: 'px', doc: "Image height fed to the model; must equal the model's input height." }),
    resize_kernel: oneOf({ role: 'analysis', default: 'linear', values: ['nearest', 'linear', 'cubic', 'mitchell', 'lanczos2', 'lanczos3'], doc: 'Kernel used to resize the spectrogram image to width × height (separable, centre-aligned, widened when shrinking).' }),
  },
  classifier: {
    model: str({ role: 'deployment', default: null, nullable: true, doc: 'ONNX model path (its manifest is the .json beside it); null uses the bundled demo model.' }),
    device: oneOf({ role: 'deployment', default: 'auto', values: ['auto', 'cpu', 'cuda', 'wasm'], doc: "Where the model runs. auto: CUDA when onnxruntime-node and its CUDA provider are installed, else the CPU. cpu: onnxruntime-node's CPU provider when it is installed, else the bundled WebAssembly engine. cuda: CUDA or an error. wasm: the bundled WebAssembly engine (onnxruntime-web)." }),
    aggregate: oneOf({ role: 'analysis', default: 'mean', values: ['mean', 'max', 'vote', 'topk_mean'], doc: 'How segment probabilities become the recording diagnosis.' }),
    top_k: int({ role: 'analysis', default: 3, min: 1, max: 1000, doc: 'Segments averaged by topk_mean.' }),
    threshold: num({ role: 'analysis', default: null, nullable: true, min: 0, max: 1, doc: "Decision threshold on the positive label's score; null uses the model's shipped threshold." }),
    min_cough_score: num({ role: 'analysis', default: 0.5, min: 0, max: 1, doc: "Segments whose cough_score is below this stay in the output, marked excluded, but do not count in the diagnosis. With the onset method cough_score is the probability that the segment is one cough (ROC AUC 0.93 on the held-out annotated recordings) and 0.5 its decision boundary, so at the defaults nothing it reports is excluded; lower segmentation.reject_below_score to see more candidates, marked. Other methods score with the descriptor-based cough-likeness." }),
    allow_config_mismatch: bool({ role: 'analysis', default: false, doc: "Run even when the preprocessing differs from the model's manifest (differences become warnings)." }),
  },
  output: {
    save_images: str({ role: 'deployment', default: null, nullable: true, doc: 'Folder where each segment image is written as PNG; null writes none.' }),
    labels: someOf({ role: 'deployment', default: null, nullable: true, values: ['audacity', 'raven'], doc: "Also write each recording's segments as label tracks, into a batch's output tree beside its result: 'audacity' (<name>.labels.txt: start, end, label and probability), 'raven' (<name>.selections.txt: a Raven selection table, as BirdNET-Analyzer writes), or both (audacity,raven)." }),
  },
} as const;

export type Schema = typeof SCHEMA;
export type SectionName = keyof Schema;

type Widen<F> = F extends { kind: 'number' | 'integer' } ? number
  : F extends { kind: 'boolean' } ? boolean
  : F extends { kind: 'enum'; values: readonly (infer V)[] } ? V
  : F extends { kind: 'set'; values: readonly (infer V)[] } ? V[]
  : string;
type ValueOf<F> = F extends { nullable: true } ? Widen<F> | null : Widen<F>;

/** The validated, complete configuration (snake_case, as in config.yml). */
export type Config = { -readonly [S in SectionName]: { -readonly [K in keyof Schema[S]]: ValueOf<Schema[S][K]> } };
/** A partial configuration, as a user writes it. */
export type ConfigInput = { [S in SectionName]?: { [K in keyof Schema[S]]?: ValueOf<Schema[S][K]> } };

export function sections(): SectionName[] {
  return Object.keys(SCHEMA) as SectionName[];
}

export function fieldsOf(section: SectionName): [string, Field][] {
  return Object.entries(SCHEMA[section]) as [string, Field][];
}

export function defaultConfig(): Config {
  const out: Record<string, Record<string, unknown>> = {};
  for (const s of sections()) {
    out[s] = {};
    for (const [k, f] of fieldsOf(s)) out[s]![k] = f.default;
  }
  return out as Config;
}

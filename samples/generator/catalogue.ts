import type { RecordingSpec } from './synth.js';

export interface SampleSpec extends RecordingSpec {
  /** File name without extension; it states the ground truth (cough count, SNR, rate). */
  name: string;
  /** Container and codec: ogg holds Opus, oga holds Vorbis. */
  format: 'wav' | 'mp3' | 'ogg' | 'oga' | 'flac';
  /** Channels written (the same signal in each). */
  channels: number;
}

/** The bundled samples: every format at 8, 16 and 48 kHz, bouts, SNRs and backgrounds. */
export const SAMPLES: SampleSpec[] = [
  { name: 'coughs-3_snr-25db_white_16k', format: 'wav', channels: 1, seed: 1, sampleRate: 16000, duration: 3.5, coughs: 3, boutGap: null, voiced: false, background: 'white', snrDb: 25 },
  { name: 'coughs-4-bout_snr-20db_pink_48k', format: 'mp3', channels: 2, seed: 2, sampleRate: 48000, duration: 3.0, coughs: 4, boutGap: 0.12, voiced: false, background: 'pink', snrDb: 20 },
  { name: 'coughs-2-voiced_snr-20db_babble_8k', format: 'ogg', channels: 1, seed: 3, sampleRate: 8000, duration: 3.0, coughs: 2, boutGap: null, voiced: true, background: 'babble', snrDb: 20 },
  { name: 'coughs-3-bout_snr-15db_white_8k', format: 'mp3', channels: 1, seed: 4, sampleRate: 8000, duration: 3.0, coughs: 3, boutGap: 0.15, voiced: false, background: 'white', snrDb: 15 },
  { name: 'coughs-2_snr-30db_pink_48k', format: 'ogg', channels: 1, seed: 5, sampleRate: 48000, duration: 2.5, coughs: 2, boutGap: null, voiced: true, background: 'pink', snrDb: 30 },
  { name: 'coughs-1_snr-20db_pink_8k', format: 'wav', channels: 1, seed: 6, sampleRate: 8000, duration: 2.0, coughs: 1, boutGap: null, voiced: false, background: 'pink', snrDb: 20 },
  { name: 'coughs-2_snr-25db_white_22k', format: 'oga', channels: 2, seed: 8, sampleRate: 22050, duration: 2.5, coughs: 2, boutGap: null, voiced: false, background: 'white', snrDb: 25 },
  { name: 'coughs-3-bout_snr-20db_pink_44k', format: 'flac', channels: 1, seed: 9, sampleRate: 44100, duration: 3.0, coughs: 3, boutGap: 0.1, voiced: true, background: 'pink', snrDb: 20 },
  { name: 'coughs-0_white_16k', format: 'wav', channels: 1, seed: 7, sampleRate: 16000, duration: 2.0, coughs: 0, boutGap: null, voiced: false, background: 'white', snrDb: 20 },
];

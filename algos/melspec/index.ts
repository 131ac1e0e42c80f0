export { MEL_DEFAULTS, type MelOptions, type FilterBankOptions } from './options.js';
export { hzToMel, melToHz, melFrequencies } from './mel-scale.js';
export { melFilterBank, buildFilterBank, type FilterBank } from './filterbank.js';
export { hannWindow } from './window.js';
export { MelPlan, melSpectrogram, resolveMelOptions, type MelSpectrogram } from './melspectrogram.js';
export { powerToDb, amplitudeToDb, POWER_DB_DEFAULTS, AMPLITUDE_DB_DEFAULTS, type DbOptions } from './db.js';

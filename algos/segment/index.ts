export type { Segment, Segmentation } from './types.js';
export { SEGMENT_DEFAULTS, type SegmentOptions } from './options.js';
export { segmentCoughs } from './hysteresis.js';
export { segmentCoughsOnset, onsetCandidates, ONSET_DEFAULTS, type OnsetOptions, type OnsetCandidate } from './onset.js';
export { DescriptorPlan, type SegmentFeatures } from './descriptors.js';
export { energyEnvelope, percentile, type Envelope } from './envelope.js';
export { coughLikeness, coughProbability, CANDIDATE_FEATURES, type CoughLikeness, type CandidateFeatures } from './cough-score.js';
export { segmentCoughsAdaptive, ADAPTIVE_DEFAULTS, type AdaptiveOptions } from './adaptive.js';

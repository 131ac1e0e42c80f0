export { SEGMENT_DEFAULTS, type SegmentOptions } from './options.js';
export { segmentCoughs, type Segment, type Segmentation } from './segment-coughs.js';
export { DescriptorPlan, type SegmentFeatures } from './descriptors.js';
export { energyEnvelope, percentile, type Envelope } from './envelope.js';
export { coughLikeness, type CoughLikeness } from './cough-score.js';
export { segmentCoughsAdaptive, ADAPTIVE_DEFAULTS, type AdaptiveOptions } from './adaptive.js';

/**
 * tosia: the runtime. Importing it loads no model and installs no handlers; heavy modules
 * (onnxruntime-node, sharp, fluent-ffmpeg, yaml) load on first use.
 */
export { loadConfig, parseConfigText } from './config/load.js';
export { validateConfig, allowedValues } from './config/validate.js';
export { SCHEMA, defaultConfig, type Config, type ConfigInput, type Field } from './config/schema.js';
export { WorkUnit, configHash, type WorkUnitInit } from './pipeline/work-unit.js';
export { execute, checkModelConfig, type ExecuteOptions } from './pipeline/execute.js';
export { decodeStage, segmentStage, melStage, colourStage, melPlanFor, emptyFilterWarning } from './pipeline/stages.js';
export { prepareSegments, type PreparedSegment } from './pipeline/images.js';
export { getModel, modelPathFor } from './pipeline/model-cache.js';
export { DISCLAIMER, SCHEMA_VERSION, type Result, type SegmentResult, type DiagnosisResult } from './pipeline/result.js';
export { decodeFile, checkInputFile, type DecodedAudio, type DecodeOptions, type DecoderChoice } from './decode/decode.js';
export { resolveFfmpeg, type ResolvedFfmpeg, type FfmpegSource } from './decode/ffmpeg-path.js';
export { Model, CUDA_INSTALL_HINT, type Classifier, type Device, type ModelInfo } from './model/model.js';
export { checkManifest, compareWithConfig, type ModelManifest, type Mismatch } from './model/manifest.js';
export { extract, PLAIN_NORMALISATION, type ExtractOptions, type ExtractSummary } from './extract/extract.js';
export { readLabels } from './extract/labels.js';
export { collectInputs, walkInputs, isAudioName, AUDIO_EXTENSIONS, type InputFile } from './io/inputs.js';
export { writeFileAtomic } from './io/atomic-write.js';
export { writePng, resizeImage, encodePng } from './image/render.js';
export { defaultModelPath, tosiaVersion, packageRoot } from './paths.js';
export { TosiaError, isTosiaError, ERROR_CODES, type ErrorCode } from '../algos/errors.js';
export { loadPffft } from './dsp/pffft.js';
export { doctor, type DoctorReport, type DoctorCheck } from './doctor.js';
export { runBatch, TMP_DIR_NAME, type BatchOptions, type BatchEvent, type RunSummary } from './batch/batch.js';
export { readTruth, readPredictions, evaluate, type EvalReport, type FileScore, type EventTable } from './eval/eval.js';

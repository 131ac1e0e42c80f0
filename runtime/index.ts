/**
 * tosia: the runtime. Importing it loads no model and installs no handlers; heavy modules
 * (onnxruntime, yaml) load on first use; ffmpeg is a process, started only for the files that need it.
 */
export { loadConfig, parseConfigText } from './config/load.js';
export { validateConfig, allowedValues } from './config/validate.js';
export { SCHEMA, defaultConfig, type Config, type ConfigInput, type Field, type FieldRole } from './config/schema.js';
export { configHash, limitsHash, fieldsWithRole } from './config/identity.js';
export { WorkUnit, type WorkUnitInit } from './pipeline/work-unit.js';
export { execute, runRecording, checkModelConfig, type ExecuteOptions, type RunOptions, type RecordingRun } from './pipeline/execute.js';
export { decodeStage, segmentStage, melStage, colourStage, melPlanFor, melOptionsFor, emptyFilterWarning } from './pipeline/stages.js';
export { prepareSegments, type PreparedSegment } from './pipeline/prepare-segments.js';
export { DISCLAIMER, SCHEMA_VERSION, type Result, type SegmentResult, type DiagnosisResult } from './pipeline/result.js';
export { Engine, defaultEngine, type EngineOptions } from './engine/engine.js';
export { ThreadPool, INFERENCE_MODES, inputName, readableInput, type Pool, type Job, type JobInput, type StoredInput, type JobTask, type JobOutput, type JobOutcome, type ModelIdentity, type InferenceMode, type ThreadPoolOptions } from './engine/pool.js';
export { schedule, type ScheduleOptions, type Schedule, type BatchEvent, type RunSummary } from './engine/scheduler.js';
export { inputSource, inputFilter, type InputSourceOptions } from './engine/source.js';
export { FolderStore, TMP_DIR_NAME, LOCK_FILE_NAME } from './store/folder-store.js';
export { failureRecord, type ResultStore, type StoreInput, type Identity, type ArtifactRequest, type Lookup, type Stored, type FailureRecord } from './store/store.js';
export { decode, decodeFile, checkInputFile, type DecodeInput, type DecodedAudio, type DecodeOptions, type DecoderChoice } from './decode/decode.js';
export { audioContentType } from './decode/sniff.js';
export { resolveFfmpeg, type ResolvedFfmpeg, type FfmpegSource } from './decode/ffmpeg-path.js';
export { Model, CUDA_INSTALL_HINT, describeModel, type Classifier, type Device } from './model/model.js';
export { checkManifest, compareWithConfig, type ModelManifest, type Mismatch } from './model/manifest.js';
export { extract, PLAIN_NORMALISATION, type ExtractOptions, type ExtractSummary } from './extract/extract.js';
export { readLabels } from './extract/read-labels.js';
export { collectInputs, walkInputs, isAudioName, AUDIO_EXTENSIONS, type InputFile } from './io/inputs.js';
export { writeFileAtomic } from './io/atomic-write.js';
export { csvRow, parseCsv } from './io/csv.js';
export { escapeHtml } from './io/html.js';
export { writePng, resizeImage, encodePng } from './image/png.js';
export { defaultModelPath, modelPathFor, tosiaVersion, packageRoot } from './paths.js';
export { TosiaError, isTosiaError, ERROR_CODES, type ErrorCode } from '../algos/errors.js';
export { toTosiaError, serializeError, deserializeError, isInputFailure, type SerializedError } from './errors.js';
export { loadPffft, loadPffftSync } from './dsp/pffft.js';
export { melSpectrogram } from './dsp/mel.js';
export { doctor, type DoctorReport, type DoctorCheck } from './doctor.js';
export { oldFfmpegWarning } from './decode/ffmpeg-age.js';
export { runBatch, identityOf, type BatchOptions } from './batch/run-batch.js';
export { watchFolder, type WatchOptions, type WatchEvent } from './watch/watch-folder.js';
export { recordingFigure, scoreColour, type RecordingFigure, type FigureOptions, type FigureBox } from './figure/recording-figure.js';
export { renderReport, audioMime, flagWords, type ReportEntry } from './report/report.js';
export { buildReport, type BuildReportOptions } from './report/build-report.js';
export { FigureRenderer } from './figure/figure-renderer.js';
export { readTruth, readPredictions, readResults, evaluate, type EvalReport, type FileScore, type EventTable } from './eval/eval.js';
export { evaluateRecordingsInThread } from './eval/evaluate-in-thread.js';
export { readRecordingLabels, evaluateRecordings, type RecordingReport, type RecordingEvalOptions, type EvalCurves, type EvalNotes, type LabelTable } from './eval/recordings.js';
export { evaluationFigures, type EvaluationFigures } from './figure/evaluation-figures.js';
export { renderEvaluationReport, type EvaluationReportMeta } from './report/evaluation-report.js';

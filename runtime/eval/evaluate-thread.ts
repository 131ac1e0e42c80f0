import { parentPort, workerData } from 'node:worker_threads';
import { serializeError } from '../errors.js';
import { evaluateRecordings, type LabelTable, type RecordingEvalOptions } from './recordings.js';
import type { Result } from '../pipeline/result.js';

/** The thread behind evaluateRecordingsInThread: one evaluation, its answer, and the thread ends. */
const { labels, results, options } = workerData as { labels: [string, LabelTable extends Map<string, infer V> ? V : never][]; results: Result[]; options: RecordingEvalOptions };
try {
  parentPort!.postMessage({ ok: true, value: evaluateRecordings(new Map(labels), results, options) });
} catch (e) {
  parentPort!.postMessage({ ok: false, error: serializeError(e, { stage: 'eval' }) });
}

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { deserializeError, type SerializedError } from '../errors.js';
import { packageRoot } from '../paths.js';
import type { Result } from '../pipeline/result.js';
import type { evaluateRecordings, LabelTable, RecordingEvalOptions } from './recordings.js';

type Evaluated = ReturnType<typeof evaluateRecordings>;

/** What evaluateRecordings reads of a result: the rest (segments, timings) need not cross to the thread. */
function slim(r: Result): Result {
  return { source: r.source, model: r.model, diagnosis: r.diagnosis, quality: r.quality } as Result;
}

/**
 * evaluateRecordings on a thread of its own: its bootstrap takes seconds for thousands of
 * recordings (1.7 s for 1,000 on one core), which a server must not spend on the thread that
 * answers requests.
 */
export function evaluateRecordingsInThread(labels: LabelTable, results: readonly Result[], options: RecordingEvalOptions = {}): Promise<Evaluated> {
  const local = fileURLToPath(new URL('./evaluate-thread.js', import.meta.url));
  const w = new Worker(existsSync(local) ? local : join(packageRoot(), 'dist/runtime/eval/evaluate-thread.js'), {
    workerData: { labels: [...labels], results: results.map(slim), options },
  });
  return new Promise<Evaluated>((resolve, reject) => {
    w.once('message', (m: { ok: true; value: Evaluated } | { ok: false; error: SerializedError }) => (m.ok ? resolve(m.value) : reject(deserializeError(m.error))));
    w.once('error', reject);
    w.once('exit', (code) => reject(new Error(`the evaluation thread ended (exit ${code}) before it answered`)));
  });
}

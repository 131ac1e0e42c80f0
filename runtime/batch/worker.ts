import { readFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { isTosiaError } from '../../algos/errors.js';
import { writeFileAtomicSync } from '../io/atomic-write.js';
import { sha256Hex } from '../io/sha256.js';
import { audacityLabels } from '../io/labels.js';
import { execute, checkModelConfig } from '../pipeline/execute.js';
import { setImagingThreads } from '../image/render.js';
import { Model, type Classifier } from '../model/model.js';
import { RemoteClassifier } from './inference.js';
import { modelPathFor } from '../pipeline/model-cache.js';
import { WorkUnit } from '../pipeline/work-unit.js';
import type { Job, WorkerInit, WorkerMessage } from './protocol.js';
import { tableRows } from './tables.js';

// One worker thread of the batch engine: loads the model once, then runs jobs one at a time,
// writing each result atomically (temp file in the output's temp folder, then rename).
const init = workerData as WorkerInit;
const port = parentPort!;
const send = (m: WorkerMessage) => port.postMessage(m);
const sha256Of = (file: string): string | undefined => {
  try {
    return sha256Hex(readFileSync(file));
  } catch {
    return undefined;
  }
};

try {
  // each worker is one core's worth: one onnxruntime thread, one libvips thread (PNGs only)
  const model: Classifier = init.inference
    ? new RemoteClassifier(init.inference.info, init.inference.port)
    : await Model.load(modelPathFor(init.config), { device: init.config.classifier.device, threads: 1 });
  if (init.config.output.save_images) await setImagingThreads(1);
  checkModelConfig(model, init.config);
  send({ type: 'ready', model: { name: model.manifest.name, version: model.manifest.version, sha256: model.sha256, execution_provider: model.executionProvider }, labels: [...model.manifest.labels] });
  const run = async (job: Job) => {
    try {
      const result = await execute(new WorkUnit({ sourceFile: job.file, ...init.config }), { model, imagePrefix: job.outFile.replace(/\.json$/, ''), blockingReads: true });
      if (init.config.output.labels === 'audacity') writeFileAtomicSync(job.outFile.replace(/\.json$/, '.labels.txt'), audacityLabels(result), init.tmpDir);
      writeFileAtomicSync(job.outFile, JSON.stringify(result, null, 2) + '\n', init.tmpDir);
      send({ type: 'job', id: job.id, ok: true, duration_s: result.source.duration_s, n_segments: result.segments.length, label: result.diagnosis.label, skipped: false, rows: tableRows(result, model.manifest.labels) });
    } catch (e) {
      const err = isTosiaError(e) ? e : null;
      send({ type: 'job', id: job.id, ok: false, error: { code: err?.code ?? 'E_INTERNAL', stage: err?.stage, message: err?.message ?? `unexpected error: ${(e as Error)?.message ?? String(e)}` }, sha256: sha256Of(job.file) });
    }
  };
  if (init.inference) {
    // with a shared inference thread, files overlap: one computes while another awaits inference
    port.on('message', (job: Job) => void run(job));
  } else {
    // the engine sends the next file before this one ends, so no time is lost between files;
    // files still run one after another, each with the whole core
    const queue: Job[] = [];
    let busy = false;
    port.on('message', async (job: Job) => {
      queue.push(job);
      if (busy) return;
      busy = true;
      while (queue.length > 0) await run(queue.shift()!);
      busy = false;
    });
  }
} catch (e) {
  const err = isTosiaError(e) ? e : null;
  send({ type: 'fatal', error: { code: err?.code ?? 'E_INTERNAL', message: err?.message ?? String((e as Error)?.message ?? e) } });
}

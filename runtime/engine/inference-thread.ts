import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { TosiaError } from '../../algos/errors.js';
import type { Config } from '../config/schema.js';
import { deserializeError } from '../errors.js';
import { modelPathFor, packageRoot } from '../paths.js';
import type { ClassifierInfo } from './inference.js';
import type { InferenceWorkerMessage } from './protocol.js';

/** A worker thread's script, from sources under test or from the built dist/. */
export function workerScript(name: string): string {
  const local = fileURLToPath(new URL(`./${name}`, import.meta.url));
  return existsSync(local) ? local : join(packageRoot(), 'dist/runtime/engine', name);
}

/** A thread that holds one model session and serves runs over MessagePorts (inference-worker.ts). */
export interface InferenceThread { worker: Worker; info: ClassifierInfo }

/**
 * Start the inference thread for a config's model: onnxruntime loads there (its module, the
 * session, a WebAssembly compile), on another core, while the caller goes on. The promise
 * settles once the model is ready, or with its E_MODEL.
 */
export function startInferenceThread(cfg: Config): Promise<InferenceThread> {
  const worker = new Worker(workerScript('inference-worker.js'), { workerData: { modelPath: modelPathFor(cfg), device: cfg.classifier.device } });
  return new Promise<InferenceThread>((ok, bad) => {
    worker.once('message', (m: InferenceWorkerMessage) => (m.type === 'ready' ? ok({ worker, info: m.info }) : bad(deserializeError(m.error))));
    worker.once('error', (e) => bad(new TosiaError('E_INTERNAL', `inference thread failed to start: ${e.message}`)));
  });
}

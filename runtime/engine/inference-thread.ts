import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MessageChannel, Worker } from 'node:worker_threads';
import { TosiaError } from '../../algos/errors.js';
import type { Config } from '../config/schema.js';
import { deserializeError } from '../errors.js';
import { modelPathFor, packageRoot } from '../paths.js';
import { RemoteClassifier, type ClassifierInfo } from './inference.js';
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

/** A classifier served by an inference thread, over a port of its own. */
export function remoteClassifier(thread: InferenceThread): RemoteClassifier {
  const { port1, port2 } = new MessageChannel();
  thread.worker.postMessage({ type: 'port', port: port1 }, [port1]);
  return new RemoteClassifier(thread.info, port2);
}

/**
 * One recording's model, loaded on its own thread while this one decodes, segments and draws:
 * what a single `tosia run` uses, so that onnxruntime's start (about 90 ms native, 500 ms for
 * the WebAssembly engine) is off the critical path. `close()` ends the thread once it is ready
 * or failed (ending it inside onnxruntime's session creation would abort the process).
 */
export function modelOnThread(cfg: Config): { classifier: Promise<RemoteClassifier>; close(): Promise<void> } {
  const thread = startInferenceThread(cfg);
  const classifier = thread.then(remoteClassifier);
  classifier.catch(() => undefined); // the run awaits it and reports its error
  return {
    classifier,
    close: async () => {
      const t = await thread.catch(() => null);
      await classifier.then((c) => c.close(), () => undefined);
      await t?.worker.terminate();
    },
  };
}

import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { serializeError } from '../errors.js';
import type { Device } from '../model/model.js';
import { Model } from '../model/model.js';
import { InferenceServer } from './inference.js';
import type { InferenceWorkerMessage } from './protocol.js';

// The shared inference thread of a ThreadPool: loads the model once and serves every CPU worker's
// port (see inference.ts).
const init = workerData as { modelPath: string; device: Device };
const port = parentPort!;
const send = (m: InferenceWorkerMessage) => port.postMessage(m);

try {
  const model = await Model.load(init.modelPath, { device: init.device, threads: 1 });
  const server = new InferenceServer(model);
  port.on('message', (m: { type: 'port'; port: MessagePort }) => {
    if (m.type === 'port') server.addPort(m.port);
  });
  send({ type: 'ready', info: { path: model.path, manifest: model.manifest, sha256: model.sha256, executionProvider: model.executionProvider } });
} catch (e) {
  send({ type: 'fatal', error: serializeError(e) });
}

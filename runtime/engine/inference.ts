import type { MessagePort } from 'node:worker_threads';
import { TosiaError } from '../../algos/errors.js';
import type { ModelManifest } from '../model/manifest.js';
import type { Classifier, Model } from '../model/model.js';

/**
 * The shared inference thread of a ThreadPool (`inference: 'shared'`): one model session serves every
 * CPU worker. Each worker sends a recording's segment tensor over its own MessagePort; requests
 * that arrive while a run is in progress are stacked into one batch (cross-file batching).
 */

export interface InferRequest { id: number; data: Float32Array; dims: number[] }
export type InferReply = { id: number; ok: true; out: Float32Array } | { id: number; ok: false; code: string; message: string };
export interface ClassifierInfo { path: string; manifest: ModelManifest; sha256: string; executionProvider: string }

/** Largest stack of images in one run. */
const MAX_BATCH = 256;

/** Serve the requests of every port given to `addPort` from one model. */
export class InferenceServer {
  private queue: { port: MessagePort; req: InferRequest }[] = [];
  private running = false;

  constructor(private readonly model: Model) {}

  addPort(port: MessagePort): void {
    port.on('message', (req: InferRequest) => {
      this.queue.push({ port, req });
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      // yield once so that requests already posted join the first batch
      await new Promise((r) => setImmediate(r));
      while (this.queue.length > 0) {
        const batch: typeof this.queue = [];
        let images = 0;
        while (this.queue.length > 0 && (batch.length === 0 || images + this.queue[0]!.req.dims[0]! <= MAX_BATCH)) {
          const item = this.queue.shift()!;
          batch.push(item);
          images += item.req.dims[0]!;
        }
        await this.runBatch(batch, images);
      }
    } finally {
      this.running = false;
    }
  }

  private async runBatch(batch: { port: MessagePort; req: InferRequest }[], images: number): Promise<void> {
    const per = batch[0]!.req.data.length / batch[0]!.req.dims[0]!;
    const data = new Float32Array(images * per);
    let o = 0;
    for (const { req } of batch) { data.set(req.data, o); o += req.data.length; }
    const dims = [images, ...batch[0]!.req.dims.slice(1)];
    const labels = this.model.manifest.labels.length;
    try {
      const out = await this.model.run(data, dims);
      let r = 0;
      for (const { port, req } of batch) {
        const rows = out.slice(r * labels, (r + req.dims[0]!) * labels);
        r += req.dims[0]!;
        port.postMessage({ id: req.id, ok: true, out: rows } satisfies InferReply, [rows.buffer]);
      }
    } catch (e) {
      const err = e instanceof TosiaError ? e : new TosiaError('E_MODEL', (e as Error).message, { stage: 'classify' });
      for (const { port, req } of batch) port.postMessage({ id: req.id, ok: false, code: err.code, message: err.message } satisfies InferReply);
    }
  }
}

/** A CPU worker's view of the shared inference thread, usable wherever a model is. */
export class RemoteClassifier implements Classifier {
  readonly path: string;
  readonly manifest: ModelManifest;
  readonly sha256: string;
  readonly executionProvider: string;
  private next = 0;
  private readonly pending = new Map<number, { resolve: (x: Float32Array) => void; reject: (e: Error) => void }>();

  constructor(info: ClassifierInfo, private readonly port: MessagePort) {
    this.path = info.path;
    this.manifest = info.manifest;
    this.sha256 = info.sha256;
    this.executionProvider = info.executionProvider;
    port.on('message', (m: InferReply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.out);
      else p.reject(new TosiaError(m.code as 'E_MODEL', m.message, { file: this.path, stage: 'classify' }));
    });
  }

  run(data: Float32Array, dims: readonly number[]): Promise<Float32Array> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // the tensor is moved, not copied; the caller does not use it again
      this.port.postMessage({ id, data, dims: [...dims] } satisfies InferRequest, [data.buffer as ArrayBuffer]);
    });
  }
}

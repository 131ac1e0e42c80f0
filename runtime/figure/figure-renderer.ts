import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Config } from '../config/schema.js';
import type { DecodeInput } from '../decode/decode.js';
import { deserializeError, type SerializedError } from '../errors.js';
import { packageRoot } from '../paths.js';
import type { Result } from '../pipeline/result.js';

/**
 * Draws whole-recording figures on a thread of its own, started at the first request: a server
 * asked for the figure of an hour-long recording goes on answering meanwhile, and diagnosing
 * pays nothing for figures nobody looks at.
 */
export class FigureRenderer {
  private worker: Worker | null = null;
  private seq = 0;
  private readonly pending = new Map<number, { resolve(svg: string): void; reject(e: Error): void }>();

  constructor(private readonly config: Config) {}

  /** The SVG figure of a recording (a file, or bytes with their name), with `result`'s segments boxed. */
  render(input: DecodeInput, result: Result): Promise<string> {
    const w = this.thread();
    const id = ++this.seq;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      w.postMessage({ id, input, result, config: this.config });
    });
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const local = fileURLToPath(new URL('./figure-thread.js', import.meta.url));
    const w = new Worker(existsSync(local) ? local : join(packageRoot(), 'dist/runtime/figure/figure-thread.js'));
    w.unref();
    w.on('message', (m: { id: number; svg?: string; error?: SerializedError }) => {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (m.error) p?.reject(deserializeError(m.error));
      else p?.resolve(m.svg!);
    });
    // a thread that dies fails what it held; the next request starts another
    const fail = (e: Error) => {
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
      this.worker = null;
    };
    w.on('error', fail);
    w.on('exit', (code) => { if (this.worker === w) fail(new Error(`the figure thread exited (${code})`)); });
    this.worker = w;
    return w;
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    await w?.terminate();
  }
}

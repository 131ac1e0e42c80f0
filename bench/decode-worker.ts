import { parentPort, workerData } from 'node:worker_threads';
import type { Config } from '../runtime/config/schema.js';
import { decodeStage } from '../runtime/pipeline/stages.js';

// Decode-only pass for the benchmark: the same decode stage the pipeline runs, nothing after it.
const { files, config } = workerData as { files: string[]; config: Config };
let audio = 0;
for (const f of files) {
  try {
    audio += (await decodeStage(f, config)).source.duration_s;
  } catch {
    // failures cost their time too, as in the pipeline
  }
}
parentPort!.postMessage({ audio });

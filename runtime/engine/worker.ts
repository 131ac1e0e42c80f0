import { readFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { TosiaError } from '../../algos/errors.js';
import { serializeError } from '../errors.js';
import { extractSegments } from '../extract/extract-segments.js';
import { encodePng } from '../image/png.js';
import { sha256OfFile } from '../io/sha256.js';
import type { Classifier } from '../model/model.js';
import { checkModelConfig, runRecording } from '../pipeline/execute.js';
import { WorkUnit } from '../pipeline/work-unit.js';
import { Engine } from './engine.js';
import { RemoteClassifier } from './inference.js';
import { inputName, type Job, type JobInput, type JobOutput } from './pool.js';
import type { WorkerInit, WorkerMessage } from './protocol.js';

// One worker thread of a ThreadPool: loads the model once, then runs jobs one at a time and
// sends back what it computed. It writes nothing: the store does.
const init = workerData as WorkerInit;
const port = parentPort!;
const send = (m: WorkerMessage) => port.postMessage(m);
// one thread, one recording at a time, its own core: blocking reads cost least here
const engine = new Engine({ blockingReads: true });

function unitInput(input: JobInput): { sourceFile: string; sourceBytes?: Uint8Array } {
  // the pool reads a stored recording before it posts the job (a function does not cross threads)
  if ('stored' in input) throw new TosiaError('E_INTERNAL', 'a stored recording reached a thread unread', { file: input.name, stage: 'worker' });
  if ('bytes' in input) return { sourceFile: input.name, sourceBytes: input.bytes };
  if (!('name' in input)) return { sourceFile: input.path };
  try {
    // this thread has its own core: a blocking read costs least here
    return { sourceFile: input.name, sourceBytes: readFileSync(input.path) };
  } catch (e) {
    throw new TosiaError('E_INPUT', `is no longer stored (${(e as NodeJS.ErrnoException).code ?? e})`, { file: input.name, stage: 'input', hint: 'send the recording again' });
  }
}

async function compute(job: Job, model: Classifier | null): Promise<JobOutput> {
  const input = unitInput(job.input);
  if (job.task.kind === 'extract') {
    return { kind: 'extract', ...(await extractSegments(input, init.config, job.task, engine)) };
  }
  const { result, images } = await runRecording(new WorkUnit({ ...input, ...init.config }), { model: model!, engine });
  return { kind: 'diagnose', result, images: job.task.images ? await Promise.all(images.map(encodePng)) : [] };
}

try {
  // each worker is one core's worth: one onnxruntime thread
  const model: Classifier | null = !init.withModel ? null
    : init.inference ? new RemoteClassifier(init.inference.info, init.inference.port)
    : await engine.modelFor(init.config, { threads: 1 });
  if (model) checkModelConfig(model, init.config);
  send({ type: 'ready', model: model && { name: model.manifest.name, version: model.manifest.version, sha256: model.sha256, labels: [...model.manifest.labels], execution_provider: model.executionProvider } });
  const run = async (job: Job) => {
    try {
      send({ type: 'job', id: job.id, ok: true, output: await compute(job, model) });
    } catch (e) {
      const sha256 = 'path' in job.input ? await sha256OfFile(job.input.path) : undefined;
      send({ type: 'job', id: job.id, ok: false, error: serializeError(e, { file: inputName(job.input) }), sha256 });
    }
  };
  // the pool's 'close': end once the jobs held are done, by letting the event loop empty (a
  // thread terminated from outside while V8 still has work queued for it can abort the process)
  let closing = false;
  let held = 0;
  const endIfIdle = () => {
    if (!closing || held > 0) return;
    port.close();
    init.inference?.port.close();
  };
  const isClose = (m: unknown) => (m as { type?: string }).type === 'close';
  if (init.inference) {
    // with a shared inference thread, jobs overlap: one computes while another awaits inference
    port.on('message', (job: Job) => {
      if (isClose(job)) { closing = true; return endIfIdle(); }
      held++;
      void run(job).finally(() => { held--; endIfIdle(); });
    });
  } else {
    // the pool sends the next job before this one ends, so no time is lost between jobs; jobs
    // still run one after another, each with the whole core
    const queue: Job[] = [];
    let busy = false;
    port.on('message', async (job: Job) => {
      if (isClose(job)) { closing = true; return endIfIdle(); }
      queue.push(job);
      held++;
      if (busy) return;
      busy = true;
      while (queue.length > 0) {
        await run(queue.shift()!);
        held--;
      }
      busy = false;
      endIfIdle();
    });
  }
} catch (e) {
  send({ type: 'fatal', error: serializeError(e) });
}

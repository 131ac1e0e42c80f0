import { join } from 'node:path';
import type { Layout, Normalisation } from '../../algos/classify/tensor.js';
import { TosiaError, type ErrorCode } from '../../algos/errors.js';
import { configHash, limitsHash } from '../config/identity.js';
import type { Config } from '../config/schema.js';
import { ThreadPool, type JobOutput } from '../engine/pool.js';
import { schedule } from '../engine/scheduler.js';
import { inputSource } from '../engine/source.js';
import { deserializeError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { csvRow } from '../io/csv.js';
import type { FailureRecord, Lookup, ResultStore, Stored, StoreInput } from '../store/store.js';

/** Pixel scaling used when no model is given: uint8 / 255, no mean or std. */
export const PLAIN_NORMALISATION: Normalisation = { scale: 255, mean: [0, 0, 0], std: [1, 1, 1] };

export interface ExtractOptions {
  inputs: string[];
  outDir: string;
  config: Config;
  /** Labels keyed by file basename. */
  labels?: Map<string, string>;
  layout?: Layout;
  normalisation?: Normalisation;
  /** Worker threads. Default 2. */
  concurrency?: number;
  onFile?: (e: { file: string; segments: number; error?: TosiaError }) => void;
}

export interface ExtractSummary {
  files: number;
  segments: number;
  failed: { file: string; code: string; stage: string | undefined; message: string }[];
  manifest: string;
}

interface Row { rel: string; index: number; start: number; end: number; label: string; tensor: string; image: string; sha256: string }

/**
 * `tosia extract`'s folder as a store: each segment's tensor (.npy) and image (PNG) under the
 * input's relative path, and, at the end, manifest.csv, errors.jsonl and extract.json.
 * Extraction always runs again: there is nothing to look up.
 */
class ExtractStore implements ResultStore {
  readonly rows: Row[] = [];
  readonly failures: FailureRecord[] = [];

  constructor(private readonly outDir: string, private readonly labels?: Map<string, string>) {}

  async lookup(): Promise<Lookup> {
    return null;
  }

  async reuse(): Promise<Stored> {
    throw new TosiaError('E_INTERNAL', 'an extract folder keeps no results to reuse', { stage: 'output' });
  }

  async put(input: StoreInput, output: JobOutput): Promise<Stored> {
    if (output.kind !== 'extract') throw new TosiaError('E_INTERNAL', `an extract folder keeps segments, not ${output.kind} output`, { stage: 'output' });
    const label = this.labels?.get(input.rel.split(/[\\/]/).pop()!) ?? '';
    for (const [i, s] of output.segments.entries()) {
      const base = `${input.rel}.seg${String(i).padStart(3, '0')}`;
      await writeFileAtomic(join(this.outDir, base + '.npy'), s.npy);
      await writeFileAtomic(join(this.outDir, base + '.png'), s.png);
      this.rows.push({ rel: input.rel, index: i, start: s.start, end: s.end, label, tensor: base + '.npy', image: base + '.png', sha256: output.sha256 });
    }
    return { output: join(this.outDir, input.rel), duration_s: output.duration_s, n_segments: output.segments.length, label };
  }

  async fail(_input: StoreInput, failure: FailureRecord): Promise<void> {
    this.failures.push(failure);
  }

  async finish(extractJson: Record<string, unknown>): Promise<string> {
    this.rows.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : a.index - b.index));
    let csv = csvRow(['file', 'segment', 'start_s', 'end_s', 'label', 'tensor', 'image', 'source_sha256']);
    for (const r of this.rows) csv += csvRow([r.rel, r.index, r.start.toFixed(4), r.end.toFixed(4), r.label, r.tensor, r.image, r.sha256]);
    const manifest = join(this.outDir, 'manifest.csv');
    await writeFileAtomic(manifest, csv);
    await writeFileAtomic(join(this.outDir, 'errors.jsonl'), this.failures.map((f) => JSON.stringify(f) + '\n').join(''));
    await writeFileAtomic(join(this.outDir, 'extract.json'), JSON.stringify(extractJson, null, 2) + '\n');
    return manifest;
  }
}

/**
 * Write, for every segment of every input, the exact float32 tensor `execute()` feeds the model
 * (.npy, shape [3, H, W] for NCHW) and its PNG, plus manifest.csv. Training reads only these.
 * Runs on the same scheduler and worker threads as a batch; errors.jsonl has a batch's format.
 */
export async function extract(o: ExtractOptions): Promise<ExtractSummary> {
  const layout = o.layout ?? 'NCHW';
  const normalisation = o.normalisation ?? PLAIN_NORMALISATION;
  const source = inputSource(o.inputs, { outDir: o.outDir });
  const total = await source.count();
  const store = new ExtractStore(o.outDir, o.labels);
  const concurrency = Math.max(1, Math.min(o.concurrency ?? 2, Math.max(1, total)));
  const run = schedule({
    source: source.stream(), total, store, force: true,
    identity: { config_sha256: configHash(o.config), limits_sha256: limitsHash(o.config), model_sha256: null },
    wants: { images: true, labels: null },
    task: { kind: 'extract', layout, normalisation },
    pool: () => new ThreadPool({ config: o.config, concurrency, inference: 'none' }),
  });
  let r = await run.next();
  for (; !r.done; r = await run.next()) {
    const e = r.value;
    if (e.type === 'file-done') o.onFile?.({ file: e.file, segments: e.n_segments });
    else if (e.type === 'file-failed') o.onFile?.({ file: e.file, segments: 0, error: deserializeError({ code: e.code as ErrorCode, stage: e.stage, message: e.message }) });
  }
  if (r.value.outputBroken) throw r.value.outputBroken;
  const manifest = await store.finish({ config: o.config, layout, normalisation, files: total, segments: store.rows.length, failed: store.failures.length });
  return {
    files: total, segments: store.rows.length, manifest,
    failed: store.failures.map((f) => ({ file: f.file, code: f.code, stage: f.stage, message: f.message })),
  };
}

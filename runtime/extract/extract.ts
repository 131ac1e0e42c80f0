import { join } from 'node:path';
import { imagesToTensor, type Layout, type Normalisation } from '../../algos/classify/tensor.js';
import { isTosiaError, TosiaError } from '../../algos/errors.js';
import type { Config } from '../config/schema.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { csvRow } from '../io/csv.js';
import { collectInputs } from '../io/inputs.js';
import { encodeNpyFloat32 } from '../io/npy.js';
import { encodePng } from '../image/render.js';
import { prepareSegments } from '../pipeline/images.js';
import { decodeStage, segmentStage } from '../pipeline/stages.js';
import { loadPffft } from '../dsp/pffft.js';

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
  /** Files decoded at once (ffmpeg processes run in parallel). Default 2. */
  concurrency?: number;
  onFile?: (e: { file: string; segments: number; error?: TosiaError }) => void;
}

export interface ExtractSummary {
  files: number;
  segments: number;
  failed: { file: string; code: string; stage: string | undefined; message: string }[];
  manifest: string;
}

interface Row { file: string; rel: string; index: number; start: number; end: number; label: string; tensor: string; image: string; sha256: string }

/**
 * Write, for every segment of every input, the exact float32 tensor `execute()` feeds the model
 * (.npy, shape [3, H, W] for NCHW) and its PNG, plus manifest.csv. Training reads only these.
 */
export async function extract(o: ExtractOptions): Promise<ExtractSummary> {
  const files = await collectInputs(o.inputs, [o.outDir]);
  const layout = o.layout ?? 'NCHW';
  const normalisation = o.normalisation ?? PLAIN_NORMALISATION;
  const rows: Row[] = [];
  const failed: ExtractSummary['failed'] = [];
  const fft = await loadPffft();
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const f = files[next++]!;
      try {
        const audio = await decodeStage(f.path, o.config);
        const { segments } = segmentStage(audio, o.config, fft);
        const prepared = prepareSegments(audio, segments, o.config, { mel: 0, colour: 0 }, fft);
        for (const [i, p] of prepared.entries()) {
          const base = `${f.rel}.seg${String(i).padStart(3, '0')}`;
          const { data, dims } = imagesToTensor([p.image], { layout, normalisation });
          await writeFileAtomic(join(o.outDir, base + '.npy'), encodeNpyFloat32(data, dims.slice(1)));
          await writeFileAtomic(join(o.outDir, base + '.png'), await encodePng(p.image));
          rows.push({ file: f.path, rel: f.rel, index: i, start: p.segment.start, end: p.segment.end, label: o.labels?.get(f.rel.split(/[\\/]/).pop()!) ?? '', tensor: base + '.npy', image: base + '.png', sha256: audio.source.sha256 });
        }
        o.onFile?.({ file: f.path, segments: prepared.length });
      } catch (e) {
        const err = isTosiaError(e) ? e : new TosiaError('E_INTERNAL', String((e as Error)?.message ?? e), { file: f.path, cause: e });
        failed.push({ file: f.path, code: err.code, stage: err.stage, message: err.message });
        if (err.code === 'E_OUTPUT') throw err;
        o.onFile?.({ file: f.path, segments: 0, error: err });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, o.concurrency ?? 2) }, worker));
  rows.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : a.index - b.index));
  let csv = csvRow(['file', 'segment', 'start_s', 'end_s', 'label', 'tensor', 'image', 'source_sha256']);
  for (const r of rows) csv += csvRow([r.rel, r.index, r.start.toFixed(4), r.end.toFixed(4), r.label, r.tensor, r.image, r.sha256]);
  const manifest = join(o.outDir, 'manifest.csv');
  await writeFileAtomic(manifest, csv);
  await writeFileAtomic(join(o.outDir, 'errors.jsonl'), failed.map((f) => JSON.stringify(f)).join('\n') + (failed.length ? '\n' : ''));
  await writeFileAtomic(join(o.outDir, 'extract.json'), JSON.stringify({ config: o.config, layout, normalisation, files: files.length, segments: rows.length, failed: failed.length }, null, 2) + '\n');
  return { files: files.length, segments: rows.length, failed, manifest };
}

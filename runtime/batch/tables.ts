import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { csvRow } from '../io/csv.js';
import type { Result } from '../pipeline/result.js';

export const TABLES = ['results.jsonl', 'results.csv', 'segments.csv'] as const;

function openTemp(tmpDir: string, name: string) {
  const path = join(tmpDir, `.${name}.${process.pid}.tmp`);
  const stream = createWriteStream(path);
  let failure: Error | null = null;
  stream.on('error', (e) => { failure = e; });
  const write = async (s: string): Promise<void> => {
    if (failure) throw failure;
    if (!stream.write(s)) await new Promise<void>((res) => stream.once('drain', res));
  };
  return { path, stream, write };
}

/**
 * Regenerate results.jsonl, results.csv and segments.csv from the per-recording JSON files of
 * this run, streaming (one result in memory at a time), each written to a temp file and renamed.
 */
export async function writeTables(outDir: string, tmpDir: string, resultFiles: readonly string[], labels: readonly string[]): Promise<void> {
  await mkdir(tmpDir, { recursive: true });
  const jsonl = openTemp(tmpDir, 'results.jsonl');
  const res = openTemp(tmpDir, 'results.csv');
  const seg = openTemp(tmpDir, 'segments.csv');
  const p = (l: string) => `p_${l}`;
  await res.write(csvRow(['file', 'duration_s', 'sample_rate', 'channels', 'codec', 'n_segments', 'label', 'score', ...labels.map(p), 'quality_flags', 'clipped_fraction', 'snr_db', 'model', 'model_sha256', 'config_sha256', 'source_sha256']));
  await seg.write(csvRow(['file', 'segment', 'start_s', 'end_s', 'peak_s', 'label', ...labels.map(p), 'cough_score', 'excluded', 'rms', 'zcr', 'spectral_centroid_hz', 'spectral_flatness', 'duration_s']));
  for (const f of resultFiles) {
    let r: Result;
    try {
      r = JSON.parse(await readFile(f, 'utf8')) as Result;
    } catch {
      continue; // removed since; the run summary still counts it
    }
    await jsonl.write(JSON.stringify(r) + '\n');
    const d = r.diagnosis;
    const q = r.quality;
    await res.write(csvRow([r.source.path, r.source.duration_s, r.source.sample_rate, r.source.channels, r.source.codec, r.segments.length, d.label, d.score, ...labels.map((l) => d.probabilities[l]), q?.flags.join(' '), q?.clipped_fraction, q?.snr_db, `${r.model.name} ${r.model.version}`, r.model.sha256, r.config_sha256, r.source.sha256]));
    for (const s of r.segments) {
      await seg.write(csvRow([r.source.path, s.index, s.start_s, s.end_s, s.peak_s, s.label, ...labels.map((l) => s.probabilities[l]), s.cough_score, s.excluded, s.features.rms, s.features.zcr, s.features.spectral_centroid_hz, s.features.spectral_flatness, s.features.duration_s]));
    }
  }
  for (const t of [jsonl, res, seg]) {
    await new Promise<void>((ok, bad) => t.stream.end((e?: Error | null) => (e ? bad(e) : ok())));
    await rename(t.path, join(outDir, basename(t.path).slice(1).replace(/\.\d+\.tmp$/, '')));
  }
}

export async function removeTemp(path: string): Promise<void> {
  await rm(path, { force: true, recursive: true });
}

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** ../shared beside the repository (read-only material; see DEVELOPERS.md). */
export const SHARED_DIR = resolve(REPO_ROOT, '../shared');
export const LIBROSA_DIR = join(SHARED_DIR, 'reference/librosa');
export const COLORMAPS_JSON = join(SHARED_DIR, 'reference/colormaps.json');
export const COUGH_DIR = join(SHARED_DIR, 'data/covid19-cough');

export const hasShared = existsSync(LIBROSA_DIR);
export const hasCoughData = existsSync(join(COUGH_DIR, 'metadata.json'));
export const SKIP_SHARED = `../shared/reference is absent (expected at ${SHARED_DIR}); skipping reference checks`;
export const SKIP_COUGH = `../shared/data/covid19-cough is absent (expected at ${COUGH_DIR}); skipping real-data checks`;

export function readF32(path: string): Float32Array {
  const buf = readFileSync(path);
  const out = new Float32Array(buf.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = buf.readFloatLE(i * 4);
  return out;
}

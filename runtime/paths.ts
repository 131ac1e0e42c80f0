import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from './config/schema.js';

let root: string | undefined;

/** The tosia package folder (works from sources under test and from the built dist/). */
export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj) && (JSON.parse(readFileSync(pj, 'utf8')) as { name?: string }).name === 'tosia') return (root = dir);
    const up = dirname(dir);
    if (up === dir) throw new Error('tosia package.json not found above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

export const DEMO_MODEL_FILE = 'models/tosia-cough-demo.onnx';

export function defaultModelPath(): string {
  return join(packageRoot(), DEMO_MODEL_FILE);
}

export function tosiaVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

/** The model a config names: classifier.model, else the bundled demo model. */
export function modelPathFor(cfg: Config): string {
  return cfg.classifier.model ?? defaultModelPath();
}

import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { isTosiaError } from '../algos/errors.js';
import type { Config } from './config/schema.js';
import { resolveFfmpeg } from './decode/ffmpeg-path.js';
import { compareWithConfig, describeMismatches } from './model/manifest.js';
import { Model, cudaProviderInstalled } from './model/model.js';
import { modelPathFor, tosiaVersion } from './paths.js';

export interface DoctorCheck { name: string; ok: boolean; detail: string }
export interface DoctorReport { ok: boolean; checks: DoctorCheck[] }

function ffmpegVersion(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(path, ['-hide_banner', '-version'], { timeout: 10_000 }, (err, stdout) => {
      if (err) reject(err);
      else resolve(stdout.split('\n')[0] ?? '');
    });
  });
}

/** Check the environment: Node, ffmpeg, onnxruntime and its providers, the model and its manifest. */
export async function doctor(cfg: Config): Promise<DoctorReport> {
  const checks: DoctorCheck[] = [];
  checks.push({ name: 'tosia', ok: true, detail: tosiaVersion() });
  const major = Number(process.versions.node.split('.')[0]);
  checks.push({ name: 'node', ok: major >= 20, detail: `${process.version} (${process.platform}-${process.arch})${major >= 20 ? '' : ': tosia needs Node 20 or newer'}` });
  try {
    const ff = resolveFfmpeg(cfg.audio.ffmpeg_path);
    const v = await ffmpegVersion(ff.path);
    checks.push({ name: 'ffmpeg', ok: true, detail: `${ff.path} (found by: ${ff.source}) ${v}` });
  } catch (e) {
    checks.push({ name: 'ffmpeg', ok: false, detail: (e as Error).message });
  }
  try {
    const ort = await import('onnxruntime-node');
    const req = createRequire(import.meta.url);
    const version = (req('onnxruntime-node/package.json') as { version: string }).version;
    const backends = ort.listSupportedBackends().map((b) => (b.name === 'cuda' ? `cuda (${cudaProviderInstalled() ? 'installed' : 'not installed'})` : b.name)).filter((b) => !b.startsWith('tensorrt'));
    checks.push({ name: 'onnxruntime', ok: true, detail: `onnxruntime-node ${version}; providers: ${backends.join(', ')}` });
  } catch (e) {
    checks.push({ name: 'onnxruntime', ok: false, detail: `onnxruntime-node cannot load: ${(e as Error).message}` });
  }
  const path = modelPathFor(cfg);
  try {
    const model = await Model.load(path, { device: cfg.classifier.device });
    checks.push({ name: 'model', ok: true, detail: `${model.manifest.name} ${model.manifest.version} loads on ${model.executionProvider} (${path}); labels ${model.manifest.labels.join(', ')}` });
    const diffs = compareWithConfig(model.manifest, cfg);
    checks.push({
      name: 'manifest', ok: diffs.length === 0 || cfg.classifier.allow_config_mismatch,
      detail: diffs.length === 0 ? 'config matches the preprocessing the model was trained with' : `config differs: ${describeMismatches(diffs)}`,
    });
    await model.release();
  } catch (e) {
    checks.push({ name: 'model', ok: false, detail: isTosiaError(e) ? `${e.code}: ${e.message}` : String(e) });
  }
  return { ok: checks.every((c) => c.ok), checks };
}

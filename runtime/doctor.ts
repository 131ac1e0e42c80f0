import { isTosiaError } from '../algos/errors.js';
import type { Config } from './config/schema.js';
import { ffmpegVersion, ffmpegYear, isOldFfmpeg, OLD_FFMPEG_ADVICE } from './decode/ffmpeg-age.js';
import { ffmpegCandidates, NEEDS_FFMPEG, NO_FFMPEG_FIX, NoFfmpegError, resolveFfmpeg } from './decode/ffmpeg-path.js';
import { compareWithConfig, describeMismatches } from './model/manifest.js';
import { Model } from './model/model.js';
import { cudaProviderInstalled, NATIVE_INSTALL_HINT, nativeEngine, wasmEngine } from './model/onnx-engines.js';
import { modelPathFor, tosiaVersion } from './paths.js';

export interface DoctorCheck { name: string; ok: boolean; detail: string; /** Works, but should be looked at. */ warning?: boolean }
export interface DoctorReport { ok: boolean; checks: DoctorCheck[] }

/** Check the environment: Node, ffmpeg, onnxruntime and its providers, the model and its manifest. */
export async function doctor(cfg: Config): Promise<DoctorReport> {
  const checks: DoctorCheck[] = [];
  checks.push({ name: 'tosia', ok: true, detail: tosiaVersion() });
  const major = Number(process.versions.node.split('.')[0]);
  const supported = major >= 24 || (major === 22 && Number(process.versions.node.split('.')[1]) >= 12);
  checks.push({ name: 'node', ok: supported, detail: `${process.version} (${process.platform}-${process.arch})${supported ? '' : ': tosia needs Node 22.12 or newer (24 is the reference)'}` });
  try {
    const ff = resolveFfmpeg(cfg.audio.ffmpeg_path);
    // every ffmpeg tosia could find, the one in use first: each one's build year
    const all = [ff, ...ffmpegCandidates(cfg.audio.ffmpeg_path).filter((c) => c.path !== ff.path)];
    for (const [i, c] of all.entries()) {
      const v = await ffmpegVersion(c.path).catch((e: Error) => `cannot run: ${e.message}`);
      const built = ffmpegYear(v);
      const old = isOldFfmpeg(built);
      const label = `${c.path} (found by: ${c.source}${i === 0 ? ', in use' : ', not used'}) ${v}${built ? `; built in ${built}` : ''}`;
      checks.push({
        name: i === 0 ? 'ffmpeg' : 'ffmpeg (other)', ok: true, warning: i === 0 && old,
        detail: i === 0 && old ? `${label}. Warning: this ffmpeg is more than two years old and ${OLD_FFMPEG_ADVICE}` : label,
      });
    }
  } catch (e) {
    // none at all is a warning: the formats most recordings come in decode without one
    const none = e instanceof NoFfmpegError;
    checks.push(none
      ? { name: 'ffmpeg', ok: true, warning: true, detail: `none found (tried ffmpeg-static, @ffmpeg-installer/ffmpeg and PATH). Warning: ${NEEDS_FFMPEG}: ${NO_FFMPEG_FIX}` }
      : { name: 'ffmpeg', ok: false, detail: (e as Error).message });
  }
  // the engines: onnxruntime-node when installed (native CPU, and CUDA), and the bundled WebAssembly one
  try {
    const native = await nativeEngine();
    if (native) {
      const backends = (native.ort as unknown as { listSupportedBackends(): { name: string }[] }).listSupportedBackends()
        .map((b) => (b.name === 'cuda' ? `cuda (${cudaProviderInstalled() ? 'installed' : 'not installed'})` : b.name)).filter((b) => !b.startsWith('tensorrt'));
      checks.push({ name: 'onnxruntime', ok: true, detail: `onnxruntime-node ${native.version}; providers: ${backends.join(', ')}` });
    } else {
      checks.push({ name: 'onnxruntime', ok: true, detail: `onnxruntime-node is not installed: models run on the bundled WebAssembly engine (slower; BENCHMARKS.md). For native CPU or CUDA, ${NATIVE_INSTALL_HINT}` });
    }
  } catch (e) {
    checks.push({ name: 'onnxruntime', ok: cfg.classifier.device !== 'cuda', warning: true, detail: `${(e as Error).message}; the bundled WebAssembly engine runs models instead` });
  }
  try {
    const wasm = await wasmEngine();
    checks.push({ name: 'wasm engine', ok: true, detail: `onnxruntime-web ${wasm.version}, bundled: --device wasm${cfg.classifier.device === 'wasm' ? ' (in use)' : ''}` });
  } catch (e) {
    checks.push({ name: 'wasm engine', ok: false, detail: (e as Error).message });
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

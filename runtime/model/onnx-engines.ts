import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { TosiaError } from '../../algos/errors.js';
import { packageRoot } from '../paths.js';

/**
 * The two ONNX engines tosia runs a model on, behind onnxruntime-common's one API:
 * - onnxruntime-node (native; CPU and CUDA): an optional peer dependency. It is the fastest on CPU
 *   (BENCHMARKS.md: 0.028 ms a segment against 0.13, and a session in 68 ms against 570), but
 *   its package is 300 MB and its install script downloads CUDA from outside the npm registry, so
 *   a plain `npm i tosia` does not install it.
 * - onnxruntime-web's WebAssembly build, bundled in dist/vendor (15 MB): what runs when
 *   onnxruntime-node is absent, on any platform Node runs on.
 * This module is the only one that loads either; each is loaded once, on first use.
 */
export type Ort = typeof import('onnxruntime-common');
export interface OnnxEngine {
  readonly name: 'onnxruntime-node' | 'onnxruntime-web';
  readonly version: string;
  readonly ort: Ort;
}

/** Where `npm run build` copies onnxruntime-web's Node entry and its WebAssembly (scripts in package.json). */
export const WASM_ENGINE_DIR = 'dist/vendor/onnxruntime-web';

export const NATIVE_INSTALL_HINT =
  'install it beside tosia without its CUDA download: `ONNXRUNTIME_NODE_INSTALL=skip npm i onnxruntime-node`; ' +
  'or use --device wasm';

let nativePromise: Promise<OnnxEngine | null> | undefined;
let wasmPromise: Promise<OnnxEngine> | undefined;

/** onnxruntime-node, or null when it is not installed. Installed but unloadable is an E_MODEL. */
export function nativeEngine(): Promise<OnnxEngine | null> {
  nativePromise ??= (async () => {
    const req = createRequire(join(packageRoot(), 'package.json'));
    let pkgJson: string;
    try {
      pkgJson = req.resolve('onnxruntime-node/package.json');
    } catch {
      // not installed: the caller falls back to (or asks for) the bundled WebAssembly engine
      return null;
    }
    try {
      const ort = (await import(pathToFileURL(req.resolve('onnxruntime-node')).href)) as Ort;
      return { name: 'onnxruntime-node', version: (req(pkgJson) as { version: string }).version, ort };
    } catch (e) {
      throw new TosiaError('E_MODEL', `onnxruntime-node is installed (${dirname(pkgJson)}) but cannot load: ${(e as Error).message.split('\n')[0]}`, {
        stage: 'model', hint: 'reinstall it for this platform and Node version, or use --device wasm', cause: e,
      });
    }
  })();
  return nativePromise;
}

/** The bundled onnxruntime-web (WebAssembly, SIMD), on one thread: callers scale with worker threads. */
export function wasmEngine(): Promise<OnnxEngine> {
  wasmPromise ??= (async () => {
    const entry = join(packageRoot(), WASM_ENGINE_DIR, 'ort.node.min.mjs');
    if (!existsSync(entry)) {
      throw new TosiaError('E_MODEL', `the bundled WebAssembly engine is missing (${entry})`, {
        stage: 'model', hint: 'rebuild tosia (npm run build copies it from onnxruntime-web), or install onnxruntime-node',
      });
    }
    const ort = (await import(pathToFileURL(entry).href)) as Ort;
    ort.env.wasm.numThreads = 1;
    const { version } = JSON.parse(readFileSync(join(dirname(entry), 'package.json'), 'utf8')) as { version: string };
    return { name: 'onnxruntime-web', version, ort };
  })();
  return wasmPromise;
}

/** Whether onnxruntime-node's CUDA provider library has been installed beside its binding. */
export function cudaProviderInstalled(): boolean {
  try {
    const req = createRequire(join(packageRoot(), 'package.json'));
    const root = dirname(req.resolve('onnxruntime-node/package.json'));
    return existsSync(join(root, 'bin', 'napi-v6', process.platform, process.arch, 'libonnxruntime_providers_cuda.so'));
  } catch {
    // onnxruntime-node not resolvable: then no CUDA provider is installed either, which is the answer
    return false;
  }
}

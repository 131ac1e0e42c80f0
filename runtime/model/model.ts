import { sha256Hex } from '../io/sha256.js';
import { readFile } from 'node:fs/promises';
import { TosiaError } from '../../algos/errors.js';
import { checkManifest, inputSize, MANIFEST_METADATA_KEY, type ModelManifest } from './manifest.js';
import { readOnnxMetadata } from './onnx-metadata.js';
import { cudaProviderInstalled, nativeEngine, wasmEngine, type OnnxEngine, type Ort } from './onnx-engines.js';

/** Where a model runs: auto (CUDA, else onnxruntime-node's CPU, else WebAssembly), cpu (native when installed, else WebAssembly), cuda, or wasm. */
export type Device = 'auto' | 'cpu' | 'cuda' | 'wasm';

export const CUDA_INSTALL_HINT =
  "install onnxruntime-node and its CUDA provider: on Linux x64 with an NVIDIA driver, CUDA 12 and cuDNN 9, run " +
  '`ONNXRUNTIME_NODE_INSTALL=cuda12 npm i onnxruntime-node` where tosia is installed, ' +
  'then check with `tosia doctor --device cuda`; or use --device cpu';

/**
 * What the pipeline needs of a model: its manifest and identity, and a batch run. A loaded
 * `Model` is one; a batch's shared inference thread is reached through another.
 */
export interface Classifier {
  readonly path: string;
  readonly manifest: ModelManifest;
  readonly sha256: string;
  readonly executionProvider: string;
  run(data: Float32Array, dims: readonly number[]): Promise<Float32Array>;
}

/** A loaded ONNX model: its manifest, its session and the provider it actually runs on. */
export class Model implements Classifier {
  private constructor(
    readonly path: string,
    readonly manifest: ModelManifest,
    readonly sha256: string,
    readonly executionProvider: string,
    private readonly session: import('onnxruntime-common').InferenceSession,
    private readonly ort: Ort,
  ) {}

  /** The graph's inputs and outputs as onnxruntime reports them (names, dtypes, shapes). */
  get io(): { inputs: readonly import('onnxruntime-common').InferenceSession.ValueMetadata[]; outputs: readonly import('onnxruntime-common').InferenceSession.ValueMetadata[] } {
    return { inputs: this.session.inputMetadata, outputs: this.session.outputMetadata };
  }

  get inputSize(): { height: number; width: number } {
    return inputSize(this.manifest);
  }

  /** Load `path` and its manifest (the .json beside it, else the ONNX metadata). */
  /**
   * @param options.threads onnxruntime's intra-op threads; default: its own (all cores). Batch
   *   workers pass 1, since the workers themselves already use every core.
   */
  static async load(path: string, options: { device?: Device; threads?: number } = {}): Promise<Model> {
    const device = options.device ?? 'auto';
    const bytes = await readModelBytes(path);
    const manifest = await readManifest(path, bytes);
    const { session, provider, engine } = await createSession(path, bytes, device, options.threads);
    checkSessionAgainstManifest(session, manifest, path);
    const sha256 = sha256Hex(bytes);
    return new Model(path, manifest, sha256, provider, session, engine.ort);
  }

  /**
   * Run a float32 batch and return the raw outputs, rows of `labels.length`.
   * All segments of a recording go in one call.
   */
  async run(data: Float32Array, dims: readonly number[]): Promise<Float32Array> {
    const m = this.manifest;
    const feeds = { [m.input.name]: new this.ort.Tensor('float32', data, dims) };
    let out;
    try {
      out = await this.session.run(feeds);
    } catch (e) {
      throw new TosiaError('E_MODEL', `inference failed for input ${JSON.stringify(dims)}: ${(e as Error).message}`, {
        file: this.path, stage: 'classify', hint: "check that the model's input matches its manifest", cause: e,
      });
    }
    const t = out[m.output.name];
    if (!t) throw new TosiaError('E_MODEL', `model produced no output named '${m.output.name}'`, { file: this.path, stage: 'classify' });
    const expected = dims[0]! * m.labels.length;
    if (t.data.length !== expected) {
      throw new TosiaError('E_MODEL', `model output '${m.output.name}' has ${t.data.length} values for ${dims[0]} segments, but the manifest lists ${m.labels.length} labels (expected ${expected})`, {
        file: this.path, stage: 'classify', hint: 'the manifest labels must match the size of the output layer',
      });
    }
    return t.data as Float32Array;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

async function readModelBytes(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new TosiaError('E_MODEL', code === 'ENOENT' ? 'model file does not exist' : `model file cannot be read (${code})`, {
      file: path, stage: 'model', hint: 'pass an existing .onnx file to --model / classifier.model, or omit it to use the bundled demo model', cause: e,
    });
  }
}

/**
 * A model file's manifest and sha256, without loading it into onnxruntime: what a server that
 * serves several models lists, and names records by, before any thread has loaded them.
 */
export async function describeModel(path: string): Promise<{ manifest: ModelManifest; sha256: string }> {
  const bytes = await readModelBytes(path);
  return { manifest: await readManifest(path, bytes), sha256: sha256Hex(bytes) };
}

async function readManifest(path: string, bytes: Buffer): Promise<ModelManifest> {
  const sidecar = path.replace(/\.onnx$/i, '') + '.json';
  let fromSidecar: unknown;
  try {
    fromSidecar = JSON.parse(await readFile(sidecar, 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new TosiaError('E_MODEL', `manifest is not valid JSON: ${(e as Error).message}`, { file: sidecar, stage: 'model', hint: 'restore the manifest written with the model' });
    }
  }
  let meta: Record<string, string> = {};
  try {
    meta = readOnnxMetadata(bytes);
  } catch (e) {
    throw new TosiaError('E_MODEL', `is not a valid ONNX file (${(e as Error).message})`, { file: path, stage: 'model', hint: 'the file is corrupt or not an ONNX model; restore it or re-export it' });
  }
  const embedded = meta[MANIFEST_METADATA_KEY];
  if (fromSidecar === undefined && embedded === undefined) {
    throw new TosiaError('E_MODEL', `has no manifest: neither ${sidecar} nor ONNX metadata '${MANIFEST_METADATA_KEY}'`, {
      file: path, stage: 'model', hint: 'export the model with the tosia training script, which writes both',
    });
  }
  return checkManifest(fromSidecar ?? JSON.parse(embedded!), fromSidecar !== undefined ? sidecar : `${path} (metadata)`);
}

async function createSession(path: string, bytes: Buffer, device: Device, threads?: number) {
  const corrupt = (e: unknown) => new TosiaError('E_MODEL', `onnxruntime cannot load it: ${(e as Error).message.split('\n')[0]}`, {
    file: path, stage: 'model', hint: 'the file is corrupt or not an ONNX model; restore it or re-export it', cause: e,
  });
  // severity 4 (fatal only): a failed CUDA probe is reported by us, not as a raw native log line
  const make = (engine: OnnxEngine, providers: string[]) => {
    engine.ort.env.logLevel = 'fatal';
    return engine.ort.InferenceSession.create(bytes, {
      executionProviders: providers, graphOptimizationLevel: 'all', logSeverityLevel: 4,
      ...(threads && engine.name === 'onnxruntime-node' ? { intraOpNumThreads: threads, interOpNumThreads: 1 } : {}),
    });
  };
  const native = device === 'wasm' ? null : await nativeEngine().catch((e: TosiaError) => {
    // installed but broken: an error when it was asked for by name, else the bundled engine runs
    if (device === 'cuda') throw Object.assign(e, { file: path });
    return null;
  });
  if (device === 'cuda' && !native) {
    throw new TosiaError('E_MODEL', 'classifier.device=cuda needs onnxruntime-node, which is not installed', { file: path, stage: 'model', hint: CUDA_INSTALL_HINT });
  }
  if (native && (device === 'cuda' || (device === 'auto' && cudaProviderInstalled()))) {
    try {
      return { session: await make(native, ['cuda']), provider: 'cuda', engine: native };
    } catch (e) {
      if (device === 'cuda') {
        throw new TosiaError('E_MODEL', `classifier.device=cuda but the CUDA execution provider is not available (${(e as Error).message.split('\n')[0]})`, {
          file: path, stage: 'model', hint: CUDA_INSTALL_HINT, cause: e,
        });
      }
    }
  }
  const engine = native ?? await wasmEngine();
  try {
    return { session: await make(engine, [native ? 'cpu' : 'wasm']), provider: native ? 'cpu' : 'wasm', engine };
  } catch (e) {
    throw corrupt(e);
  }
}

function checkSessionAgainstManifest(session: import('onnxruntime-common').InferenceSession, m: ModelManifest, path: string): void {
  const problems: string[] = [];
  if (!session.inputNames.includes(m.input.name)) problems.push(`input '${m.input.name}' not found (model inputs: ${session.inputNames.join(', ')})`);
  if (!session.outputNames.includes(m.output.name)) problems.push(`output '${m.output.name}' not found (model outputs: ${session.outputNames.join(', ')})`);
  const meta = session.inputMetadata?.find((x) => x.name === m.input.name);
  if (meta && meta.isTensor) {
    if (meta.type !== m.input.dtype) problems.push(`input dtype is ${meta.type}, manifest says ${m.input.dtype}`);
    const shape = meta.shape;
    if (shape.length !== m.input.shape.length) problems.push(`input has ${shape.length} dims ${JSON.stringify(shape)}, manifest says ${JSON.stringify(m.input.shape)}`);
    else shape.forEach((d, i) => {
      const want = m.input.shape[i];
      if (typeof d === 'number' && d > 0 && typeof want === 'number' && d !== want) problems.push(`input dim ${i} is ${d}, manifest says ${want}`);
    });
  }
  const outMeta = session.outputMetadata?.find((x) => x.name === m.output.name);
  if (outMeta && outMeta.isTensor) {
    const last = outMeta.shape[outMeta.shape.length - 1];
    if (typeof last === 'number' && last > 0 && last !== m.labels.length) problems.push(`output has ${last} classes but the manifest lists ${m.labels.length} labels (${m.labels.join(', ')})`);
  }
  if (problems.length > 0) {
    throw new TosiaError('E_MODEL', `model does not match its manifest: ${problems.join('; ')}`, { file: path, stage: 'model', hint: 'use the manifest exported with this model' });
  }
}

import { sha256Hex } from '../io/sha256.js';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { TosiaError } from '../../algos/errors.js';
import { checkManifest, inputSize, MANIFEST_METADATA_KEY, type ModelManifest } from './manifest.js';
import { readOnnxMetadata } from './onnx-metadata.js';

// The only module that imports onnxruntime-node; it is loaded lazily, on the first model load.
type Ort = typeof import('onnxruntime-node');
let ortPromise: Promise<Ort> | undefined;
function loadOrt(): Promise<Ort> {
  ortPromise ??= import('onnxruntime-node');
  return ortPromise;
}

export type Device = 'auto' | 'cpu' | 'cuda';

export const CUDA_INSTALL_HINT =
  "install onnxruntime-node's CUDA provider: on Linux x64 with an NVIDIA driver, CUDA 12 and cuDNN 9, run " +
  '`ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js` in the tosia folder, ' +
  'then check with `tosia doctor --device cuda`; or use --device cpu';

/** Whether onnxruntime-node's CUDA provider library has been installed beside its binding. */
export function cudaProviderInstalled(): boolean {
  try {
    const req = createRequire(import.meta.url);
    const root = dirname(req.resolve('onnxruntime-node/package.json'));
    return existsSync(join(root, 'bin', 'napi-v6', process.platform, process.arch, 'libonnxruntime_providers_cuda.so'));
  } catch {
    // onnxruntime-node not resolvable: then no CUDA provider is installed either, which is the answer
    return false;
  }
}

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
    private readonly session: import('onnxruntime-node').InferenceSession,
    private readonly ort: Ort,
  ) {}

  /** The graph's inputs and outputs as onnxruntime reports them (names, dtypes, shapes). */
  get io(): { inputs: readonly import('onnxruntime-node').InferenceSession.ValueMetadata[]; outputs: readonly import('onnxruntime-node').InferenceSession.ValueMetadata[] } {
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
    const ort = await loadOrt();
    const { session, provider } = await createSession(ort, path, bytes, device, options.threads);
    checkSessionAgainstManifest(session, manifest, path);
    const sha256 = sha256Hex(bytes);
    return new Model(path, manifest, sha256, provider, session, ort);
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

async function createSession(ort: Ort, path: string, bytes: Buffer, device: Device, threads?: number) {
  const cudaInstalled = cudaProviderInstalled();
  // severity 4 (fatal only): a failed CUDA probe is reported by us, not as a raw native log line
  const make = (providers: string[]) => ort.InferenceSession.create(bytes, {
    executionProviders: providers, graphOptimizationLevel: 'all', logSeverityLevel: 4,
    ...(threads ? { intraOpNumThreads: threads, interOpNumThreads: 1 } : {}),
  });
  ort.env.logLevel = 'fatal';
  const corrupt = (e: unknown) => new TosiaError('E_MODEL', `onnxruntime cannot load it: ${(e as Error).message.split('\n')[0]}`, {
    file: path, stage: 'model', hint: 'the file is corrupt or not an ONNX model; restore it or re-export it', cause: e,
  });
  if (device === 'cuda' || (device === 'auto' && cudaInstalled)) {
    try {
      return { session: await make(['cuda']), provider: 'cuda' };
    } catch (e) {
      if (device === 'cuda') {
        throw new TosiaError('E_MODEL', `classifier.device=cuda but the CUDA execution provider is not available (${(e as Error).message.split('\n')[0]})`, {
          file: path, stage: 'model', hint: CUDA_INSTALL_HINT, cause: e,
        });
      }
    }
  }
  try {
    return { session: await make(['cpu']), provider: 'cpu' };
  } catch (e) {
    throw corrupt(e);
  }
}

function checkSessionAgainstManifest(session: import('onnxruntime-node').InferenceSession, m: ModelManifest, path: string): void {
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

import { Resampler } from '../../algos/audio/resample.js';
import type { RealFftFactory } from '../../algos/fft/kernel.js';
import { MelPlan } from '../../algos/melspec/melspectrogram.js';
import type { MelOptions } from '../../algos/melspec/options.js';
import type { Config } from '../config/schema.js';
import { loadPffft } from '../dsp/pffft.js';
import { Model, type Device } from '../model/model.js';
import { modelPathFor } from '../paths.js';

export interface EngineOptions {
  /**
   * Read inputs with blocking calls. A thread that runs one recording at a time and has its own
   * core (a batch worker) sets it: a blocking read of a small file costs less than the trips
   * through libuv's thread pool. Default false.
   */
  blockingReads?: boolean;
  /** Model sessions kept at once (path × device × threads); the least recently used is released. Default 4. */
  maxModels?: number;
  /** Mel plans and resamplers kept at once, each. Default 16. */
  maxPlans?: number;
}

/** A map that forgets its least recently used entry beyond `limit`. */
class Lru<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly limit: number, private readonly onEvict: (v: V) => void = () => undefined) {}

  get(key: string, make: () => V): V {
    const hit = this.map.get(key);
    if (hit !== undefined) {
      this.map.delete(key);
      this.map.set(key, hit);
      return hit;
    }
    const v = make();
    this.map.set(key, v);
    if (this.map.size > this.limit) {
      const [oldest, old] = this.map.entries().next().value as [string, V];
      this.map.delete(oldest);
      this.onEvict(old);
    }
    return v;
  }

  delete(key: string): void {
    this.map.delete(key);
  }

  values(): V[] {
    return [...this.map.values()];
  }

  clear(): void {
    this.map.clear();
  }
}

/**
 * What running recordings keeps between them: model sessions, mel plans, resamplers and the FFT
 * backend. One Engine serves a notebook, a batch worker thread or a server, and its caches are
 * bounded, so a long-running process does not grow with the configs and models it has seen.
 * `close()` releases the model sessions; the engine can still be used afterwards and loads what
 * it needs again.
 */
export class Engine {
  readonly blockingReads: boolean;
  private readonly models: Lru<Promise<Model>>;
  private readonly plans: Lru<MelPlan>;
  private readonly resamplers: Lru<Promise<Resampler>>;

  constructor(options: EngineOptions = {}) {
    this.blockingReads = options.blockingReads ?? false;
    const release = (m: Promise<Model>) => void m.then((x) => x.release()).catch(() => undefined);
    this.models = new Lru(options.maxModels ?? 4, release);
    this.plans = new Lru(options.maxPlans ?? 16);
    this.resamplers = new Lru(options.maxPlans ?? 16);
  }

  /** A model session, loaded once per path, device and thread count. */
  model(path: string, options: { device?: Device; threads?: number } = {}): Promise<Model> {
    const device = options.device ?? 'auto';
    const key = `${device}\0${options.threads ?? 0}\0${path}`;
    return this.models.get(key, () => {
      const p = Model.load(path, { device, threads: options.threads });
      // a failed load is not kept: the next call tries again (the file may have been fixed)
      p.catch(() => this.models.delete(key));
      return p;
    });
  }

  /** The model a config names (the bundled demo model by default) on the config's device. */
  modelFor(cfg: Config, options: { threads?: number } = {}): Promise<Model> {
    return this.model(modelPathFor(cfg), { device: cfg.classifier.device, threads: options.threads });
  }

  /** The fast FFT backend (PFFFT, WASM SIMD), or undefined where WASM is unavailable. */
  fft(): Promise<RealFftFactory | undefined> {
    return loadPffft();
  }

  /** A mel plan for these options and FFT backend, built once. */
  melPlan(options: MelOptions, fft?: RealFftFactory): MelPlan {
    return this.plans.get(`${fft ? 'fast' : 'ts'}:${JSON.stringify(options)}`, () => new MelPlan(options, fft));
  }

  /** A resampler between two rates, built once (its filter design is the costly part). */
  resampler(from: number, to: number): Promise<Resampler> {
    return this.resamplers.get(`${from}:${to}`, () => loadPffft().then((fft) => new Resampler(from, to, {}, fft)));
  }

  /** Release every model session and forget every plan. */
  async close(): Promise<void> {
    const models = this.models.values();
    this.models.clear();
    this.plans.clear();
    this.resamplers.clear();
    await Promise.all(models.map((m) => m.then((x) => x.release()).catch(() => undefined)));
  }
}

let shared: Engine | undefined;

/** The engine used by calls that are not given one (`execute(work)` in a notebook, say). */
export function defaultEngine(): Engine {
  shared ??= new Engine();
  return shared;
}

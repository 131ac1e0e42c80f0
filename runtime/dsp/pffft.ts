import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { RealFftFactory, RealFftKernel } from '../../algos/fft/kernel.js';

const require = createRequire(import.meta.url);

// The WebAssembly API is not in this project's lib (ES2022, no DOM); the part used here:
interface WasmMemory { readonly buffer: ArrayBuffer; grow(pages: number): number }
interface WasmModule { readonly __brand?: 'module' }
declare const WebAssembly: {
  Module: { new (bytes: Uint8Array): WasmModule; imports(m: WasmModule): { module: string; name: string }[] };
  Instance: new (m: WasmModule, imports: Record<string, Record<string, unknown>>) => { exports: Record<string, unknown> };
};

/**
 * PFFFT (WASM SIMD build from @echogarden/pffft-wasm) as an FFT kernel for the mel plan.
 * Real transforms need n_fft a multiple of 32 and of the form 2^a·3^b·5^c; other sizes that are
 * a multiple of 16 use its complex transform on a real input; anything else returns null and
 * the plan uses the TypeScript FFT. PFFFT computes in float32, as librosa's STFT does.
 */
interface PffftModule {
  HEAPF32: Float32Array;
  _pffft_new_setup(n: number, kind: number): number;
  _pffft_transform_ordered(setup: number, input: number, output: number, work: number, direction: number): void;
  _pffft_aligned_malloc(bytes: number): number;
}

const REAL = 0, COMPLEX = 1, FORWARD = 0, BACKWARD = 1;

class PffftKernel implements RealFftKernel {
  readonly name: string;
  private readonly inPtr: number;
  private readonly outPtr: number;
  private readonly workPtr: number;
  private readonly complex: boolean;
  private staged: Float32Array;

  constructor(private readonly m: PffftModule, private readonly setup: number, readonly size: number, complex: boolean, variant: string) {
    this.complex = complex;
    this.name = `pffft-wasm-${variant}${complex ? ' (complex)' : ''}`;
    const floats = complex ? 2 * size : size;
    this.inPtr = m._pffft_aligned_malloc(floats * 4);
    this.outPtr = m._pffft_aligned_malloc(floats * 4);
    this.workPtr = m._pffft_aligned_malloc(floats * 4);
    this.staged = complex ? new Float32Array(size) : new Float32Array(m.HEAPF32.buffer, this.inPtr, size);
    if (!complex) this.inverse = () => m._pffft_transform_ordered(setup, this.outPtr, this.inPtr, this.workPtr, BACKWARD);
  }

  readonly inverse?: () => void;

  /** The frame buffer. For real transforms it lives in WASM memory, so writing it costs no copy. */
  get input(): Float32Array {
    // a later allocation can grow WASM memory and detach old views
    if (!this.complex && this.staged.buffer !== this.m.HEAPF32.buffer) this.staged = new Float32Array(this.m.HEAPF32.buffer, this.inPtr, this.size);
    return this.staged;
  }

  get spectrum(): Float32Array {
    return this.m.HEAPF32;
  }

  get spectrumOffset(): number {
    return this.outPtr >> 2;
  }

  transform(): void {
    const heap = this.m.HEAPF32;
    if (this.complex) {
      const base = this.inPtr >> 2, n = this.size;
      for (let i = 0; i < n; i++) { heap[base + 2 * i] = this.staged[i]!; heap[base + 2 * i + 1] = 0; }
    }
    this.m._pffft_transform_ordered(this.setup, this.inPtr, this.outPtr, this.workPtr, FORWARD);
    // The complex output interleaves bins 0..n-1; bins 1..n/2-1 already sit where the ordered
    // real layout wants them, and slot 1 (the imaginary part of the real bin 0) takes X(n/2).
    if (this.complex) heap[(this.outPtr >> 2) + 1] = heap[(this.outPtr >> 2) + this.size]!;
  }
}

function isSmooth(n: number): boolean {
  for (const p of [2, 3, 5]) while (n % p === 0) n /= p;
  return n === 1;
}

/** A kernel factory over one PFFFT instance: one kernel per size for the whole thread. */
function factoryOf(m: PffftModule, variant: string): RealFftFactory {
  // its buffers live in WASM memory, which is never freed, and every user (mel plan, segmenter,
  // resampler) runs a transform and reads its result synchronously, so sharing cannot interleave
  const kernels = new Map<number, PffftKernel | null>();
  return (size) => {
    if (kernels.has(size)) return kernels.get(size)!;
    let kernel: PffftKernel | null = null;
    const complex = size % 32 !== 0;
    if (size % 2 === 0 && isSmooth(size) && (!complex || size % 16 === 0)) {
      const setup = m._pffft_new_setup(size, complex ? COMPLEX : REAL);
      if (setup) kernel = new PffftKernel(m, setup, size, complex, variant);
    }
    kernels.set(size, kernel);
    return kernel;
  };
}

const BUILDS = [['simd', '@echogarden/pffft-wasm/simd'], ['scalar', '@echogarden/pffft-wasm']] as const;

/**
 * Instantiate a PFFFT build synchronously: the package's Emscripten glue only loads
 * asynchronously, but the module needs just three imports (an assertion, memcpy and heap
 * growth). The export names are read from the glue, so a rebuilt package still loads; if its
 * shape ever changes, this returns null and the asynchronous glue is used instead.
 */
function instantiateSync(spec: string): PffftModule | null {
  try {
    const glueFile = require.resolve(spec);
    const glue = readFileSync(glueFile, 'utf8');
    const exportOf = new Map<string, string>();
    for (const m of glue.matchAll(/var (_\w+)=Module\["\1"\]=[^;]*?wasmExports\["(\w+)"\]/g)) exportOf.set(m[1]!, m[2]!);
    const memoryName = /wasmMemory=wasmExports\["(\w+)"\]/.exec(glue)?.[1];
    const initName = /addOnInit\(wasmExports\["(\w+)"\]\)/.exec(glue)?.[1];
    const importsText = /var wasmImports=\{([^}]*)\}/.exec(glue)?.[1];
    if (!memoryName || !importsText) return null;
    let memory: WasmMemory | null = null;
    const impl: Record<string, (...a: number[]) => number | void> = {
      ___assert_fail: () => { throw new Error('PFFFT assertion failed'); },
      __emscripten_memcpy_js: (dest, src, num) => { new Uint8Array(memory!.buffer).copyWithin(dest!, src!, src! + num!); },
      _emscripten_resize_heap: (size) => {
        const grow = Math.ceil((size! - memory!.buffer.byteLength) / 65536);
        // emscripten's contract: 0 means the heap could not grow, and the WASM code reports it
        try { memory!.grow(Math.max(grow, 0)); return 1; } catch { return 0; }
      },
    };
    const env: Record<string, unknown> = {};
    for (const pair of importsText.split(',')) {
      const [key, name] = pair.split(':');
      if (!key || !name || !impl[name]) return null;
      env[key] = impl[name];
    }
    const mod = new WebAssembly.Module(readFileSync(join(dirname(glueFile), 'pffft.wasm')));
    const moduleName = WebAssembly.Module.imports(mod)[0]?.module ?? 'a';
    const exports = new WebAssembly.Instance(mod, { [moduleName]: env }).exports;
    memory = exports[memoryName] as WasmMemory;
    const fn = (name: string) => {
      const f = exports[exportOf.get(name) ?? ''];
      if (typeof f !== 'function') throw new Error(`PFFFT export ${name} not found`);
      return f as (...a: number[]) => number;
    };
    if (initName) (exports[initName] as () => void)();
    let heap = new Float32Array(memory.buffer);
    return {
      // a later allocation can grow the memory and detach old views
      get HEAPF32() { if (heap.buffer !== memory!.buffer) heap = new Float32Array(memory!.buffer); return heap; },
      _pffft_new_setup: fn('_pffft_new_setup'),
      _pffft_transform_ordered: fn('_pffft_transform_ordered'),
      _pffft_aligned_malloc: fn('_pffft_aligned_malloc'),
    };
  } catch {
    // this build does not instantiate here: null makes the caller try the next build, then the TypeScript FFT
    return null;
  }
}

let synchronous: RealFftFactory | null | undefined;

/**
 * PFFFT, loaded synchronously on first call (a few milliseconds, once per thread), or undefined
 * where it cannot be: callers then run the TypeScript FFT.
 */
export function loadPffftSync(): RealFftFactory | undefined {
  if (synchronous === undefined) {
    synchronous = null;
    for (const [variant, spec] of BUILDS) {
      const m = instantiateSync(spec);
      if (m) { synchronous = factoryOf(m, variant); break; }
    }
  }
  return synchronous ?? undefined;
}

let loading: Promise<RealFftFactory | undefined> | undefined;

/**
 * Load PFFFT once per process (SIMD build, else the plain one) and return a kernel factory, or
 * undefined when WASM is unavailable; callers then run the TypeScript FFT.
 */
export function loadPffft(): Promise<RealFftFactory | undefined> {
  loading ??= (async () => {
    const sync = loadPffftSync();
    if (sync) return sync;
    for (const [variant, spec] of BUILDS) {
      try {
        const mod = (await import(spec)) as { default: () => Promise<PffftModule> };
        return factoryOf(await mod.default(), variant);
      } catch {
        // try the next build
      }
    }
    return undefined;
  })();
  return loading;
}

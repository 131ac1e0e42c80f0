import { beforeAll, describe, expect, it } from 'vitest';
import { MelPlan, Resampler, type RealFftFactory } from '../../algos/index.js';
import { loadPffft, loadPffftSync } from '../../runtime/dsp/pffft.js';
import { describeLibrosaCases } from '../helpers/librosa.js';

let fft: RealFftFactory | undefined;
beforeAll(async () => { fft = await loadPffft(); });

describe('PFFFT backend', () => {
  it('loads its WASM build', () => expect(fft).toBeTypeOf('function'));

  it.each([
    [2048, /pffft-wasm/], [512, /pffft-wasm/], [960, /pffft-wasm/], [400, /pffft-wasm.*complex/], [17, /typescript/], [100, /typescript/],
  ] as const)('n_fft=%i runs on %s and agrees with the TypeScript FFT', (nFft, name) => {
    const x = new Float32Array(8 * nFft);
    let s = 3;
    for (let i = 0; i < x.length; i++) { s = (s * 16807) % 2147483647; x[i] = s / 2147483647 - 0.5; }
    const opts = { sampleRate: 16000, nFft, hopLength: Math.max(1, nFft >> 2), nMels: 16 };
    const fast = new MelPlan(opts, fft);
    expect(fast.fftName).toMatch(name);
    const a = fast.run(x).data;
    const b = new MelPlan(opts).run(x).data;
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThanOrEqual(1e-4 * Math.max(1e-6, b[i]!));
  });
});

describe('integer decimation as fast convolution on PFFFT', () => {
  it.each([16000, 24000, 48000, 96000])('%i Hz -> 8 kHz equals the direct windowed-sinc sum, for every length', (from) => {
    const direct = new Resampler(from, 8000), fast = new Resampler(from, 8000, {}, fft);
    for (const n of [1, 7, 150, 303, 1000, 4097, 48000, 100003]) {
      const x = new Float32Array(n);
      let s = 11;
      for (let i = 0; i < n; i++) { s = (s * 16807) % 2147483647; x[i] = s / 2147483647 - 0.5 + 0.3 * Math.sin(i / 7); }
      const a = direct.run(x), b = fast.run(x);
      expect(b.length).toBe(a.length);
      let err = 0, peak = 0;
      for (let i = 0; i < a.length; i++) { err = Math.max(err, Math.abs(a[i]! - b[i]!)); peak = Math.max(peak, Math.abs(a[i]!)); }
      expect(err).toBeLessThanOrEqual(1e-5 * Math.max(peak, 1e-3));
    }
  });

  it('is used only where it applies: rational ratios keep the direct sum', () => {
    expect((new Resampler(48000, 8000, {}, fft) as unknown as { decimator: unknown }).decimator).not.toBeNull();
    expect((new Resampler(44100, 8000, {}, fft) as unknown as { decimator: unknown }).decimator).toBeNull();
    expect((new Resampler(48000, 8000) as unknown as { decimator: unknown }).decimator).toBeNull();
  });
});

describe("issue 4's segmentation targets hold on the PFFFT backend, as the pipeline runs it", () => {
  it('F1 at both SNR ranges, and no false segments on babble, hum or silence', async () => {
    const { issue4Figures } = await import('../helpers/issue4.js');
    const fig = issue4Figures(fft);
    expect(fig.f1High).toBeGreaterThanOrEqual(0.95);
    expect(fig.f1Low).toBeGreaterThanOrEqual(0.85);
    for (const k of ['babble', 'hum', 'silence']) expect(fig.falsePerMinute(k)).toBeLessThanOrEqual(1);
  });
});

describeLibrosaCases('librosa 0.11 reference vectors, PFFFT backend', () => fft);

describe('PFFFT loaded synchronously, and the runtime melSpectrogram on it', () => {
  it('the synchronous build is PFFFT SIMD and computes exactly what the asynchronous one does', async () => {
    const sync = loadPffftSync();
    expect(sync?.(2048)?.name).toMatch(/pffft-wasm-simd/);
    const x = new Float32Array(16000);
    let s = 5;
    for (let i = 0; i < x.length; i++) { s = (s * 16807) % 2147483647; x[i] = s / 2147483647 - 0.5; }
    const opts = { sampleRate: 16000, nFft: 2048, hopLength: 512, nMels: 64 };
    expect(new MelPlan(opts, sync).run(x).data).toEqual(new MelPlan(opts, fft).run(x).data);
  });

  it("tosia's melSpectrogram runs on PFFFT with a kept plan, and equals tosia/algos' one within librosa's tolerance", async () => {
    const { melSpectrogram, Engine } = await import('../../runtime/index.js');
    const algos = await import('../../algos/index.js');
    const x = new Float32Array(48000);
    let s = 7;
    for (let i = 0; i < x.length; i++) { s = (s * 16807) % 2147483647; x[i] = s / 2147483647 - 0.5; }
    const engine = new Engine();
    const opts = { sampleRate: 16000, nFft: 2048, hopLength: 512, nMels: 128 };
    const a = melSpectrogram(x, opts, engine);
    expect(engine.melPlan(algos.resolveMelOptions(opts), loadPffftSync()).fftName).toMatch(/pffft/);
    const b = algos.melSpectrogram(x, opts);
    expect([a.nMels, a.nFrames]).toEqual([b.nMels, b.nFrames]);
    for (let i = 0; i < a.data.length; i++) expect(Math.abs(a.data[i]! - b.data[i]!)).toBeLessThanOrEqual(1e-4 * Math.max(1e-6, b.data[i]!));
  });
});

describeLibrosaCases('librosa 0.11 reference vectors, PFFFT loaded synchronously', () => loadPffftSync());

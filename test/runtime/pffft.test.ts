import { beforeAll, describe, expect, it } from 'vitest';
import { MelPlan, type RealFftFactory } from '../../algos/index.js';
import { loadPffft } from '../../runtime/dsp/pffft.js';
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

describeLibrosaCases('librosa 0.11 reference vectors, PFFFT backend', () => fft);

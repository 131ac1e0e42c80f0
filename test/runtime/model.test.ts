import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imagesToTensor, softmax } from '../../algos/index.js';
import { cudaProviderInstalled } from '../../runtime/model/onnx-engines.js';
import { readOnnxMetadata } from '../../runtime/model/onnx-metadata.js';
import { defaultModelPath, Model } from '../../runtime/index.js';

const dir = mkdtempSync(join(tmpdir(), 'tosia-model-'));
const shipped = defaultModelPath();
const manifestOf = () => JSON.parse(readFileSync(shipped.replace(/\.onnx$/, '.json'), 'utf8'));

/** A copy of the shipped model with a manifest edited by `edit` (null: no sidecar). */
function variant(name: string, edit: ((m: Record<string, any>) => void) | null, onnxBytes?: Uint8Array): string {
  const p = join(dir, `${name}.onnx`);
  if (onnxBytes) writeFileSync(p, onnxBytes);
  else copyFileSync(shipped, p);
  if (edit) {
    const m = manifestOf();
    edit(m);
    writeFileSync(join(dir, `${name}.json`), JSON.stringify(m));
  }
  return p;
}

describe('the shipped demo model', () => {
  let model: Model;
  beforeAll(async () => { model = await Model.load(shipped, { device: 'cpu' }); });
  afterAll(async () => { await model.release(); });

  it('takes [batch, 3, 64, 64] float32 and gives [batch, 2] logits', () => {
    const inp = model.io.inputs.find((x) => x.name === 'image')!;
    const out = model.io.outputs.find((x) => x.name === 'logits')!;
    expect(inp).toMatchObject({ isTensor: true, type: 'float32' });
    expect((inp as { shape: unknown[] }).shape.slice(1)).toEqual([3, 64, 64]);
    expect((out as { shape: unknown[] }).shape.slice(1)).toEqual([2]);
    expect(model.executionProvider).toBe('cpu');
    expect(model.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('maps output column c to manifest label c, with covid19 as the positive label', async () => {
    expect(model.manifest.labels).toEqual(['not_covid19', 'covid19']);
    expect(model.manifest.positive_label).toBe('covid19');
    const img = (v: number) => ({ width: 64, height: 64, data: new Uint8Array(64 * 64 * 3).fill(v) });
    const t = imagesToTensor([img(0), img(128), img(255)], { layout: 'NCHW', normalisation: model.manifest.input.normalisation });
    const raw = await model.run(t.data, t.dims);
    expect(raw.length).toBe(3 * 2);
    const p = softmax(raw, 2);
    for (let i = 0; i < 3; i++) expect(p[2 * i]! + p[2 * i + 1]!).toBeCloseTo(1, 5);
  });

  it('runs on the bundled WebAssembly engine with the same scores as onnxruntime-node', async () => {
    const wasm = await Model.load(shipped, { device: 'wasm' });
    expect(wasm.executionProvider).toBe('wasm');
    expect(wasm.sha256).toBe(model.sha256);
    const img = (v: number) => ({ width: 64, height: 64, data: new Uint8Array(64 * 64 * 3).map((_, i) => (i * 7 + v) % 256) });
    const t = imagesToTensor([img(0), img(99), img(200)], { layout: 'NCHW', normalisation: model.manifest.input.normalisation });
    const [a, b] = [await model.run(t.data, t.dims), await wasm.run(t.data, t.dims)];
    expect(b.length).toBe(a.length);
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!), `logit ${i}`).toBeLessThan(1e-4);
    await wasm.release();
  });

  it('embeds the same manifest in its ONNX metadata as in its sidecar', () => {
    const meta = readOnnxMetadata(readFileSync(shipped));
    expect(JSON.parse(meta.tosia_manifest!)).toEqual(manifestOf());
  });

  it('loads from the ONNX metadata alone when the sidecar is missing', async () => {
    const m = await Model.load(variant('no-sidecar', null), { device: 'cpu' });
    expect(m.manifest.labels).toEqual(['not_covid19', 'covid19']);
  });
});

describe('bad models are E_MODEL errors that say what differs', () => {
  const cases: [string, () => string, RegExp][] = [
    ['a missing file', () => join(dir, 'missing.onnx'), /model file does not exist/],
    ['a corrupt ONNX', () => variant('corrupt', (m) => m, new Uint8Array(readFileSync(shipped)).slice(0, 5000)), /not a valid ONNX|cannot load/],
    ['random bytes', () => variant('random', (m) => m, Uint8Array.from({ length: 2000 }, (_, i) => (i * 7919) % 251)), /not a valid ONNX|cannot load/],
    ['a wrong input shape', () => variant('shape', (m) => { m.input.shape = ['batch', 3, 128, 128]; }), /input dim 2 is 64, manifest says 128/],
    ['a wrong input name', () => variant('name', (m) => { m.input.name = 'spectrogram'; }), /input 'spectrogram' not found \(model inputs: image\)/],
    ['a wrong dtype', () => variant('dtype', (m) => { m.input.dtype = 'float16'; }), /input.dtype "float16" must be float32/],
    ['labels that do not match the output size', () => variant('labels', (m) => { m.labels = ['a', 'b', 'covid19']; }), /output has 2 classes but the manifest lists 3 labels/],
  ];
  it.each(cases)('%s', async (_n, path, message) => {
    await expect(Model.load(path(), { device: 'cpu' })).rejects.toMatchObject({ code: 'E_MODEL', message: expect.stringMatching(message) });
  });

  it.skipIf(cudaProviderInstalled())('cuda requested where it is not installed says how to install it', async () => {
    await expect(Model.load(shipped, { device: 'cuda' })).rejects.toMatchObject({
      code: 'E_MODEL', message: expect.stringMatching(/CUDA execution provider is not available.*ONNXRUNTIME_NODE_INSTALL=cuda12 npm i onnxruntime-node/),
    });
  });

  it('auto falls back to CPU where CUDA is not installed', async () => {
    const m = await Model.load(shipped, { device: 'auto' });
    expect(['cpu', 'cuda']).toContain(m.executionProvider);
    if (!cudaProviderInstalled()) expect(m.executionProvider).toBe('cpu');
  });
});

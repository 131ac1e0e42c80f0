import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decode, defaultConfig, defaultModelPath, Engine, execute, runRecording, WorkUnit } from '../../runtime/index.js';
import { bundledSamples } from '../helpers/samples.js';

const samples = bundledSamples();

describe('Engine', () => {
  it('loads a model once per path and device, and close() releases it (a later call loads it again)', async () => {
    const engine = new Engine();
    const a = await engine.model(defaultModelPath(), { device: 'cpu' });
    const b = await engine.model(defaultModelPath(), { device: 'cpu' });
    expect(b).toBe(a);
    await engine.close();
    const c = await engine.model(defaultModelPath(), { device: 'cpu' });
    expect(c).not.toBe(a);
    await engine.close();
  });

  it('keeps a bounded number of mel plans (least recently used go)', () => {
    const engine = new Engine({ maxPlans: 2 });
    const opts = (nMels: number) => ({ sampleRate: 8000, nFft: 512, hopLength: 64, winLength: 512, window: 'hann' as const, center: true, padMode: 'constant' as const, power: 2, nMels, fmin: 0, fmax: null, htk: false, norm: 'slaney' as const });
    const p32 = engine.melPlan(opts(32));
    expect(engine.melPlan(opts(32))).toBe(p32);
    engine.melPlan(opts(40));
    engine.melPlan(opts(48));
    expect(engine.melPlan(opts(32))).not.toBe(p32);
  });

  it('a failed model load is not kept: the next call tries again', async () => {
    const engine = new Engine();
    await expect(engine.model('/nonexistent/model.onnx')).rejects.toMatchObject({ code: 'E_MODEL' });
    await expect(engine.model('/nonexistent/model.onnx')).rejects.toMatchObject({ code: 'E_MODEL' });
  });

  it('execute() on an engine with blocking reads gives the same result as the default engine', async () => {
    const engine = new Engine({ blockingReads: true });
    const cfg = defaultConfig();
    const work = new WorkUnit({ sourceFile: samples[0]!.file, ...cfg });
    const a = await execute(work, { engine });
    const b = await execute(work);
    expect({ ...a, timings_ms: null }).toEqual({ ...b, timings_ms: null });
    await engine.close();
  });
});

describe('decoding from bytes', () => {
  it.each(samples.map((s) => [s.name, s] as const))('%s: bytes decode exactly as the file does, named by the given name', async (_n, s) => {
    const opts = { sampleRate: 8000 };
    const fromFile = await decode({ path: s.file }, opts);
    const fromBytes = await decode({ bytes: readFileSync(s.file), name: 'upload.bin' }, opts);
    expect(fromBytes.samples).toEqual(fromFile.samples);
    expect(fromBytes.source).toEqual({ ...fromFile.source, path: 'upload.bin' });
  });

  it('bytes that only ffmpeg decodes go through a temp file and give the same samples', async () => {
    const s = samples[0]!;
    const fromFile = await decode({ path: s.file }, { sampleRate: 8000, decoder: 'ffmpeg' });
    const fromBytes = await decode({ bytes: readFileSync(s.file), name: 'x.wav' }, { sampleRate: 8000, decoder: 'ffmpeg' });
    expect(fromBytes.samples).toEqual(fromFile.samples);
    expect(fromBytes.source.decoder).toBe('ffmpeg');
  });

  it('empty bytes are E_INPUT naming the upload', async () => {
    await expect(decode({ bytes: new Uint8Array(0), name: 'empty.ogg' }, { sampleRate: 8000 })).rejects.toMatchObject({ code: 'E_INPUT', message: expect.stringMatching(/empty\.ogg.*empty \(0 bytes\)/) });
  });

  it('a WorkUnit with sourceBytes runs the whole pipeline and reports the name', async () => {
    const s = samples.find((x) => x.name === 'coughs-3_snr-25db_white_16k.wav')!;
    const { result, images } = await runRecording(new WorkUnit({ sourceFile: 'call-17.wav', sourceBytes: readFileSync(s.file), ...defaultConfig() }));
    const fromFile = await execute(new WorkUnit({ sourceFile: s.file, ...defaultConfig() }));
    expect(result.source.path).toBe('call-17.wav');
    expect(result.segments).toEqual(fromFile.segments);
    expect(result.segments).toHaveLength(3);
    expect(images).toHaveLength(3);
    expect(images[0]).toMatchObject({ width: 64, height: 64 });
  });
});

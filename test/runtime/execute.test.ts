import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { matchEvents } from '../../algos/index.js';
import { decodeStage, defaultConfig, defaultModelPath, execute, Model, segmentStage, WorkUnit, type Result } from '../../runtime/index.js';
import { bundledSamples } from '../helpers/samples.js';

const samples = bundledSamples();
let model: Model;
beforeAll(async () => { model = await Model.load(defaultModelPath(), { device: 'cpu' }); });

function checkShape(r: Result): void {
  expect(r.schema_version).toBe(1);
  expect(r.source.sha256).toMatch(/^[0-9a-f]{64}$/);
  expect(r.config_sha256).toMatch(/^[0-9a-f]{64}$/);
  expect(r.model).toMatchObject({ name: 'tosia-cough-demo', labels: ['not_covid19', 'covid19'], execution_provider: 'cpu' });
  expect(Object.keys(r.timings_ms).sort()).toEqual(['classify', 'colour', 'decode', 'mel', 'segment', 'total']);
  expect(r.disclaimer).toMatch(/not a medical device/);
  for (const s of r.segments) {
    expect(s.start_s).toBeLessThan(s.end_s);
    expect(s.peak_s).toBeGreaterThanOrEqual(s.start_s);
    expect(s.peak_s).toBeLessThanOrEqual(s.end_s);
    expect(Object.keys(s.features).sort()).toEqual(['duration_s', 'rms', 'spectral_centroid_hz', 'spectral_flatness', 'zcr']);
    expect(s.probabilities.covid19! + s.probabilities.not_covid19!).toBeCloseTo(1, 5);
  }
}

describe('segmentation on every bundled sample matches its ground truth', () => {
  it.each(samples.map((s) => [s.name, s] as const))('%s', async (_n, s) => {
    const cfg = defaultConfig();
    const audio = await decodeStage(s.file, cfg);
    const { segments } = segmentStage(audio, cfg);
    const m = matchEvents(s.truth, segments, { onsetTolerance: 0.1, minOverlap: 0.5 });
    // each true cough matches exactly one segment
    expect(m.truePositives).toBe(s.truth.length);
    // and there are no extra segments, babble background included (the adaptive segmenter)
    expect(m.falsePositives).toBe(0);
  });
});

describe('execute', () => {
  it('finds the bundled formats (wav, mp3 stereo 48k, mp3 8k, ogg/opus)', () => {
    const names = samples.map((s) => s.name);
    expect(names.some((n) => n.endsWith('.wav'))).toBe(true);
    expect(samples.some((s) => s.name.endsWith('.mp3') && s.sampleRate === 48000 && s.channels === 2)).toBe(true);
    expect(samples.some((s) => s.name.endsWith('.mp3') && s.sampleRate === 8000)).toBe(true);
    expect(names.some((n) => n.endsWith('.ogg'))).toBe(true);
  });

  it.each(samples.map((s) => [s.name, s] as const))('%s gives a valid result', async (_n, s) => {
    const r = await execute(new WorkUnit({ sourceFile: s.file, ...defaultConfig() }), { model });
    checkShape(r);
    // Opus always decodes at 48 kHz whatever rate it was encoded from
    expect(r.source.sample_rate).toBe(s.name.endsWith('.ogg') ? 48000 : s.sampleRate);
    expect(r.source.channels).toBe(s.channels);
    expect(r.source.codec).toBe({ ogg: 'opus', oga: 'vorbis', mp3: 'mp3', flac: 'flac', wav: 'pcm_s16le' }[s.name.split('.').pop()!]);
    expect(r.source.decoder).toBe('native');
    if (s.truth.length === 0) {
      expect(r.segments).toEqual([]);
      expect(r.diagnosis).toMatchObject({ label: 'no_cough', score: null, n_segments: 0 });
    } else {
      expect(r.diagnosis.n_segments).toBe(r.segments.length);
      expect(['covid19', 'not_covid19']).toContain(r.diagnosis.label);
      const mean = r.segments.reduce((a, g) => a + g.probabilities.covid19!, 0) / r.segments.length;
      expect(r.diagnosis.score!).toBeCloseTo(mean, 4);
      expect(r.diagnosis.label).toBe(r.diagnosis.score! >= r.diagnosis.threshold ? 'covid19' : 'not_covid19');
    }
  });

  it('loads the model itself when none is given, and writes PNGs on request', async () => {
    const out = mkdtempSync(join(tmpdir(), 'tosia-img-'));
    const s = samples.find((x) => x.truth.length === 3)!;
    const r = await execute(new WorkUnit({ sourceFile: s.file, output: { save_images: out } }));
    checkShape(r);
    expect(readdirSync(out).filter((f) => f.endsWith('.png'))).toHaveLength(r.segments.length);
  });

  it('a config that disagrees with the model manifest is an E_CONFIG listing each difference', async () => {
    const s = samples[0]!;
    const work = new WorkUnit({ sourceFile: s.file, mel_spec: { n_mels: 32, n_fft: 256 } });
    await expect(execute(work, { model })).rejects.toMatchObject({ code: 'E_CONFIG', message: expect.stringMatching(/mel_spec.n_fft: config 256, model 512; mel_spec.n_mels: config 32, model 64/) });
    const allowed = await execute(new WorkUnit({ sourceFile: s.file, mel_spec: { n_mels: 32 }, classifier: { allow_config_mismatch: true } }), { model });
    expect(allowed.warnings.join(' ')).toMatch(/mel_spec.n_mels: config 32, model 64/);
  });

  it('a missing file is E_INPUT and an undecodable one E_DECODE', async () => {
    await expect(execute(new WorkUnit({ sourceFile: '/nonexistent/x.wav' }), { model })).rejects.toMatchObject({ code: 'E_INPUT' });
    await expect(execute(new WorkUnit({ sourceFile: join(__dirname, '../../package.json') }), { model })).rejects.toMatchObject({ code: 'E_DECODE', stage: 'decode' });
  });
});

describe('the legacy segmentation methods', () => {
  it('a result made with adaptive or hysteresis says the method is kept only to reproduce earlier results; the default says nothing', async () => {
    const file = samples[0]!.file;
    const def = await execute(new WorkUnit({ sourceFile: file }), { model });
    expect(def.warnings.join(' ')).not.toMatch(/segmentation.method/);
    for (const method of ['adaptive', 'hysteresis'] as const) {
      const r = await execute(new WorkUnit({ sourceFile: file, segmentation: { method } }), { model });
      expect(r.warnings.join(' ')).toMatch(new RegExp(`segmentation.method=${method} is kept to reproduce earlier results`));
    }
  });
});

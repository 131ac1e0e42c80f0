import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { coughLikeness } from '../../algos/index.js';
import { defaultModelPath, execute, Model, WorkUnit } from '../../runtime/index.js';
import { tosia } from '../helpers/cli.js';
import { bundledSamples } from '../helpers/samples.js';
import { burstySignal, writeWav } from '../helpers/wav.js';

const dir = mkdtempSync(join(tmpdir(), 'tosia-quality-'));
const good = bundledSamples().find((s) => s.truth.length === 3 && s.name.endsWith('.wav'))!;
let model: Model;
beforeAll(async () => { model = await Model.load(defaultModelPath(), { device: 'cpu' }); });
const run = (file: string, extra: Record<string, unknown> = {}) => execute(new WorkUnit({ sourceFile: file, ...extra }), { model });

describe('cough-likeness score', () => {
  const cough = { rms: 0.1, zcr: 0.2, spectralCentroid: 1500, spectralFlatness: 0.3, duration: 0.4 };
  it('is 1 for a typical cough and names the weakest factor otherwise', () => {
    expect(coughLikeness(cough)).toEqual({ score: 1, reason: 'cough-like' });
    expect(coughLikeness({ ...cough, duration: 0.07 }).reason).toMatch(/too short/);
    expect(coughLikeness({ ...cough, spectralFlatness: 0.01 })).toMatchObject({ score: 0, reason: expect.stringMatching(/tonal or voiced/) });
    expect(coughLikeness({ ...cough, spectralCentroid: 200 }).reason).toMatch(/low-frequency/);
  });
});

describe('quality flags in every result', () => {
  it('a clean recording has none; scores are present on every segment', async () => {
    const r = await run(good.file);
    expect(r.quality.flags).toEqual([]);
    expect(r.quality.snr_db!).toBeGreaterThan(15);
    for (const s of r.segments) {
      expect(s.cough_score).toBeGreaterThan(0.5);
      expect(s.excluded).toBe(false);
    }
  });
  it('clipped, too quiet, too short and no cough are flagged', async () => {
    const clipped = writeWav(join(dir, 'clipped.wav'), { channels: 1, rate: 8000, bits: 16, format: 1, frames: 24000, fill: (f) => Math.max(-1, Math.min(1, 8 * burstySignal(8000)(f))) });
    expect((await run(clipped)).quality.flags).toContain('clipped');
    const quiet = writeWav(join(dir, 'quiet.wav'), { channels: 1, rate: 8000, bits: 16, format: 1, frames: 24000, fill: (f) => 0.003 * burstySignal(8000)(f) });
    expect((await run(quiet)).quality.flags).toContain('too_quiet');
    const short = writeWav(join(dir, 'short.wav'), { channels: 1, rate: 8000, bits: 16, format: 1, frames: 2000, fill: () => 0 });
    expect((await run(short)).quality.flags).toEqual(expect.arrayContaining(['too_short', 'no_cough', 'too_quiet']));
  });
});

describe('classifier.min_cough_score', () => {
  it('keeps unlikely segments in the output, marked excluded with the reason, and out of the diagnosis', async () => {
    const all = await run(good.file);
    const none = await run(good.file, { classifier: { min_cough_score: 1 } });
    const strict = none.segments.filter((s) => s.excluded);
    expect(strict.length).toBe(none.segments.filter((s) => s.cough_score < 1).length);
    for (const s of strict) expect(s.exclude_reason).toMatch(/cough_score .* < min_cough_score 1: /);
    expect(none.segments).toHaveLength(all.segments.length);
    if (strict.length === none.segments.length) {
      expect(none.diagnosis.label).toBe('no_cough');
      expect(none.warnings.join()).toMatch(/excluded by classifier.min_cough_score/);
    } else {
      expect(none.diagnosis.n_segments).toBe(none.segments.length - strict.length);
    }
  });
});

describe('--labels audacity', () => {
  it('writes a label track per recording into the mirrored output tree', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tosia-labels-'));
    copyFileSync(good.file, join(root, 'a.wav'));
    const out = join(root, 'out');
    const r = await tosia(['run', join(root, 'a.wav'), '--out', out, '--labels', 'audacity', '--progress', 'none']);
    expect(r.code).toBe(0);
    const lines = readFileSync(join(out, 'a.wav.labels.txt'), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(3);
    for (const l of lines) expect(l).toMatch(/^\d+\.\d{6}\t\d+\.\d{6}\t#\d (not_)?covid19 covid19=0\.\d{3} cough=\d\.\d\d$/);
    const noOut = await tosia(['run', join(root, 'a.wav'), '--labels', 'audacity']);
    expect(noOut.code).toBe(2);
    expect(noOut.stderr).toMatch(/--labels audacity.*add --out DIR/);
  });
});

describe('--labels raven, and several formats at once', () => {
  it('writes a Raven selection table beside the Audacity track, and a re-run adds a format without recomputing', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tosia-raven-'));
    copyFileSync(good.file, join(root, 'a.wav'));
    const out = join(root, 'out');
    const first = await tosia(['run', join(root, 'a.wav'), '--out', out, '--labels', 'raven', '--progress', 'none']);
    expect(first.code, first.stderr).toBe(0);
    const table = readFileSync(join(out, 'a.wav.selections.txt'), 'utf8').trimEnd().split('\n').map((l) => l.split('\t'));
    expect(table[0]).toEqual(['Selection', 'View', 'Channel', 'Begin Time (s)', 'End Time (s)', 'Low Freq (Hz)', 'High Freq (Hz)', 'Label', 'Score (covid19)', 'Cough Score', 'Excluded', 'Annotation']);
    expect(table).toHaveLength(4);
    const result = JSON.parse(readFileSync(join(out, 'a.wav.json'), 'utf8')) as { segments: { start_s: number; end_s: number; label: string }[]; source: { sample_rate: number } };
    table.slice(1).forEach((row, i) => {
      expect(row).toHaveLength(12);
      expect(row.slice(0, 3)).toEqual([String(i + 1), 'Spectrogram 1', '1']);
      expect(Number(row[3])).toBeCloseTo(result.segments[i]!.start_s, 5);
      expect(Number(row[4])).toBeCloseTo(result.segments[i]!.end_s, 5);
      expect(Number(row[6])).toBe(result.source.sample_rate / 2);
      expect(row[7]).toBe(result.segments[i]!.label);
    });
    expect(existsSync(join(out, 'a.wav.labels.txt'))).toBe(false);
    // both formats, as a comma-separated flag: the result is up to date, so only the Audacity track is new
    const both = await tosia(['run', join(root, 'a.wav'), '--out', out, '--labels', 'audacity,raven', '--progress', 'json']);
    expect(both.code, both.stderr).toBe(0);
    expect(both.stderr).toMatch(/"skipped":1/);
    expect(readFileSync(join(out, 'a.wav.labels.txt'), 'utf8').trim().split('\n')).toHaveLength(3);
    const bad = await tosia(['run', join(root, 'a.wav'), '--out', out, '--labels', 'audacity,praat']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/output\.labels.*one or more of 'audacity', 'raven'/);
  });

  it('config.yml takes the formats as a YAML list', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tosia-raven-cfg-'));
    copyFileSync(good.file, join(root, 'a.wav'));
    writeFileSync(join(root, 'config.yml'), 'output:\n  labels: [raven, audacity]\n');
    const r = await tosia(['run', join(root, 'a.wav'), '--out', join(root, 'out'), '--config', join(root, 'config.yml'), '--progress', 'none']);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(root, 'out/a.wav.labels.txt')) && existsSync(join(root, 'out/a.wav.selections.txt'))).toBe(true);
  });
});

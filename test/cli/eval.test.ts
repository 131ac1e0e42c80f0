import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluate, readPredictions, readTruth } from '../../runtime/index.js';
import { tosia } from '../helpers/cli.js';
import { bundledSamples, SAMPLES_DIR } from '../helpers/samples.js';

const dir = mkdtempSync(join(tmpdir(), 'tosia-eval-'));
const table = (o: Record<string, [number, number][]>) => new Map(Object.entries(o).map(([f, ev]) => [f, ev.map(([start, end]) => ({ start, end }))]));

describe('evaluate: hand-made truth/prediction pairs with known scores', () => {
  it('perfect, partial and extra events', () => {
    const r = evaluate(table({ 'a.wav': [[1, 1.3], [2, 2.3]], 'b.wav': [[0.5, 0.8]] }), table({ 'a.wav': [[0.98, 1.32], [2.05, 2.3], [3, 3.2]], 'b.wav': [] }));
    expect(r.files.map((f) => [f.tp, f.fp, f.fn, f.count_error])).toEqual([[2, 1, 0, 1], [0, 0, 1, -1]]);
    expect(r.total).toMatchObject({ tp: 2, fp: 1, fn: 1, precision: 2 / 3, recall: 2 / 3 });
    expect(r.total.f1).toBeCloseTo(2 / 3, 10);
    expect(r.total.mean_abs_count_error).toBe(1);
  });
  it('no truth at all: precision 0 when something was found, 1 when nothing was', () => {
    expect(evaluate(table({ 'a.wav': [] }), table({ 'a.wav': [[1, 1.2]] })).total).toMatchObject({ precision: 0, recall: 1, fp: 1 });
    expect(evaluate(table({ 'a.wav': [] }), table({ 'a.wav': [] })).total).toMatchObject({ precision: 1, recall: 1, f1: 1 });
  });
  it('no predictions: recall 0, and a file with no result counts as all missed', () => {
    const r = evaluate(table({ 'a.wav': [[1, 1.2]], 'b.wav': [[2, 2.4]] }), table({ 'a.wav': [] }));
    expect(r.total).toMatchObject({ tp: 0, fn: 2, recall: 0, f1: 0 });
    expect(r.missing_predictions).toEqual(['b.wav']);
  });
  it('one prediction overlapping two true events matches only one of them', () => {
    const r = evaluate(table({ 'a.wav': [[1, 1.2], [1.3, 1.5]] }), table({ 'a.wav': [[0.98, 1.52]] }));
    expect(r.total).toMatchObject({ tp: 1, fp: 0, fn: 1, precision: 1, recall: 0.5 });
  });
  it('the onset tolerance and overlap fraction decide a match', () => {
    const t = table({ 'a.wav': [[1, 1.2]] }), p = table({ 'a.wav': [[1.3, 1.6]] });
    expect(evaluate(t, p).total.tp).toBe(0); // onsets 0.3 s apart and no overlap
    expect(evaluate(t, p, { onsetTolerance: 0.35 }).total.tp).toBe(1);
    const q = table({ 'a.wav': [[0.7, 1.1]] }); // onsets 0.3 s apart, overlap 0.1 of the shorter 0.2 s
    expect(evaluate(t, q).total.tp).toBe(1);
    expect(evaluate(t, q, { minOverlap: 0.6 }).total.tp).toBe(0);
  });
});

describe('truth and prediction formats', () => {
  it('reads CSV (with a file that has no events), JSON lists and sample sidecars', async () => {
    const csv = join(dir, 't.csv');
    writeFileSync(csv, 'file,start,end\n/x/a.wav,1,1.2\n/x/a.wav,2,2.5\nb.wav,,\n');
    const t = await readTruth(csv);
    expect(t.get('a.wav')).toHaveLength(2);
    expect(t.get('b.wav')).toEqual([]);
    const js = join(dir, 't.json');
    writeFileSync(js, JSON.stringify([{ file: 'a.wav', start: 1, end: 1.2 }]));
    expect((await readTruth(js)).get('a.wav')).toHaveLength(1);
    const side = bundledSamples().find((s) => s.truth.length === 3)!;
    const sidecar = side.file.replace(/\.[^.]+$/, '.json');
    // a sidecar describes the audio file of its stem, so predictions (keyed by file name) match it
    expect((await readTruth(sidecar)).get(side.name)).toHaveLength(3);
  });
  it('names a bad truth file and a bad prediction path', async () => {
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'name,onset\nx,1\n');
    await expect(readTruth(bad)).rejects.toMatchObject({ code: 'E_INPUT', message: expect.stringMatching(/needs file, start and end columns/) });
    await expect(readPredictions(join(dir, 'nothing'))).rejects.toMatchObject({ code: 'E_INPUT' });
  });
});

describe('tosia eval', () => {
  it('scores a batch folder against the bundled sidecars, as a table and as JSON', async () => {
    const out = join(dir, 'found');
    expect((await tosia(['run', SAMPLES_DIR, '--out', out, '--progress', 'none'])).code).toBe(0);
    const truth = join(dir, 'truth.csv');
    const rows = ['file,start,end'];
    for (const s of bundledSamples()) {
      if (s.truth.length === 0) rows.push(`${s.name},,`);
      for (const t of s.truth) rows.push(`${s.name},${t.start},${t.end}`);
    }
    writeFileSync(truth, rows.join('\n') + '\n');
    const human = await tosia(['eval', '--truth', truth, '--pred', out]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^TOTAL\s+\d+/m);
    const j = JSON.parse((await tosia(['eval', '--truth', truth, '--pred', out, '--json'])).stdout);
    expect(j.total.files).toBe(readdirSync(SAMPLES_DIR).filter((f) => /\.(wav|mp3|ogg|oga|flac)$/.test(f)).length);
    expect(j.total.recall).toBe(1);
    expect(j.total.precision).toBeGreaterThan(0.9);
    const bad = await tosia(['eval', '--truth', truth, '--pred', out, '--min-overlap', '2']);
    expect(bad.code).toBe(2);
  });
});

describe('tosia eval --pred on a folder of result .json files (issue 15)', () => {
  it('reads every result .json under the folder, ignoring other JSON, and scores as a batch folder would', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'tosia-eval-json-'));
    const samples = bundledSamples().filter((s) => s.name.endsWith('.wav')).slice(0, 3);
    for (const s of samples) {
      const r = await tosia(['run', s.file, '--json']);
      expect(r.code).toBe(0);
      writeFileSync(join(folder, `${s.name}.json`), r.stdout);
    }
    writeFileSync(join(folder, 'notes.json'), JSON.stringify({ about: 'not a result' }));
    const truth = samples.map((s) => s.file.replace(/\.wav$/, '.json'));
    const out = await tosia(['eval', '--truth', truth[1]!, '--pred', folder, '--json']);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    const report = JSON.parse(out.stdout);
    expect(report.files).toHaveLength(1);
    expect(report.files[0]).toMatchObject({ file: samples[1]!.name, truth: samples[1]!.truth.length, tp: samples[1]!.truth.length });
    expect(report.missing_predictions).toEqual([]);
  });

  it('a folder with neither results.jsonl nor any result is E_INPUT naming it, not a bug', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'tosia-eval-empty-'));
    writeFileSync(join(empty, 'run.json'), '{}');
    const r = await tosia(['eval', '--truth', bundledSamples()[0]!.file.replace(/\.\w+$/, '.json'), '--pred', empty]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/E_INPUT: .*holds no results\.jsonl and no tosia result \.json file/);
  });
});

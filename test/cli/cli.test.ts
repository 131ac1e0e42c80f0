import { chmodSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../runtime/io/csv.js';
import { tosia } from '../helpers/cli.js';
import { bundledSamples, SAMPLES_DIR } from '../helpers/samples.js';

const tmp = mkdtempSync(join(tmpdir(), 'tosia-cli-'));
const samples = bundledSamples();
const withCoughs = samples.find((s) => s.truth.length === 3)!;

describe('tosia run', () => {
  it('prints a human summary with the diagnosis and the disclaimer', async () => {
    const r = await tosia(['run', withCoughs.file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/3 cough segments/);
    expect(r.stdout).toMatch(/Diagnosis: (not_)?covid19/);
    expect(r.stdout).toMatch(/not a medical device/);
  });

  it('--json prints the full result', async () => {
    const r = await tosia(['run', withCoughs.file, '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.segments).toHaveLength(3);
    expect(j.model.execution_provider).toBe('cpu');
    expect(Object.keys(j)).toEqual(expect.arrayContaining(['schema_version', 'tosia_version', 'source', 'config_sha256', 'model', 'segments', 'diagnosis', 'timings_ms', 'disclaimer']));
  });

  it('a recording with no cough is a result, not an error', async () => {
    const r = await tosia(['run', samples.find((s) => s.truth.length === 0)!.file, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).diagnosis.label).toBe('no_cough');
  });

  it('--save-images writes one PNG per segment', async () => {
    const dir = join(tmp, 'images');
    expect((await tosia(['run', withCoughs.file, '--save-images', dir])).code).toBe(0);
    expect(readdirSync(dir).filter((f) => f.endsWith('.png'))).toHaveLength(3);
  });

  it('--config and --set override the defaults, and the manifest check catches a mismatch', async () => {
    const cfg = join(tmp, 'c.yml');
    writeFileSync(cfg, 'classifier:\n  aggregate: max\n');
    const ok = await tosia(['run', withCoughs.file, '--config', cfg, '--json']);
    expect(JSON.parse(ok.stdout).diagnosis.aggregate).toBe('max');
    const bad = await tosia(['run', withCoughs.file, '--set', 'mel_spec.n_mels=32']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/E_CONFIG.*mel_spec.n_mels: config 32, model 64.*--allow-config-mismatch/);
    expect((await tosia(['run', withCoughs.file, '--set', 'mel_spec.n_mels=32', '--allow-config-mismatch'])).code).toBe(0);
  });

  it.each([
    ['a missing file', ['run', join(tmp, 'missing.wav')], 1, /E_INPUT.*does not exist/],
    ['an undecodable file', ['run', join(SAMPLES_DIR, 'coughs-0_white_16k.json')], 1, /E_DECODE/],
    ['an unknown config key', ['run', withCoughs.file, '--set', 'mel_spec.nmels=3'], 2, /E_CONFIG.*did you mean 'mel_spec.n_mels'/],
    ['a missing config file', ['run', withCoughs.file, '--config', join(tmp, 'nope.yml')], 2, /E_CONFIG.*does not exist/],
    ['a missing model', ['run', withCoughs.file, '--model', join(tmp, 'nope.onnx')], 3, /E_MODEL.*does not exist/],
    ['an unknown command', ['frobnicate'], 2, /unknown command/],
    ['an unknown option', ['run', withCoughs.file, '--frob'], 2, /unknown option/],
  ] as const)('%s: exit code and a clear message', async (_n, args, code, message) => {
    const r = await tosia([...args]);
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/); // no stack trace
  });

  it('one bad file among good ones: the others are done, exit 1', async () => {
    const out = join(tmp, 'mixed');
    const r = await tosia(['run', withCoughs.file, join(tmp, 'missing.wav'), samples[0]!.file, '--out', out, '--progress', 'none']);
    expect(r.code, `${r.signal} ${r.stderr}`).toBe(1);
    expect(r.stderr).toMatch(/E_INPUT.*missing\.wav.*does not exist/);
    expect(JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'))).toMatchObject({ processed: 2, failed: 1 });
  });

  it('--help has examples', async () => {
    for (const cmd of ['run', 'extract', 'config', 'doctor']) {
      const r = await tosia([cmd, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/Examples:\n\s+\$ tosia /);
    }
  });
});

describe('tosia extract', () => {
  it('writes the model-input tensors, PNGs and manifest.csv with labels', async () => {
    const out = join(tmp, 'extract');
    const labels = join(tmp, 'labels.csv');
    writeFileSync(labels, `file,label\n${withCoughs.name},cough\n`);
    const r = await tosia(['extract', withCoughs.file, samples.find((s) => s.truth.length === 0)!.file, '--out', out, '--labels', labels]);
    expect(r.code).toBe(0);
    const rows = parseCsv(readFileSync(join(out, 'manifest.csv'), 'utf8'));
    expect(rows[0]).toEqual(['file', 'segment', 'start_s', 'end_s', 'label', 'tensor', 'image', 'source_sha256']);
    expect(rows.slice(1)).toHaveLength(3);
    expect(rows.slice(1).every((r) => r[4] === 'cough')).toBe(true);
    const npy = readFileSync(join(out, rows[1]![5]!));
    expect(npy.subarray(1, 6).toString()).toBe('NUMPY');
    expect(npy.toString('latin1', 10, 80)).toContain("'shape': (3, 64, 64)");
    expect(npy.length).toBe(128 + 3 * 64 * 64 * 4);
    expect(readFileSync(join(out, rows[1]![6]!)).subarray(1, 4).toString()).toBe('PNG');
  });

  it('the tensor written equals what execute feeds the model', async () => {
    const { Model, defaultModelPath, WorkUnit, prepareSegments, decodeStage, segmentStage, loadPffft } = await import('../../runtime/index.js');
    const { imagesToTensor } = await import('../../algos/index.js');
    const out = join(tmp, 'extract-eq');
    expect((await tosia(['extract', withCoughs.file, '--out', out])).code).toBe(0);
    const cfg = new WorkUnit({ sourceFile: withCoughs.file }).config;
    const audio = await decodeStage(withCoughs.file, cfg);
    const prepared = await prepareSegments(audio, segmentStage(audio, cfg).segments, cfg, { mel: 0, colour: 0 }, await loadPffft());
    const model = await Model.load(defaultModelPath(), { device: 'cpu' });
    const t = imagesToTensor([prepared[0]!.image], { layout: model.manifest.input.layout, normalisation: model.manifest.input.normalisation });
    const npy = readFileSync(join(out, `${withCoughs.name}.seg000.npy`));
    const body = new Float32Array(npy.buffer.slice(npy.byteOffset + 128, npy.byteOffset + npy.length));
    expect(Array.from(body)).toEqual(Array.from(t.data));
  });
});

describe('tosia config', () => {
  it('prints every key with its doc, and validates files', async () => {
    const r = await tosia(['config']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/mel_spec:\n/);
    expect(r.stdout).toMatch(/# allowed: one of 'viridis'/);
    const good = join(tmp, 'good.yml');
    writeFileSync(good, r.stdout);
    expect((await tosia(['config', '--validate', good])).stdout).toMatch(/valid/);
    const bad = join(tmp, 'bad.yml');
    writeFileSync(bad, 'mel_spec:\n  fmax: 9000\n');
    const v = await tosia(['config', '--validate', bad]);
    expect(v.code).toBe(2);
    expect(v.stderr).toMatch(/mel_spec.fmax: 9000 Hz is above the Nyquist frequency 4000 Hz/);
    const syntax = join(tmp, 'syntax.yml');
    writeFileSync(syntax, 'audio:\n  sample_rate: [8000\n');
    expect((await tosia(['config', '--validate', syntax])).stderr).toMatch(/line \d+, column \d+/);
  });
});

describe('tosia doctor', () => {
  it('reports node, ffmpeg and how it was found, onnxruntime providers, and the model', async () => {
    const r = await tosia(['doctor', '--json']);
    expect(r.code).toBe(0);
    const rep = JSON.parse(r.stdout);
    const by = Object.fromEntries(rep.checks.map((c: { name: string; detail: string }) => [c.name, c.detail]));
    expect(by.ffmpeg).toMatch(/found by: (explicit|ffmpeg-static|@ffmpeg-installer\/ffmpeg|PATH)/);
    expect(by.onnxruntime).toMatch(/providers: cpu/);
    expect(by.model).toMatch(/loads on cpu/);
    expect(by.manifest).toMatch(/matches/);
  });

  it('shows each ffmpeg it could use with its build year, and warns when the one in use is more than two years old', async () => {
    const fake = (name: string, year: number) => {
      const p = join(tmp, name);
      writeFileSync(p, `#!/bin/sh\necho "ffmpeg version 9.9-test Copyright (c) 2000-${year} the FFmpeg developers"\n`);
      chmodSync(p, 0o755);
      return p;
    };
    const old = await tosia(['doctor', '--ffmpeg', fake('old-ffmpeg', 2018)]);
    expect(old.code).toBe(0);
    expect(old.stdout).toMatch(/^warn\s+ffmpeg\s+.*old-ffmpeg \(found by: explicit, in use\).*built in 2018\. Warning: this ffmpeg is more than two years old/m);
    // the others it would find are listed too, not used
    expect(old.stdout).toMatch(/^ok\s+ffmpeg \(other\)\s+.*not used/m);
    const year = new Date().getFullYear();
    const fresh = await tosia(['doctor', '--ffmpeg', fake('new-ffmpeg', year), '--json']);
    const used = JSON.parse(fresh.stdout).checks.find((c: { name: string }) => c.name === 'ffmpeg');
    expect(used).toMatchObject({ ok: true, warning: false, detail: expect.stringMatching(new RegExp(`built in ${year}$`)) });
  });

  it('an explicit ffmpeg path that does not exist is reported', async () => {
    const r = await tosia(['doctor', '--ffmpeg', join(tmp, 'no-ffmpeg')]);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/FAIL\s+ffmpeg.*missing or not executable/);
  });
});

describe('a reader that stops early (issue 28)', () => {
  it('`tosia --help | head -1`: exit 0 and no EPIPE stack trace, however the pipe closes (10 runs)', async () => {
    const { spawn } = await import('node:child_process');
    const { BIN } = await import('../helpers/cli.js');
    for (let i = 0; i < 10; i++) {
      const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const p = spawn(process.execPath, [BIN, '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
        let stderr = '';
        p.stderr.on('data', (c) => (stderr += c));
        // read one chunk, then close the read end as head does
        p.stdout.once('data', () => p.stdout.destroy());
        p.on('close', (code) => resolve({ code, stderr }));
      });
      expect(r.stderr).not.toMatch(/EPIPE|Error/);
      expect(r.code).toBe(0);
    }
  });
});

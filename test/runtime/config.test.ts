import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultConfig, loadConfig, parseConfigText, SCHEMA, validateConfig, WorkUnit } from '../../runtime/index.js';

const dir = mkdtempSync(join(tmpdir(), 'tosia-config-'));

describe('config schema', () => {
  it('every key has a doc and a default of its own type', () => {
    for (const [s, fields] of Object.entries(SCHEMA)) {
      for (const [k, f] of Object.entries(fields)) {
        expect(f.doc.length, `${s}.${k}`).toBeGreaterThan(10);
        if (f.default !== null) {
          const t = f.kind === 'integer' || f.kind === 'number' ? 'number' : f.kind === 'enum' ? 'string' : f.kind;
          expect(typeof f.default, `${s}.${k}`).toBe(t);
        } else {
          expect(f.nullable, `${s}.${k}`).toBe(true);
        }
      }
    }
  });

  it('defaults validate, and the bundled config.yml equals the defaults', async () => {
    expect(validateConfig(defaultConfig())).toEqual(defaultConfig());
    expect(await loadConfig(join(__dirname, '../../config.yml'))).toEqual(defaultConfig());
  });

  it('no path gives the defaults', async () => expect(await loadConfig()).toEqual(defaultConfig()));

  it('segmentation.method defaults to onset and keeps adaptive and hysteresis selectable', () => {
    expect(defaultConfig().segmentation.method).toBe('onset');
    expect(validateConfig({ segmentation: { method: 'hysteresis' } }).segmentation.method).toBe('hysteresis');
    expect(validateConfig({ segmentation: { method: 'adaptive' } }).segmentation.method).toBe('adaptive');
    expect(() => validateConfig({ segmentation: { excess_high_db: 2, excess_low_db: 3 } })).toThrow(/excess_high_db: 2 must be greater than excess_low_db=3/);
  });
});

describe('config errors name the key, the allowed values and a fix', () => {
  const bad: [string, unknown, RegExp][] = [
    ['unknown key, with a suggestion', { mel_spec: { n_mel: 64 } }, /unknown key 'mel_spec.n_mel'.*did you mean 'mel_spec.n_mels'/],
    ['unknown section, with a suggestion', { melspec: {} }, /unknown section 'melspec'.*did you mean 'mel_spec'/],
    ['wrong type', { mel_spec: { n_fft: 'big' } }, /mel_spec.n_fft="big" is invalid: expected an integer >= 16/],
    ['zero size', { mel_spec: { hop_length: 0 } }, /mel_spec.hop_length=0 is invalid \(out of range\)/],
    ['negative size', { color_spec: { width: -5 } }, /color_spec.width=-5 is invalid/],
    ['fmax above Nyquist', { mel_spec: { fmax: 5000 } }, /mel_spec.fmax: 5000 Hz is above the Nyquist frequency 4000 Hz/],
    ['hop_length > n_fft', { mel_spec: { n_fft: 256, hop_length: 512 } }, /hop_length: 512 is larger than n_fft=256/],
    ['unknown colour map', { color_spec: { colormap: 'rainbow' } }, /color_spec.colormap="rainbow".*one of 'viridis', 'magma', 'inferno', 'plasma', 'gray', 'jet'/],
    ['bad enum', { classifier: { device: 'gpu' } }, /classifier.device="gpu".*'auto', 'cpu', 'cuda'/],
    ['not a mapping', [1, 2], /must be a mapping of sections/],
  ];
  it.each(bad)('%s', (_name, input, message) => {
    let err: unknown;
    try { validateConfig(input, 'test.yml'); } catch (e) { err = e; }
    expect(err).toMatchObject({ code: 'E_CONFIG' });
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).toContain('test.yml');
  });

  it('a YAML syntax error gives line and column', async () => {
    await expect(parseConfigText('mel_spec:\n  n_fft: 512\n  n_mels: [64\n', 'bad.yml')).rejects.toThrow(/bad.yml.*YAML syntax error at line \d+, column \d+/);
  });

  it('a missing config file is E_CONFIG', async () => {
    await expect(loadConfig(join(dir, 'nope.yml'))).rejects.toMatchObject({ code: 'E_CONFIG', message: expect.stringMatching(/does not exist/) });
  });

  it('a file is merged over the defaults', async () => {
    const p = join(dir, 'ok.yml');
    writeFileSync(p, 'classifier:\n  aggregate: max\n');
    const cfg = await loadConfig(p);
    expect(cfg.classifier.aggregate).toBe('max');
    expect(cfg.mel_spec).toEqual(defaultConfig().mel_spec);
  });

  it('WorkUnit validates and hashes only what changes results', () => {
    const a = new WorkUnit({ sourceFile: 'x.wav', ...defaultConfig() });
    const b = new WorkUnit({ sourceFile: 'y.wav', ...defaultConfig(), output: { save_images: '/tmp/x' } });
    const c = new WorkUnit({ sourceFile: 'x.wav', classifier: { aggregate: 'max' } });
    expect(a.configSha256).toBe(b.configSha256);
    expect(a.configSha256).not.toBe(c.configSha256);
    expect(() => new WorkUnit({ sourceFile: 'x.wav', mel_spec: { n_mels: 0 } })).toThrow(/mel_spec.n_mels=0/);
  });
});

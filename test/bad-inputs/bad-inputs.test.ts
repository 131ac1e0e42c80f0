import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultModelPath, execute, resolveFfmpeg, WorkUnit } from '../../runtime/index.js';
import { BIN, run, tosia } from '../helpers/cli.js';
import { SAMPLES_DIR } from '../helpers/samples.js';
import { COUGH_DIR, hasCoughData } from '../helpers/shared.js';
import { burstySignal, writeWav } from '../helpers/wav.js';

const dir = mkdtempSync(join(tmpdir(), 'tosia-bad-'));
const ffmpeg = resolveFfmpeg().path;
const isRoot = process.getuid?.() === 0;
const sample = (name: string) => join(SAMPLES_DIR, name);
const GOOD = sample('coughs-3_snr-25db_white_16k.wav');
const w16 = (name: string, rate: number, seconds: number, fill: (f: number, c: number) => number, channels = 1) =>
  writeWav(join(dir, name), { channels, rate, bits: 16, format: 1, frames: Math.round(rate * seconds), fill });

interface Case {
  name: string;
  /** Returns the CLI arguments (after `tosia`). */
  args: () => string[];
  exit: number;
  /** Expected error code, for failures. */
  code?: string;
  /** A fragment the message must hold (stderr for failures, stdout JSON otherwise). */
  message?: RegExp;
  /** Extra checks on a successful --json result. */
  check?: (result: Record<string, any>) => void;
  skip?: string;
}

const json = (file: string, ...rest: string[]) => ['run', '--json', ...rest, '--', file];
const PNG_1PX = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

const cases: Case[] = [
  // files
  { name: 'missing path', args: () => json(join(dir, 'nope.wav')), exit: 1, code: 'E_INPUT', message: /does not exist/ },
  { name: 'no read permission', skip: isRoot ? 'running as root: permissions do not apply' : undefined, args: () => { const p = join(dir, 'locked.wav'); copyFileSync(GOOD, p); chmodSync(p, 0); return json(p); }, exit: 1, code: 'E_INPUT', message: /permission denied/ },
  { name: '0 bytes', args: () => { writeFileSync(join(dir, 'empty.wav'), ''); return json(join(dir, 'empty.wav')); }, exit: 1, code: 'E_INPUT', message: /empty \(0 bytes\)/ },
  { name: 'a text file renamed .mp3', args: () => { writeFileSync(join(dir, 'text.mp3'), 'hello, this is not audio\n'.repeat(50)); return json(join(dir, 'text.mp3')); }, exit: 1, code: 'E_DECODE', message: /could not decode/ },
  { name: 'a PNG renamed .mp3', args: () => { const p = join(dir, 'image.mp3'); writeFileSync(p, Buffer.from(PNG_1PX, 'base64')); return json(p); }, exit: 1, code: 'E_DECODE' },
  { name: 'a truncated mp3 (real, from covid19-cough)', skip: hasCoughData ? undefined : 'covid19-cough data absent', args: () => json(join(COUGH_DIR, 'raw/a9ecaf03-40a5-4b43-aaf3-f076f84a69aa.mp3')), exit: 1, code: 'E_DECODE' },
  { name: 'a wav whose header claims more data than exists', args: () => [...json(writeWav(join(dir, 'short.wav'), { channels: 1, rate: 8000, bits: 16, format: 1, frames: 16000, fill: burstySignal(8000), claimExtra: 100_000 }))], exit: 0, check: (r) => { expect(r.warnings.join()).toMatch(/data chunk declares 6.25 s more than the file holds/); expect(r.quality).toMatchObject({ flags: expect.arrayContaining(['truncated']), truncated_missing_s: 6.25 }); } },
  { name: 'a wav holding NaN and Inf floats', args: () => json(writeWav(join(dir, 'nan.wav'), { channels: 1, rate: 8000, bits: 32, format: 3, frames: 16000, fill: (f) => (f % 97 === 0 ? NaN : f % 89 === 0 ? -Infinity : burstySignal(8000)(f)) })), exit: 0, check: (r) => expect(r.warnings.join()).toMatch(/NaN or infinite samples were replaced by 0/) },
  { name: 'an ogg with a corrupted page in the middle', args: () => { const b = readFileSync(sample('coughs-2_snr-30db_pink_48k.ogg')); const m = b.length >> 1; b.fill(0xa5, m, m + 200); writeFileSync(join(dir, 'corrupt.ogg'), b); return json(join(dir, 'corrupt.ogg')); }, exit: 0, check: (r) => { expect(r.source.codec).toBe('opus'); expect(r.quality.flags).toContain('corrupt'); } },
  { name: 'a video file with no audio stream', args: () => { const p = join(dir, 'video.mp4'); execFileSync(ffmpeg, ['-nostdin', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=64x64:rate=5', '-t', '1', '-c:v', 'mpeg4', `file:${p}`]); return json(p); }, exit: 1, code: 'E_DECODE', message: /no audio/i },
  { name: 'an 8-channel file', args: () => json(w16('eight.wav', 16000, 3, (f, c) => (c === 0 ? burstySignal(16000)(f) : 0), 8)), exit: 0, check: (r) => expect(r.source.channels).toBe(8) },
  { name: '96 kHz', args: () => json(w16('r96k.wav', 96000, 3, burstySignal(96000))), exit: 0, check: (r) => expect(r.source.sample_rate).toBe(96000) },
  { name: '4 kHz', args: () => json(w16('r4k.wav', 4000, 3, burstySignal(4000))), exit: 0, check: (r) => expect(r.source.sample_rate).toBe(4000) },
  { name: '24-bit PCM', args: () => json(writeWav(join(dir, 'b24.wav'), { channels: 2, rate: 44100, bits: 24, format: 1, frames: 44100 * 3, fill: burstySignal(44100) })), exit: 0, check: (r) => expect(r.source.codec).toBe('pcm_s24le') },
  { name: '5 ms of audio', args: () => json(w16('tiny.wav', 16000, 0.005, () => 0.5)), exit: 0, check: (r) => expect(r.diagnosis.label).toBe('no_cough') },
  { name: 'all zeros', args: () => json(w16('zeros.wav', 8000, 3, () => 0)), exit: 0, check: (r) => expect(r.diagnosis.label).toBe('no_cough') },
  { name: 'a DC offset only', args: () => json(w16('dc.wav', 8000, 3, () => 0.4)), exit: 0, check: (r) => expect(r.diagnosis.label).toBe('no_cough') },
  { name: 'full-scale clipping', args: () => json(w16('clipped.wav', 8000, 3, (f) => Math.sign(burstySignal(8000)(f)) * (Math.abs(burstySignal(8000, 1.5, 9)(f)) > 0.001 ? 1 : 0))), exit: 0 },
  { name: 'file names with spaces, unicode and quotes', args: () => { const p = join(dir, 'tös "sía" 咳嗽 \'x\'.wav'); copyFileSync(GOOD, p); return json(p); }, exit: 0, check: (r) => expect(r.segments).toHaveLength(3) },
  { name: 'a file name with a newline', args: () => { const p = join(dir, 'two\nlines.wav'); copyFileSync(GOOD, p); return json(p); }, exit: 0 },
  { name: 'a file name beginning with - (after --, never an option)', args: () => { const p = join(dir, '-i.wav'); copyFileSync(GOOD, p); return ['run', '--json', '--', p.replace(dir + '/', '')]; }, exit: 0, check: (r) => expect(r.segments).toHaveLength(3) },
  { name: 'a file name like an ffmpeg protocol', args: () => { const p = join(dir, 'concat:evil.wav'); copyFileSync(GOOD, p); return json(p, '--decoder', 'ffmpeg'); }, exit: 0, check: (r) => expect(r.source.decoder).toBe('ffmpeg') },
  { name: '--max-duration', args: () => json(GOOD, '--max-duration', '1'), exit: 1, code: 'E_INPUT', message: /longer than audio.max_duration_s=1/ },
  { name: '--max-file-size', args: () => json(GOOD, '--max-file-size', '0.01'), exit: 1, code: 'E_INPUT', message: /more than audio.max_file_size_mb=0.01/ },
  // config
  { name: 'a YAML syntax error', args: () => { writeFileSync(join(dir, 'syntax.yml'), 'mel_spec:\n  n_fft: [512\n'); return json(GOOD, '--config', join(dir, 'syntax.yml')); }, exit: 2, code: 'E_CONFIG', message: /line \d+, column \d+/ },
  { name: 'an unknown key', args: () => json(GOOD, '--set', 'segmentation.hangover=0.1'), exit: 2, code: 'E_CONFIG', message: /did you mean 'segmentation.hangover_s'/ },
  { name: 'a wrong type', args: () => json(GOOD, '--set', 'mel_spec.center=sometimes'), exit: 2, code: 'E_CONFIG', message: /mel_spec.center="sometimes".*true or false/ },
  { name: 'a zero size', args: () => json(GOOD, '--set', 'mel_spec.n_fft=0'), exit: 2, code: 'E_CONFIG', message: /mel_spec.n_fft=0/ },
  { name: 'a negative size', args: () => json(GOOD, '--set', 'color_spec.height=-64'), exit: 2, code: 'E_CONFIG', message: /color_spec.height=-64/ },
  { name: 'fmax above sr/2', args: () => json(GOOD, '--set', 'mel_spec.fmax=6000'), exit: 2, code: 'E_CONFIG', message: /above the Nyquist frequency 4000 Hz/ },
  { name: 'hop_length > n_fft', args: () => json(GOOD, '--set', 'mel_spec.hop_length=1024'), exit: 2, code: 'E_CONFIG', message: /hop_length: 1024 is larger than n_fft=512/ },
  { name: 'n_mels so large that filters are empty: a warning', args: () => json(GOOD, '--set', 'mel_spec.n_mels=512', '--allow-config-mismatch'), exit: 0, check: (r) => expect(r.warnings.join()).toMatch(/mel bands are empty.*librosa/) },
  { name: 'an unknown colour map', args: () => json(GOOD, '--set', 'color_spec.colormap=rainbow'), exit: 2, code: 'E_CONFIG', message: /'viridis', 'magma'/ },
  { name: 'a missing config file', args: () => json(GOOD, '--config', join(dir, 'none.yml')), exit: 2, code: 'E_CONFIG', message: /does not exist/ },
  { name: 'a config that disagrees with the model manifest', args: () => json(GOOD, '--set', 'color_spec.colormap=magma'), exit: 2, code: 'E_CONFIG', message: /color_spec.colormap: config "magma", model "viridis"/ },
  // model
  { name: 'a missing model file', args: () => json(GOOD, '--model', join(dir, 'none.onnx')), exit: 3, code: 'E_MODEL', message: /does not exist/ },
  { name: 'a corrupt ONNX', args: () => { const p = join(dir, 'corrupt.onnx'); writeFileSync(p, readFileSync(defaultModelPath()).subarray(0, 3000)); copyFileSync(defaultModelPath().replace(/onnx$/, 'json'), p.replace(/onnx$/, 'json')); return json(GOOD, '--model', p); }, exit: 3, code: 'E_MODEL' },
  { name: 'a wrong input shape', args: () => modelVariant('shape', (m) => { m.input.shape = ['batch', 3, 32, 32]; }), exit: 3, code: 'E_MODEL', message: /input dim 2 is 64, manifest says 32/ },
  { name: 'a wrong dtype', args: () => modelVariant('dtype', (m) => { m.input.dtype = 'float64'; }), exit: 3, code: 'E_MODEL', message: /dtype/ },
  { name: 'a label count that does not match the output size', args: () => modelVariant('labels', (m) => { m.labels = ['a', 'covid19', 'c']; }), exit: 3, code: 'E_MODEL', message: /2 classes but the manifest lists 3 labels/ },
  { name: 'cuda requested on a machine without it', args: () => json(GOOD, '--device', 'cuda'), exit: 3, code: 'E_MODEL', message: /CUDA execution provider is not available.*ONNXRUNTIME_NODE_INSTALL=cuda12/ },
  { name: 'a corrupt ONNX in a batch with a shared inference thread', args: () => { const p = join(dir, 'corrupt-shared.onnx'); writeFileSync(p, readFileSync(defaultModelPath()).subarray(0, 3000)); copyFileSync(defaultModelPath().replace(/onnx$/, 'json'), p.replace(/onnx$/, 'json')); return ['run', GOOD, '--out', join(dir, 'shared-out'), '--inference', 'shared', '--model', p, '--progress', 'none']; }, exit: 3, code: 'E_MODEL' },
  { name: 'an unknown inference mode', args: () => ['run', GOOD, '--out', join(dir, 'inference-out'), '--inference', 'gpu'], exit: 2, code: 'E_CONFIG', message: /--inference=gpu must be per-worker or shared/ },
  // outputs
  { name: 'an output folder that cannot be written', args: () => { writeFileSync(join(dir, 'afile'), 'x'); return ['run', GOOD, '--out', join(dir, 'afile', 'out')]; }, exit: 1, code: 'E_OUTPUT', message: /output folder cannot be written.*choose a folder/ },
];

function modelVariant(name: string, edit: (m: Record<string, any>) => void): string[] {
  const p = join(dir, `${name}.onnx`);
  copyFileSync(defaultModelPath(), p);
  const m = JSON.parse(readFileSync(defaultModelPath().replace(/onnx$/, 'json'), 'utf8'));
  edit(m);
  writeFileSync(p.replace(/onnx$/, 'json'), JSON.stringify(m));
  return json(GOOD, '--model', p);
}

describe('bad inputs: each case ends in its documented exit code with a clear message', () => {
  it('a directory where a file was expected', async () => {
    mkdirSync(join(dir, 'adir.wav'), { recursive: true });
    await expect(execute(new WorkUnit({ sourceFile: join(dir, 'adir.wav') }))).rejects.toMatchObject({ code: 'E_INPUT', message: expect.stringMatching(/is a directory/) });
  });

  for (const c of cases) {
    it.skipIf(Boolean(c.skip))(`${c.name}${c.skip ? ` (skipped: ${c.skip})` : ''}`, async () => {
      const r = await tosia(c.args(), { cwd: dir, timeout: 120_000 });
      expect(r.code, `${c.name}: stderr ${r.stderr}`).toBe(c.exit);
      expect(r.stderr).not.toMatch(/\n\s+at .*:\d+:\d+\)?\n/); // never a stack trace
      if (c.exit !== 0 && c.code) {
        expect(r.stderr).toMatch(new RegExp(`tosia: ${c.code}: `));
        expect(r.stderr).toMatch(/Fix: /);
        if (c.message) expect(r.stderr).toMatch(c.message);
      }
      if (c.exit === 0 && c.check) c.check(JSON.parse(r.stdout));
    });
  }
});

describe('a 1-hour recording', () => {
  it('gives a valid result with bounded memory', async () => {
    // the bundled one-cough sample (8 kHz, 16-bit, 2 s) over and over: 1800 coughs
    const pcm = readFileSync(sample('coughs-1_snr-20db_pink_8k.wav')).subarray(44);
    const cough = new Int16Array(pcm.buffer.slice(pcm.byteOffset, pcm.byteOffset + pcm.length));
    const p = w16('hour.wav', 8000, 3600, (f) => cough[f % cough.length]! / 32768);
    const r = await run('/usr/bin/time', ['-f', '%M', process.execPath, BIN, 'run', '--json', p], { timeout: 300_000 });
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result.source.duration_s).toBe(3600);
    expect(result.segments.length).toBeGreaterThan(100);
    const peakKb = Number(r.stderr.trim().split('\n').pop());
    expect(peakKb / 1024).toBeLessThan(1536);
  }, 300_000);
});

describe('ffmpeg that does not finish is killed and reported', () => {
  it('a decode timeout gives E_DECODE and leaves no ffmpeg behind', async () => {
    const p = w16('slow.wav', 48000, 600, burstySignal(48000));
    const r = await tosia(json(p, '--decoder', 'ffmpeg', '--set', 'audio.decode_timeout_s=0.05'), { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/E_DECODE.*did not finish within 0.05 s and was killed/);
    const left = spawnSync('pgrep', ['-f', 'slow.wav'], { encoding: 'utf8' }).stdout.trim();
    expect(left).toBe('');
  });
});

describe('outputs', () => {
  // issue 11, D8: writing results into an input folder is refused, whichever way they overlap
  it.each([
    ['inside', (root: string) => join(root, 'results')],
    ['equal to', (root: string) => root],
    ['a parent of', (root: string) => join(root, '..')],
  ])('an output folder %s an input folder is refused before anything is written', async (_how, outOf) => {
    const parent = mkdtempSync(join(tmpdir(), 'tosia-nested-'));
    const root = join(parent, 'in');
    mkdirSync(root);
    copyFileSync(GOOD, join(root, 'a.wav'));
    const before = readdirSync(parent, { recursive: true }).sort();
    const r = await tosia(['run', root, '--out', outOf(root), '--progress', 'none']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/E_OUTPUT: .*the output folder (is the input folder|is inside the input folder|holds the input folder).*Fix: choose an output folder outside every input folder/);
    expect(readdirSync(parent, { recursive: true }).sort()).toEqual(before);
  });

  // issue 11, D3: a real full disk, a 1 MB tmpfs (mounting needs root)
  const canMount = process.getuid?.() === 0 && spawnSync('mount', ['--version']).status === 0;
  it.skipIf(!canMount)(`a disk that fills midway: a clean E_OUTPUT, no temp file or lock left, and a resume once there is room (D3)${canMount ? '' : ' (skipped: mounting a tmpfs needs root)'}`, async (ctx) => {
    const root = mkdtempSync(join(tmpdir(), 'tosia-full-'));
    mkdirSync(join(root, 'in'));
    for (let i = 0; i < 300; i++) copyFileSync(GOOD, join(root, 'in', `c${String(i).padStart(3, '0')}.wav`));
    const out = join(root, 'out');
    mkdirSync(out);
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', out]);
    if (mounted.status !== 0) ctx.skip(); // a sandbox that forbids mounts, even to root
    try {
      const r = await tosia(['run', join(root, 'in'), '--out', out, '--progress', 'none']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/E_OUTPUT: .*stopped after (\d+) results: .*ENOSPC.*Fix: free disk space/);
      expect(r.stderr).not.toMatch(/E_INTERNAL/);
      const stopped = Number(/stopped after (\d+) results/.exec(r.stderr)![1]);
      const left = readdirSync(out, { recursive: true }).map(String);
      expect(left.filter((f) => f.endsWith('.tmp') || f.includes('.tosia-tmp') || f.includes('.tosia-lock'))).toEqual([]);
      const results = left.filter((f) => f.endsWith('.json'));
      expect(results).toHaveLength(stopped);
      for (const f of results) expect(JSON.parse(readFileSync(join(out, f), 'utf8')).schema_version).toBe(1);
      expect(spawnSync('mount', ['-o', 'remount,size=16m', out]).status).toBe(0);
      const again = await tosia(['run', join(root, 'in'), '--out', out, '--progress', 'none']);
      expect(again.code).toBe(0);
      expect(JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'))).toMatchObject({ inputs: 300, skipped: stopped, processed: 300 - stopped });
    } finally {
      spawnSync('umount', [out]);
    }
  });

  it('a write failure midway: earlier results intact, no partial file, a clear E_OUTPUT', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tosia-enospc-'));
    mkdirSync(join(root, 'in'));
    for (let i = 0; i < 6; i++) copyFileSync(GOOD, join(root, 'in', `c${i}.wav`));
    const out = join(root, 'out');
    // each worker thread may write 2 results, then its writes fail like a full disk
    const r = await tosia(['run', join(root, 'in'), '--out', out, '--concurrency', '1', '--progress', 'none'], { env: { TOSIA_FAIL_WRITES_AFTER: '2' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/E_OUTPUT.*stopped after 2 results.*ENOSPC/);
    const written = readdirSync(join(out, 'in'));
    expect(written.sort()).toEqual(['c0.wav.json', 'c1.wav.json']);
    for (const f of written) expect(JSON.parse(readFileSync(join(out, 'in', f), 'utf8')).schema_version).toBe(1);
    expect(existsSync(join(out, '.tosia-tmp'))).toBe(false);
    // the disk has room again: the same command resumes
    const again = await tosia(['run', join(root, 'in'), '--out', out, '--concurrency', '1', '--progress', 'none']);
    expect(again.code).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'))).toMatchObject({ skipped: 2, processed: 4 });
  });
});

describe('in a batch, every bad file is logged with its stage and code, and the others complete', () => {
  it('mixed corpus', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tosia-mixed-'));
    mkdirSync(join(root, 'in'));
    copyFileSync(GOOD, join(root, 'in', 'good1.wav'));
    copyFileSync(sample('coughs-4-bout_snr-20db_pink_48k.mp3'), join(root, 'in', 'good2.mp3'));
    writeFileSync(join(root, 'in', 'empty.wav'), '');
    writeFileSync(join(root, 'in', 'text.mp3'), 'not audio at all '.repeat(40));
    const video = join(root, 'in', 'video.mp4');
    execFileSync(ffmpeg, ['-nostdin', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=32x32:rate=5', '-t', '1', '-c:v', 'mpeg4', `file:${video}`]);
    const r = await tosia(['run', join(root, 'in'), '--out', join(root, 'out'), '--progress', 'none']);
    expect(r.code).toBe(1);
    const errors = readFileSync(join(root, 'out', 'errors.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const byName = Object.fromEntries(errors.map((e) => [e.file.split('/').pop(), e]));
    expect(byName['empty.wav']).toMatchObject({ code: 'E_INPUT', stage: 'input' });
    expect(byName['text.mp3']).toMatchObject({ code: 'E_DECODE', stage: 'decode' });
    expect(byName['video.mp4']).toMatchObject({ code: 'E_DECODE', stage: 'decode' });
    expect(JSON.parse(readFileSync(join(root, 'out', 'run.json'), 'utf8'))).toMatchObject({ processed: 2, failed: 3 });
  });
});

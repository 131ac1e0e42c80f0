import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rng } from '../../samples/generator/synth.js';
import { tosia } from '../helpers/cli.js';
import { SAMPLES_DIR } from '../helpers/samples.js';

const PER_FORMAT = 60;
const SOURCES = ['coughs-3_snr-25db_white_16k.wav', 'coughs-4-bout_snr-20db_pink_48k.mp3', 'coughs-2_snr-30db_pink_48k.ogg', 'coughs-2_snr-25db_white_22k.oga', 'coughs-3-bout_snr-20db_pink_44k.flac'];

/** One seeded byte-level mutation: flips, overwritten ranges, truncation, duplicated chunks, zeroed runs. */
function mutate(src: Buffer, r: () => number): Buffer {
  const pick = (n: number) => Math.floor(r() * n);
  let b = Buffer.from(src);
  const kind = pick(5);
  if (kind === 0) {
    for (let i = 0, n = 1 + pick(20); i < n; i++) b[pick(b.length)] ^= 1 << pick(8);
  } else if (kind === 1) {
    const at = pick(b.length), len = 1 + pick(512);
    for (let i = at; i < Math.min(b.length, at + len); i++) b[i] = pick(256);
  } else if (kind === 2) {
    b = b.subarray(0, 1 + pick(b.length - 1));
  } else if (kind === 3) {
    const at = pick(b.length), len = 1 + pick(2048);
    b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + len), b.subarray(at)]);
  } else {
    const at = pick(Math.max(1, b.length - 64)), len = 1 + pick(4096);
    b.fill(0, at, Math.min(b.length, at + len));
  }
  // the header region is where parsers are most fragile: hit it half the time
  if (r() < 0.5) for (let i = 0, n = 1 + pick(4); i < n; i++) b[pick(Math.min(b.length, 64))] = pick(256);
  return b;
}

describe('fuzzing: mutated recordings end in a result or E_DECODE, never a crash or a hang', () => {
  it(`${PER_FORMAT} seeded mutations of each bundled format (${SOURCES.length} formats), as one batch`, async () => {
    const root = mkdtempSync(join(tmpdir(), 'tosia-fuzz-'));
    const inDir = join(root, 'in');
    mkdirSync(inDir);
    const r = rng(20261123);
    for (const name of SOURCES) {
      const src = readFileSync(join(SAMPLES_DIR, name));
      const ext = name.split('.').pop();
      for (let i = 0; i < PER_FORMAT; i++) writeFileSync(join(inDir, `${name.split('.')[0]}-m${String(i).padStart(3, '0')}.${ext}`), mutate(src, r));
    }
    const total = SOURCES.length * PER_FORMAT;
    // the timeout is a hang guard, not a speed check
    const run = await tosia(['run', inDir, '--out', join(root, 'out'), '--progress', 'json', '--set', 'audio.decode_timeout_s=30'], { timeout: 480_000 });
    expect(run.signal, 'the batch hung').toBeNull();
    expect([0, 1]).toContain(run.code);
    expect(run.stderr).not.toMatch(/\n\s+at .*:\d+:\d+\)?\n/);
    const events = run.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    const end = events.find((e) => e.type === 'end');
    expect(end.summary.inputs).toBe(total);
    expect(end.summary.processed + end.summary.failed).toBe(total);
    const failures = events.filter((e) => e.type === 'file-failed');
    for (const f of failures) expect(['E_DECODE', 'E_INPUT'], `${f.file}: ${f.code} ${f.message}`).toContain(f.code);
    // E_INPUT only for a mutation that left the file too short to be anything (no crash path)
    for (const f of failures.filter((x) => x.code === 'E_INPUT')) expect(f.message).toMatch(/empty|too short|max_duration/);
    // no ffmpeg left running from this batch
    const left = spawnSync('pgrep', ['-f', root], { encoding: 'utf8' }).stdout.trim();
    expect(left).toBe('');
    expect(readdirSync(join(root, 'out')).includes('.tosia-tmp')).toBe(false);
  });
});

describe('fuzzing the command line: random flag combinations end in 0, 1, 2 or 3 with a message', () => {
  const sample = join(SAMPLES_DIR, 'coughs-1_snr-20db_pink_8k.wav');
  const valid = [['--json'], ['--device', 'cpu'], ['--aggregate', 'max'], ['--threshold', '0.5'], ['--set', 'classifier.top_k=2'], ['--decoder', 'ffmpeg'], ['--decoder', 'native'], ['--max-duration', '60'], ['--allow-config-mismatch'], ['--sample-rate', '8000']];
  const invalid = [['--device', 'gpu'], ['--threshold', '2'], ['--set', 'foo=bar'], ['--set', 'mel_spec'], ['--aggregate', 'median'], ['--frob'], ['--concurrency', '0'], ['--progress', 'loud'], ['--max-duration', '-1'], ['--config', '/nonexistent.yml'], ['--model', '/nonexistent.onnx'], ['--sample-rate', 'fast'], ['--decoder'], ['--set', 'mel_spec.n_fft=3.5']];
  const r = rng(7);
  const combos: string[][] = [];
  for (let i = 0; i < 30; i++) {
    const args: string[] = [];
    const n = 1 + Math.floor(r() * 3);
    for (let k = 0; k < n; k++) {
      const pool = r() < 0.5 ? valid : invalid;
      args.push(...pool[Math.floor(r() * pool.length)]!);
    }
    const cmd = r() < 0.8 ? ['run', ...args, sample] : [['extract', 'config', 'doctor'][Math.floor(r() * 3)]!, ...args];
    combos.push(cmd);
  }
  it.each(combos.map((c) => [c.join(' ').replace(SAMPLES_DIR, 'samples'), c] as const))('tosia %s', async (_label, args) => {
    const res = await tosia([...args], { timeout: 60_000 });
    expect([0, 1, 2, 3]).toContain(res.code);
    if (res.code !== 0) expect(res.stderr.trim().length).toBeGreaterThan(0);
    expect(res.stderr).not.toMatch(/\n\s+at .*:\d+:\d+\)?\n/);
  });
});

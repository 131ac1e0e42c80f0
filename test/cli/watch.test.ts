import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../runtime/io/csv.js';
import { BIN, tosia } from '../helpers/cli.js';
import { bundledSamples } from '../helpers/samples.js';
import { Watch } from '../helpers/watch.js';

const samples = bundledSamples();

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** Write `src` to `dest` in 8 KB chunks, `gapMs` apart: a recording still arriving. */
async function writeSlowly(src: string, dest: string, gapMs: number): Promise<void> {
  const bytes = readFileSync(src);
  const fh = await open(dest, 'w');
  try {
    for (let at = 0; at < bytes.length; at += 8192) {
      await fh.write(bytes.subarray(at, at + 8192));
      await new Promise((r) => setTimeout(r, gapMs));
    }
  } finally {
    await fh.close();
  }
}

describe('tosia watch', () => {
  it('under load: 500 files copied in while it runs, some written slowly, each processed exactly once and never from a partial file; a restart runs nothing again', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tosia-watch-'));
    const dir = join(root, 'incoming');
    const out = join(root, 'out');
    mkdirSync(join(dir, 'old'), { recursive: true });
    // 6 recordings already there, 3 of them already run by `tosia run` of the same folder: the watch skips those
    const old = (i: number) => join(dir, 'old', `o${i}-${samples[i % samples.length]!.name}`);
    for (let i = 0; i < 3; i++) copyFileSync(samples[i % samples.length]!.file, old(i));
    writeFileSync(join(dir, 'notes.txt'), 'not audio: never run');
    expect((await tosia(['run', dir, '--out', out, '--progress', 'none'])).code).toBe(0);
    for (let i = 3; i < 6; i++) copyFileSync(samples[i % samples.length]!.file, old(i));

    const w = new Watch(dir, out);
    await w.until(() => w.reported().length >= 6, 120_000);
    expect(w.reported(true).sort()).toEqual([old(0), old(1), old(2)]);

    // 500 more: most copied at once in bursts, 20 written in chunks over about 1.5 s each
    const expected = new Map<string, string>();
    const slow: Promise<void>[] = [];
    for (let i = 0; i < 500; i++) {
      const s = samples[i % samples.length]!;
      const sub = join(dir, `batch-${Math.floor(i / 100)}`);
      mkdirSync(sub, { recursive: true });
      const dest = join(sub, `f${String(i).padStart(3, '0')}-${s.name}`);
      expected.set(dest, sha(s.file));
      if (i % 25 === 0) slow.push(writeSlowly(s.file, dest, 100));
      else copyFileSync(s.file, dest);
      if (i % 50 === 49) await new Promise((r) => setTimeout(r, 150));
    }
    await Promise.all(slow);
    await w.until(() => w.reported(false).length >= 503);
    // nothing more comes: wait past the stability window and gather time
    await new Promise((r) => setTimeout(r, 2000));
    expect(await w.stop('SIGTERM')).toBe(0);
    // skipped: the 3 run before the watch, plus any late duplicate notice of a file already done
    // (a loaded machine can deliver a slowly written file's last change after its round): the
    // store's skip rule answers those, so nothing runs twice; processed stays exactly 503
    const stopped = w.events.at(-1) as { type: string; processed: number; failed: number; skipped: number };
    expect(stopped).toMatchObject({ type: 'stopped', processed: 503, failed: 0 });
    expect(stopped.skipped).toBeGreaterThanOrEqual(3);

    const done = w.reported(false);
    expect(done.length).toBe(503);
    expect(new Set(done).size).toBe(503);
    expect(done.filter((f) => f.endsWith('.txt'))).toEqual([]);
    for (const [file, hash] of expected) {
      const result = JSON.parse(readFileSync(join(out, relative(root, file) + '.json'), 'utf8')) as { source: { sha256: string } };
      // a result of a half-written file would carry another sha256
      expect(result.source.sha256, file).toBe(hash);
    }
    const rows = parseCsv(readFileSync(join(out, 'results.csv'), 'utf8'));
    expect(rows.length - 1).toBe(506);
    expect(new Set(rows.slice(1).map((r) => r[0])).size).toBe(506);
    expect(existsSync(join(out, '.tosia-lock'))).toBe(false);

    // a restart: everything is up to date, nothing runs; then a changed file runs again
    const again = new Watch(dir, out);
    await again.until(() => again.reported().length >= 506);
    expect(again.reported(false)).toEqual([]);
    const changed = join(dir, 'batch-0', 'f001-' + samples[1]!.name);
    copyFileSync(samples[0]!.file, changed);
    await again.until(() => again.reported(false).length >= 1);
    expect(again.reported(false)).toEqual([changed]);
    expect(await again.stop('SIGINT')).toBe(0);
  }, 600_000);

  it('prints one line per file by default, and refuses what it cannot watch', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tosia-watch-lines-'));
    const dir = join(root, 'in');
    mkdirSync(dir);
    copyFileSync(samples[0]!.file, join(dir, samples[0]!.name));
    writeFileSync(join(dir, 'broken.wav'), 'RIFF this is not audio');
    const p = spawn(process.execPath, [BIN, 'watch', dir, '--out', join(root, 'out'), '--stable', '300'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    p.stdout!.on('data', (c) => (stdout += c));
    const t0 = Date.now();
    while (stdout.split('\n').filter(Boolean).length < 2 && Date.now() - t0 < 60_000) await new Promise((r) => setTimeout(r, 100));
    const code = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    expect(await code).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines.find((l) => l.includes(samples[0]!.name))).toMatch(/^\d{4}-\d\d-\d\dT\S+Z {2}done {4}\S+ {2}\w+ {2}\d+ segments? {2}\d+\.\d s$/);
    expect(lines.find((l) => l.includes('broken.wav'))).toMatch(/failed .*E_DECODE/);

    expect(await tosia(['watch', join(root, 'nope'), '--out', join(root, 'o2')])).toMatchObject({ code: 1, stderr: expect.stringMatching(/E_INPUT.*folder does not exist/s) });
    expect(await tosia(['watch', dir, '--out', join(root, 'o3'), '--stable', 'soon'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--stable=soon must be/) });
    expect(await tosia(['watch', dir, '--out', join(root, 'o3'), '--progress', 'bar'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--progress=bar must be line, json or none/) });
    expect(await tosia(['watch', dir, '--out', root])).toMatchObject({ code: 1, stderr: expect.stringMatching(/E_OUTPUT.*inside the output folder/s) });
  }, 120_000);
});

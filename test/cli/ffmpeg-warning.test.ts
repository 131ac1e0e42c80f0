import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveFfmpeg } from '../../runtime/index.js';
import { tosia } from '../helpers/cli.js';
import { REPO_ROOT } from '../helpers/shared.js';

// An ffmpeg that says it was built in `year` and decodes with the real one; each -version call
// is logged, so a run that needs no ffmpeg can be shown not to have asked.
const dir = mkdtempSync(join(tmpdir(), 'tosia-ffmpeg-age-'));
const real = resolveFfmpeg().path;
function fakeFfmpeg(year: number): { path: string; asked: () => number } {
  const path = join(dir, `ffmpeg-${year}`);
  const log = `${path}.log`;
  writeFileSync(path, `#!/bin/sh
if [ "$2" = "-version" ]; then echo asked >> '${log}'; echo "ffmpeg version n-${year} Copyright (c) 2000-${year} the FFmpeg developers"; exit 0; fi
exec '${real}' "$@"
`);
  chmodSync(path, 0o755);
  return { path, asked: () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').length : 0) };
}
const sample = join(REPO_ROOT, 'samples/coughs-3_snr-25db_white_16k.wav');
const WARNING = /^tosia: warning: the ffmpeg in use \(.*ffmpeg-2018, found by explicit\) was built in 2018, more than two years ago: .*--ffmpeg PATH/m;

describe('a warning when the ffmpeg in use is more than two years old', () => {
  it('tosia run warns once when it decoded with an old ffmpeg, and not with a recent one', async () => {
    const old = fakeFfmpeg(2018);
    const r = await tosia(['run', sample, '--decoder', 'ffmpeg', '--ffmpeg', old.path]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(WARNING);
    expect(r.stderr.match(/tosia: warning/g)).toHaveLength(1);
    const recent = fakeFfmpeg(new Date().getFullYear());
    const ok = await tosia(['run', sample, '--decoder', 'ffmpeg', '--ffmpeg', recent.path]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).not.toMatch(/warning/);
  });

  it('a run that decodes in-process never asks ffmpeg its version', async () => {
    const old = fakeFfmpeg(2017);
    const r = await tosia(['run', sample, '--ffmpeg', old.path]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/warning/);
    expect(old.asked()).toBe(0);
  });

  it('a batch says it once, before its summary, however many files needed ffmpeg', async () => {
    const old = fakeFfmpeg(2018);
    const root = mkdtempSync(join(dir, 'batch-'));
    mkdirSync(join(root, 'in'));
    for (const n of ['a', 'b', 'c']) copyFileSync(sample, join(root, 'in', `${n}.wav`));
    const r = await tosia(['run', join(root, 'in'), '--out', join(root, 'out'), '--decoder', 'ffmpeg', '--ffmpeg', old.path, '--progress', 'none']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.match(/tosia: warning/g)).toHaveLength(1);
    expect(r.stderr).toMatch(WARNING);
  });
});

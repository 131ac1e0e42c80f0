import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultConfig, recordingFigure, type Result } from '../../runtime/index.js';
import { tosia } from '../helpers/cli.js';
import { REPO_ROOT } from '../helpers/shared.js';

const dir = mkdtempSync(join(tmpdir(), 'tosia-report-'));
const SAMPLE = join(REPO_ROOT, 'samples/coughs-3_snr-25db_white_16k.wav');
const count = (html: string, re: RegExp) => (html.match(re) ?? []).length;

/** Self-contained: nothing is fetched from anywhere. */
function selfContained(html: string) {
  expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
  expect(html).not.toMatch(/<link /);
}

describe('tosia report', () => {
  it('run --report: one self-contained file with the audio, the figure with a box per segment, the segments, the flags and the raw JSON', async () => {
    const out = join(dir, 'one.html');
    const r = await tosia(['run', SAMPLE, '--report', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Report: .*one\.html/);
    const html = readFileSync(out, 'utf8');
    selfContained(html);
    expect(html).toMatch(/<audio controls preload="metadata" src="data:audio\/wav;base64,/);
    expect(count(html, /<rect class="seg"/g)).toBe(3);
    expect(count(html, /<tr data-index="\d+"/g)).toBe(3);
    expect(html).toMatch(/<image href="data:image\/png;base64,/);
    expect(html).toMatch(/No quality flags\./);
    expect(html).toMatch(/<summary>Raw JSON<\/summary>/);
    expect(html).toMatch(/research software, not a medical device/);
  });

  it('a batch folder: a summary with counts by label and flag and a link to each recording, then each one', async () => {
    const inDir = join(dir, 'calls');
    mkdirSync(inDir);
    for (const name of ['coughs-3_snr-25db_white_16k.wav', 'coughs-0_white_16k.wav', 'coughs-3-bout_snr-15db_white_8k.mp3']) copyFileSync(join(REPO_ROOT, 'samples', name), join(inDir, name));
    const out = join(dir, 'batch');
    expect((await tosia(['run', inDir, '--out', out, '--progress', 'none'])).code).toBe(0);
    const r = await tosia(['report', out, '-o', join(dir, 'batch.html')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/3 recordings in .*batch\.html/);
    const html = readFileSync(join(dir, 'batch.html'), 'utf8');
    selfContained(html);
    expect(html).toMatch(/<h2>3 recordings<\/h2>/);
    expect(html).toMatch(/<td>no_cough<\/td><td>1<\/td>/);
    expect(count(html, /<section class="recording" id="rec-\d"/g)).toBe(3);
    for (let i = 0; i < 3; i++) expect(html).toContain(`href="#rec-${i}"`);
    expect(html).toMatch(/Worst quality/);
    expect(count(html, /<audio /g)).toBe(3);
  });

  it('a result whose audio has gone keeps its section and says why; bad input is refused clearly', async () => {
    const json = (await tosia(['run', join(REPO_ROOT, 'samples/coughs-0_white_16k.wav'), '--json'])).stdout;
    const result = JSON.parse(json) as Result;
    writeFileSync(join(dir, 'moved.json'), JSON.stringify({ ...result, source: { ...result.source, path: join(dir, 'gone.wav') } }));
    // the folder named for the audio does not hold it: the report is written, and the exit says so
    const r = await tosia(['report', join(dir, 'moved.json'), '-o', join(dir, 'moved.html'), '--audio-base', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/warning: the audio of 1 of them was not found/);
    // a --audio-base that is not a folder at all is a usage error, before anything is read
    expect(await tosia(['report', join(dir, 'moved.json'), '-o', join(dir, 'y.html'), '--audio-base', join(dir, 'no-such-folder')])).toMatchObject({ code: 2, stderr: expect.stringMatching(/E_CONFIG.*--audio-base .*no-such-folder is not a folder/s) });
    expect(readFileSync(join(dir, 'moved.html'), 'utf8')).toMatch(/The audio is not at .*gone\.wav \(ENOENT\): no figure or player\. Pass --audio-base/);
    expect(await tosia(['report', join(dir, 'nope'), '-o', join(dir, 'x.html')])).toMatchObject({ code: 1, stderr: expect.stringMatching(/E_INPUT.*does not exist/s) });
    writeFileSync(join(dir, 'other.json'), '{"hello": 1}');
    expect(await tosia(['report', join(dir, 'other.json'), '-o', join(dir, 'x.html')])).toMatchObject({ code: 1, stderr: expect.stringMatching(/is not a tosia result/) });
    expect(await tosia(['report', join(dir, 'moved.json'), '-o', join(dir, 'x.html'), '--max-width', '3'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--max-width=3 must be/) });
    expect(await tosia(['run', SAMPLE, SAMPLE, '--report', join(dir, 'x.html')])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--report is for one file/) });
  });

  it('the figure of a one-hour recording stays small: pooled to the width asked for', async () => {
    const rate = 8000;
    const samples = new Float32Array(rate * 3600);
    for (let i = 0; i < samples.length; i++) samples[i] = (((i * 2654435761) >>> 0) / 4294967296 - 0.5) * 0.01;
    // a loud burst at 30 min
    for (let i = rate * 1800; i < rate * 1800.3; i++) samples[i] = Math.sin(i) * 0.8;
    const result = { diagnosis: { positive_label: 'covid19' }, segments: [{ index: 0, start_s: 1800, end_s: 1800.3, probabilities: { covid19: 0.9 }, excluded: false }] } as unknown as Result;
    const f = await recordingFigure(samples, rate, result, defaultConfig(), { maxWidth: 1200 });
    expect(f.width).toBe(1200);
    expect(f.png.length).toBeLessThan(600_000);
    expect(f.boxes[0]).toMatchObject({ x0: 600, colour: expect.stringMatching(/^#/) });
    expect(f.svg.length).toBeLessThan(900_000);
  }, 120_000);
});

describe('tosia report and names taken from a result (issue 25, finding 5)', () => {
  it('a result file\'s source.path is only a name below --audio-base: ../ and absolute paths elsewhere are never read, and it warns', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tosia-report-names-'));
    const result = JSON.parse((await tosia(['run', join(REPO_ROOT, 'samples/coughs-0_white_16k.wav'), '--json'])).stdout) as Result;
    for (const [name, path] of [['abs', '/etc/hostname'], ['up', '../../../../../../etc/hostname']] as const) {
      writeFileSync(join(dir, `${name}.json`), JSON.stringify({ id: 'x', result: { ...result, source: { ...result.source, path } } }));
      const r = await tosia(['report', join(dir, `${name}.json`), '-o', join(dir, `${name}.html`)], { cwd: dir });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/warning: the audio of 1 of them was not found/);
      const html = readFileSync(join(dir, `${name}.html`), 'utf8');
      expect(html).not.toMatch(/<audio /);
      expect(html).toMatch(/is not a name below/);
    }
    // a plain name below the audio base is found and embedded
    copyFileSync(join(REPO_ROOT, 'samples/coughs-0_white_16k.wav'), join(dir, 'call.wav'));
    writeFileSync(join(dir, 'named.json'), JSON.stringify({ ...result, source: { ...result.source, path: 'call.wav' } }));
    const ok = await tosia(['report', join(dir, 'named.json'), '-o', join(dir, 'named.html'), '--audio-base', dir]);
    expect(ok.code).toBe(0);
    expect(ok.stderr).not.toMatch(/warning/);
    expect(readFileSync(join(dir, 'named.html'), 'utf8')).toMatch(/<audio /);
  });
});

describe('tosia report and a crafted result.json (issue 25, finding 10)', () => {
  it('markup where a number belongs is written as NaN, never as markup', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tosia-report-crafted-'));
    const result = JSON.parse((await tosia(['run', join(REPO_ROOT, 'samples/coughs-3_snr-25db_white_16k.wav'), '--json'])).stdout) as Result;
    const x = '"><script>alert(1)</script><b x="';
    const crafted = {
      ...result,
      source: { ...result.source, duration_s: x, sample_rate: x },
      diagnosis: { ...result.diagnosis, threshold: x, n_segments: x },
      quality: { ...result.quality, snr_db: x, peak_dbfs: x, flags: ['low_snr', 'too_quiet'] },
      segments: result.segments.map((s) => ({ ...s, index: x, start_s: x })),
    };
    writeFileSync(join(dir, 'crafted.json'), JSON.stringify(crafted));
    const r = await tosia(['report', join(dir, 'crafted.json'), '-o', join(dir, 'crafted.html')]);
    expect(r.code, r.stderr).toBe(0);
    const html = readFileSync(join(dir, 'crafted.html'), 'utf8');
    expect(html).not.toContain('<script>alert(1)</script>');
    expect(html).not.toContain('<b x=');
  });
});

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../runtime/io/csv.js';
import { defaultConfig, runBatch, type BatchEvent } from '../../runtime/index.js';
import { BIN, type CliResult, run, tosia } from '../helpers/cli.js';
import { bundledSamples } from '../helpers/samples.js';

const samples = bundledSamples();
const small = samples.filter((s) => s.name.endsWith('.wav'));
const TRICKY = 'we"ird, name\nwith newline.wav';

/** An input tree: in/a/<wav samples>, in/b/<the same names>, a tricky name, and optionally a bad file. */
function makeInputs(bad = false): string {
  const root = mkdtempSync(join(tmpdir(), 'tosia-batch-'));
  for (const sub of ['a', 'b']) {
    mkdirSync(join(root, 'in', sub), { recursive: true });
    for (const s of small) copyFileSync(s.file, join(root, 'in', sub, s.name));
  }
  copyFileSync(small[1]!.file, join(root, 'in', 'a', TRICKY));
  if (bad) writeFileSync(join(root, 'in', 'a', 'broken.mp3'), 'this is not audio');
  return root;
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

function snapshot(dir: string): Record<string, number> {
  return Object.fromEntries(walk(dir).map((f) => [relative(dir, f), statSync(f).mtimeMs]));
}

/** A 60-file batch on one worker, sent `signal` once the first file is done. */
async function interruptMidBatch(signal: NodeJS.Signals): Promise<{ root: string; out: string; code: number | null }> {
  const root = mkdtempSync(join(tmpdir(), `tosia-${signal.toLowerCase()}-`));
  mkdirSync(join(root, 'in'));
  for (let i = 0; i < 60; i++) copyFileSync(small[0]!.file, join(root, 'in', `c${String(i).padStart(2, '0')}.wav`));
  const out = join(root, 'out');
  const child = spawn(process.execPath, [BIN, 'run', join(root, 'in'), '--out', out, '--progress', 'json', '--concurrency', '1']);
  let stderr = '';
  let signalled = false;
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (!signalled && stderr.includes('"file-done"')) { signalled = true; child.kill(signal); }
  });
  const code = await new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
  return { root, out, code };
}

const nInputs = 2 * small.length + 1;

describe('tosia run --out (batch)', () => {
  it('mirrors the input tree, never writes into it, and writes every table', async () => {
    const root = makeInputs();
    const before = snapshot(join(root, 'in'));
    const out = join(root, 'out');
    const r = await tosia(['run', join(root, 'in'), '--out', out, '--progress', 'none']);
    expect(r.code).toBe(0);
    expect(snapshot(join(root, 'in'))).toEqual(before);
    for (const sub of ['a', 'b']) for (const s of small) expect(existsSync(join(out, 'in', sub, `${s.name}.json`))).toBe(true);
    for (const f of ['results.jsonl', 'results.csv', 'segments.csv', 'errors.jsonl', 'run.json']) expect(existsSync(join(out, f)), f).toBe(true);
    expect(walk(out).some((f) => f.endsWith('.tmp'))).toBe(false);
    const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
    expect(run).toMatchObject({ inputs: nInputs, processed: nInputs, skipped: 0, failed: 0, interrupted: false });
    expect(run.config_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(run.model.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(run.realtime_factor).toBeGreaterThan(0);
  });

  it('results.csv and segments.csv read back with an RFC 4180 parser, tricky names included', async () => {
    const root = makeInputs();
    const out = join(root, 'out');
    expect((await tosia(['run', join(root, 'in'), '--out', out, '--progress', 'none'])).code).toBe(0);
    const rows = parseCsv(readFileSync(join(out, 'results.csv'), 'utf8'));
    const header = rows[0]!;
    expect(header.slice(0, 8)).toEqual(['file', 'duration_s', 'sample_rate', 'channels', 'codec', 'n_segments', 'label', 'score']);
    expect(rows.slice(1)).toHaveLength(nInputs);
    for (const row of rows.slice(1)) expect(row).toHaveLength(header.length);
    expect(rows.some((row) => row[0]!.endsWith(TRICKY))).toBe(true);
    const segs = parseCsv(readFileSync(join(out, 'segments.csv'), 'utf8'));
    const results = readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(segs.slice(1)).toHaveLength(results.reduce((a, r) => a + r.segments.length, 0));
    expect(segs.slice(1).some((row) => row[0]!.endsWith(TRICKY))).toBe(true);
  });

  it('resume skips exactly the unchanged files; --force reprocesses all', async () => {
    const root = makeInputs();
    const out = join(root, 'out');
    expect((await tosia(['run', join(root, 'in'), '--out', out, '--progress', 'none'])).code).toBe(0);
    // change one input's bytes; touch another without changing it
    const changed = join(root, 'in', 'b', small[0]!.name);
    writeFileSync(changed, Buffer.concat([readFileSync(changed), Buffer.alloc(64)]));
    utimesSync(join(root, 'in', 'a', small[0]!.name), new Date(), new Date());
    const again = await tosia(['run', join(root, 'in'), '--out', out, '--progress', 'json']);
    expect(again.code).toBe(0);
    const events = again.stderr.trim().split('\n').map((l) => JSON.parse(l)) as BatchEvent[];
    const done = events.filter((e): e is Extract<BatchEvent, { type: 'file-done' }> => e.type === 'file-done');
    expect(done.filter((e) => !e.skipped).map((e) => e.file)).toEqual([changed]);
    expect(done.filter((e) => e.skipped)).toHaveLength(nInputs - 1);
    const forced = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
    expect(forced.skipped).toBe(nInputs - 1);
    expect((await tosia(['run', join(root, 'in'), '--out', out, '--force', '--progress', 'none'])).code).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'))).toMatchObject({ processed: nInputs, skipped: 0 });
  });

  it('a bad file in the middle: logged in errors.jsonl, the others done, exit 1; --retry-failed retries only it', async () => {
    const root = makeInputs(true);
    const out = join(root, 'out');
    const r = await tosia(['run', join(root, 'in'), '--out', out, '--progress', 'none']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/E_DECODE.*broken\.mp3/);
    const errors = readFileSync(join(out, 'errors.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'E_DECODE', stage: 'decode' });
    expect(errors[0].file).toMatch(/broken\.mp3$/);
    expect(JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'))).toMatchObject({ processed: nInputs, failed: 1 });
    expect(errors[0]).toMatchObject({ sha256: expect.stringMatching(/^[0-9a-f]{64}$/), config_sha256: expect.any(String), model_sha256: expect.any(String) });
    const retry = await tosia(['run', join(root, 'in'), '--out', out, '--retry-failed', '--progress', 'json']);
    expect(retry.code).toBe(1);
    const events = retry.stderr.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    expect(events[0]).toMatchObject({ type: 'start', total: 1 });
    expect(events.find((e) => e.type === 'file-failed')).toMatchObject({ skipped: false, code: 'E_DECODE' });
  });

  it('a re-run with one new file processes just it, with two workers started and one of them idle', async () => {
    const root = makeInputs();
    const out = join(root, 'out');
    expect((await tosia(['run', join(root, 'in'), '--out', out, '--progress', 'none', '--concurrency', '2'])).code).toBe(0);
    copyFileSync(small[0]!.file, join(root, 'in', 'b', 'new.wav'));
    const again = await tosia(['run', join(root, 'in'), '--out', out, '--progress', 'none', '--concurrency', '2']);
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'))).toMatchObject({ processed: 1, skipped: nInputs, failed: 0 });
  });

  it('a plain re-run does not retry an unchanged failure (it stays in errors.jsonl), but retries it once the file changes', async () => {
    const root = makeInputs(true);
    const out = join(root, 'out');
    expect((await tosia(['run', join(root, 'in'), '--out', out, '--progress', 'none'])).code).toBe(1);
    const again = await tosia(['run', join(root, 'in'), '--out', out, '--progress', 'json']);
    expect(again.stderr.split('\n').filter((l) => !l.startsWith('{')).join('\n')).toBe('');
    expect(again.code).toBe(1);
    const events = again.stderr.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    expect(events.find((e) => e.type === 'file-failed')).toMatchObject({ skipped: true, code: 'E_DECODE' });
    expect(events.at(-1).summary).toMatchObject({ processed: 0, skipped: nInputs, failed: 1, failed_unchanged: 1 });
    expect(readFileSync(join(out, 'errors.jsonl'), 'utf8')).toMatch(/broken\.mp3/);
    // the file is fixed: it is processed
    copyFileSync(small[0]!.file, join(root, 'in', 'a', 'broken.mp3'));
    const fixed = await tosia(['run', join(root, 'in'), '--out', out, '--progress', 'none']);
    expect(fixed.code).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'))).toMatchObject({ processed: 1, failed: 0 });
    expect(readFileSync(join(out, 'errors.jsonl'), 'utf8')).toBe('');
  });

  it('--include / --exclude filter the inputs; several inputs without --out is a usage error', async () => {
    const root = makeInputs();
    const out = join(root, 'out');
    const r = await tosia(['run', join(root, 'in'), '--out', out, '--include', 'a/**', '--exclude', '*pink*', '--progress', 'none']);
    expect(r.code).toBe(0);
    const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
    expect(run.inputs).toBe(small.filter((s) => !s.name.includes('pink')).length + (TRICKY.includes('pink') ? 0 : 1));
    const usage = await tosia(['run', join(root, 'in')]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/need an output folder.*--out DIR/);
  });

  it('a quoted glob is expanded by tosia (** across folders); one that matches nothing is E_INPUT', async () => {
    const root = makeInputs();
    const r = await tosia(['run', join(root, 'in', '**', '*white*.wav'), '--out', join(root, 'out'), '--progress', 'none']);
    expect(r.code).toBe(0);
    expect(JSON.parse(readFileSync(join(root, 'out', 'run.json'), 'utf8')).inputs).toBe(2 * small.filter((s) => s.name.includes('white')).length);
    const none = await tosia(['run', join(root, 'in', '**', '*.flac'), '--out', join(root, 'out2'), '--progress', 'none']);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/E_INPUT.*no audio file matches/);
  });

  it('--progress json emits start, file-done, file-failed and end events', async () => {
    const root = makeInputs(true);
    const r = await tosia(['run', join(root, 'in'), '--out', join(root, 'out'), '--progress', 'json']);
    const events = r.stderr.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    expect(events[0].type).toBe('start');
    expect(events.at(-1).type).toBe('end');
    expect(events.filter((e) => e.type === 'file-done')).toHaveLength(nInputs);
    expect(events.filter((e) => e.type === 'file-failed')).toHaveLength(1);
    expect(events.at(-1).summary).toMatchObject({ inputs: nInputs + 1, failed: 1 });
  });

  it('SIGINT mid-batch finishes the files in flight, writes consistent tables, exits 130; a re-run completes', async () => {
    const { root, out, code } = await interruptMidBatch('SIGINT');
    expect(code).toBe(130);
    const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
    expect(run.interrupted).toBe(true);
    expect(run.processed).toBeGreaterThan(0);
    expect(run.processed).toBeLessThan(60);
    const jsonResults = walk(join(out, 'in')).filter((f) => f.endsWith('.json'));
    expect(jsonResults).toHaveLength(run.processed);
    expect(parseCsv(readFileSync(join(out, 'results.csv'), 'utf8')).slice(1)).toHaveLength(run.processed);
    expect(walk(out).some((f) => f.endsWith('.tmp'))).toBe(false);
    const again = await tosia(['run', join(root, 'in'), '--out', out, '--progress', 'none']);
    expect(again.code).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'))).toMatchObject({ inputs: 60, skipped: run.processed, processed: 60 - run.processed, interrupted: false });
  });
});

describe('a batch stays intact against odd inputs, a second run, a closed terminal and hostile names (issue 11)', () => {
  it('devices and FIFOs, in a folder or named, fail as "not a regular file" without being opened; the rest runs (D1, D2)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tosia-special-'));
    mkdirSync(join(root, 'in'));
    copyFileSync(small[0]!.file, join(root, 'in', 'good.wav'));
    symlinkSync('/dev/zero', join(root, 'in', 'zero.wav'));
    execFileSync('mkfifo', [join(root, 'in', 'pipe.mp3'), join(root, 'named.mp3')]);
    const r = await tosia(['run', join(root, 'in'), join(root, 'named.mp3'), '--out', join(root, 'out'), '--progress', 'none'], { timeout: 30_000 });
    expect(r.code).toBe(1);
    const errors = readFileSync(join(root, 'out', 'errors.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(errors.map((e) => basename(e.file)).sort()).toEqual(['named.mp3', 'pipe.mp3', 'zero.wav']);
    for (const e of errors) expect(e).toMatchObject({ code: 'E_INPUT', message: expect.stringMatching(/is not a regular file/) });
    expect(JSON.parse(readFileSync(join(root, 'out', 'run.json'), 'utf8'))).toMatchObject({ processed: 1, failed: 3 });
  });

  it('an output path too long for one input fails that input only; the batch and every re-run complete the rest (D7)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tosia-long-'));
    mkdirSync(join(root, 'in'));
    for (let i = 0; i < 6; i++) copyFileSync(small[0]!.file, join(root, 'in', `c${i}.wav`));
    // a 254-byte name is a valid input; its result name (+ '.json') is not
    const long = `${'a'.repeat(250)}.wav`;
    copyFileSync(small[0]!.file, join(root, 'in', long));
    const out = join(root, 'out');
    for (const run of [1, 2]) {
      const r = await tosia(['run', join(root, 'in'), '--out', out, '--progress', 'none']);
      expect(r.code, `run ${run}`).toBe(1);
      const errors = readFileSync(join(out, 'errors.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({ code: 'E_OUTPUT', message: expect.stringMatching(/ENAMETOOLONG/) });
      expect(JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'))).toMatchObject({ inputs: 7, failed: 1, not_started: 0 });
    }
    expect(walk(join(out, 'in')).filter((f) => f.endsWith('.json'))).toHaveLength(6);
  });

  // root reads any folder, so as root the batch runs as nobody (setpriv); skipped where neither works
  const asUnprivileged = process.getuid?.() !== 0 ? [] : existsSync('/usr/bin/setpriv') ? ['/usr/bin/setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : null;
  // ...and nobody must be able to reach the built CLI (a checkout inside a private folder cannot)
  const unprivilegedRuns = asUnprivileged !== null && (asUnprivileged.length === 0 || spawnSync(asUnprivileged[0]!, [...asUnprivileged.slice(1), process.execPath, '-e', `require('fs').accessSync(${JSON.stringify(BIN)})`]).status === 0);
  it.skipIf(!unprivilegedRuns)(`an unreadable subfolder${unprivilegedRuns ? '' : ' (skipped: running as root, and user nobody cannot reach the built CLI here)'} fails as E_INPUT in errors.jsonl; the rest of the batch runs (D9)`, async () => {
    const root = mkdtempSync(join(tmpdir(), 'tosia-locked-'));
    for (const d of ['in/ok', 'in/locked']) mkdirSync(join(root, d), { recursive: true });
    copyFileSync(small[0]!.file, join(root, 'in', 'ok', 'a.wav'));
    copyFileSync(small[0]!.file, join(root, 'in', 'locked', 'b.wav'));
    for (const d of ['', 'in', 'in/ok']) chmodSync(join(root, d), 0o777);
    chmodSync(join(root, 'in', 'ok', 'a.wav'), 0o644);
    chmodSync(join(root, 'in', 'locked'), 0o000);
    const [cmd, ...pre] = [...asUnprivileged!, process.execPath];
    const r = await run(cmd!, [...pre, BIN, 'run', join(root, 'in'), '--out', join(root, 'out'), '--progress', 'none']);
    chmodSync(join(root, 'in', 'locked'), 0o755);
    expect(r.stderr).toMatch(/E_INPUT: .*locked \[input\]: folder cannot be listed \(permission denied\)/);
    expect(r.code).toBe(1);
    expect(JSON.parse(readFileSync(join(root, 'out', 'run.json'), 'utf8'))).toMatchObject({ inputs: 2, processed: 1, failed: 1 });
  });

  it('the tables describe every result in the folder: --retry-failed and a second input folder keep the earlier rows (D6)', async () => {
    const root = makeInputs(true);
    const out = join(root, 'out');
    const tables = () => ({
      jsonl: readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l).source.path).sort(),
      csv: parseCsv(readFileSync(join(out, 'results.csv'), 'utf8')).slice(1).map((r) => r[0]).sort(),
      segments: parseCsv(readFileSync(join(out, 'segments.csv'), 'utf8')).length - 1,
      errors: readFileSync(join(out, 'errors.jsonl'), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l).file),
    });
    expect((await tosia(['run', join(root, 'in', 'a'), '--out', out, '--progress', 'none'])).code).toBe(1);
    const first = tables();
    expect(first.jsonl).toHaveLength(small.length + 1);
    expect(first.errors).toHaveLength(1);
    // a second input folder into the same output: both folders' rows
    expect((await tosia(['run', join(root, 'in', 'b'), '--out', out, '--progress', 'none'])).code).toBe(0);
    const both = tables();
    expect(both.jsonl).toHaveLength(2 * small.length + 1);
    expect(both.csv).toEqual(both.jsonl);
    expect(both.errors).toEqual(first.errors);
    // a retry of the failed file, now fixed: every row stays, the failure becomes a result
    copyFileSync(small[0]!.file, join(root, 'in', 'a', 'broken.mp3'));
    expect((await tosia(['run', join(root, 'in', 'a'), '--out', out, '--retry-failed', '--progress', 'none'])).code).toBe(0);
    const retried = tables();
    expect(retried.jsonl).toHaveLength(2 * small.length + 2);
    expect(retried.csv).toEqual(retried.jsonl);
    expect(retried.errors).toEqual([]);
    const segmentsInResults = walk(out).filter((f) => f.endsWith('.json') && !f.endsWith('run.json')).reduce((n, f) => n + JSON.parse(readFileSync(f, 'utf8')).segments.length, 0);
    expect(retried.segments).toBe(segmentsInResults);
  });

  it('a large input that fails records its sha256 (hashed as a stream), so a re-run does not retry it, in bounded memory (D10)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tosia-large-'));
    mkdirSync(join(root, 'in'));
    copyFileSync(small[0]!.file, join(root, 'in', 'ok.wav'));
    // 300 MB that is not audio: more than the in-process decoders take (256 MB), so it streams
    const big = join(root, 'in', 'big.mp3');
    const chunk = Buffer.alloc(1 << 20);
    for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 7919) & 0xff;
    for (let i = 0; i < 300; i++) writeFileSync(big, chunk, { flag: i ? 'a' : 'w' });
    const out = join(root, 'out');
    expect((await tosia(['run', join(root, 'in'), '--out', out, '--progress', 'none'])).code).toBe(1);
    const [failure] = readFileSync(join(out, 'errors.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(failure).toMatchObject({ file: big, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const timed = existsSync('/usr/bin/time');
    const again = timed
      ? await run('/usr/bin/time', ['-f', 'maxrss_kb=%M', process.execPath, BIN, 'run', join(root, 'in'), '--out', out, '--progress', 'json'], { timeout: 120_000 })
      : await tosia(['run', join(root, 'in'), '--out', out, '--progress', 'json'], { timeout: 120_000 });
    const events = again.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    expect(events.find((e) => e.type === 'file-failed')).toMatchObject({ file: big, skipped: true });
    // the unchanged check hashes the 300 MB as a stream: memory stays far below the file's size
    if (timed) expect(Number(/maxrss_kb=(\d+)/.exec(again.stderr)![1]) / 1024).toBeLessThan(250);
  });

  it('a second batch into the same output folder stops at once, naming the running one; a lock left by a dead process is taken over (D5)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tosia-lock-'));
    mkdirSync(join(root, 'in'));
    // long enough (ffmpeg per file, one worker) to still be running when the second starts
    for (let i = 0; i < 150; i++) copyFileSync(small[0]!.file, join(root, 'in', `c${String(i).padStart(3, '0')}.wav`));
    const out = join(root, 'out');
    const first = spawn(process.execPath, [BIN, 'run', join(root, 'in'), '--out', out, '--progress', 'json', '--concurrency', '1', '--decoder', 'ffmpeg']);
    let stderr = '';
    const second = await new Promise<CliResult>((res) => {
      first.stderr.on('data', async (d: Buffer) => {
        const was = stderr;
        stderr += d.toString();
        if (!was.includes('"file-done"') && stderr.includes('"file-done"')) res(await tosia(['run', join(root, 'in'), '--out', out, '--progress', 'none']));
      });
    });
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(new RegExp(`E_OUTPUT: .*in use by another tosia run \\(pid ${first.pid} on .*started `));
    expect(await new Promise((res) => first.on('exit', res))).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'))).toMatchObject({ processed: 150, failed: 0 });
    expect(existsSync(join(out, '.tosia-lock'))).toBe(false);
    // a lock whose process is gone (a SIGKILL) does not stop the next run
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    writeFileSync(join(out, '.tosia-lock'), JSON.stringify({ pid: dead, host: hostname(), started_at: '2026-01-01T00:00:00Z' }));
    expect((await tosia(['run', join(root, 'in'), '--out', out, '--progress', 'none', '--decoder', 'ffmpeg'])).code).toBe(0);
  });

  it('an input replaced by a damaged copy: its earlier result and label track go, so files and tables agree (D12)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tosia-stale-'));
    mkdirSync(join(root, 'in'));
    const good = small.find((s) => s.name.startsWith('coughs-3_'))!;
    copyFileSync(good.file, join(root, 'in', 'a.wav'));
    const out = join(root, 'out');
    expect((await tosia(['run', join(root, 'in'), '--out', out, '--progress', 'none', '--labels', 'audacity', '--save-images', 'x'])).code).toBe(0);
    const stem = join(out, 'in', 'a.wav');
    expect(existsSync(`${stem}.json`) && existsSync(`${stem}.labels.txt`) && existsSync(`${stem}.seg000.png`)).toBe(true);
    writeFileSync(join(root, 'in', 'a.wav'), 'RIFF damaged');
    expect((await tosia(['run', join(root, 'in'), '--out', out, '--progress', 'none', '--labels', 'audacity', '--save-images', 'x'])).code).toBe(1);
    expect(walk(join(out, 'in'))).toEqual([]);
    expect(readFileSync(join(out, 'results.jsonl'), 'utf8')).toBe('');
    expect(readFileSync(join(out, 'errors.jsonl'), 'utf8')).toMatch(/a\.wav/);
  });

  it('a progress reader that goes away stops the progress, not the batch (D14)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tosia-pipe-'));
    mkdirSync(join(root, 'in'));
    for (let i = 0; i < 30; i++) copyFileSync(small[0]!.file, join(root, 'in', `c${String(i).padStart(2, '0')}.wav`));
    const out = join(root, 'out');
    const r = await run('bash', ['-c', `set -o pipefail; "${process.execPath}" "${BIN}" run "${join(root, 'in')}" --out "${out}" --progress json 2>&1 >/dev/null | head -2 >/dev/null; echo "\${PIPESTATUS[0]}"`]);
    expect(r.stdout.trim()).toBe('0');
    expect(JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'))).toMatchObject({ processed: 30, failed: 0 });
    expect(parseCsv(readFileSync(join(out, 'results.csv'), 'utf8')).slice(1)).toHaveLength(30);
  });

  it('SIGHUP (a closed terminal or ssh session) is handled like SIGTERM: exit 130, consistent tables, a re-run completes', async () => {
    const { root, out, code } = await interruptMidBatch('SIGHUP');
    expect(code).toBe(130);
    const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
    expect(run.interrupted).toBe(true);
    expect(parseCsv(readFileSync(join(out, 'results.csv'), 'utf8')).slice(1)).toHaveLength(run.processed);
    expect(walk(out).some((f) => f.endsWith('.tmp'))).toBe(false);
    expect((await tosia(['run', join(root, 'in'), '--out', out, '--progress', 'none'])).code).toBe(0);
  });

  it('a second Ctrl-C 0-40 ms after the first ends with status 130, 100 times in a row, never an abort (D4)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tosia-twice-'));
    mkdirSync(join(root, 'in'));
    for (let i = 0; i < 30; i++) copyFileSync(small[0]!.file, join(root, 'in', `c${String(i).padStart(2, '0')}.wav`));
    const statuses: Record<string, number> = {};
    for (let run = 0; run < 100; run++) {
      const child = spawn(process.execPath, [BIN, 'run', join(root, 'in'), '--out', join(root, 'out'), '--progress', 'json', '--force'], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      let sent = false;
      // half the runs are interrupted while the workers load the model, half while they classify
      const cue = run % 2 === 0 ? '"start"' : '"file-done"';
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (!sent && stderr.includes(cue)) {
          sent = true;
          child.kill('SIGINT');
          setTimeout(() => child.kill('SIGINT'), (run * 7) % 41);
        }
      });
      const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((res) => child.on('exit', (c, sig) => res([c, sig])));
      // what a shell's $? says: the exit code, or 128 + the signal's number
      const status = code ?? 128 + (signal === 'SIGINT' ? 2 : signal === 'SIGABRT' ? 6 : 100);
      const key = `${status}${/terminate called|Napi::Error/.test(stderr) ? ' (abort message)' : ''}`;
      statuses[key] = (statuses[key] ?? 0) + 1;
    }
    expect(statuses).toEqual({ 130: 100 });
    expect(existsSync(join(root, 'out', '.tosia-tmp')) || existsSync(join(root, 'out', '.tosia-lock'))).toBe(false);
  }, 300_000);

  it('control characters in a failing file name are escaped on stderr: no forged line, no terminal escape', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tosia-names-'));
    mkdirSync(join(root, 'in'));
    copyFileSync(small[0]!.file, join(root, 'in', 'good.wav'));
    const hostile = 'bad\ntosia: E_FORGED: all is well\x1b[2J.mp3';
    writeFileSync(join(root, 'in', hostile), 'not audio');
    const r = await tosia(['run', join(root, 'in'), '--out', join(root, 'out'), '--progress', 'none']);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toContain('\x1b');
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^tosia: E_DECODE: .*bad\\ntosia: E_FORGED: all is well\\x1b\[2J\.mp3/);
    // errors.jsonl keeps the exact name, as JSON escapes it
    expect(JSON.parse(readFileSync(join(root, 'out', 'errors.jsonl'), 'utf8').trim()).file).toBe(join(root, 'in', hostile));
  });
});

describe('runBatch from the library', () => {
  it('yields start, one event per file and end, and returns the summary', async () => {
    const root = makeInputs();
    const events: BatchEvent[] = [];
    for await (const e of runBatch([join(root, 'in', 'a')], { config: defaultConfig(), outDir: join(root, 'lib-out'), concurrency: 1 })) events.push(e);
    expect(events[0]!.type).toBe('start');
    expect(events.filter((e) => e.type === 'file-done')).toHaveLength(small.length + 1);
    const end = events.at(-1)!;
    expect(end.type).toBe('end');
    if (end.type === 'end') expect(end.summary).toMatchObject({ processed: small.length + 1, failed: 0 });
  });

  it('a hard abort stops at once: the results written stay, no tables or temp files are left, the rest is not started', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tosia-hard-'));
    mkdirSync(join(root, 'in'));
    for (let i = 0; i < 40; i++) copyFileSync(small[0]!.file, join(root, 'in', `c${String(i).padStart(2, '0')}.wav`));
    const out = join(root, 'out');
    const hard = new AbortController();
    let end: Extract<BatchEvent, { type: 'end' }> | null = null;
    for await (const e of runBatch([join(root, 'in')], { config: defaultConfig(), outDir: out, concurrency: 1, hardSignal: hard.signal })) {
      if (e.type === 'file-done') hard.abort();
      if (e.type === 'end') end = e;
    }
    expect(end!.summary).toMatchObject({ interrupted: true });
    expect(end!.summary.not_started).toBeGreaterThan(0);
    expect(existsSync(join(out, 'results.csv'))).toBe(false);
    expect(existsSync(join(out, '.tosia-tmp'))).toBe(false);
    const written = walk(out).filter((f) => f.endsWith('.json'));
    expect(written.length).toBeGreaterThanOrEqual(1);
    for (const f of written) expect(JSON.parse(readFileSync(f, 'utf8')).schema_version).toBe(1);
  });

  it('with a shared inference thread gives the same results as per-worker inference, bad file included', async () => {
    const root = makeInputs(true);
    const strip = (dir: string) => parseCsv(readFileSync(join(dir, 'results.csv'), 'utf8')).map((r) => r.join('|')).sort();
    const summaries = [];
    for (const inference of ['per-worker', 'shared'] as const) {
      let summary = null;
      for await (const e of runBatch([join(root, 'in')], { config: defaultConfig(), outDir: join(root, inference), concurrency: 2, inference })) if (e.type === 'end') summary = e.summary;
      summaries.push(summary);
    }
    expect(summaries[1]).toMatchObject({ processed: nInputs, failed: 1 });
    expect(strip(join(root, 'shared'))).toEqual(strip(join(root, 'per-worker')));
    expect(readFileSync(join(root, 'shared', 'errors.jsonl'), 'utf8')).toContain('broken.mp3');
  });
});

describe('resume keeps to the config identity and the requested artifacts (issue 10 regressions)', () => {
  const jsonEvents = (stderr: string) => stderr.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)) as BatchEvent[];
  const resultsUnder = (dir: string) => walk(dir).filter((f) => f.endsWith('.json')).map((f) => [f, JSON.parse(readFileSync(f, 'utf8'))] as const);

  it('a re-run with a changed analysis setting (--min-cough-score) runs every file again, as a single-file run would', async () => {
    const root = makeInputs();
    const out = join(root, 'out');
    const inputs = join(root, 'in', 'a');
    expect((await tosia(['run', inputs, '--out', out, '--progress', 'none'])).code).toBe(0);
    const again = await tosia(['run', inputs, '--out', out, '--progress', 'json', '--min-cough-score', '0.9']);
    expect(again.code).toBe(0);
    const done = jsonEvents(again.stderr).filter((e) => e.type === 'file-done');
    expect(done).toHaveLength(small.length + 1);
    expect(done.every((e) => e.type === 'file-done' && !e.skipped)).toBe(true);
    // each stored result is what a single-file run with the same flags gives, identity included
    const file = join(inputs, small.find((s) => s.name.startsWith('coughs-3_'))!.name);
    const single = JSON.parse((await tosia(['run', file, '--json', '--min-cough-score', '0.9'])).stdout);
    const stored = JSON.parse(readFileSync(join(out, relative(join(root, 'in'), file) + '.json'), 'utf8'));
    expect(stored.config_sha256).toBe(single.config_sha256);
    expect(stored.segments.map((s: { excluded: boolean }) => s.excluded)).toEqual(single.segments.map((s: { excluded: boolean }) => s.excluded));
  });

  it('a re-run that adds --labels audacity and --save-images writes them for up-to-date results, without recomputing them', async () => {
    const root = makeInputs();
    const out = join(root, 'out');
    const inputs = join(root, 'in', 'a');
    expect((await tosia(['run', inputs, '--out', out, '--progress', 'none'])).code).toBe(0);
    const before = Object.fromEntries(resultsUnder(out).filter(([f]) => !f.endsWith('run.json')).map(([f]) => [f, readFileSync(f, 'utf8')]));
    const again = await tosia(['run', inputs, '--out', out, '--progress', 'json', '--labels', 'audacity', '--save-images', join(root, 'ignored')]);
    expect(again.code).toBe(0);
    const done = jsonEvents(again.stderr).filter((e) => e.type === 'file-done');
    expect(done).toHaveLength(small.length + 1);
    expect(done.every((e) => e.type === 'file-done' && e.skipped)).toBe(true);
    for (const [f, text] of Object.entries(before)) {
      expect(readFileSync(f, 'utf8'), 'the stored result stays as it was').toBe(text);
      const r = JSON.parse(text);
      const stem = f.replace(/\.json$/, '');
      expect(existsSync(`${stem}.labels.txt`), `${stem}.labels.txt`).toBe(true);
      expect(readFileSync(`${stem}.labels.txt`, 'utf8').split('\n').filter(Boolean)).toHaveLength(r.segments.length);
      for (let i = 0; i < r.segments.length; i++) expect(existsSync(`${stem}.seg${String(i).padStart(3, '0')}.png`)).toBe(true);
    }
    expect(existsSync(join(root, 'ignored')), 'a batch keeps images in its output tree').toBe(false);
    // the PNGs are the model-input images a fresh run writes
    const fresh = join(root, 'fresh');
    expect((await tosia(['run', inputs, '--out', fresh, '--progress', 'none', '--save-images', 'x'])).code).toBe(0);
    const png = walk(fresh).find((f) => f.endsWith('.seg000.png'))!;
    expect(readFileSync(join(out, relative(fresh, png)))).toEqual(readFileSync(png));
  });

  it('a batch run with a broken --ffmpeg fails with E_CONFIG, and the same batch with ffmpeg fixed runs every file again', async () => {
    const root = makeInputs();
    const out = join(root, 'out');
    const inputs = join(root, 'in', 'a');
    const broken = await tosia(['run', inputs, '--out', out, '--progress', 'none', '--decoder', 'ffmpeg', '--ffmpeg', join(root, 'no-such-ffmpeg')]);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/E_CONFIG: .*no-such-ffmpeg' is missing or not executable/);
    const errors = readFileSync(join(out, 'errors.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(errors.map((e) => e.code)).toEqual(Array(small.length + 1).fill('E_CONFIG'));
    const fixed = await tosia(['run', inputs, '--out', out, '--progress', 'none', '--decoder', 'ffmpeg']);
    expect(fixed.stdout).not.toMatch(/unchanged since they failed/);
    expect(fixed.code).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'))).toMatchObject({ processed: small.length + 1, failed: 0 });
  });
});

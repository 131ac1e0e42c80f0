#!/usr/bin/env node
/**
 * `make soak`: the whole covid19-cough folder as a batch, killed with SIGKILL at random moments
 * and run again until a run completes by itself, 20 times in a row. Each time the output must
 * end with one row per decodable recording and no duplicates, the per-file results and the
 * tables must agree, and no temp file or lock may be left. Appends the result to BENCHMARKS.md.
 */
import { appendEntry } from './benchmarks-file.js';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseCsv } from '../runtime/io/csv.js';
import { packageRoot } from '../runtime/paths.js';
import { table } from './stats.js';

const root = packageRoot();
const raw = resolve(process.env.TOSIA_SHARED ?? join(root, '../shared'), 'data/covid19-cough/raw');
const ROUNDS = Number(process.env.SOAK_ROUNDS ?? 20);
const bin = join(root, 'dist/bin/tosia.js');

if (!existsSync(raw)) {
  process.stdout.write(`soak skipped: ${raw} is absent\n`);
  process.exit(0);
}

// a fixed seed, so that a failing soak can be replayed
let seed = Number(process.env.SOAK_SEED ?? 20261125);
const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

/** One run, killed after `killAfterMs` unless it ends first; resolves with how it ended. */
function run(out: string, killAfterMs: number): Promise<{ code: number | null; killed: boolean }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [bin, 'run', raw, '--out', out, '--progress', 'none'], { stdio: 'ignore' });
    const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('exit', (code, signal) => { clearTimeout(timer); done({ code, killed: signal === 'SIGKILL' }); });
  });
}

const recordings = readdirSync(raw).filter((f) => f.endsWith('.mp3')).length;
const rows: (string | number)[][] = [];
let allGood = true;
const t0 = performance.now();
for (let round = 1; round <= ROUNDS; round++) {
  const out = mkdtempSync(join(tmpdir(), 'tosia-soak-'));
  let kills = 0, runs = 0;
  let last: { code: number | null; killed: boolean };
  for (;;) {
    runs++;
    // kill within the first 5 s (a full run takes about 7 s on 2 cores); every fourth run is let finish
    last = await run(out, runs % 4 === 0 ? 600_000 : 200 + random() * 5000);
    if (!last.killed) break;
    kills++;
  }
  const problems: string[] = [];
  if (last.code !== 1) problems.push(`the completing run exited ${last.code} (expected 1: one recording does not decode)`);
  const jsonl = readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { source: { path: string } }).source.path);
  const csv = parseCsv(readFileSync(join(out, 'results.csv'), 'utf8')).slice(1).map((r) => r[0]!);
  const errors = readFileSync(join(out, 'errors.jsonl'), 'utf8').trim().split('\n').filter(Boolean);
  const perFile = walk(out).filter((f) => f.endsWith('.mp3.json'));
  for (const f of perFile) {
    try { JSON.parse(readFileSync(f, 'utf8')); } catch { problems.push(`${f} is not valid JSON`); }
  }
  const expected = recordings - errors.length;
  if (new Set(jsonl).size !== jsonl.length) problems.push('duplicate rows in results.jsonl');
  if (new Set(csv).size !== csv.length) problems.push('duplicate rows in results.csv');
  if (jsonl.length !== expected || csv.length !== expected || perFile.length !== expected) problems.push(`rows: results.jsonl ${jsonl.length}, results.csv ${csv.length}, per-file JSON ${perFile.length}, expected ${expected}`);
  if (errors.length !== 1) problems.push(`errors.jsonl has ${errors.length} lines, expected 1`);
  const leftovers = walk(out).filter((f) => f.endsWith('.tmp') || f.includes('.tosia-tmp') || f.endsWith('.tosia-lock'));
  if (leftovers.length) problems.push(`left behind: ${leftovers.slice(0, 3).join(', ')}`);
  allGood &&= problems.length === 0;
  rows.push([round, runs, kills, jsonl.length, errors.length, problems.length ? problems.join('; ') : 'ok']);
  process.stdout.write(`round ${round}: ${runs} runs, ${kills} SIGKILLs, ${jsonl.length} rows, ${problems.length ? problems.join('; ') : 'ok'}\n`);
  rmSync(out, { recursive: true, force: true });
}

const when = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
const text = `## ${when}: make soak\n\nMachine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}\n\n` +
  `The covid19-cough batch (${recordings} recordings, one of which does not decode), killed with SIGKILL at random moments in its first 5 s and run again until a run completed by itself, ${ROUNDS} times (seed ${process.env.SOAK_SEED ?? 20261125}), ${((performance.now() - t0) / 60000).toFixed(1)} min:\n\n` +
  table(['round', 'runs', 'SIGKILLs', 'rows', 'errors', 'checks'], rows) +
  `\n\nVerdict: ${allGood ? `all ${ROUNDS} rounds ended with ${recordings - 1} rows, no duplicates, tables agreeing with the per-file results, and nothing left behind` : 'FAILED (see the rows above)'}.\n`;
appendEntry(text);
process.stdout.write(`\n${text}\nappended to BENCHMARKS.md\n`);
process.exitCode = allGood ? 0 : 1;

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../runtime/paths.js';
import { fmtStats, stats, table } from './stats.js';

/**
 * Wall time from process start to exit of `tosia --version` and of `tosia run <sample>` (on each
 * ONNX engine), against `node -e 0` measured in the same run: the targets are relative to it
 * (issue 28: --version within node + 30 ms, run within node + 200 ms), since Node's own start
 * moves with the machine.
 */
export function benchColdStart(sample: string, repeats = 15): { text: string; ok: boolean; median: number } {
  const bin = join(packageRoot(), 'dist/bin/tosia.js');
  const time = (args: string[]) => {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
    return performance.now() - t0;
  };
  const cases: [string, string[]][] = [
    ['node -e 0', ['-e', '0']],
    ['tosia --version', [bin, '--version']],
    [`tosia run ${sample.split('/').pop()} (onnxruntime-node)`, [bin, 'run', sample, '--device', 'cpu']],
    [`tosia run ${sample.split('/').pop()} (bundled WebAssembly engine, a default install's)`, [bin, 'run', sample, '--device', 'wasm']],
  ];
  for (const [, args] of cases) time(args);
  // interleaved rounds: a load that comes and goes touches every command alike
  const samples = cases.map(() => [] as number[]);
  for (let i = 0; i < repeats; i++) cases.forEach(([, args], k) => samples[k]!.push(time(args)));
  const s = samples.map(stats);
  const node = s[0]!.median;
  // the run target holds for both engines: the bundled one is what a default install runs
  const target: (number | null)[] = [null, 30, 200, 200];
  const rows = cases.map(([name], k) => {
    const over = s[k]!.median - node;
    const t = target[k] ?? null;
    return [name, fmtStats(s[k]!), k === 0 ? '' : `+${over.toFixed(0)}`, t === null ? '' : `≤ node + ${t}: ${over <= t ? 'met' : `MISSED by ${(over - t).toFixed(0)} ms`}`];
  });
  const ok = s[2]!.median - node <= 200 && s[1]!.median - node <= 30;
  const text = '### Cold start\n\n' + table(['command', 'wall ms median (min–max)', 'over node ms', 'target'], rows);
  return { text, ok, median: s[2]!.median };
}

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../runtime/paths.js';
import { fmtStats, stats, table } from './stats.js';

/** Wall time of `tosia run <sample>` from process start to printed result, over repeated spawns. */
export function benchColdStart(sample: string, repeats = 15): { text: string; ok: boolean; median: number } {
  const bin = join(packageRoot(), 'dist/bin/tosia.js');
  const run = (args: string[]) => {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
    return performance.now() - t0;
  };
  for (let i = 0; i < 2; i++) run([bin, 'run', sample]);
  const tosia = stats(Array.from({ length: repeats }, () => run([bin, 'run', sample])));
  const node = stats(Array.from({ length: repeats }, () => run(['-e', '0'])));
  const ok = tosia.median <= 400;
  const text = '### Cold start\n\n' + table(['command', 'wall ms median (min–max)', 'target'], [
    [`tosia run ${sample.split('/').pop()}`, fmtStats(tosia), ok ? '≤ 400: met' : `≤ 400: MISSED by ${(tosia.median - 400).toFixed(0)} ms`],
    ['node -e 0', fmtStats(node), ''],
  ]);
  return { text, ok, median: tosia.median };
}

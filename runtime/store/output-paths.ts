import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';

/** The deepest folder containing every path (absolute). */
export function commonDir(paths: readonly string[]): string {
  if (paths.length === 0) return process.cwd();
  const split = paths.map((p) => dirname(resolve(p)).split(sep));
  const first = split[0]!;
  let n = first.length;
  for (const s of split) {
    let i = 0;
    while (i < n && i < s.length && s[i] === first[i]) i++;
    n = i;
  }
  return first.slice(0, n).join(sep) || sep;
}

/**
 * Where a recording's result goes: its path relative to `base` (the folder holding every input
 * argument that exists), mirrored under `outDir`, plus `.json`; so `tosia run calls/ --out r/`
 * writes r/calls/... Distinct inputs always get distinct outputs. A path outside `base` (only a
 * missing argument can be) maps under `_outside/` by its absolute path.
 */
export function resultPath(outDir: string, base: string, file: string): string {
  const abs = resolve(file);
  const rel = relative(base, abs);
  if (rel.startsWith('..') || isAbsolute(rel)) return join(outDir, '_outside', `${abs}.json`);
  return join(outDir, `${rel}.json`);
}

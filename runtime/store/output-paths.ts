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
  if (URL_FORM.test(file)) return join(outDir, `${objectPath(base, file)}.json`);
  const abs = resolve(file);
  const rel = relative(base, abs);
  if (rel.startsWith('..') || isAbsolute(rel)) return join(outDir, '_outside', `${abs}.json`);
  return join(outDir, `${rel}.json`);
}

/** An input named by a URL (`azblob://container/key`, `s3://bucket/key`): an object, not a file. */
export const URL_FORM = /^[a-z][a-z0-9+.-]*:\/\//i;

/**
 * Where an object's result goes below the output folder: its key relative to `base` (the URL
 * prefix that was listed) or, outside it, `_outside/<scheme>/<container>/<key>`. A key is the
 * sender's text: every segment that could climb out of the folder (`..`, `.`, empty) is
 * escaped, so no key writes outside the output folder.
 */
export function objectPath(base: string, url: string): string {
  const prefix = base.endsWith('/') ? base : `${base}/`;
  const inside = URL_FORM.test(base) && url.startsWith(prefix);
  const rel = inside ? url.slice(prefix.length) : url.replace('://', '/');
  const segments = rel.split('/').map((seg) => (seg === '' ? '%' : seg === '.' || seg === '..' ? seg.replace(/\./g, '%2E') : seg));
  return join(...(inside ? [] : ['_outside']), ...segments);
}

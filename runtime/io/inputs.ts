import { readdir, stat } from 'node:fs/promises';
import { basename, extname, join, relative, resolve, sep } from 'node:path';
import { TosiaError } from '../../algos/errors.js';
import { globRoot, globToRegExp, isGlob } from './glob.js';

export const AUDIO_EXTENSIONS = ['.wav', '.mp3', '.ogg', '.oga', '.opus', '.flac', '.m4a', '.mp4', '.aac', '.webm', '.weba', '.wma', '.aif', '.aiff', '.caf', '.amr', '.3gp', '.mka'];

export function isAudioName(name: string): boolean {
  return AUDIO_EXTENSIONS.includes(extname(name).toLowerCase());
}

export interface InputFile {
  /** The path to open. */
  path: string;
  /** Path relative to the folder argument it was found in (its basename for a file argument). */
  rel: string;
  /** Set for a folder that could not be listed: a failed input of its own, so the walk goes on. */
  unreadable?: TosiaError;
}

function inside(child: string, parent: string): boolean {
  const r = relative(parent, child);
  return r === '' || (!r.startsWith('..') && !r.startsWith(sep) && r !== '..');
}

type Arg =
  | { kind: 'dir'; path: string; abs: string }
  | { kind: 'file'; path: string; abs: string; missing?: boolean }
  | { kind: 'glob'; pattern: string; root: string; re: RegExp };

const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/**
 * Expand files and folders (recursively, audio extensions only, case-insensitive) and quoted
 * globs into a stream of input files, each yielded once. Folders listed in `exclude` (such as the
 * output folder) are never walked, so outputs are never read back as inputs. A glob that matches
 * nothing is an E_INPUT error.
 *
 * Memory is bounded by the number of arguments, not of files: duplicates are ruled out from the
 * arguments themselves (a folder inside another folder argument is not walked twice, a file
 * argument inside a walked folder comes from the walk, a file matched by an earlier glob or
 * folder is not yielded again), so no set of every path is kept.
 */
export async function* walkInputs(args: readonly string[], exclude: readonly string[] = []): AsyncGenerator<InputFile> {
  if (args.length === 0) throw new TosiaError('E_INPUT', 'no input files given', { stage: 'input', hint: 'pass one or more audio files or folders' });
  const skip = exclude.map((e) => resolve(e));
  const plan: Arg[] = [];
  const seenArg = new Set<string>();
  for (const arg of args) {
    let st;
    try {
      st = await stat(arg);
    } catch {
      // a missing file is reported per file later, so a batch goes on with the others
      if (isGlob(arg)) plan.push({ kind: 'glob', pattern: arg, root: globRoot(arg), re: globToRegExp(arg.replace(/^\.\//, '')) });
      else plan.push({ kind: 'file', path: arg, abs: resolve(arg), missing: true });
      continue;
    }
    plan.push({ kind: st.isDirectory() ? 'dir' : 'file', path: arg, abs: resolve(arg) });
  }
  const dirs = plan.filter((a): a is Extract<Arg, { kind: 'dir' }> => a.kind === 'dir').map((a) => a.abs);
  // a folder (or audio file) that a folder argument's walk already covers
  const walked = (abs: string, self?: string) => dirs.some((d) => d !== self && inside(abs, d) && !skip.some((s) => inside(abs, s) && inside(s, d)));
  const globs = plan.filter((a): a is Extract<Arg, { kind: 'glob' }> => a.kind === 'glob');
  const explicit = new Set(plan.filter((a) => a.kind === 'file').map((a) => (a as { abs: string }).abs));

  for (let i = 0; i < plan.length; i++) {
    const a = plan[i]!;
    if (a.kind === 'dir') {
      if (seenArg.has(a.abs) || walked(a.abs, a.abs)) continue;
      seenArg.add(a.abs);
      yield* walkDir(a.path, a.path, skip);
    } else if (a.kind === 'file') {
      if (seenArg.has(a.abs) || (!a.missing && isAudioName(a.path) && walked(a.abs))) continue;
      seenArg.add(a.abs);
      yield { path: a.path, rel: basename(a.path) };
    } else {
      const earlier = globs.slice(0, globs.indexOf(a));
      let found = 0;
      for await (const f of walkDir(a.root, a.root, skip, (p) => a.re.test(p.split(sep).join('/')))) {
        found++;
        const abs = resolve(f.path);
        const unix = f.path.split(sep).join('/');
        if (walked(abs) || explicit.has(abs) || earlier.some((g) => g.re.test(unix))) continue;
        yield f;
      }
      if (found === 0) throw new TosiaError('E_INPUT', `no audio file matches '${a.pattern}'`, { stage: 'input', hint: 'check the pattern; quote it to let tosia expand ** itself' });
    }
  }
}

/** Audio files under `dir`, depth first in name order; `match` filters by path. */
async function* walkDir(dir: string, root: string, skip: readonly string[], match?: (path: string) => boolean): AsyncGenerator<InputFile> {
  if (skip.some((s) => inside(resolve(dir), s))) return;
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    if (match && (e as NodeJS.ErrnoException).code === 'ENOENT') return; // a glob's root that does not exist matches nothing
    // a property of the inputs, never a bug: this folder fails, the others are walked
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    const why = code === 'EACCES' || code === 'EPERM' ? 'cannot be listed (permission denied)' : `cannot be listed (${code})`;
    yield { path: dir, rel: relative(root, dir), unreadable: new TosiaError('E_INPUT', `folder ${why}`, { file: dir, stage: 'input', hint: 'check the folder permissions; its files were not run' }) };
    return;
  }
  entries.sort(byName);
  for (const e of entries) {
    const p = match && dir === '.' ? e.name : join(dir, e.name);
    if (e.isDirectory()) yield* walkDir(p, root, skip, match);
    // anything else with an audio name is an input, a FIFO or a device included: it then fails
    // as "not a regular file" (it is never opened) rather than being skipped without a word
    else if (isAudioName(e.name) && (!match || match(p))) yield { path: p, rel: relative(root, p) };
  }
}

/** walkInputs, collected into a list (for callers that need it whole, such as `tosia extract`). */
export async function collectInputs(args: readonly string[], exclude: readonly string[] = []): Promise<InputFile[]> {
  const out: InputFile[] = [];
  for await (const f of walkInputs(args, exclude)) out.push(f);
  return out;
}

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
}

function inside(child: string, parent: string): boolean {
  const r = relative(parent, child);
  return r === '' || (!r.startsWith('..') && !r.startsWith(sep) && r !== '..');
}

/**
 * Expand files and folders (recursively, audio extensions only, case-insensitive) into a sorted,
 * de-duplicated list. Folders listed in `exclude` (such as the output folder) are never walked,
 * so outputs are never read back as inputs. A missing argument is an E_INPUT error.
 */
export async function collectInputs(args: readonly string[], exclude: readonly string[] = []): Promise<InputFile[]> {
  const seen = new Set<string>();
  const out: InputFile[] = [];
  const skip = exclude.map((e) => resolve(e));
  const add = (path: string, rel: string) => {
    const key = resolve(path);
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ path, rel });
  };
  async function walk(dir: string, root: string): Promise<void> {
    if (skip.some((s) => inside(resolve(dir), s))) return;
    const entries = await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p, root);
      else if ((e.isFile() || e.isSymbolicLink()) && isAudioName(e.name)) add(p, relative(root, p));
    }
  }
  // a quoted glob the shell did not expand: walk from its fixed prefix and match every file
  async function expandGlob(pattern: string): Promise<void> {
    const root = globRoot(pattern);
    const re = globToRegExp(pattern.replace(/^\.\//, ''));
    const before = out.length;
    async function visit(dir: string): Promise<void> {
      if (skip.some((s) => inside(resolve(dir), s))) return;
      let entries;
      try { entries = await readdir(dir, { withFileTypes: true }); } catch { return; }
      entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const e of entries) {
        const p = dir === '.' ? e.name : join(dir, e.name);
        if (e.isDirectory()) await visit(p);
        else if (isAudioName(e.name) && re.test(p.split(sep).join('/'))) add(p, relative(root, p));
      }
    }
    await visit(root);
    if (out.length === before) {
      throw new TosiaError('E_INPUT', `no audio file matches '${pattern}'`, { stage: 'input', hint: 'check the pattern; quote it to let tosia expand ** itself' });
    }
  }

  for (const arg of args) {
    let st;
    try {
      st = await stat(arg);
    } catch {
      if (isGlob(arg)) {
        await expandGlob(arg);
        continue;
      }
      // a missing file is reported per file later, so a batch goes on with the others
      add(arg, basename(arg));
      continue;
    }
    if (st.isDirectory()) await walk(arg, arg);
    else add(arg, basename(arg));
  }
  if (args.length === 0) throw new TosiaError('E_INPUT', 'no input files given', { stage: 'input', hint: 'pass one or more audio files or folders' });
  return out;
}

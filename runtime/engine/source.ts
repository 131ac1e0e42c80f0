import { realpathSync, statSync } from 'node:fs';
import { relative, resolve, sep } from 'node:path';
import { TosiaError } from '../../algos/errors.js';
import { matchesPattern } from '../io/glob.js';
import { serializeError } from '../errors.js';
import { walkInputs, type InputFile } from '../io/inputs.js';
import type { StoreInput } from '../store/store.js';

export interface InputSourceOptions {
  /** Keep only inputs whose relative path (or basename) matches one of these patterns. */
  include?: readonly string[];
  /** Drop inputs whose relative path (or basename) matches one of these patterns. */
  exclude?: readonly string[];
  /** Keep only these files (absolute paths), e.g. the previous run's failures. */
  only?: ReadonlySet<string>;
  /** The output folder: never walked, and an input inside it is refused. */
  outDir: string;
}

/**
 * A source of inputs from files, folders (walked recursively) and quoted globs, filtered. It is
 * walked twice and never held: `count` first (for progress, and to refuse inputs inside the
 * output folder before any work), then `stream` feeds the scheduler.
 */
export function inputSource(args: readonly string[], o: InputSourceOptions) {
  const outDir = resolve(o.outDir);
  const wanted = inputFilter(o);
  const stream = async function* (): AsyncGenerator<StoreInput> {
    for await (const f of walkInputs(args, [outDir])) {
      if (f.unreadable) yield { path: f.path, rel: f.rel, unreadable: serializeError(f.unreadable) };
      else if (wanted(f)) yield { path: f.path, rel: f.rel };
    }
  };
  return {
    stream,
    async count(): Promise<number> {
      refuseOverlap(args, outDir);
      let n = 0;
      for await (const f of stream()) {
        const abs = resolve(f.path);
        if (!f.unreadable && abs === outDir || abs.startsWith(outDir + sep)) throw new TosiaError('E_OUTPUT', `input ${f.path} is inside the output folder`, { stage: 'output', hint: 'choose an output folder outside the inputs' });
        n++;
      }
      return n;
    },
  };
}

/** Which inputs a batch keeps: --include and --exclude on the relative path or the whole one, and a retry's list. */
export function inputFilter(o: Pick<InputSourceOptions, 'include' | 'exclude' | 'only'>): (f: Pick<InputFile, 'rel' | 'path'>) => boolean {
  return (f) =>
    (!o.include?.length || o.include.some((p) => matchesPattern(f.rel, p) || matchesPattern(f.path, p))) &&
    !o.exclude?.some((p) => matchesPattern(f.rel, p) || matchesPattern(f.path, p)) &&
    (!o.only || o.only.has(resolve(f.path)));
}

/** The real path of `p`, or of its deepest existing ancestor joined with the rest. */
function real(p: string): string {
  const abs = resolve(p);
  try {
    return realpathSync(abs);
  } catch {
    // it does not exist (yet): an output folder often does not; its nearest existing ancestor decides
    const up = resolve(abs, '..');
    return up === abs ? abs : resolve(real(up), relative(up, abs));
  }
}

const within = (child: string, parent: string) => child === parent || child.startsWith(parent.endsWith(sep) ? parent : parent + sep);

/**
 * An output folder that is, holds, or sits inside an input folder would write into the inputs
 * (or read outputs back as inputs): refused before anything is written.
 */
function refuseOverlap(args: readonly string[], outDir: string): void {
  const out = real(outDir);
  for (const arg of args) {
    let isDir = false;
    // an input that cannot be read is reported per file by the batch; it cannot hold the output folder
    try { isDir = statSync(arg).isDirectory(); } catch { continue; }
    if (!isDir) continue;
    const dir = real(arg);
    const how = out === dir ? 'is the input folder' : within(out, dir) ? 'is inside the input folder' : within(dir, out) ? 'holds the input folder' : null;
    if (how) {
      throw new TosiaError('E_OUTPUT', `the output folder ${how} ${arg}`, {
        file: outDir, stage: 'output', hint: 'choose an output folder outside every input folder: tosia never writes into its inputs',
      });
    }
  }
}

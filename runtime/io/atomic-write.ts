import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { TosiaError } from '../../algos/errors.js';

let counter = 0;
let tag: string | undefined;
// worker threads share the pid; their thread id keeps temp names apart
function threadTag(): string {
  tag ??= `${Math.random().toString(36).slice(2, 8)}.`;
  return tag;
}

/**
 * Write `data` to `path` atomically: a temp file (in `tmpDir`, which must be on the same file
 * system, else beside `path`), then rename. A crash or a failed write never leaves a partial
 * file at `path`; a batch keeps its temp files in one folder so an abort can remove them all.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, tmpDir?: string): Promise<void> {
  const dir = dirname(path);
  const tmp = join(tmpDir ?? dir, `.${basename(path)}.${process.pid}.${threadTag()}${++counter}.tmp`);
  try {
    await mkdir(dir, { recursive: true });
    if (tmpDir) await mkdir(tmpDir, { recursive: true });
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => undefined);
    const code = (e as NodeJS.ErrnoException).code;
    throw new TosiaError('E_OUTPUT', `cannot write output (${code ?? (e as Error).message})`, {
      file: path, stage: 'output', hint: code === 'EACCES' || code === 'EROFS' ? 'choose a writable output folder' : code === 'ENOSPC' ? 'free some disk space' : 'check the output path', cause: e,
    });
  }
}

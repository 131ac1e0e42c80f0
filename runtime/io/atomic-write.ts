import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { TosiaError } from '../../algos/errors.js';

let counter = 0;

/**
 * Write `data` to `path` atomically: a temp file in the same folder, then rename. A crash or a
 * failed write never leaves a partial file at `path`.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${++counter}.tmp`);
  try {
    await mkdir(dir, { recursive: true });
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

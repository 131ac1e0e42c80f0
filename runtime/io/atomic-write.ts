import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { TosiaError } from '../../algos/errors.js';

let counter = 0;
let writes = 0;

/**
 * Test hook: with TOSIA_FAIL_WRITES_AFTER=N, every write after the N-th in a thread fails as a
 * full disk would, so tests can check that earlier results survive and nothing partial is left.
 */
function injectedFailure(path: string): void {
  const limit = process.env.TOSIA_FAIL_WRITES_AFTER;
  if (limit === undefined) return;
  if (++writes > Number(limit)) {
    throw new TosiaError('E_OUTPUT', 'cannot write output (ENOSPC, injected by TOSIA_FAIL_WRITES_AFTER)', { file: path, stage: 'output', hint: 'free some disk space', cause: Object.assign(new Error('ENOSPC'), { code: 'ENOSPC' }) });
  }
}
// folders this thread has made: a batch writes thousands of files into a few folders
const made = new Set<string>();
async function ensureDir(dir: string): Promise<void> {
  if (made.has(dir)) return;
  await mkdir(dir, { recursive: true });
  if (made.size > 10000) made.clear();
  made.add(dir);
}

let tag: string | undefined;
// worker threads share the pid; their thread id keeps temp names apart
function threadTag(): string {
  tag ??= `${Math.random().toString(36).slice(2, 8)}.`;
  return tag;
}

function tempPath(path: string, tmpDir: string | undefined): string {
  return join(tmpDir ?? dirname(path), `.${basename(path)}.${process.pid}.${threadTag()}${++counter}.tmp`);
}

/** A failed write as E_OUTPUT, naming the path and the system's reason; the cause says whether it is folder-wide. */
export function outputError(path: string, e: unknown): TosiaError {
  const code = (e as NodeJS.ErrnoException).code;
  return new TosiaError('E_OUTPUT', `cannot write output (${code ?? (e as Error).message})`, {
    file: path, stage: 'output', hint: code === 'EACCES' || code === 'EROFS' ? 'choose a writable output folder' : code === 'ENOSPC' ? 'free some disk space' : 'check the output path', cause: e,
  });
}

/**
 * Write `data` to `path` atomically: a temp file (in `tmpDir`, which must be on the same file
 * system, else beside `path`), then rename. A crash or a failed write never leaves a partial
 * file at `path`; a batch keeps its temp files in one folder so an abort can remove them all.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, tmpDir?: string): Promise<void> {
  injectedFailure(path);
  const tmp = tempPath(path, tmpDir);
  const dirs = async () => { await ensureDir(dirname(path)); if (tmpDir) await ensureDir(tmpDir); };
  try {
    await dirs();
    try {
      await writeFile(tmp, data);
    } catch (e) {
      // a folder made earlier was removed since (a notebook deleting an output folder, say)
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      made.clear();
      await dirs();
      await writeFile(tmp, data);
    }
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw outputError(path, e);
  }
}

/**
 * writeFileAtomic, blocking: for batch worker threads, where writing a few kB directly is
 * cheaper than three trips through libuv's thread pool, and blocks no one else.
 */
export function writeFileAtomicSync(path: string, data: string | Uint8Array, tmpDir?: string): void {
  injectedFailure(path);
  const tmp = tempPath(path, tmpDir);
  const dirs = () => {
    for (const d of tmpDir ? [dirname(path), tmpDir] : [dirname(path)]) {
      if (!made.has(d)) { mkdirSync(d, { recursive: true }); made.add(d); }
    }
  };
  try {
    dirs();
    try {
      writeFileSync(tmp, data);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      made.clear();
      dirs();
      writeFileSync(tmp, data);
    }
    renameSync(tmp, path);
  } catch (e) {
    try {
      rmSync(tmp, { force: true });
    } catch {
      // the temp name itself may be what failed (ENAMETOOLONG): the write's error is the one to report
    }
    throw outputError(path, e);
  }
}

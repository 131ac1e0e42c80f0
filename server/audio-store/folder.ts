import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { link, mkdir, open, readdir, readFile, rename, rm, stat, statfs, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { TosiaError } from '../../runtime/index.js';
import { AudioDamaged, checkSha256, STALE_STAGED_MS, type AudioStore, type Staged } from './audio-store.js';
import { Hashing, sha256Hex } from './hashing.js';

/** Below this much free space the folder is not ready for uploads. */
const MIN_FREE = 16 * 1024 * 1024;

/**
 * Audio in a folder of this machine (`--data`, or `file:///…`): `audio/ab/<sha256>`. An upload is
 * written to `tmp/`, fsynced, then hard-linked into place, so a crash never leaves half a file
 * under a final name, and the staged link keeps the bytes until discard().
 */
export class FolderAudioStore implements AudioStore {
  readonly kind = 'folder';
  readonly shared = false;
  readonly url: string;
  /** The audio/ab folders known to exist (256 at most). */
  private readonly dirs = new Set<string>();

  constructor(readonly root: string) {
    this.url = pathToFileURL(root).href;
  }

  async open(): Promise<void> {
    try {
      await mkdir(join(this.root, 'tmp'), { recursive: true });
      await mkdir(join(this.root, 'audio'), { recursive: true });
      // uploads that a crash cut off; younger ones may be another process's upload in progress
      const before = Date.now() - STALE_STAGED_MS;
      for (const name of await readdir(join(this.root, 'tmp'))) {
        const p = join(this.root, 'tmp', name);
        const st = await stat(p).catch(() => null);
        if (st && st.mtimeMs < before) await rm(p, { force: true, recursive: true });
      }
    } catch (e) {
      throw new TosiaError('E_OUTPUT', `cannot use the data folder: ${(e as Error).message}`, { file: this.root, stage: 'storage', hint: 'pass a writable folder to --data (or --audio-store file:///…)', cause: e });
    }
  }

  private path(sha256: string): string {
    return join(this.root, 'audio', checkSha256(sha256).slice(0, 2), sha256);
  }

  private tmpPath(): string {
    return join(this.root, 'tmp', `${Date.now()}-${randomBytes(6).toString('hex')}`);
  }

  async receive(body: AsyncIterable<Uint8Array>, limit: number): Promise<Staged> {
    const tmp = this.tmpPath();
    const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    const h = new Hashing(limit);
    try {
      for await (const buf of h.chunks(body)) await fh.write(buf);
      await fh.sync();
    } catch (e) {
      await fh.close().catch(() => undefined);
      await unlink(tmp).catch(() => undefined);
      throw e;
    }
    await fh.close();
    return { sha256: h.digest(), size: h.size, ref: tmp };
  }

  async commit(staged: Staged): Promise<void> {
    const dest = this.path(staged.sha256);
    const dir = join(dest, '..');
    if (!this.dirs.has(dir)) {
      await mkdir(dir, { recursive: true });
      this.dirs.add(dir);
    }
    // a second link renamed over the address: atomic, keeps the staged link, and puts right an
    // object whose bytes were changed behind the store's back
    const twin = this.tmpPath();
    await link(staged.ref as string, twin);
    try {
      await rename(twin, dest);
    } catch (e) {
      await unlink(twin).catch(() => undefined);
      throw e;
    }
    await syncDir(dir);
  }

  async discard(staged: Staged): Promise<void> {
    await unlink(staged.ref as string).catch(() => undefined);
  }

  async detach(sha256: string): Promise<Staged | null> {
    const from = this.path(sha256);
    const tmp = this.tmpPath();
    try {
      await link(from, tmp);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
    const { size } = await stat(tmp);
    await rm(from, { force: true });
    return { sha256, size, ref: tmp };
  }

  async read(sha256: string): Promise<Uint8Array | null> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.path(sha256));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
    const actual = sha256Hex(bytes);
    if (actual !== sha256) throw new AudioDamaged(this.url, sha256, actual);
    return bytes;
  }

  async size(sha256: string): Promise<number | null> {
    return stat(this.path(sha256)).then((s) => (s.isFile() ? s.size : null), () => null);
  }

  async openRange(sha256: string, range?: { start: number; end: number }): Promise<Readable> {
    // opened first, so a missing file is an error here rather than in the middle of a response
    const fh = await open(this.path(sha256), 'r');
    return fh.createReadStream(range ?? {});
  }

  async *list(): AsyncIterable<{ sha256: string; size: number }> {
    const top = join(this.root, 'audio');
    for (const dir of (await readdir(top).catch(() => [] as string[])).sort()) {
      if (!/^[0-9a-f]{2}$/.test(dir)) continue;
      for (const name of (await readdir(join(top, dir))).sort()) {
        if (!/^[0-9a-f]{64}$/.test(name) || !name.startsWith(dir)) continue;
        const st = await stat(join(top, dir, name)).catch(() => null);
        if (st?.isFile()) yield { sha256: name, size: st.size };
      }
    }
  }

  async remove(sha256: string): Promise<void> {
    await rm(this.path(sha256), { force: true });
  }

  /** Whether an upload can be stored now: a file can be written and fsynced, and the disk has room (a full disk still lets an empty file be made). */
  async probe(): Promise<void> {
    const { bavail, bsize } = await statfs(this.root);
    const free = bavail * bsize;
    if (free < MIN_FREE) throw new Error(`the disk holding ${this.root} has ${(free / 1048576).toFixed(1)} MB free (uploads need room)`);
    const p = join(this.root, 'tmp', `.probe-${randomBytes(4).toString('hex')}`);
    const fh = await open(p, 'w');
    try {
      await fh.write(Buffer.alloc(4096));
      await fh.sync();
    } finally {
      await fh.close();
      await unlink(p).catch(() => undefined);
    }
  }

  async close(): Promise<void> {}
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

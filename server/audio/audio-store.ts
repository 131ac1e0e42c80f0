import { createHash, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { link, mkdir, open, readdir, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { TosiaError } from '../../runtime/index.js';

/** An upload received into the store's temp folder, hashed on the way in. */
export interface Received { tmp: string; sha256: string; size: number }

/** The body was larger than the limit; reading stopped there. */
export class TooLarge extends Error {
  constructor(readonly limit: number) { super(`larger than ${limit} bytes`); }
}

/**
 * Audio on disk, content-addressed (`audio/ab/<sha256>`), so the same bytes are stored once.
 * Every upload is written to `tmp/`, fsynced, then linked into place, so a crash never leaves
 * half a file under a final name. (Segment images, a few kB each, are kept with the records.)
 */
export class AudioStore {
  /** The audio/ab folders known to exist (256 at most). */
  private readonly dirs = new Set<string>();
  /** Counts removals: keep() after a record is written need only run again when one happened. */
  removals = 0;

  constructor(readonly root: string) {}

  async open(): Promise<void> {
    try {
      await mkdir(join(this.root, 'tmp'), { recursive: true });
      await mkdir(join(this.root, 'audio'), { recursive: true });
      // uploads that a crash cut off
      for (const name of await readdir(join(this.root, 'tmp'))) await rm(join(this.root, 'tmp', name), { force: true, recursive: true });
    } catch (e) {
      throw new TosiaError('E_OUTPUT', `cannot use the data folder: ${(e as Error).message}`, { file: this.root, stage: 'storage', hint: 'pass a writable folder to --data', cause: e });
    }
  }

  audioPath(sha256: string): string {
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new TosiaError('E_INTERNAL', `not a sha256: ${sha256}`);
    return join(this.root, 'audio', sha256.slice(0, 2), sha256);
  }

  /** Stream a body into tmp/, hashing it; stops reading at `limit` bytes and throws TooLarge. */
  async receive(body: Readable, limit: number): Promise<Received> {
    const tmp = join(this.root, 'tmp', `${Date.now()}-${randomBytes(6).toString('hex')}`);
    const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    const hash = createHash('sha256');
    let size = 0;
    try {
      for await (const chunk of body) {
        const buf = chunk as Buffer;
        size += buf.length;
        if (size > limit) throw new TooLarge(limit);
        hash.update(buf);
        await fh.write(buf);
      }
      // a busboy file stream that hit its own size limit ends early and says so
      if ((body as { truncated?: boolean }).truncated) throw new TooLarge(limit);
      await fh.sync();
    } catch (e) {
      await fh.close().catch(() => undefined);
      await unlink(tmp).catch(() => undefined);
      throw e;
    }
    await fh.close();
    return { tmp, sha256: hash.digest('hex'), size };
  }

  /**
   * Put a received upload at its content address (already there: the same bytes). It is a hard
   * link, so the upload stays in tmp/ until discard(): calling keep() again after the record is
   * written puts it back if a DELETE of another record of the same bytes removed it meanwhile.
   */
  async keep(r: Received): Promise<void> {
    const dest = this.audioPath(r.sha256);
    const dir = join(dest, '..');
    if (!this.dirs.has(dir)) {
      await mkdir(dir, { recursive: true });
      this.dirs.add(dir);
    }
    try {
      await link(r.tmp, dest);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      return;
    }
    await syncDir(join(dest, '..'));
  }

  async discard(r: Received): Promise<void> {
    await unlink(r.tmp).catch(() => undefined);
  }

  async hasAudio(sha256: string): Promise<boolean> {
    return stat(this.audioPath(sha256)).then((s) => s.isFile(), () => false);
  }

  async removeAudio(sha256: string): Promise<void> {
    this.removals++;
    await rm(this.audioPath(sha256), { force: true });
  }

  /** Whether files can be created here (for /ready). */
  async probe(): Promise<void> {
    const p = join(this.root, 'tmp', `.probe-${randomBytes(4).toString('hex')}`);
    const fh = await open(p, 'w');
    await fh.close();
    await unlink(p);
  }
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

import { createHash } from 'node:crypto';
import { close, constants, createReadStream, fstat, open, read } from 'node:fs';

/** The sha256 of `data` as hex: the identity of inputs, models and configs in every result. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Files up to this size are hashed from one read; larger ones as a stream. */
const WHOLE_READ_BYTES = 32 * 1024 * 1024;

/**
 * A regular file's bytes when it is small, as one open-fstat-read-close with fs's callbacks
 * (what fs.readFile does, at about half the cost of fs/promises; a batch re-run hashes every
 * input), 'large' for a file to stream, or null for anything that is not a regular file.
 */
function readIfSmall(path: string): Promise<Buffer | 'large' | null> {
  return new Promise((resolve, reject) => {
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer
    open(path, constants.O_RDONLY | constants.O_NONBLOCK, (err, fd) => {
      if (err) return reject(err);
      const done = (e: Error | null, v?: Buffer | 'large' | null) => close(fd, () => (e ? reject(e) : resolve(v!)));
      fstat(fd, (e, st) => {
        if (e) return done(e);
        if (!st.isFile()) return done(null, null);
        if (st.size > WHOLE_READ_BYTES) return done(null, 'large');
        const buf = Buffer.allocUnsafe(st.size);
        const step = (at: number): void => {
          if (at >= st.size) return done(null, buf.subarray(0, at));
          read(fd, buf, at, st.size - at, at, (re, n) => (re ? done(re) : n === 0 ? done(null, buf.subarray(0, at)) : step(at + n)));
        };
        step(0);
      });
    });
  });
}

/**
 * The sha256 of a regular file, or undefined when it is not a regular file or cannot be read:
 * a device or a FIFO is never read, and opening one never blocks. Memory stays flat for any
 * size: a large file is read as a stream.
 */
export async function sha256OfFile(path: string): Promise<string | undefined> {
  try {
    const small = await readIfSmall(path);
    if (small === null) return undefined;
    if (small !== 'large') return sha256Hex(small);
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
    return hash.digest('hex');
  } catch {
    // unreadable: undefined is the documented answer, and the caller reports the file as E_INPUT
    return undefined;
  }
}

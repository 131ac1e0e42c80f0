import { createHash } from 'node:crypto';
import { TooLarge } from './audio-store.js';

/**
 * An upload body, passed through chunk by chunk while it is hashed and counted: every backend
 * receives through this, so the limit and the sha256 are computed one way.
 */
export class Hashing {
  private readonly hash = createHash('sha256');
  size = 0;

  constructor(private readonly limit: number) {}

  async *chunks(body: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer> {
    for await (const chunk of body) {
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      this.size += buf.length;
      if (this.size > this.limit) throw new TooLarge(this.limit);
      this.hash.update(buf);
      yield buf;
    }
    // a busboy file stream that hit its own size limit ends early and says so
    if ((body as { truncated?: boolean }).truncated) throw new TooLarge(this.limit);
  }

  digest(): string {
    return this.hash.digest('hex');
  }
}

export const sha256Hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { AudioDamaged, objectKey, STALE_STAGED_MS, type AudioStore, type Staged } from './audio-store.js';
import type { Bucket } from './bucket.js';
import { Hashing, sha256Hex } from './hashing.js';

/**
 * Audio in an object store (Azure Blob, S3), content-addressed below a prefix:
 * `<prefix>audio/ab/<sha256>`. An upload is written whole to `<prefix>tmp/<time>-<random>` and
 * copied to its address server-side once its sha256 is known, so an object under a final name
 * is always complete. Every process given the same URL shares it: replicas on several machines
 * and the queue's workers need no shared disk.
 */
export class ObjectAudioStore implements AudioStore {
  readonly shared = true;
  readonly url: string;

  constructor(readonly kind: string, private readonly bucket: Bucket, private readonly prefix: string) {
    this.url = bucket.url + (prefix ? `/${prefix.replace(/\/$/, '')}` : '');
  }

  private key(sha256: string): string {
    return objectKey(this.prefix, sha256);
  }

  private stagingKey(): string {
    return `${this.prefix}tmp/${Date.now()}-${randomBytes(8).toString('hex')}`;
  }

  async open(): Promise<void> {
    await this.bucket.ensure();
    // staged uploads a crash left behind; younger ones may be another replica's upload in progress
    const before = Date.now() - STALE_STAGED_MS;
    for await (const o of this.bucket.list(`${this.prefix}tmp/`)) {
      if (o.modified.getTime() < before) await this.bucket.delete(o.key);
    }
  }

  async receive(body: AsyncIterable<Uint8Array>, limit: number): Promise<Staged> {
    const key = this.stagingKey();
    const h = new Hashing(limit);
    try {
      await this.bucket.put(key, h.chunks(body));
    } catch (e) {
      await this.bucket.delete(key).catch(() => undefined);
      throw e;
    }
    return { sha256: h.digest(), size: h.size, ref: key };
  }

  async commit(staged: Staged): Promise<void> {
    // copied even over an object already there: a server-side copy moves no bytes through
    // here, and it puts right an object whose bytes were changed behind the store's back
    await this.bucket.copy(staged.ref as string, this.key(staged.sha256));
  }

  async discard(staged: Staged): Promise<void> {
    await this.bucket.delete(staged.ref as string);
  }

  async detach(sha256: string): Promise<Staged | null> {
    const from = this.key(sha256);
    const size = (await this.bucket.stat(from))?.size;
    if (size === undefined) return null;
    const key = this.stagingKey();
    await this.bucket.copy(from, key);
    await this.bucket.delete(from);
    return { sha256, size, ref: key };
  }

  async read(sha256: string): Promise<Uint8Array | null> {
    const bytes = await this.bucket.get(this.key(sha256));
    if (!bytes) return null;
    const actual = sha256Hex(bytes);
    if (actual !== sha256) throw new AudioDamaged(this.url, sha256, actual);
    return bytes;
  }

  async size(sha256: string): Promise<number | null> {
    return (await this.bucket.stat(this.key(sha256)))?.size ?? null;
  }

  openRange(sha256: string, range?: { start: number; end: number }): Promise<Readable> {
    return this.bucket.stream(this.key(sha256), range);
  }

  async *list(): AsyncIterable<{ sha256: string; size: number }> {
    for await (const o of this.bucket.list(`${this.prefix}audio/`)) {
      const m = /audio\/([0-9a-f]{2})\/([0-9a-f]{64})$/.exec(o.key);
      if (m && m[2]!.startsWith(m[1]!)) yield { sha256: m[2]!, size: o.size };
    }
  }

  remove(sha256: string): Promise<void> {
    return this.bucket.delete(this.key(sha256));
  }

  async probe(): Promise<void> {
    const key = `${this.prefix}tmp/.probe-${randomBytes(6).toString('hex')}`;
    await this.bucket.put(key, (async function* () { yield Buffer.from('probe'); })());
    await this.bucket.delete(key);
  }

  close(): Promise<void> {
    return this.bucket.close();
  }
}

import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { AudioDamaged, objectKey, STALE_STAGED_MS, type AudioStore, type Staged } from './audio-store.js';
import type { Bucket } from './bucket.js';
import { Hashing, sha256Hex } from './hashing.js';

/** Uploads up to this size are held in memory until commit, which then writes them whole in one request. */
const SMALL = 1024 * 1024;

/** Where a staged upload is: in memory (a small one), or an object under `<prefix>tmp/`. */
type Held = { bytes: Buffer } | { key: string };

/**
 * Audio in an object store (Azure Blob, S3), content-addressed below a prefix:
 * `<prefix>audio/ab/<sha256>`. An object under a final name is always complete: a small upload
 * (most recordings) is held in memory while it is hashed and written to its address in one
 * request (a put is atomic in both services); a larger one is streamed to
 * `<prefix>tmp/<time>-<random>` and copied to its address server-side once its sha256 is known.
 * Every process given the same URL shares it: replicas on several machines and the queue's
 * workers need no shared disk.
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
    const h = new Hashing(limit);
    const chunks = h.chunks(body)[Symbol.asyncIterator]();
    const head: Buffer[] = [];
    let held = 0;
    while (held <= SMALL) {
      const r = await chunks.next();
      if (r.done) return { sha256: h.digest(), size: h.size, ref: { bytes: Buffer.concat(head, held) } satisfies Held };
      head.push(r.value);
      held += r.value.length;
    }
    const key = this.stagingKey();
    try {
      await this.bucket.put(key, (async function* () {
        yield* head;
        for (let r = await chunks.next(); !r.done; r = await chunks.next()) yield r.value;
      })());
    } catch (e) {
      await this.bucket.delete(key).catch(() => undefined);
      throw e;
    }
    return { sha256: h.digest(), size: h.size, ref: { key } satisfies Held };
  }

  async commit(staged: Staged): Promise<void> {
    const held = staged.ref as Held;
    // written even over an object already there: it puts right an object whose bytes were
    // changed behind the store's back (a server-side copy moves no bytes through here)
    if ('bytes' in held) await this.bucket.put(this.key(staged.sha256), once(held.bytes));
    else await this.bucket.copy(held.key, this.key(staged.sha256));
  }

  async discard(staged: Staged): Promise<void> {
    const held = staged.ref as Held;
    if ('key' in held) await this.bucket.delete(held.key);
  }

  async detach(sha256: string): Promise<Staged | null> {
    const from = this.key(sha256);
    const size = (await this.bucket.stat(from))?.size;
    if (size === undefined) return null;
    let held: Held;
    if (size <= SMALL) {
      const bytes = await this.bucket.get(from);
      if (!bytes) return null;
      held = { bytes };
    } else {
      held = { key: this.stagingKey() };
      await this.bucket.copy(from, held.key);
    }
    await this.bucket.delete(from);
    return { sha256, size, ref: held };
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
    await this.bucket.put(key, once(Buffer.from('probe')));
    await this.bucket.delete(key);
  }

  close(): Promise<void> {
    return this.bucket.close();
  }
}

async function* once(bytes: Buffer): AsyncGenerator<Buffer> {
  yield bytes;
}

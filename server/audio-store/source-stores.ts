import type { Readable } from 'node:stream';
import { TosiaError } from '../../runtime/index.js';
import type { Bucket } from './bucket.js';
import { openBucket, parseStoreUrl, type StoreLocation } from './open.js';

type Remote = Extract<StoreLocation, { kind: 'azblob' | 's3' }>;

/** Why a reference cannot be read: the HTTP layer answers with `status`. */
export class SourceRefused extends Error {
  constructor(readonly status: 400 | 403 | 413 | 422, message: string) {
    super(message);
  }
}

/**
 * The containers and buckets a server may read recordings from by reference (`--source-store`,
 * repeatable): a reference outside them is refused before anything is fetched, so a client can
 * make the server read only what its operator allowed, never an arbitrary URL.
 */
export class SourceStores {
  private readonly allowed: Remote[];
  private readonly buckets = new Map<string, Promise<Bucket>>();

  constructor(urls: readonly string[], private readonly env: NodeJS.ProcessEnv = process.env) {
    this.allowed = urls.map((url) => {
      const at = parseStoreUrl(url, '--source-store');
      if (at.kind === 'folder') throw new TosiaError('E_CONFIG', `--source-store=${url} is a folder of this machine; only containers and buckets are read by reference`, { stage: 'config', hint: 'pass azblob://container[/prefix] or s3://bucket[/prefix]' });
      return at;
    });
  }

  /** The allow-list, as the operator wrote it (for messages). */
  get list(): string {
    return this.allowed.map((a) => `${a.kind}://${a.container}/${a.prefix}`).join(', ');
  }

  /** Open the object a reference names, if the allow-list admits it and it exists within `limit` bytes. */
  async open(ref: string, limit: number): Promise<{ body: Readable; size: number }> {
    let at: StoreLocation;
    try {
      at = parseStoreUrl(ref, 'source');
    } catch (e) {
      throw new SourceRefused(400, (e as Error).message.replace(/^source=/, 'source '));
    }
    if (at.kind === 'folder' || !at.prefix) throw new SourceRefused(400, `source ${ref} does not name an object: pass azblob://container/path/to/recording or s3://bucket/path/to/recording`);
    const key = at.prefix.replace(/\/$/, '');
    if (this.allowed.length === 0) throw new SourceRefused(403, 'this server reads no recordings by reference: its operator allows containers with --source-store; upload the recording instead');
    const kind = at.kind;
    const container = at.container;
    if (!this.allowed.some((a) => a.kind === kind && a.container === container && key.startsWith(a.prefix))) {
      throw new SourceRefused(403, `source ${ref} is outside what this server may read (--source-store: ${this.list})`);
    }
    const bucket = await this.bucket(at);
    const found = await bucket.stat(key);
    if (!found) throw new SourceRefused(422, `source ${ref}: no such object`);
    if (found.size > limit) throw new SourceRefused(413, `source ${ref} is ${found.size} bytes, larger than this server's --max-upload-mb (${(limit / 1048576).toFixed(0)} MB)`);
    return { body: await bucket.stream(key), size: found.size };
  }

  private bucket(at: Remote): Promise<Bucket> {
    const id = `${at.kind}://${at.container}`;
    let b = this.buckets.get(id);
    if (!b) {
      b = openBucket(at, this.env);
      b.catch(() => this.buckets.delete(id));
      this.buckets.set(id, b);
    }
    return b;
  }

  async close(): Promise<void> {
    for (const b of this.buckets.values()) await (await b.catch(() => null))?.close();
  }
}

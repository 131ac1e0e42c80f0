import type { Readable } from 'node:stream';

/** An object as a listing shows it. */
export interface Listed { key: string; size: number; modified: Date; version: string }

/**
 * The few operations an object store must offer for tosia to keep audio in it (and, later, read
 * recordings by reference): each cloud backend implements this, and ObjectAudioStore builds the
 * content-addressed AudioStore on top. Keys are full object names within the container or
 * bucket. Errors are already translated: StoreUnavailable for what may pass (unreachable, 5xx,
 * throttled), TosiaError E_CONFIG for what will not (credentials, permissions).
 */
export interface Bucket {
  /** `azblob://container`, `s3://bucket`: for messages. */
  readonly url: string;
  /** Create the container or bucket when missing, where the credentials allow it. */
  ensure(): Promise<void>;
  /** Write an object from a stream of chunks; it appears whole or not at all. */
  put(key: string, body: AsyncIterable<Buffer>): Promise<void>;
  /** Copy one object to another key, server-side. */
  copy(from: string, to: string): Promise<void>;
  /** The whole object, or null when absent. */
  get(key: string): Promise<Buffer | null>;
  /** A byte range (inclusive) or the whole object, as a stream; throws when absent. */
  stream(key: string, range?: { start: number; end: number }): Promise<Readable>;
  /** Delete an object (absent is fine). */
  delete(key: string): Promise<void>;
  /**
   * Objects below a prefix, in key order, page by page as the service gives them (never the
   * whole listing at once); `version` is the ETag, which changes whenever the object is written.
   */
  list(prefix: string, options?: { pageSize?: number }): AsyncIterable<Listed>;
  /** One object's listing entry, or null when absent. */
  stat(key: string): Promise<Listed | null>;
  close(): Promise<void>;
}

import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TosiaError } from '../../runtime/index.js';
import type { AudioStore } from './audio-store.js';
import type { Bucket } from './bucket.js';

/** A storage URL, parsed: a folder of this machine, or a container or bucket and a prefix within it. */
export type StoreLocation =
  | { kind: 'folder'; root: string }
  | { kind: 'azblob' | 's3'; container: string; prefix: string };

const FORMS = 'file:///var/lib/tosia, azblob://CONTAINER[/prefix] or s3://BUCKET[/prefix]';

/**
 * Parse `file:///…`, `azblob://container[/prefix]` or `s3://bucket[/prefix]`. This and the switch
 * in openBucket are the only places that know the schemes: a new backend is a Bucket in this
 * folder and a case in each.
 */
export function parseStoreUrl(url: string, flag = '--audio-store'): StoreLocation {
  const bad = (why: string, hint = `pass ${FORMS}`) => new TosiaError('E_CONFIG', `${flag}=${url} ${why}`, { stage: 'storage', hint });
  const m = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)(\/[^?#]*)?$/i.exec(url);
  if (!m) throw bad('is not a storage URL');
  const scheme = m[1]!.toLowerCase();
  const host = m[2]!;
  const path = m[3] ?? '';
  if (scheme === 'file') {
    if (host !== '' && host !== 'localhost') throw bad(`names the host ${host}: a folder store is on this machine`, 'pass file:///absolute/path (three slashes)');
    if (path === '' || path === '/') throw bad('names no folder', 'pass file:///absolute/path');
    return { kind: 'folder', root: resolve(fileURLToPath(`file://${path}`)) };
  }
  if (scheme !== 'azblob' && scheme !== 's3') throw bad(`has the scheme ${scheme}:, which tosia does not store audio in`);
  const segments = path.split('/').slice(1);
  if (segments.at(-1) === '') segments.pop();
  if (segments.some((s) => s === '' || s === '.' || s === '..')) throw bad('has an empty, . or .. segment in its prefix');
  const what = scheme === 'azblob' ? 'container' : 'bucket';
  // Azure: 3-63 of a-z 0-9 and single hyphens; S3: 3-63 of a-z 0-9 . and -, starting and ending with a letter or digit
  const ok = scheme === 'azblob' ? /^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$/.test(host) : /^(?=.{3,63}$)[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(host);
  if (!ok) throw bad(`names the ${what} "${host}", which is not a valid ${what} name`, `a ${what} name is 3-63 lower-case letters, digits and hyphens${scheme === 's3' ? ' (or dots)' : ''}`);
  return { kind: scheme, container: host, prefix: segments.length ? `${segments.join('/')}/` : '' };
}

/**
 * The SDK each object store needs. They are optional peer dependencies (52 MB together): a plain
 * `npm i tosia` leaves them out, and the first URL that needs one says how to add it.
 */
export const OBJECT_STORE_SDK = { azblob: '@azure/storage-blob', s3: '@aws-sdk/client-s3' } as const;

/** The container or bucket of a parsed location; the SDK is loaded only here, when that backend is used. */
export async function openBucket(at: Extract<StoreLocation, { kind: 'azblob' | 's3' }>, env: NodeJS.ProcessEnv = process.env): Promise<Bucket> {
  try {
    switch (at.kind) {
      case 'azblob': return new (await import('./azure-blob.js')).AzureBlobBucket(at.container, env);
      case 's3': return new (await import('./s3.js')).S3Bucket(at.container, env);
    }
  } catch (e) {
    const sdk = OBJECT_STORE_SDK[at.kind];
    if ((e as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && String((e as Error).message).includes(sdk)) {
      throw new TosiaError('E_CONFIG', `${at.kind}://${at.container} needs ${sdk}, which is not installed`, {
        stage: 'config', hint: `install it where tosia is installed: npm i ${sdk} (the container image has it)`, cause: e,
      });
    }
    throw e;
  }
}

/** The audio store a URL names (not yet opened: the caller opens it, and may retry while the backend is down). */
export async function createAudioStore(url: string, o: { flag?: string; env?: NodeJS.ProcessEnv } = {}): Promise<AudioStore> {
  const at = parseStoreUrl(url, o.flag);
  if (at.kind === 'folder') return new (await import('./folder.js')).FolderAudioStore(at.root);
  const { ObjectAudioStore } = await import('./object-store.js');
  return new ObjectAudioStore(at.kind, await openBucket(at, o.env), at.prefix);
}

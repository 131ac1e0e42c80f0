import { inputFilter, isAudioName, TosiaError, type StoreInput } from '../../runtime/index.js';
import type { Bucket } from './bucket.js';
import { openBucket, parseStoreUrl } from './open.js';

export interface ObjectSourceOptions {
  include?: readonly string[];
  exclude?: readonly string[];
  /** Objects listed per request (the services' own maximum is 1000, the default). */
  pageSize?: number;
  env?: NodeJS.ProcessEnv;
}

/**
 * The recordings below one or more `azblob://container/prefix` or `s3://bucket/prefix` URLs, as a
 * batch's inputs: listed page by page (a listing is never held whole, however many objects), kept
 * when their name is audio and --include/--exclude keep it, each read only when a worker takes it.
 * An input's path is its URL and its version the object's ETag, so a batch resumes without
 * reading again what it finished. A URL naming one object is that object.
 */
export async function objectSource(urls: readonly string[], o: ObjectSourceOptions = {}) {
  const roots: { url: string; bucket: Bucket; prefix: string; scheme: string; container: string }[] = [];
  for (const url of urls) {
    const at = parseStoreUrl(url, 'input');
    if (at.kind === 'folder') throw new TosiaError('E_CONFIG', `${url} is a folder of this machine`, { stage: 'input', hint: `pass the folder's path (${at.root}) instead of a file:// URL` });
    roots.push({ url, bucket: await openBucket(at, o.env), prefix: at.prefix, scheme: at.kind, container: at.container });
  }
  // results mirror keys below the common prefix of every URL listed
  const base = commonPrefix(roots.map((r) => `${r.scheme}://${r.container}/${r.prefix}`));

  async function* objects(only: ReadonlySet<string> | undefined): AsyncGenerator<StoreInput> {
    const wanted = inputFilter({ include: o.include, exclude: o.exclude, only });
    for (const r of roots) {
      const at = `${r.scheme}://${r.container}/`;
      let any = false;
      for await (const obj of r.bucket.list(r.prefix, { pageSize: o.pageSize })) {
        any = true;
        const input = inputOf(r.bucket, at, obj.key, obj.version, base);
        if (isAudioName(obj.key) && wanted(input)) yield input;
      }
      // a URL without a trailing slash may name one object
      if (!any && r.prefix) {
        const key = r.prefix.replace(/\/$/, '');
        const one = await r.bucket.stat(key);
        if (!one) throw new TosiaError('E_INPUT', `nothing is stored at or below ${r.url}`, { stage: 'input', hint: 'check the container or bucket and the prefix (tosia lists every object whose key starts with it)' });
        yield inputOf(r.bucket, at, key, one.version, base);
      }
    }
  }

  return {
    base,
    source: (only: ReadonlySet<string> | undefined) => ({
      async count(): Promise<number> {
        let n = 0;
        for await (const _ of objects(only)) n++;
        return n;
      },
      stream: () => objects(only),
    }),
    async close(): Promise<void> {
      await Promise.all(roots.map((r) => r.bucket.close()));
    },
  };
}

function inputOf(bucket: Bucket, at: string, key: string, version: string, base: string): StoreInput {
  const url = at + key;
  return {
    path: url, rel: url.startsWith(base) ? url.slice(base.length) : url, version,
    async read() {
      const bytes = await bucket.get(key);
      if (!bytes) throw new TosiaError('E_INPUT', 'was deleted after it was listed', { file: url, stage: 'input', hint: 'run the same command again: it takes what is there now' });
      return bytes;
    },
  };
}

/** The longest common prefix of URLs, cut after its last '/'. */
function commonPrefix(urls: string[]): string {
  let p = urls[0] ?? '';
  for (const u of urls) while (!u.startsWith(p)) p = p.slice(0, -1);
  return p.slice(0, p.lastIndexOf('/') + 1);
}


import { Readable } from 'node:stream';
import { BlobServiceClient, type ContainerClient, type StoragePipelineOptions } from '@azure/storage-blob';
import { TosiaError } from '../../runtime/index.js';
import { StoreUnavailable, TooLarge } from './audio-store.js';
import type { Bucket, Listed } from './bucket.js';

/** The Azure SDKs' standard variable for a storage account's connection string. */
export const AZURE_CONNECTION_VARIABLE = 'AZURE_STORAGE_CONNECTION_STRING';

const BLOCK = 4 * 1024 * 1024;

/**
 * A container of Azure Blob storage (or Azurite, Microsoft's emulator), reached with the
 * connection string in AZURE_STORAGE_CONNECTION_STRING.
 */
export class AzureBlobBucket implements Bucket {
  readonly url: string;
  private readonly container: ContainerClient;

  constructor(readonly name: string, env: NodeJS.ProcessEnv = process.env) {
    this.url = `azblob://${name}`;
    const conn = env[AZURE_CONNECTION_VARIABLE];
    if (!conn) {
      throw new TosiaError('E_CONFIG', `${this.url} needs the storage account's connection string in ${AZURE_CONNECTION_VARIABLE}`, {
        stage: 'storage', hint: `export ${AZURE_CONNECTION_VARIABLE}='DefaultEndpointsProtocol=https;AccountName=…;AccountKey=…;EndpointSuffix=core.windows.net' (the Azure portal: Storage account → Access keys)`,
      });
    }
    // a few quick retries: an outage should reach the caller as a 503 in seconds, not minutes
    const options: StoragePipelineOptions = { retryOptions: { maxTries: 3, retryDelayInMs: 200, maxRetryDelayInMs: 2000, tryTimeoutInMs: 120_000 } };
    let svc: BlobServiceClient;
    try {
      svc = BlobServiceClient.fromConnectionString(conn, options);
    } catch (e) {
      throw new TosiaError('E_CONFIG', `${AZURE_CONNECTION_VARIABLE} is not a usable connection string: ${(e as Error).message}`, { stage: 'storage', hint: 'copy it whole from the Azure portal (Storage account → Access keys)' });
    }
    this.container = svc.getContainerClient(name);
  }

  private fail(e: unknown, what: string): Error {
    return translate(e, this.url, what);
  }

  async ensure(): Promise<void> {
    try {
      await this.container.createIfNotExists();
    } catch (e) {
      // a key that may use the container but not create it: fine when it exists
      if (status(e) === 403 && (await this.container.exists().catch(() => false))) return;
      if (status(e) === 403) throw new TosiaError('E_CONFIG', `the credentials in ${AZURE_CONNECTION_VARIABLE} may not create the container ${this.name}, and it does not exist`, { stage: 'storage', hint: `create it (az storage container create --name ${this.name}) or use a key that may` });
      throw this.fail(e, 'create the container');
    }
  }

  async put(key: string, body: AsyncIterable<Buffer>): Promise<void> {
    const blob = this.container.getBlockBlobClient(key);
    try {
      // a body that fits one block is one Put Blob request; a larger one goes up block by block,
      // and appears whole when its block list is committed
      const chunks = body[Symbol.asyncIterator]();
      const head: Buffer[] = [];
      let held = 0;
      let ended = false;
      while (held < BLOCK) {
        const r = await chunks.next();
        if (r.done) { ended = true; break; }
        head.push(r.value);
        held += r.value.length;
      }
      if (ended) {
        const bytes = Buffer.concat(head, held);
        await blob.upload(bytes, bytes.length);
      } else {
        await blob.uploadStream(Readable.from((async function* () {
          yield* head;
          for (let r = await chunks.next(); !r.done; r = await chunks.next()) yield r.value;
        })()), BLOCK, 2);
      }
    } catch (e) {
      // a container deleted since open() (or lost by an emulator's restart) is made again; this
      // body is spent, so its sender is told to send it again
      if (errorCode(e) === 'ContainerNotFound') {
        await this.ensure();
        throw new StoreUnavailable(this.url, `the container ${this.name} had gone and was made again`, { cause: e });
      }
      throw this.fail(e, `write ${key}`);
    }
  }

  async copy(from: string, to: string): Promise<void> {
    try {
      const poller = await this.container.getBlobClient(to).beginCopyFromURL(this.container.getBlobClient(from).url, { intervalInMs: 100 });
      await poller.pollUntilDone();
    } catch (e) {
      throw this.fail(e, `copy ${from} to ${to}`);
    }
  }

  async get(key: string): Promise<Buffer | null> {
    try {
      // one request (downloadToBuffer asks for the properties first, then downloads)
      const r = await this.container.getBlobClient(key).download();
      const parts: Buffer[] = [];
      for await (const c of r.readableStreamBody as Readable) parts.push(c as Buffer);
      return Buffer.concat(parts);
    } catch (e) {
      if (status(e) === 404) return null;
      throw this.fail(e, `read ${key}`);
    }
  }

  async stream(key: string, range?: { start: number; end: number }): Promise<Readable> {
    try {
      const r = await this.container.getBlobClient(key).download(range?.start ?? 0, range ? range.end - range.start + 1 : undefined);
      return r.readableStreamBody as Readable;
    } catch (e) {
      throw this.fail(e, `read ${key}`);
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.container.getBlobClient(key).deleteIfExists();
    } catch (e) {
      throw this.fail(e, `delete ${key}`);
    }
  }

  async *list(prefix: string, options: { pageSize?: number } = {}): AsyncIterable<Listed> {
    try {
      for await (const page of this.container.listBlobsFlat({ prefix }).byPage({ maxPageSize: options.pageSize ?? 1000 })) {
        for (const b of page.segment.blobItems) yield { key: b.name, size: b.properties.contentLength ?? 0, modified: b.properties.lastModified, version: b.properties.etag ?? '' };
      }
    } catch (e) {
      throw this.fail(e, `list ${prefix}`);
    }
  }

  async stat(key: string): Promise<Listed | null> {
    try {
      const p = await this.container.getBlobClient(key).getProperties();
      return { key, size: p.contentLength ?? 0, modified: p.lastModified ?? new Date(0), version: p.etag ?? '' };
    } catch (e) {
      if (status(e) === 404) return null;
      throw this.fail(e, `look up ${key}`);
    }
  }

  async close(): Promise<void> {}
}

function status(e: unknown): number | undefined {
  return (e as { statusCode?: number }).statusCode;
}

function errorCode(e: unknown): string | undefined {
  return (e as { code?: string; details?: { errorCode?: string } }).details?.errorCode ?? (e as { code?: string }).code;
}

/** An SDK error as tosia's: what may pass is StoreUnavailable; a refusal is a config error. */
function translate(e: unknown, url: string, what: string): Error {
  if (e instanceof TosiaError || e instanceof StoreUnavailable || e instanceof TooLarge) return e;
  const code = status(e);
  const msg = (e as Error).message?.split('\n')[0] ?? String(e);
  if (code === 401 || code === 403) {
    return new TosiaError('E_CONFIG', `${url} refused to ${what}: ${msg}`, { stage: 'storage', hint: `check the account key in ${AZURE_CONNECTION_VARIABLE} and its permissions on the container` });
  }
  if (code === undefined || code >= 500 || code === 408 || code === 429) return new StoreUnavailable(url, `cannot ${what}: ${msg}`, { cause: e });
  return new TosiaError('E_INTERNAL', `${url} answered ${code} to ${what}: ${msg}`, { stage: 'storage', cause: e });
}

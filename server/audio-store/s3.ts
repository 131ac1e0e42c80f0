import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CopyObjectCommand, CreateBucketCommand, CreateMultipartUploadCommand, DeleteObjectCommand,
  GetObjectCommand, HeadBucketCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client, UploadPartCommand,
} from '@aws-sdk/client-s3';
import { TosiaError } from '../../runtime/index.js';
import { StoreUnavailable, TooLarge } from './audio-store.js';
import type { Bucket, Listed } from './bucket.js';

/** Parts of a multipart upload (S3's least is 5 MiB); a smaller body is one PutObject. */
const PART = 8 * 1024 * 1024;

/**
 * A bucket of S3 or an S3-compatible server. Credentials come from the AWS SDK's standard chain
 * (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a profile, an instance role…); AWS_ENDPOINT_URL
 * (or AWS_ENDPOINT_URL_S3) points it at another server, addressed by path.
 */
export class S3Bucket implements Bucket {
  readonly url: string;
  private readonly client: S3Client;

  constructor(readonly name: string, env: NodeJS.ProcessEnv = process.env) {
    this.url = `s3://${name}`;
    const endpoint = env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined;
    if (endpoint !== undefined && !/^https?:\/\/[^/]+/.test(endpoint)) {
      throw new TosiaError('E_CONFIG', `AWS_ENDPOINT_URL=${endpoint} is not an http(s) URL`, { stage: 'storage', hint: 'set it to the S3-compatible server, e.g. http://127.0.0.1:9000, or unset it for AWS itself' });
    }
    this.client = new S3Client({
      endpoint, forcePathStyle: endpoint !== undefined,
      // the variables of the chain's first link, read from the environment given (the default chain reads process.env)
      ...(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY ? { credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, sessionToken: env.AWS_SESSION_TOKEN || undefined } } : {}), region: env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1', maxAttempts: 3,
      // newer SDKs add CRC32 checksums to every request, which many S3-compatible servers refuse
      requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  private fail(e: unknown, what: string): Error {
    return translate(e, this.url, what);
  }

  async ensure(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.name }));
      return;
    } catch (e) {
      if (status(e) !== 404) throw this.fail(e, 'look up the bucket');
    }
    try {
      await this.client.send(new CreateBucketCommand({ Bucket: this.name }));
    } catch (e) {
      const name = (e as Error).name;
      if (name === 'BucketAlreadyOwnedByYou') return;
      if (status(e) === 403) throw new TosiaError('E_CONFIG', `the bucket ${this.name} does not exist and these credentials may not create it`, { stage: 'storage', hint: `create it (aws s3 mb s3://${this.name}) or use credentials that may` });
      throw this.fail(e, 'create the bucket');
    }
  }

  async put(key: string, body: AsyncIterable<Buffer>): Promise<void> {
    // parts are gathered in memory one at a time: an upload never holds more than one part
    let part: Buffer[] = [];
    let held = 0;
    let upload: { id: string; parts: { ETag: string; PartNumber: number }[] } | null = null;
    const flush = async () => {
      const data = Buffer.concat(part, held);
      part = [];
      held = 0;
      if (!upload) {
        const r = await this.client.send(new CreateMultipartUploadCommand({ Bucket: this.name, Key: key }));
        upload = { id: r.UploadId!, parts: [] };
      }
      const n = upload.parts.length + 1;
      const r = await this.client.send(new UploadPartCommand({ Bucket: this.name, Key: key, UploadId: upload.id, PartNumber: n, Body: data, ContentLength: data.length }));
      upload.parts.push({ ETag: r.ETag!, PartNumber: n });
    };
    try {
      for await (const chunk of body) {
        part.push(chunk);
        held += chunk.length;
        if (held >= PART) await flush();
      }
      if (!upload) {
        const data = Buffer.concat(part, held);
        await this.client.send(new PutObjectCommand({ Bucket: this.name, Key: key, Body: data, ContentLength: data.length }));
        return;
      }
      if (held > 0) await flush();
      const u = upload as { id: string; parts: { ETag: string; PartNumber: number }[] };
      await this.client.send(new CompleteMultipartUploadCommand({ Bucket: this.name, Key: key, UploadId: u.id, MultipartUpload: { Parts: u.parts } }));
    } catch (e) {
      const u = upload as { id: string } | null;
      if (u) await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.name, Key: key, UploadId: u.id })).catch(() => undefined);
      // a bucket deleted since open() is made again; this body is spent, so its sender is told to send it again
      if ((e as Error).name === 'NoSuchBucket') {
        await this.ensure();
        throw new StoreUnavailable(this.url, `the bucket ${this.name} had gone and was made again`, { cause: e });
      }
      throw this.fail(e, `write ${key}`);
    }
  }

  async copy(from: string, to: string): Promise<void> {
    try {
      await this.client.send(new CopyObjectCommand({ Bucket: this.name, Key: to, CopySource: `${this.name}/${from.split('/').map(encodeURIComponent).join('/')}` }));
    } catch (e) {
      throw this.fail(e, `copy ${from} to ${to}`);
    }
  }

  async get(key: string): Promise<Buffer | null> {
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.name, Key: key }));
      return Buffer.from(await r.Body!.transformToByteArray());
    } catch (e) {
      if (status(e) === 404) return null;
      throw this.fail(e, `read ${key}`);
    }
  }

  async stream(key: string, range?: { start: number; end: number }): Promise<Readable> {
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.name, Key: key, Range: range ? `bytes=${range.start}-${range.end}` : undefined }));
      return r.Body as Readable;
    } catch (e) {
      throw this.fail(e, `read ${key}`);
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.name, Key: key }));
    } catch (e) {
      if (status(e) === 404) return;
      throw this.fail(e, `delete ${key}`);
    }
  }

  async *list(prefix: string, options: { pageSize?: number } = {}): AsyncIterable<Listed> {
    let token: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(new ListObjectsV2Command({ Bucket: this.name, Prefix: prefix, ContinuationToken: token, MaxKeys: options.pageSize ?? 1000 }));
      } catch (e) {
        throw this.fail(e, `list ${prefix}`);
      }
      for (const o of page.Contents ?? []) yield { key: o.Key!, size: o.Size ?? 0, modified: o.LastModified ?? new Date(0), version: o.ETag ?? '' };
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async stat(key: string): Promise<Listed | null> {
    try {
      const h = await this.client.send(new HeadObjectCommand({ Bucket: this.name, Key: key }));
      return { key, size: h.ContentLength ?? 0, modified: h.LastModified ?? new Date(0), version: h.ETag ?? '' };
    } catch (e) {
      if (status(e) === 404) return null;
      throw this.fail(e, `look up ${key}`);
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}

function status(e: unknown): number | undefined {
  return (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

/** An SDK error as tosia's: what may pass is StoreUnavailable; a refusal is a config error. */
function translate(e: unknown, url: string, what: string): Error {
  if (e instanceof TosiaError || e instanceof StoreUnavailable || e instanceof TooLarge) return e;
  const code = status(e);
  const msg = (e as Error).message?.split('\n')[0] || (e as Error).name || String(e);
  if ((e as Error).name === 'CredentialsProviderError') {
    return new TosiaError('E_CONFIG', `${url} needs AWS credentials, and none were found: ${msg}`, { stage: 'storage', hint: 'set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or run with an instance or pod role' });
  }
  if (code === 401 || code === 403) {
    return new TosiaError('E_CONFIG', `${url} refused to ${what}: ${msg}`, { stage: 'storage', hint: 'check the AWS credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY or the profile) and their permissions on the bucket' });
  }
  if (code === undefined || code >= 500 || code === 408 || code === 429) return new StoreUnavailable(url, `cannot ${what}: ${msg}`, { cause: e });
  return new TosiaError('E_INTERNAL', `${url} answered ${code} to ${what}: ${msg}`, { stage: 'storage', cause: e });
}

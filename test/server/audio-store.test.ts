import { randomBytes, createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AudioDamaged, StoreUnavailable, TooLarge, type AudioStore } from '../../server/audio-store/audio-store.js';
import { createAudioStore, openBucket, parseStoreUrl } from '../../server/audio-store/open.js';
import { Azurite, freePort, S3rver, type EmulatedStore } from '../helpers/object-stores.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
async function* chunks(b: Uint8Array, size = 64 * 1024) {
  for (let at = 0; at < b.length; at += size) yield b.subarray(at, at + size);
}

interface Backend {
  name: string;
  url: string;
  env: NodeJS.ProcessEnv;
  /** Overwrite a committed object's bytes behind the store's back. */
  tamper(sha256: string, bytes: Uint8Array): Promise<void>;
}

const emulators: EmulatedStore[] = [];
const folder = mkdtempSync(join(tmpdir(), 'tosia-audio-contract-'));
const backends: (() => Promise<Backend>)[] = [
  async () => ({
    name: 'folder', url: `file://${folder}`, env: {},
    async tamper(s, bytes) { writeFileSync(join(folder, 'audio', s.slice(0, 2), s), bytes); },
  }),
  ...[['azblob', Azurite], ['s3', S3rver]].map(([scheme, Emu]) => async (): Promise<Backend> => {
    const emu = await new (Emu as typeof Azurite)().start();
    emulators.push(emu);
    const url = `${scheme as string}://tosia-contract-${randomBytes(3).toString('hex')}/audio/v1`;
    const env = emu.env;
    return {
      name: scheme as string, url, env,
      async tamper(s, bytes) {
        const at = parseStoreUrl(url);
        if (at.kind === 'folder') throw new Error('not an object store');
        const bucket = await openBucket(at, env);
        await bucket.put(`${at.prefix}audio/${s.slice(0, 2)}/${s}`, (async function* () { yield Buffer.from(bytes); })());
        await bucket.close();
      },
    };
  }),
];

afterAll(async () => {
  for (const e of emulators) await e.stop();
  rmSync(folder, { recursive: true, force: true });
});

// the same contract, against every backend
describe.each(backends.map((b, i) => [['folder', 'azblob', 's3'][i], b] as const))('AudioStore contract: %s', (_name, make) => {
  let backend: Backend;
  let store: AudioStore;
  beforeAll(async () => {
    backend = await make();
    store = await createAudioStore(backend.url, { env: backend.env });
    await store.open();
  }, 60_000);
  afterAll(async () => store?.close());

  it('stages an upload under no final name, commits it to its sha256, and reads it back whole and by range', async () => {
    const bytes = randomBytes(300_000);
    const staged = await store.receive(chunks(bytes), 10_000_000);
    expect(staged).toMatchObject({ sha256: sha(bytes), size: bytes.length });
    expect(await store.size(staged.sha256)).toBeNull();
    expect(await store.read(staged.sha256)).toBeNull();
    await store.commit(staged);
    await store.commit(staged); // again: the same bytes, kept
    await store.discard(staged);
    expect(await store.size(staged.sha256)).toBe(bytes.length);
    expect(Buffer.compare(Buffer.from((await store.read(staged.sha256))!), bytes)).toBe(0);
    const part = Buffer.concat(await (await store.openRange(staged.sha256, { start: 1000, end: 1999 })).toArray());
    expect(Buffer.compare(part, bytes.subarray(1000, 2000))).toBe(0);
    const all = Buffer.concat(await (await store.openRange(staged.sha256)).toArray());
    expect(all.length).toBe(bytes.length);
  });

  it('stops reading past the limit (TooLarge) and keeps nothing of it', async () => {
    const bytes = randomBytes(200_000);
    await expect(store.receive(chunks(bytes), 100_000)).rejects.toBeInstanceOf(TooLarge);
    expect(await store.size(sha(bytes))).toBeNull();
  });

  it('a large upload (in parts) arrives whole', async () => {
    const bytes = randomBytes(19 * 1024 * 1024 + 17);
    const staged = await store.receive(chunks(bytes, 1024 * 1024), 50 * 1024 * 1024);
    await store.commit(staged);
    await store.discard(staged);
    expect(sha(Buffer.from((await store.read(staged.sha256))!))).toBe(sha(bytes));
    await store.remove(staged.sha256);
  }, 60_000);

  it('detach takes an object out of its address; commit puts it back, discard drops it', async () => {
    const bytes = randomBytes(5000);
    const staged = await store.receive(chunks(bytes), 1e6);
    await store.commit(staged);
    await store.discard(staged);
    const out = (await store.detach(staged.sha256))!;
    expect(out).toMatchObject({ sha256: staged.sha256, size: 5000 });
    expect(await store.size(staged.sha256)).toBeNull();
    await store.commit(out);
    expect(await store.size(staged.sha256)).toBe(5000);
    const again = (await store.detach(staged.sha256))!;
    await store.discard(again);
    expect(await store.size(staged.sha256)).toBeNull();
    expect(await store.detach(staged.sha256)).toBeNull();
    await store.remove(staged.sha256); // absent: fine
  });

  it('bytes changed in the store are caught by their sha256 on read', async () => {
    const bytes = randomBytes(4000);
    const staged = await store.receive(chunks(bytes), 1e6);
    await store.commit(staged);
    await store.discard(staged);
    const other = Buffer.from(bytes);
    other[10] ^= 0xff;
    await backend.tamper(staged.sha256, other);
    const e = await store.read(staged.sha256).catch((x) => x);
    expect(e).toBeInstanceOf(AudioDamaged);
    expect(e.message).toMatch(/damaged: its bytes hash to .* not to its name.*upload the recording again/);
    // the same bytes uploaded again put it right
    const again = await store.receive(chunks(bytes), 1e6);
    await store.commit(again);
    await store.discard(again);
    expect(Buffer.compare(Buffer.from((await store.read(staged.sha256))!), bytes)).toBe(0);
  });

  it('probe writes and deletes; the URL it reports carries no credentials', async () => {
    await store.probe();
    expect(store.url).toBe(backend.url.replace(/\/$/, ''));
    expect(store.shared).toBe(backend.name !== 'folder');
  });
});

describe('AudioStore URLs and credentials', () => {
  it.each([
    ['/var/lib/tosia', /is not a storage URL/],
    ['ftp://host/x', /scheme ftp:/],
    ['file://host/x', /names the host host/],
    ['azblob://A_Bad/x', /not a valid container name/],
    ['s3://ab', /not a valid bucket name/],
    ['s3://bucket/a//b', /empty, \. or \.\. segment/],
    ['azblob://calls/../x', /empty, \. or \.\. segment/],
  ])('%s is refused with E_CONFIG naming the flag', (url, why) => {
    const e = (() => { try { parseStoreUrl(url); } catch (x) { return x as Error & { code: string }; } })()!;
    expect(e.code).toBe('E_CONFIG');
    expect(e.message).toContain(`--audio-store=${url}`);
    expect(e.message).toMatch(why);
  });

  it('parses a container and a prefix', () => {
    expect(parseStoreUrl('azblob://calls/2026/12/')).toEqual({ kind: 'azblob', container: 'calls', prefix: '2026/12/' });
    expect(parseStoreUrl('s3://my.bucket')).toEqual({ kind: 's3', container: 'my.bucket', prefix: '' });
    expect(parseStoreUrl('file:///var/lib/tosia')).toEqual({ kind: 'folder', root: '/var/lib/tosia' });
  });

  it('azblob:// without AZURE_STORAGE_CONNECTION_STRING says which variable to set', async () => {
    const e = await createAudioStore('azblob://tosia-audio', { env: {} }).catch((x) => x);
    expect(e.code).toBe('E_CONFIG');
    expect(e.message).toMatch(/AZURE_STORAGE_CONNECTION_STRING/);
  });

  it('s3:// with no credentials anywhere says how to give them', async () => {
    const store = await createAudioStore('s3://tosia-audio', { env: { AWS_ENDPOINT_URL: 'http://127.0.0.1:9' } });
    const e = await store.open().catch((x) => x);
    expect(e.code).toBe('E_CONFIG');
    expect(e.message).toMatch(/needs AWS credentials.*AWS_ACCESS_KEY_ID/);
    await store.close();
  });

  it('an object store nobody answers at is StoreUnavailable, quickly, naming it', async () => {
    const port = await freePort();
    const env = { ...new Azurite().env, AZURE_STORAGE_CONNECTION_STRING: new Azurite().env.AZURE_STORAGE_CONNECTION_STRING!.replace(/127\.0\.0\.1:\d+/, `127.0.0.1:${port}`) };
    for (const [url, e] of [['azblob://nobody-here', env], ['s3://nobody-here', { ...new S3rver().env, AWS_ENDPOINT_URL: `http://127.0.0.1:${port}` }]] as const) {
      const store = await createAudioStore(url, { env: e });
      const err = await store.open().catch((x) => x);
      expect(err).toBeInstanceOf(StoreUnavailable);
      expect(err.message).toContain(`the audio store ${url} is unavailable`);
      // a small upload is held in memory until commit, which is where the outage shows
      const staged = await store.receive(chunks(Buffer.from('x')), 10);
      expect(await store.commit(staged).catch((x) => x)).toBeInstanceOf(StoreUnavailable);
      expect(await store.receive(chunks(randomBytes(1_100_000)), 2e6).catch((x) => x)).toBeInstanceOf(StoreUnavailable);
      await store.close();
    }
  }, 60_000);
});

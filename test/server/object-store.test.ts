import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Objm } from '@nats-io/obj';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig, ThreadPool, type Job, type JobOutcome, type Pool } from '../../runtime/index.js';
import { openBucket, parseStoreUrl } from '../../server/audio-store/open.js';
import { Azurite, freePort, S3rver, type EmulatedStore } from '../helpers/object-stores.js';
import { requirePostgres, SAMPLE_BYTES, scratchDatabase, serve, startServer, variant, type Harness } from './harness.js';
import { Nats, natsMissing, freePort as natsPort, Worker } from './queue-harness.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const container = () => `tosia-serve-${randomBytes(3).toString('hex')}`;

/** Objects below a store URL's prefix, as the backend lists them. */
async function objects(url: string, env: NodeJS.ProcessEnv, below = 'audio/'): Promise<string[]> {
  const at = parseStoreUrl(url);
  if (at.kind === 'folder') throw new Error('not an object store');
  const bucket = await openBucket(at, env);
  const keys: string[] = [];
  for await (const o of bucket.list(`${at.prefix}${below}`)) keys.push(o.key);
  await bucket.close();
  return keys;
}

async function overwrite(url: string, env: NodeJS.ProcessEnv, sha256: string, bytes: Uint8Array): Promise<void> {
  const at = parseStoreUrl(url) as Extract<ReturnType<typeof parseStoreUrl>, { kind: 'azblob' | 's3' }>;
  const bucket = await openBucket(at, env);
  await bucket.put(`${at.prefix}audio/${sha256.slice(0, 2)}/${sha256}`, (async function* () { yield Buffer.from(bytes); })());
  await bucket.close();
}

/** The engine's real thread pool, holding each job until the test opens the gate: lets a test act between an upload and its run. */
class GatedPool implements Pool {
  readonly capacity = 1;
  private readonly inner = new ThreadPool({ config: defaultConfig(), concurrency: 1 });
  private open!: () => void;
  readonly gate = new Promise<void>((r) => (this.open = r));
  release(): void { this.open(); }
  start() { return this.inner.start(); }
  async run(job: Job): Promise<JobOutcome> {
    await this.gate;
    return this.inner.run(job);
  }
  close() { return this.inner.close(); }
}

const emulators: [string, EmulatedStore][] = [['azblob', new Azurite()], ['s3', new S3rver()]];

describe.each(emulators)('tosia serve with audio in %s', (scheme, emu) => {
  let h: Harness;
  let url: string;
  beforeAll(async () => {
    await emu.start();
    url = `${scheme}://${container()}/tosia`;
    h = await startServer({ audioStore: url, env: emu.env });
  }, 60_000);
  afterAll(async () => {
    await h?.close();
    await emu.stop();
  });

  it('an upload is kept in the object store by sha256 (nothing in --data), and records, ranges, figures, reviews and deletes read it there', async () => {
    const res = await h.call('/v1/diagnoses?wait=60', { method: 'POST', body: SAMPLE_BYTES, headers: { 'content-type': 'audio/wav' } });
    expect(res.status).toBe(201);
    const rec = await res.json();
    expect(rec.status).toBe('done');
    const sha = rec.source.sha256 as string;
    expect(await objects(url, emu.env)).toEqual([`tosia/audio/${sha.slice(0, 2)}/${sha}`]);
    // nothing staged is left, and no audio folder in --data
    expect(await objects(url, emu.env, 'tmp/')).toEqual([]);
    const whole = await h.call(rec.links.audio, { role: 'read' });
    expect(Buffer.compare(Buffer.from(await whole.arrayBuffer()), SAMPLE_BYTES)).toBe(0);
    const part = await h.call(rec.links.audio, { role: 'read', headers: { range: 'bytes=4-11' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 4-11/${SAMPLE_BYTES.length}`);
    expect(Buffer.from(await part.arrayBuffer()).toString('latin1')).toBe(SAMPLE_BYTES.subarray(4, 12).toString('latin1'));
    const svg = await (await h.call(`/v1/diagnoses/${rec.id}/figure.svg`, { role: 'read' })).text();
    expect((svg.match(/<rect class="seg"/g) ?? []).length).toBe(rec.result.segments.length);
    expect((await h.call(`/v1/diagnoses/${rec.id}/review`, { method: 'PUT', body: JSON.stringify({ reviewed: true }), headers: { 'content-type': 'application/json' }, role: 'write' })).status).toBe(200);
    // a second record of the same bytes: the audio stays until the last one is deleted
    const twin = await (await h.call('/v1/diagnoses?wait=60&force=true', { method: 'POST', body: SAMPLE_BYTES, headers: { 'content-type': 'audio/wav' } })).json();
    expect((await h.call(`/v1/diagnoses/${rec.id}`, { method: 'DELETE' })).status).toBe(204);
    expect(await objects(url, emu.env)).toHaveLength(1);
    expect((await h.call(`/v1/diagnoses/${twin.id}`, { method: 'DELETE' })).status).toBe(204);
    expect(await objects(url, emu.env)).toEqual([]);
  }, 120_000);

  it('retention purges the audio from the object store; the records stay', async () => {
    const now = { t: Date.now() };
    const r = await startServer({ audioStore: url, env: emu.env, retainAudioDays: 1, now: () => new Date(now.t) });
    try {
      const rec = await (await r.call('/v1/diagnoses?wait=60', { method: 'POST', body: variant(31), headers: { 'content-type': 'audio/wav' } })).json();
      expect(await objects(url, emu.env)).toContain(`tosia/audio/${rec.source.sha256.slice(0, 2)}/${rec.source.sha256}`);
      now.t += 2 * 86400_000;
      expect(await r.srv.purgeAudio()).toBe(1);
      expect(await objects(url, emu.env)).not.toContain(`tosia/audio/${rec.source.sha256.slice(0, 2)}/${rec.source.sha256}`);
      expect((await r.call(rec.links.audio, { role: 'read' })).status).toBe(410);
      expect((await (await r.call(rec.links.self, { role: 'read' })).json()).status).toBe('done');
    } finally {
      await r.close();
    }
  }, 120_000);
});

describe('object store faults', () => {
  const azurite = new Azurite();
  afterAll(() => azurite.stop());

  it('a blob whose bytes changed is caught by its sha256: the record fails E_INPUT [storage], never a diagnosis of other audio', async () => {
    await azurite.start();
    const url = `azblob://${container()}`;
    const pool = new GatedPool();
    const h = await startServer({ audioStore: url, env: azurite.env, pool });
    try {
      // the first holds the pool's one place; the second waits in the queue, unread
      const first = await (await h.call('/v1/diagnoses?wait=0', { method: 'POST', body: variant(41), headers: { 'content-type': 'audio/wav' } })).json();
      const second = await (await h.call('/v1/diagnoses?wait=0', { method: 'POST', body: variant(42), headers: { 'content-type': 'audio/wav' } })).json();
      await overwrite(url, azurite.env, second.source.sha256, variant(43));
      pool.release();
      const a = await (await h.call(`${first.links.self}?wait=60`, { role: 'read' })).json();
      const b = await (await h.call(`${second.links.self}?wait=60`, { role: 'read' })).json();
      expect(a.status).toBe('done');
      expect(b).toMatchObject({ status: 'failed', result: null, error: { code: 'E_INPUT', stage: 'storage' } });
      expect(b.error.message).toMatch(/damaged: its bytes hash to .*not to its name/);
      // the figure of a done record whose blob changed since is a problem, not a drawing of other audio
      await overwrite(url, azurite.env, first.source.sha256, variant(44));
      const fig = await h.call(`${first.links.self}/figure.svg`, { role: 'read' });
      expect(fig.status).toBe(422);
      expect((await fig.json()).code).toBe('E_INPUT');
    } finally {
      await h.close();
    }
  }, 120_000);

  it('unreachable at start: serve starts, /ready is 503 naming the store, uploads get 503 with Retry-After; once it is up, both recover with no restart', async () => {
    const port = await freePort();
    const down = new Azurite();
    down.port = port;
    const url = `azblob://${container()}`;
    const h = await startServer({ audioStore: url, env: down.env });
    try {
      const ready = await fetch(`${h.url}/ready`);
      expect(ready.status).toBe(503);
      expect((await ready.json()).detail).toContain(`the audio store ${url} is unavailable`);
      const up = await h.call('/v1/diagnoses?wait=0', { method: 'POST', body: variant(51), headers: { 'content-type': 'audio/wav' } });
      expect(up.status).toBe(503);
      expect(up.headers.get('retry-after')).toBe('5');
      expect(up.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect((await up.json()).code).toBe('E_UNAVAILABLE');
      expect((await (await h.call('/v1/diagnoses', { role: 'read' })).json()).items).toEqual([]);
      await down.start();
      let status = 0;
      for (let i = 0; i < 100 && status !== 200; i++, await sleep(200)) status = (await fetch(`${h.url}/ready`)).status;
      expect(status).toBe(200);
      const ok = await h.call('/v1/diagnoses?wait=60', { method: 'POST', body: variant(52), headers: { 'content-type': 'audio/wav' } });
      expect(ok.status).toBe(201);
    } finally {
      await h.close();
      await down.stop();
    }
  }, 120_000);

  it('Azurite killed and restarted under load: every acknowledged upload ends done or failed, none stuck, none lost', async () => {
    const store = new Azurite();
    await store.start();
    const url = `azblob://${container()}`;
    const h = await startServer({ audioStore: url, env: store.env, concurrency: 2 });
    const acknowledged: string[] = [];
    let refused = 0;
    try {
      const client = async (c: number) => {
        for (let i = 0; i < 15; i++) {
          const res = await h.call('/v1/diagnoses?wait=0', { method: 'POST', body: variant(6000 + c * 100 + i), headers: { 'content-type': 'audio/wav' } });
          if (res.status === 201 || res.status === 202) acknowledged.push((await res.json()).id);
          else {
            expect(res.status, await res.clone().text()).toBe(503);
            expect((await res.json()).code).toBe('E_UNAVAILABLE');
            refused++;
          }
        }
      };
      const load = Promise.all([0, 1, 2, 3].map(client));
      await sleep(400);
      await store.kill();
      await sleep(1500);
      await store.start();
      await load;
      const outcome: Record<string, number> = {};
      for (const id of acknowledged) {
        const rec = await (await h.call(`/v1/diagnoses/${id}?wait=90`, { role: 'read' })).json();
        outcome[rec.status] = (outcome[rec.status] ?? 0) + 1;
        expect(['done', 'failed'], JSON.stringify(rec)).toContain(rec.status);
      }
      console.log(`Azurite restart under load: ${acknowledged.length} acknowledged, ${refused} refused with 503: ${JSON.stringify(outcome)}`);
      expect(acknowledged.length + refused).toBe(60);
      expect(acknowledged.length).toBeGreaterThan(0);
      const list = await (await h.call('/v1/diagnoses?limit=100', { role: 'read' })).json();
      expect(list.items.length).toBe(acknowledged.length);
    } finally {
      await h.close();
      await store.stop();
    }
  }, 240_000);
});


describe('replicas that share no disk', () => {
  it('two serve replicas with separate --data folders, one Azurite, one PostgreSQL and one NATS: records, audio, figures, reviews and deletes through either; workers read the audio from Azurite; one replica SIGKILLed mid-load loses nothing', async () => {
    if (natsMissing() || (await requirePostgres())) return;
    const azurite = await new Azurite().start();
    const nats = new Nats(await natsPort());
    await nats.start();
    const db = await scratchDatabase();
    const url = `azblob://${container()}/replicas`;
    const dirs = [mkdtempSync(join(tmpdir(), 'tosia-replica-a-')), mkdtempSync(join(tmpdir(), 'tosia-replica-b-'))];
    const { createKey } = await import('../../server/index.js');
    const KEY = (await createKey({ db: db.url }, 'ops', 'admin')).key;
    const flags = ['--db', db.url, '--queue', nats.url, '--ack-wait', '2', '--max-deliver', '3', '--audio-store', url];
    const w = new Worker(['--queue', nats.url, '--ack-wait', '2', '--max-deliver', '3', '--concurrency', '2', '--audio-store', url], azurite.env).start();
    let a = await serve(dirs[0]!, flags, azurite.env);
    const b = await serve(dirs[1]!, flags, azurite.env);
    const call = (base: string, path: string, init: RequestInit = {}) => fetch(`${base}${path}`, { ...init, headers: { authorization: `Bearer ${KEY}`, ...(init.headers ?? {}) } });
    const post = async (base: string, i: number) => {
      const res = await call(base, `/v1/diagnoses?wait=0&external_id=r-${i}`, { method: 'POST', body: variant(8000 + i), headers: { 'content-type': 'audio/wav', 'idempotency-key': `r-${i}` } });
      expect([201, 202], await res.clone().text()).toContain(res.status);
      return (await res.json()).id as string;
    };
    try {
      const first = await Promise.all(Array.from({ length: 10 }, (_, i) => post(a.url, i)));
      for (const id of first) expect((await (await call(b.url, `/v1/diagnoses/${id}?wait=60`)).json()).status).toBe('done');
      // the audio, its figure and its review through the replica that did not receive it
      const audio = await call(b.url, `/v1/diagnoses/${first[3]}/audio`);
      expect(Buffer.compare(Buffer.from(await audio.arrayBuffer()), variant(8003))).toBe(0);
      expect((await call(b.url, `/v1/diagnoses/${first[3]}/figure.svg`)).headers.get('content-type')).toMatch(/image\/svg\+xml/);
      expect((await call(b.url, `/v1/diagnoses/${first[3]}/review`, { method: 'PUT', body: JSON.stringify({ reviewed: true, note: 'via b' }), headers: { 'content-type': 'application/json' } })).status).toBe(200);
      expect((await (await call(a.url, `/v1/diagnoses/${first[3]}/review`)).json()).note).toBe('via b');
      expect((await call(b.url, `/v1/diagnoses/${first[0]}`, { method: 'DELETE' })).status).toBe(204);
      expect((await call(a.url, `/v1/diagnoses/${first[0]}`)).status).toBe(404);
      expect(await objects(url, azurite.env)).toHaveLength(9);
      // the jobs carried a reference, not the audio: nothing went into the queue's bucket
      const nc = await connect({ servers: nats.url });
      const bucket = await new Objm(nc).open('tosia-audio');
      const held = (await bucket.list()).map((o) => o.name);
      await nc.close();
      expect(held.filter((n) => !n.startsWith('result-'))).toEqual([]);

      const more = await Promise.all(Array.from({ length: 30 }, (_, i) => post(a.url, 100 + i)));
      a.proc.kill('SIGKILL');
      await a.exited;
      a = await serve(dirs[0]!, flags, azurite.env);
      for (const id of [...first.slice(1), ...more]) {
        const rec = await (await call(b.url, `/v1/diagnoses/${id}?wait=60`)).json();
        expect(rec.status, JSON.stringify(rec)).toBe('done');
      }
      expect((await (await call(a.url, '/v1/diagnoses?limit=100')).json()).items).toHaveLength(39);
      // neither replica kept audio of its own
      for (const d of dirs) expect(readdirSync(d)).not.toContain('audio');
    } finally {
      a.proc.kill('SIGTERM');
      b.proc.kill('SIGTERM');
      await Promise.all([a.exited, b.exited]);
      await w.stop();
      await nats.kill();
      await db.drop();
      await azurite.stop();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    }
  }, 240_000);

  it('a worker without the servers\' --audio-store takes no job and says which store to read', async () => {
    if (natsMissing()) return;
    const azurite = await new Azurite().start();
    const nats = new Nats(await natsPort());
    await nats.start();
    const url = `azblob://${container()}`;
    const h = await startServer({ audioStore: url, env: azurite.env, queue: { url: nats.url, settings: { ackWaitS: 2, maxDeliver: 3 } } });
    const w = new Worker(['--queue', nats.url, '--concurrency', '1']).start();
    try {
      const res = await h.call('/v1/diagnoses?wait=0', { method: 'POST', body: variant(61), headers: { 'content-type': 'audio/wav' } });
      expect(res.status).toBe(202);
      expect(await w.exited()).toBe(2);
      expect(w.log).toMatch(new RegExp(`audio is in ${url}, and this worker has no --audio-store.*--audio-store ${url}`));
      // a worker that has it then runs the job that waited
      const good = new Worker(['--queue', nats.url, '--concurrency', '1', '--audio-store', url], azurite.env).start();
      const rec = await (await h.call(`${(await res.json()).links.self}?wait=60`, { role: 'read' })).json();
      expect(rec.status).toBe('done');
      await good.stop();
      // a folder is no store for a worker
      const local = new Worker(['--queue', nats.url, '--audio-store', 'file:///tmp']).start();
      expect(await local.exited()).toBe(2);
      expect(local.log).toMatch(/is a folder of this machine/);
    } finally {
      await h.close();
      await w.stop();
      await nats.kill();
      await azurite.stop();
    }
  }, 120_000);
});

describe('diagnose by reference: POST {"source": …}', () => {
  const azurite = new Azurite();
  let h: Harness;
  const calls = container();
  beforeAll(async () => {
    await azurite.start();
    const at = parseStoreUrl(`azblob://${calls}`) as Extract<ReturnType<typeof parseStoreUrl>, { kind: 'azblob' | 's3' }>;
    const bucket = await openBucket(at, azurite.env);
    await bucket.ensure();
    for (const [key, bytes] of [['2026/12/a.wav', variant(71)], ['2026/12/big.wav', Buffer.alloc(3 * 1048576, 1)], ['2025/old.wav', variant(72)]] as const) {
      await bucket.put(key, (async function* () { yield Buffer.from(bytes); })());
    }
    await bucket.close();
    h = await startServer({ env: azurite.env, sourceStores: [`azblob://${calls}/2026/`], maxUploadMb: 2 });
  }, 60_000);
  afterAll(async () => {
    await h?.close();
    await azurite.stop();
  });
  const byRef = (body: unknown, role: 'write' | 'read' = 'write') => h.call('/v1/diagnoses?wait=60', { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' }, role });

  it('reads an allow-listed object once and diagnoses it like an upload; the object is left as it was', async () => {
    const res = await byRef({ source: `azblob://${calls}/2026/12/a.wav`, external_id: 'call-71', metadata: { agent: 7 } });
    expect(res.status, await res.clone().text()).toBe(201);
    const rec = await res.json();
    expect(rec).toMatchObject({ status: 'done', external_id: 'call-71', metadata: { agent: 7 }, source: { filename: `azblob://${calls}/2026/12/a.wav`, content_type: 'audio/wav', size_bytes: variant(71).length } });
    expect(rec.result.source.path).toBe(`azblob://${calls}/2026/12/a.wav`);
    expect(Buffer.compare(Buffer.from(await (await h.call(rec.links.audio, { role: 'read' })).arrayBuffer()), variant(71))).toBe(0);
    // the same submission again is deduplicated to its record; the same bytes under another
    // identity get a record of their own, the result reused
    const again = await byRef({ source: `azblob://${calls}/2026/12/a.wav`, external_id: 'call-71', metadata: { agent: 7 } });
    expect(again.status).toBe(200);
    expect((await again.json()).id).toBe(rec.id);
    const other = await byRef({ source: `azblob://${calls}/2026/12/a.wav` });
    expect(other.status).toBe(201);
    expect(await other.json()).toMatchObject({ deduplicated: true, status: 'done', external_id: null });
    expect(await objects(`azblob://${calls}`, azurite.env, '2026/')).toContain('2026/12/a.wav');
  }, 60_000);

  it.each([
    [{ source: 'azblob://elsewhere/2026/12/a.wav' }, 403, 'E_FORBIDDEN', /outside what this server may read \(--source-store: azblob:\/\/.*\/2026\/\)/],
    [{ source: 'AZBLOB_PLACEHOLDER/2025/old.wav' }, 403, 'E_FORBIDDEN', /outside what this server may read/],
    [{ source: 'AZBLOB_PLACEHOLDER/2026/12/missing.wav' }, 422, 'E_INPUT', /no such object/],
    [{ source: 'AZBLOB_PLACEHOLDER/2026/12/big.wav' }, 413, 'E_INPUT', /larger than this server's --max-upload-mb/],
    [{ source: 'http://169.254.169.254/latest/meta-data' }, 400, 'E_INPUT', /scheme http:/],
    [{ source: 'AZBLOB_PLACEHOLDER/2026/../2025/old.wav' }, 400, 'E_INPUT', /\.\. segment/],
    [{ source: 'AZBLOB_PLACEHOLDER' }, 400, 'E_INPUT', /does not name an object/],
    [{ source: 42 }, 400, 'E_INPUT', /must be the URL of a recording/],
    [{ source: 'AZBLOB_PLACEHOLDER/2026/12/a.wav', path: '/etc/passwd' }, 400, 'E_INPUT', /path is not a known field/],
    [[1, 2], 400, 'E_INPUT', /must be a JSON object/],
  ])('%j is a %i problem', async (body, status, code, why) => {
    const fixed = JSON.parse(JSON.stringify(body).replace(/AZBLOB_PLACEHOLDER/g, `azblob://${calls}`));
    const res = await byRef(fixed);
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    const p = await res.json();
    expect(p.code).toBe(code);
    expect(p.detail).toMatch(why);
  });

  it('a server with no --source-store reads no references, and says how to allow them', async () => {
    const plain = await startServer({ env: azurite.env });
    try {
      const res = await plain.call('/v1/diagnoses', { method: 'POST', body: JSON.stringify({ source: `azblob://${calls}/2026/12/a.wav` }), headers: { 'content-type': 'application/json' } });
      expect(res.status).toBe(403);
      expect((await res.json()).detail).toMatch(/reads no recordings by reference.*--source-store/);
    } finally {
      await plain.close();
    }
  });
});

import { createHash, randomBytes } from 'node:crypto';
import { connect } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType, type JetStreamManager } from '@nats-io/jetstream';
import { headers, type NatsConnection } from '@nats-io/nats-core';
import { Objm, type ObjectStore } from '@nats-io/obj';
import { TosiaError } from '../../runtime/index.js';
import { AUDIO_BUCKET, STREAM_JOBS, STREAM_RESULTS, SUBJECT_JOBS, SUBJECT_RESULTS, WORKERS_CONSUMER } from './protocol.js';

/** How jobs are delivered: the work-queue consumer's settings. */
export interface QueueSettings {
  /** Seconds a worker has to ack (or say it is still working) before the job goes to another. */
  ackWaitS: number;
  /** Deliveries of one job before it is given up as poison. */
  maxDeliver: number;
}

export const QUEUE_DEFAULTS: QueueSettings = { ackWaitS: 30, maxDeliver: 5 };

export interface Queue { nc: NatsConnection; jsm: JetStreamManager; audio: ObjectStore }

const ns = (s: number) => Math.round(s * 1e9);

/** Connect and make sure the streams, the workers' consumer and the audio bucket exist. */
export async function openQueue(url: string, settings: QueueSettings, name: string): Promise<Queue> {
  if (!/^nats:\/\/|^tls:\/\//.test(url)) throw new TosiaError('E_CONFIG', `--queue=${url} is not a NATS URL`, { stage: 'queue', hint: 'pass nats://host:4222' });
  let nc: NatsConnection;
  try {
    nc = await connect({ servers: url, name, reconnect: true, maxReconnectAttempts: -1, reconnectTimeWait: 250, timeout: 5000 });
  } catch (e) {
    throw new TosiaError('E_CONFIG', `cannot connect to NATS at ${url}: ${(e as Error).message}`, { stage: 'queue', hint: 'check that nats-server runs with JetStream (-js) and the URL is right', cause: e });
  }
  try {
    const jsm = await jetstreamManager(nc);
    await ensureStream(jsm, { name: STREAM_JOBS, subjects: [`${SUBJECT_JOBS}.>`], retention: RetentionPolicy.Workqueue, storage: StorageType.File, duplicate_window: ns(600) });
    await ensureStream(jsm, { name: STREAM_RESULTS, subjects: [`${SUBJECT_RESULTS}.>`], retention: RetentionPolicy.Limits, storage: StorageType.File, max_age: ns(7 * 86400), duplicate_window: ns(600) });
    const w = settings.ackWaitS;
    // backoff applies to redeliveries after an ack timeout: the first is ack_wait
    const backoff = [w, w * 2, w * 4, w * 4].slice(0, Math.max(1, settings.maxDeliver - 1)).map(ns);
    const consumer = { durable_name: WORKERS_CONSUMER, ack_policy: AckPolicy.Explicit, ack_wait: ns(w), max_deliver: settings.maxDeliver, backoff, max_ack_pending: 10_000, deliver_policy: DeliverPolicy.All };
    try {
      await jsm.consumers.info(STREAM_JOBS, WORKERS_CONSUMER);
      await jsm.consumers.update(STREAM_JOBS, WORKERS_CONSUMER, { ack_wait: consumer.ack_wait, max_deliver: consumer.max_deliver, backoff, max_ack_pending: consumer.max_ack_pending });
    } catch (e) {
      if (!/consumer not found/i.test((e as Error).message)) throw e;
      await jsm.consumers.add(STREAM_JOBS, consumer).catch(async (err) => {
        // another process made it meanwhile
        if (!/already (exists|in use)/i.test((err as Error).message)) throw err;
      });
    }
    const audio = await new Objm(nc).create(AUDIO_BUCKET, { storage: StorageType.File, ttl: ns(7 * 86400) });
    return { nc, jsm, audio };
  } catch (e) {
    await nc.close().catch(() => undefined);
    if (e instanceof TosiaError) throw e;
    throw new TosiaError('E_CONFIG', `NATS at ${url} has no usable JetStream: ${(e as Error).message}`, { stage: 'queue', hint: 'start nats-server with -js (JetStream) and a store folder (-sd)', cause: e });
  }
}

async function ensureStream(jsm: JetStreamManager, cfg: Parameters<JetStreamManager['streams']['add']>[0]): Promise<void> {
  try {
    const info = await jsm.streams.info(cfg.name!);
    // a stream an earlier tosia made, with other subjects: brought up to date
    if (JSON.stringify(info.config.subjects) !== JSON.stringify(cfg.subjects)) await jsm.streams.update(cfg.name!, { ...info.config, subjects: cfg.subjects });
  } catch (e) {
    if (!/stream not found/i.test((e as Error).message)) throw e;
    await jsm.streams.add(cfg).catch((err) => {
      if (!/already in use|already exists/i.test((err as Error).message)) throw err;
    });
  }
}

/**
 * Run `fn` until it succeeds, retrying with backoff (100 ms doubling to 2 s) through a NATS
 * restart or a network cut, while the client reconnects by itself; `giveUp` says when to stop
 * and throw the last error.
 */
export async function retrying<T>(fn: () => Promise<T>, giveUp: (e: unknown) => boolean): Promise<T> {
  for (let delay = 100; ; delay = Math.min(delay * 2, 2000)) {
    try {
      return await fn();
    } catch (e) {
      // a TosiaError says what is wrong, which trying again does not change
      if (e instanceof TosiaError || giveUp(e)) throw e;
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

/** Where an object's chunks are in the bucket, and what they must hash to. */
export interface BlobRef { nuid: string; size: number }

/**
 * A recording from the audio bucket, by its sha256, or null when it is not there. The object
 * store client's own get() sets up a push consumer per object, which capped the whole queue at
 * about 400 jobs/s here. This reads each chunk with a direct get (one request each, no
 * consumer), where the job says the chunks are, or else where the object's info says, and
 * checks the bytes against the key.
 */
export function readAudio(q: Queue, sha256: string, where?: BlobRef): Promise<Uint8Array | null> {
  return readBlob(q, sha256, sha256, where);
}

/** An object of the bucket by name, checked against its sha256; see readAudio. */
export async function readBlob(q: Queue, name: string, sha256: string, where?: BlobRef): Promise<Uint8Array | null> {
  if (where) {
    const bytes = await readChunks(q, where.nuid, where.size);
    // the object was put again since (it expired and came back): its info says where it is now
    if (bytes && sha256Of(bytes) === sha256) return bytes;
  }
  const info = await q.audio.info(name);
  if (!info || info.deleted) return null;
  const bytes = await readChunks(q, info.nuid, info.size);
  if (!bytes || sha256Of(bytes) !== sha256) {
    throw new TosiaError('E_INTERNAL', `the queue's copy of ${name.slice(0, 40)} is damaged (its chunks are missing or have another sha256)`, { stage: 'queue' });
  }
  return bytes;
}

const sha256Of = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function readChunks(q: Queue, nuid: string, size: number): Promise<Uint8Array | null> {
  const out = new Uint8Array(size);
  const subject = `$O.${AUDIO_BUCKET}.C.${nuid}`;
  let at = 0;
  let seq = 0;
  while (at < size) {
    const m = await q.jsm.direct.getMessage(`OBJ_${AUDIO_BUCKET}`, { next_by_subj: subject, seq }).catch((e: Error) => {
      if (/no message found|not found|404/i.test(e.message)) return null;
      throw e;
    });
    if (!m || at + m.data.length > size) return null;
    out.set(m.data, at);
    at += m.data.length;
    seq = m.seq + 1;
  }
  return out;
}

const CHUNK = 128 * 1024;

/** Store a recording in the audio bucket under its sha256; see putBlob. */
export function putAudio(q: Queue, sha256: string, bytes: Uint8Array): Promise<BlobRef> {
  return putBlob(q, sha256, bytes, sha256);
}

/**
 * Store bytes in the bucket under `name`, as the object store lays them out (chunks on
 * `$O.<bucket>.C.<nuid>`, then the info on its meta subject, rolled up), so any object store
 * client reads them. The client's own put() hashes the bytes again in JavaScript, which was a
 * tenth of a submitter's CPU; a recording's sha256 is known already.
 */
export async function putBlob(q: Queue, name: string, bytes: Uint8Array, sha256 = sha256Of(bytes)): Promise<BlobRef> {
  const js = jetstream(q.nc);
  const nuid = randomBytes(16).toString('hex');
  let chunks = 0;
  for (let at = 0; at < bytes.length; at += CHUNK, chunks++) await js.publish(`$O.${AUDIO_BUCKET}.C.${nuid}`, bytes.subarray(at, at + CHUNK));
  const info = {
    name, description: '', options: { max_chunk_size: CHUNK }, bucket: AUDIO_BUCKET, nuid, size: bytes.length, chunks,
    mtime: new Date().toISOString(), digest: `SHA-256=${b64urlPadded(Buffer.from(sha256, 'hex'))}`, deleted: false,
  };
  const h = headers();
  h.set('Nats-Rollup', 'sub');
  await js.publish(`$O.${AUDIO_BUCKET}.M.${b64urlPadded(Buffer.from(name))}`, JSON.stringify(info), { headers: h });
  return { nuid, size: bytes.length };
}

const b64urlPadded = (b: Buffer) => b.toString('base64').replace(/\+/g, '-').replace(/\//g, '_');

import type { AudioStore, Staged } from '../audio-store/audio-store.js';
import type { RecordStore, Row } from '../db/record-store.js';
import { uuidv7 } from '../ids.js';
import { Problem } from '../problem.js';
import type { Work } from '../services.js';
import type { ServedModel } from '../models/served-models.js';
import type { CallbackGuard } from '../work/callback-guard.js';

/** A recording received into the audio store's staging, with what its sender said of it. */
export interface Submission {
  staged: Staged;
  filename: string | null;
  contentType: string;
  externalId: string | null;
  metadata: string | null;
  callbackUrl: string | null;
}

export interface SubmitOptions {
  /** Run it even when the same bytes were diagnosed under the same config and model. */
  force: boolean;
  /** The caller's Idempotency-Key, scoped to the caller; null without one. */
  idempotencyKey: string | null;
  /** The served model to run it with (?model=, else the default). */
  model: ServedModel;
}

/**
 * What a submission became: a new record (`created`), perhaps finished at once with a result of
 * the same bytes (`dedup`); the record of the same submission made before (`dedup`, not created);
 * or the record its idempotency key made (`replay`).
 */
export interface Submitted { row: Row; created: boolean; dedup: boolean; replay: boolean }

export interface IntakeOptions {
  records: RecordStore;
  audio: AudioStore;
  work: Work;
  now: () => Date;
  /** Callbacks are signed with it; without one, callback_url is refused. */
  webhookSecret: string | null;
  /** Where callbacks may go. */
  callbacks: CallbackGuard;
  log: (msg: string, extra: Record<string, unknown>) => void;
  /** A record made finished at submission (a result reused): its webhook goes out like any other's. */
  finished: (row: Row) => void;
}

/** What identifies a submission besides its bytes: a resend with these equal is the same submission. */
function sameIdentity(row: Row, sub: Submission, model: ServedModel): boolean {
  return row.external_id === sub.externalId && canonical(row.metadata) === canonical(sub.metadata) && row.callback_url === sub.callbackUrl && (row.model ?? model.name) === model.name;
}
const canonical = (json: string | null) => (json === null ? null : JSON.stringify(JSON.parse(json)));

/**
 * A record's life: submitted (deduplicated, made idempotent, its audio kept once), retried,
 * deleted, and its audio purged under retention. The invariant "audio that no record refers to
 * is removed" lives here only (release). Routes parse requests, call this, and render.
 *
 * The audio is committed before its record exists, so a record never lacks its audio; a removal
 * racing with a new record of the same bytes is undone by whichever side comes second (see
 * release and submit), across replicas too, since both sides ask the database, not memory.
 */
export class Intake {
  /** Submissions still arriving, by idempotency key: a retry of one gets its record. */
  private readonly inFlight = new Map<string, Promise<Row | undefined>>();

  constructor(private readonly o: IntakeOptions) {}

  /** The record an idempotency key already made (or is making), if any. */
  async replayOf(key: string): Promise<Row | undefined> {
    return (await this.o.records.byIdempotencyKey(key)) ?? (await this.inFlight.get(key)?.catch(() => undefined));
  }

  /**
   * Receive a recording (`receive` reads the request into staging) and make its record, or find
   * the one that stands for it. The place in the queue is held from before the record exists.
   */
  async submit(receive: () => Promise<Submission>, opts: SubmitOptions): Promise<Submitted> {
    const key = opts.idempotencyKey;
    // a request before this one with the same key, perhaps still uploading
    const earlier = key === null ? undefined : this.inFlight.get(key);
    const work = (async () => {
      const sub = await receive();
      try {
        if (key !== null) {
          const held = (await this.o.records.byIdempotencyKey(key)) ?? (await earlier?.catch(() => undefined));
          if (held) return { row: this.replay(held, sub, key, opts.model), created: false, dedup: false, replay: true };
        }
        if (!this.o.work.reserve()) throw unavailable('the queue is full; try again shortly');
        try {
          return await this.store(sub, opts);
        } finally {
          this.o.work.release();
        }
      } finally {
        await this.o.audio.discard(sub.staged).catch(() => undefined);
      }
    })();
    if (key !== null) {
      const p = work.then((w) => w.row);
      this.inFlight.set(key, p);
      void p.catch(() => undefined).finally(() => this.inFlight.delete(key));
    }
    return work;
  }

  private async store(sub: Submission, opts: SubmitOptions): Promise<Submitted> {
    const { records, audio, now } = this.o;
    const model = opts.model;
    if (sub.callbackUrl !== null && this.o.webhookSecret === null) {
      throw new Problem(400, 'E_INPUT', 'callback_url needs the server to sign callbacks, and it has no --webhook-secret', { errors: [{ field: 'callback_url', message: 'callbacks are off on this server' }] });
    }
    const refused = sub.callbackUrl === null ? null : this.o.callbacks.refuse(sub.callbackUrl);
    if (refused) throw new Problem(400, 'E_INPUT', `callback_url ${refused}`, { errors: [{ field: 'callback_url', message: refused }] });
    const { config_sha256, model_sha256 } = model.identity;
    const sha256 = sub.staged.sha256;
    // The same bytes under the same config and model: the same submission again gets its record
    // back; another submission (its own external_id, metadata or callback) gets a record of its
    // own, finished at once with the result already made, or run again if that is not done yet.
    const dup = opts.force ? undefined : await records.duplicateOf(sha256, config_sha256, model_sha256!);
    if (dup && sameIdentity(dup, sub, model)) return { row: dup, created: false, dedup: true, replay: false };
    const reuse = dup?.status === 'done' && dup.result !== null ? dup : null;
    await audio.commit(sub.staged);
    let made: { row: Row; inserted: boolean };
    try {
      const id = uuidv7(now().getTime());
      const rec = {
        id, external_id: sub.externalId, created_at: now().toISOString(), filename: sub.filename, content_type: sub.contentType,
        size_bytes: sub.staged.size, sha256, metadata: sub.metadata, callback_url: sub.callbackUrl, config_sha256, model_sha256: model_sha256!, idempotency_key: opts.idempotencyKey, model: model.name,
      };
      if (reuse) {
        // the result names the recording as this submission does
        const result = JSON.parse(reuse.result!) as { source: { path: string } };
        result.source.path = sub.filename ?? `upload-${id}`;
        made = await records.insertDone(rec, reuse, JSON.stringify(result), rec.created_at);
      } else {
        made = await records.insert(rec);
      }
    } catch (e) {
      // no record holds the audio just committed, unless another did already
      await this.release(sha256).catch(() => undefined);
      throw e;
    }
    // From here the record exists: whatever fails now, the request is answered with it (a
    // client told 503 would send it again and make a second record).
    const { row, inserted } = made;
    if (!inserted) {
      // a request with the same key got there first: the copy just committed may belong to nobody
      if (row.sha256 !== sha256) await this.release(sha256).catch((e) => this.o.log('releasing unreferenced audio failed', { sha256, error: (e as Error).message }));
      return { row: this.replay(row, sub, opts.idempotencyKey!, model), created: false, dedup: false, replay: true };
    }
    // a removal of the same bytes (another record deleted, in any replica) may have come between
    // the commit and the insert: the staged copy is still here to put it back. Should the store
    // fail just now, the record runs anyway: its read is sha256-checked and waits out an outage.
    try {
      if ((await audio.size(sha256)) === null) await audio.commit(sub.staged);
    } catch (e) {
      this.o.log('checking the audio after its record was made failed', { id: row.id, error: (e as Error).message });
    }
    if (row.callback_url) await records.setWebhook(row.id, 'pending', 0, null, null);
    if (reuse) {
      this.o.finished(row);
      return { row, created: true, dedup: true, replay: false };
    }
    this.o.work.enqueue(row.id);
    return { row, created: true, dedup: false, replay: false };
  }

  /**
   * The record an Idempotency-Key made, for a request that sent the key again: the same request
   * gets it; a different one (other bytes, external_id, metadata or callback) is refused, as the
   * IETF Idempotency-Key draft says, rather than answered with an unrelated record.
   */
  private replay(held: Row, sub: Submission, key: string, model: ServedModel): Row {
    if (held.sha256 === sub.staged.sha256 && sameIdentity(held, sub, model)) return held;
    const what = held.sha256 !== sub.staged.sha256 ? 'other bytes' : 'other external_id, metadata, callback_url or model';
    throw new Problem(422, 'E_IDEMPOTENCY', `the Idempotency-Key ${JSON.stringify(key.slice(key.indexOf(':') + 1))} was used for a different request (${what}) that made ${held.id}`, {
      hint: 'use a new Idempotency-Key for each new request; send the same key only to repeat the same request', record_id: held.id,
    });
  }

  /** Queue a failed record again; the record as queued. */
  async retry(id: string): Promise<Row> {
    const { records, work } = this.o;
    const row = await records.get(id);
    if (!row) throw notFound(id);
    if (row.audio_purged_at !== null) throw new Problem(410, 'E_GONE', `the audio of ${row.id} was deleted under the retention policy; upload it again`);
    if (row.status !== 'failed') throw new Problem(409, 'E_CONFLICT', `${row.id} is ${row.status}; only a failed record can be retried`);
    if (work.full) throw unavailable('the queue is full; try again shortly');
    if (!(await records.requeueFailed(row.id))) throw new Problem(409, 'E_CONFLICT', `${row.id} was retried by another request`);
    work.enqueue(row.id);
    const queued = (await records.get(row.id))!;
    if (queued.callback_url) await records.setWebhook(row.id, 'pending', 0, null, null);
    return queued;
  }

  /** Delete a record, its images, and its audio once no other record holds the same bytes; false when there was none. */
  async delete(id: string): Promise<boolean> {
    const gone = await this.o.records.delete(id);
    if (!gone) return false;
    await this.release(gone.sha256);
    return true;
  }

  /** Drop the audio and images of records created before `cutoff` (the records stay); how many records lost theirs. */
  async purgeBefore(cutoff: Date): Promise<number> {
    const { records, now } = this.o;
    let total = 0;
    for (;;) {
      const purged = await records.purgeAudioBefore(cutoff.toISOString(), now().toISOString());
      if (purged.length === 0) return total;
      total += purged.length;
      for (const sha of new Set(purged.map((p) => p.sha256))) await this.release(sha);
    }
  }

  /**
   * Remove audio that no record refers to: the one place that does. The object is taken out of
   * its address first and the references counted again: a record of the same bytes inserted
   * meanwhile gets it back; one inserted after this count finds it missing and commits its own.
   */
  private async release(sha256: string): Promise<void> {
    const { records, audio } = this.o;
    if ((await records.audioRefs(sha256)) > 0) return;
    const held = await audio.detach(sha256);
    if (!held) return;
    // a failed commit keeps the staged copy rather than drop audio a record may need
    if ((await records.audioRefs(sha256)) > 0) await audio.commit(held);
    await audio.discard(held);
  }
}

const notFound = (id: string) => new Problem(404, 'E_NOT_FOUND', `no diagnosis ${id}`);
const unavailable = (why: string) => new Problem(503, 'E_UNAVAILABLE', why, { headers: { 'retry-after': '5' } });

export { notFound as recordNotFound, unavailable };

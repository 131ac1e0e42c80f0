import { TosiaError } from '../../runtime/index.js';
import { AudioDamaged, type AudioStore } from './audio-store.js';

export interface MigrateOptions {
  /** Remove each object from the source once its copy is verified. Default false: the source is kept. */
  deleteSource?: boolean;
  /** Objects copied at once. Default 4. */
  concurrency?: number;
}

export type MigrateEvent =
  | { type: 'start'; total: number; from: string; to: string }
  | { type: 'object'; sha256: string; size: number; outcome: 'copied' | 'present' | 'failed'; error?: string; done: number; total: number; bytes: number };

export interface MigrateSummary { total: number; copied: number; present: number; failed: number; deleted: number; bytes: number; failures: { sha256: string; error: string }[] }

/**
 * Copy every recording of one audio store into another (a folder into Azure Blob, say), as
 * `tosia audio migrate` does. Each object is read from the source (its sha256 checked), written
 * through the destination's staging and committed, then read back from the destination and its
 * sha256 checked again. An object already at the destination is verified the same way and
 * counted as present, so a migration that was stopped is resumed by running it again. A damaged
 * source object is reported and left; the others go on. Records need no change: they name audio
 * by sha256, wherever it is kept.
 */
export async function* migrateAudio(from: AudioStore, to: AudioStore, o: MigrateOptions = {}): AsyncGenerator<MigrateEvent, MigrateSummary> {
  let total = 0;
  for await (const _ of from.list()) total++;
  yield { type: 'start', total, from: from.url, to: to.url };
  const summary: MigrateSummary = { total, copied: 0, present: 0, failed: 0, deleted: 0, bytes: 0, failures: [] };
  const events: MigrateEvent[] = [];
  let wake: (() => void) | null = null;
  const running = new Set<Promise<void>>();
  const limit = Math.max(1, o.concurrency ?? 4);
  let done = 0;

  const one = async (sha256: string, size: number): Promise<void> => {
    let outcome: 'copied' | 'present' | 'failed';
    let error: string | undefined;
    try {
      const there = await to.size(sha256);
      if (there === size && (await verified(to, sha256))) {
        outcome = 'present';
      } else {
        const bytes = await from.read(sha256);
        if (!bytes) throw new Error('removed from the source while the migration ran');
        const staged = await to.receive((async function* () { yield bytes; })(), Number.MAX_SAFE_INTEGER);
        try {
          if (staged.sha256 !== sha256) throw new Error(`the copy hashes to ${staged.sha256}, not ${sha256}`);
          await to.commit(staged);
        } finally {
          await to.discard(staged);
        }
        if (!(await verified(to, sha256))) throw new Error(`the copy in ${to.url} does not read back as ${sha256}`);
        outcome = 'copied';
        summary.bytes += size;
      }
      if (o.deleteSource) {
        await from.remove(sha256);
        summary.deleted++;
      }
    } catch (e) {
      outcome = 'failed';
      error = e instanceof AudioDamaged ? e.message : `${(e as Error).message}`;
      summary.failures.push({ sha256, error });
    }
    summary[outcome]++;
    done++;
    events.push({ type: 'object', sha256, size, outcome, ...(error ? { error } : {}), done, total, bytes: summary.bytes });
  };

  for await (const { sha256, size } of from.list()) {
    while (running.size >= limit) {
      await new Promise<void>((r) => (wake = r));
      yield* events.splice(0);
    }
    const p: Promise<void> = one(sha256, size).finally(() => {
      running.delete(p);
      const w = wake;
      wake = null;
      w?.();
    });
    running.add(p);
    yield* events.splice(0);
  }
  while (running.size > 0) {
    await Promise.race(running);
    yield* events.splice(0);
  }
  yield* events.splice(0);
  return summary;
}

/** Whether the store holds the object whole: read back, its sha256 checked. */
async function verified(store: AudioStore, sha256: string): Promise<boolean> {
  try {
    return (await store.read(sha256)) !== null;
  } catch (e) {
    if (e instanceof AudioDamaged) return false;
    throw e;
  }
}

/** migrateAudio between two stores named by URL (opened here: the destination's container or bucket is made when missing). */
export async function* migrateAudioUrls(from: string, to: string, o: MigrateOptions & { env?: NodeJS.ProcessEnv } = {}): AsyncGenerator<MigrateEvent, MigrateSummary> {
  const { createAudioStore } = await import('./open.js');
  const source = await createAudioStore(from, { flag: '--from', env: o.env });
  const dest = await createAudioStore(to, { flag: '--to', env: o.env });
  try {
    if (source.url === dest.url) throw new TosiaError('E_CONFIG', `--from and --to are the same store (${source.url})`, { stage: 'config', hint: 'name the store the audio is in now and the one it should move to' });
    await dest.open();
    return yield* migrateAudio(source, dest, o);
  } finally {
    await source.close();
    await dest.close();
  }
}

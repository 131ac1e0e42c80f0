import { TosiaError } from '../../runtime/index.js';
import { AudioDamaged, StoreUnavailable, type AudioStore } from './audio-store.js';

/**
 * A stored recording's bytes, for the pipeline: checked against its sha256, waited for through a
 * short outage of the store (`patienceMs`), and otherwise a TosiaError that says what happened
 * (gone, damaged) or StoreUnavailable (still down: the record can be run again once it is back).
 */
export async function readRecording(store: AudioStore, sha256: string, o: { patienceMs?: number } = {}): Promise<Uint8Array> {
  const until = Date.now() + (o.patienceMs ?? 60_000);
  for (let delay = 250; ; delay = Math.min(delay * 2, 4000)) {
    try {
      const bytes = await store.read(sha256);
      if (!bytes) throw new TosiaError('E_INPUT', `the recording ${sha256.slice(0, 12)}… is no longer in the audio store ${store.url}`, { stage: 'storage', hint: 'upload it again' });
      return bytes;
    } catch (e) {
      if (e instanceof AudioDamaged) throw new TosiaError('E_INPUT', e.message, { stage: 'storage' });
      if (!(e instanceof StoreUnavailable) || Date.now() + delay > until) throw e;
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

import type { Identity } from '../runtime/index.js';
import type { AudioStore } from './audio/audio-store.js';
import type { Authenticator } from './auth/api-keys.js';
import type { KeyStore } from './db/key-store.js';
import type { RecordStore } from './db/record-store.js';
import type { Metrics } from './metrics.js';
import type { Dispatcher } from './work/dispatcher.js';

/** What the routes are handed: the stores and the queue, behind their interfaces. */
export interface Services {
  records: RecordStore;
  keys: KeyStore;
  audio: AudioStore;
  dispatcher: Dispatcher;
  auth: Authenticator;
  metrics: Metrics;
  /** The config identity and model every record of this server is computed under. */
  identity: Identity;
  now: () => Date;
  /** Callbacks are signed with it; without one, callback_url is refused. */
  webhookSecret: string | null;
  maxUploadBytes: number;
  /** Null when ready; otherwise why not. */
  notReady(): Promise<string | null>;
}

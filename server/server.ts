import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { FigureRenderer, ThreadPool, TosiaError, type Config, type Pool, type Result } from '../runtime/index.js';
import { buildApp } from './app.js';
import { StoreUnavailable, type AudioStore } from './audio-store/audio-store.js';
import { createAudioStore } from './audio-store/open.js';
import { SourceStores } from './audio-store/source-stores.js';
import { Intake } from './intake/intake.js';
import { Authenticator } from './auth/api-keys.js';
import { openDatabase, type Database } from './db/database.js';
import { NatsPool } from './queue/nats-pool.js';
import type { QueueSettings } from './queue/topology.js';
import { KeyStore } from './db/key-store.js';
import { instanceId, migrate, probe } from './db/migrations.js';
import { RecordStore, type Row } from './db/record-store.js';
import { Metrics } from './metrics.js';
import { renderOne } from './routes/render.js';
import type { Services, Work } from './services.js';
import { Dispatcher } from './work/dispatcher.js';
import { ModelPools } from './work/model-pools.js';
import { ModelRegistry } from './models/model-registry.js';
import { EvaluationStore } from './evaluations/evaluation-store.js';
import { Evaluations } from './evaluations/evaluations.js';
import { describeServedModels, type ModelSpec } from './models/served-models.js';
import { Webhooks } from './work/webhook.js';
import { CallbackGuard } from './work/callback-guard.js';

export interface ServerOptions {
  config: Config;
  /**
   * The models to serve (--model NAME=PATH, repeatable): the first is the default. Without any,
   * the config's own model (classifier.model, or the bundled one), named by its manifest.
   */
  models?: ModelSpec[];
  /** A served model (by name) that also scores every recording, stored on the record as `shadow` and never answered with. */
  shadow?: string | null;
  /** Audio (unless `audioStore` names another place) and, without `db`, the SQLite records: default ./tosia-data. */
  dataDir?: string;
  /**
   * Where uploaded audio is kept: file:///folder (default: `dataDir`), azblob://container[/prefix]
   * or s3://bucket[/prefix]. Replicas on several machines share an object store, not a disk.
   */
  audioStore?: string;
  /** Containers and buckets (azblob://…, s3://…, with an optional prefix) that POST {"source": …} may read recordings from. */
  sourceStores?: string[];
  /** The environment credentials are read from (AZURE_STORAGE_CONNECTION_STRING, AWS_*); default process.env. */
  env?: NodeJS.ProcessEnv;
  /** postgres://... keeps the records in PostgreSQL instead of SQLite. */
  db?: string;
  /** Worker threads; default: the number of cores. */
  concurrency?: number;
  maxUploadMb?: number;
  /** Records waiting for a worker before POST answers 503. */
  maxQueue?: number;
  webhookSecret?: string | null;
  webhook?: { backoffMs?: number; timeoutMs?: number; maxTries?: number };
  /** Hosts (names or addresses) a callback_url may name even when they are not public: internal receivers. */
  allowCallbackHosts?: string[];
  /** Delete audio and images of records older than this many days (records stay). */
  retainAudioDays?: number | null;
  metricsKey?: string | null;
  /** The single write key of simple deployments (TOSIA_API_KEY). */
  apiKey?: string;
  rateLimitPerMinute?: number;
  /** Requests without a valid key per minute per client address before 429 (default 30). */
  failedAuthPerMinute?: number;
  /** Origins whose pages may call the API from a browser (CORS), e.g. https://app.example.org. */
  corsOrigins?: string[];
  requestTimeoutMs?: number;
  headersTimeoutMs?: number;
  /** How often the dispatcher puts right what a failed database call left behind (ms, default 5000). */
  reconcileMs?: number;
  /** The clock; tests set it to check retention. */
  now?: () => Date;
  logger?: FastifyServerOptions['logger'];
  /** A pool to run on instead of worker threads here. */
  pool?: Pool;
  /** Run recordings on `tosia worker` processes through NATS JetStream instead of here. */
  queue?: { url: string; settings?: Partial<QueueSettings>; submitter?: string };
}

export const DEFAULTS = { dataDir: './tosia-data', maxUploadMb: 50, maxQueue: 1000 } as const;

/** A running tosia server: the app, its stores and its worker pool. */
export class TosiaServer {
  private retention: NodeJS.Timeout | null = null;
  private closing: Promise<void> | null = null;

  constructor(
    readonly app: FastifyInstance,
    readonly services: Services,
    private readonly database: Database,
    /** Closes the pool or the queue connection. */
    private readonly closeWork: () => Promise<void>,
    private readonly webhooks: Webhooks,
    private readonly retainDays: number | null,
  ) {}

  /**
   * Listen. Any address but loopback needs an API key to exist (or TOSIA_API_KEY): an open
   * diagnosis service on a network is refused, with how to make a key.
   */
  async listen(host = '127.0.0.1', port = 8080): Promise<string> {
    const loopback = host === 'localhost' || host === '::1' || host.startsWith('127.');
    if (!loopback && !this.services.auth.hasEnvKey && !(await this.services.keys.any())) {
      throw new TosiaError('E_CONFIG', `refusing to listen on ${host} with no API key configured: anyone who can reach it could use it`, { stage: 'serve', hint: 'make a key first: tosia keys create --name ops --role admin (with the same --data/--db), or set TOSIA_API_KEY; or listen on 127.0.0.1' });
    }
    if (host !== 'localhost' && isIP(host) === 0) throw new TosiaError('E_CONFIG', `--host=${host} is not an IP address`, { stage: 'serve', hint: 'pass 127.0.0.1, 0.0.0.0, :: or an address of this machine' });
    this.services.auth.openOnLoopback = loopback && !this.services.auth.hasEnvKey;
    const address = await this.app.listen({ host, port });
    if (this.services.auth.openOnLoopback && !(await this.services.keys.any())) {
      this.app.log.warn('no API key exists: the API is open to this machine only until one is made (tosia keys create)');
    }
    if (this.retainDays !== null) {
      await this.purgeAudio();
      this.retention = setInterval(() => void this.purgeAudio().catch((e) => this.app.log.error({ err: e }, 'retention failed')), 3600_000);
      this.retention.unref();
    }
    return address;
  }

  /** Delete the audio and images of records older than the retention; returns how many records lost theirs. */
  async purgeAudio(): Promise<number> {
    if (this.retainDays === null) return 0;
    const { intake, now } = this.services;
    return intake.purgeBefore(new Date(now().getTime() - this.retainDays * 86400_000));
  }

  /**
   * Stop: new work is refused (503 with Retry-After), what is running finishes, then the
   * listener, the pool and the database close. Records still queued run at the next start.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.retention) clearInterval(this.retention);
      await this.services.dispatcher.drain();
      await this.app.close();
      await this.webhooks.close();
      await this.closeWork();
      await this.database.db.destroy();
    })();
    return this.closing;
  }
}

/** Open the stores, migrate, start the pool and queue again what a stopped server left unfinished. */
export async function createServer(o: ServerOptions): Promise<TosiaServer> {
  const now = o.now ?? (() => new Date());
  const dataDir = resolve(o.dataDir ?? DEFAULTS.dataDir);
  const maxUploadMb = o.maxUploadMb ?? DEFAULTS.maxUploadMb;
  if (!(maxUploadMb > 0 && maxUploadMb <= 2000)) throw new TosiaError('E_CONFIG', `--max-upload-mb=${maxUploadMb} must be between 1 and 2000`, { stage: 'config' });
  const maxQueue = o.maxQueue ?? DEFAULTS.maxQueue;
  if (!(Number.isInteger(maxQueue) && maxQueue >= 1)) throw new TosiaError('E_CONFIG', `--max-queue=${maxQueue} must be an integer >= 1`, { stage: 'config' });
  if (o.retainAudioDays != null && !(o.retainAudioDays > 0)) throw new TosiaError('E_CONFIG', `--retain-audio-days=${o.retainAudioDays} must be a number of days > 0`, { stage: 'config' });
  checkOrigins(o.corsOrigins ?? []);
  if (o.webhookSecret != null && o.webhookSecret.length < 16) throw new TosiaError('E_CONFIG', '--webhook-secret must be at least 16 characters', { stage: 'config', hint: 'generate one: openssl rand -hex 32' });

  const served = await describeServedModels(o.config, o.models ?? []);
  const identity = served[0]!.identity;
  const sources = new SourceStores(o.sourceStores ?? [], o.env);
  const audio = await createAudioStore(o.audioStore ?? pathToFileURL(dataDir).href, { env: o.env });
  // an object store that is down at start is waited for in the background: the server answers
  // /ready 503 naming it, and uploads 503, until it is back; a refusal (credentials) stops here
  const audioOpen = new OpenLater(audio);
  await audioOpen.first();
  const database = await openDatabase(o.db ? { url: o.db } : { sqliteFile: join(dataDir, 'records.sqlite') });
  const viaQueue = o.queue && !o.pool ? o.queue : null;
  let pool: Pool | null = null;
  let registry: ModelRegistry | null = null;
  let evaluations: Evaluations | null = null;
  const figures = new FigureRenderer(o.config);
  const closeWork = async () => {
    audioOpen.stop();
    registry?.stop();
    evaluations?.stop();
    await pool?.close();
    await figures.close();
    await audio.close();
    await sources.close();
  };
  try {
    await migrate(database);
    const records = new RecordStore(database.db, database.dialect);
    const keys = new KeyStore(database.db);
    const auth = new Authenticator(keys, o.apiKey, now);
    // results from the queue may arrive before the app (and its logger) exists
    let app: FastifyInstance | null = null;
    const log = (msg: string, extra: Record<string, unknown>) => (app ? app.log.warn(extra, msg) : process.stderr.write(`${JSON.stringify({ level: 40, msg, ...extra })}\n`));
    const models = (registry = new ModelRegistry(served, database.db, log, o.shadow ?? null));
    await models.start();
    // the one way to run records, as a batch runs them: worker threads here, or tosia worker
    // processes through NATS, where every replica on this database is one submitter (any of
    // them stores any result)
    pool = viaQueue
      ? new NatsPool({ url: viaQueue.url, config: served[0]!.config, identity, settings: viaQueue.settings, submitter: viaQueue.submitter ?? `serve-${await instanceId(database.db)}`, capacity: Math.max(64, maxQueue) })
      : o.pool ?? (served.length === 1
        ? new ThreadPool({ config: served[0]!.config, concurrency: o.concurrency })
        : new ModelPools(new Map(served.map((m) => [m.name, new ThreadPool({ config: m.config, concurrency: o.concurrency })])), () => models.default.name));
    let work: Work | null = null;
    const metrics = new Metrics({ depth: () => work?.depth ?? 0, busy: () => work?.busy ?? 0, records: () => records.countByStatus() });
    const callbacks = new CallbackGuard(o.allowCallbackHosts ?? []);
    const webhooks = new Webhooks(records, (row) => renderOne(records, row), { secret: o.webhookSecret ?? '', guard: callbacks, ...o.webhook }, now, log);
    const events = { finished: (row: Row) => webhooks.deliver(row), timings: (r: Result) => metrics.observeResult(r) };
    // a record runs with the model it names; one made before models were named, with the default
    const modelOf = (row: Row) => {
      const m = models.forRecord(row.model);
      return m ? { name: m.name, sha256: m.sha256 } : { name: row.model!, sha256: row.model_sha256 };
    };
    const shadowOf = models.shadow === null ? undefined : (row: Row) => {
      const s = models.shadowFor(models.forRecord(row.model));
      return s && { name: s.name, sha256: s.sha256 };
    };
    const dispatcher = (work = new Dispatcher({ pool, records, audio, now, maxQueue, events, log, modelOf, shadowOf }));
    let modelError: Error | null = null;
    const running = pool;
    const started = pool.start().catch((e: Error) => { modelError = e; });
    const evaluationStore = new EvaluationStore(database.db);
    evaluations = new Evaluations({ store: evaluationStore, records, models, work: dispatcher, now, log });
    const intake = new Intake({ records, audio, work: dispatcher, now, webhookSecret: o.webhookSecret ?? null, callbacks, log, finished: events.finished });
    const services: Services = {
      records, keys, audio, intake, sources, dispatcher, auth, metrics, models, evaluations, evaluationStore, now, config: o.config, figures,
      webhookSecret: o.webhookSecret ?? null,
      maxUploadBytes: Math.round(maxUploadMb * 1048576),
      async notReady() {
        if (!dispatcher.isAccepting) return 'shutting down';
        const ok = await Promise.race([started.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 50))]);
        if (!ok) return viaQueue ? 'connecting to the queue' : 'the model is still loading';
        const failed = modelError ?? dispatcher.failure;
        if (failed) return viaQueue ? `the queue cannot be used: ${failed.message}` : `the model cannot run: ${failed.message}`;
        const down = running.unavailable?.();
        if (down) return down;
        // answered quickly either way: a frozen database is 'not ready', not a hung probe
        const db = await within(probe(database.db), 2000, 'did not answer within 2 s');
        if (db) return `the records database is unreachable: ${db}`;
        const stored = audioOpen.down ?? (await within(audio.probe(), 3000, `the audio store ${audio.url} did not answer within 3 s`));
        if (stored) return audio.kind === 'folder' ? `the data folder is not writable: ${stored}` : stored;
        return null;
      },
    };
    const built = (app = await buildApp({ services, rateLimitPerMinute: o.rateLimitPerMinute, failedAuthPerMinute: o.failedAuthPerMinute, corsOrigins: o.corsOrigins, metricsKey: o.metricsKey, requestTimeoutMs: o.requestTimeoutMs, headersTimeoutMs: o.headersTimeoutMs, logger: o.logger }));
    // a model that does not load (or a queue that cannot be reached) stops the server before it takes anything
    await started;
    if (modelError) throw modelError;
    await dispatcher.recover();
    dispatcher.reconcile(o.reconcileMs);
    evaluations.start();
    if (o.webhookSecret) await webhooks.resume();
    return new TosiaServer(built, services, database, closeWork, webhooks, o.retainAudioDays ?? null);
  } catch (e) {
    await closeWork().catch(() => undefined);
    await database.db.destroy().catch(() => undefined);
    throw e;
  }
}

/**
 * Opens an audio store, and when it cannot be reached, goes on trying every 2 s in the
 * background; `down` says why it is not open yet. A refusal that waiting will not change
 * (credentials, a bad folder) is thrown by first().
 */
class OpenLater {
  down: string | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly store: AudioStore) {}

  async first(): Promise<void> {
    try {
      await this.store.open();
    } catch (e) {
      if (!(e instanceof StoreUnavailable)) throw e;
      this.down = e.message;
      let trying = false;
      this.timer = setInterval(() => {
        if (trying) return;
        trying = true;
        this.store.open().then(() => {
          this.down = null;
          this.stop();
        }, (err: Error) => {
          this.down = err.message;
        }).finally(() => (trying = false));
      }, 2000);
      this.timer.unref();
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

/** Null when `p` settles well within `ms`; else why not (its error, or `late`). */
async function within(p: Promise<unknown>, ms: number, late: string): Promise<string | null> {
  let t: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p.then(() => null, (e: Error) => e.message), new Promise<string>((r) => { t = setTimeout(() => r(late), ms); })]);
  } finally {
    clearTimeout(t);
  }
}

/** --cors-origin values: each an exact origin (scheme, host, optional port), as browsers send it. */
function checkOrigins(origins: string[]): void {
  for (const origin of origins) {
    let url: URL | null = null;
    try {
      url = new URL(origin);
    } catch {
      // not a URL: url stays null and the check below refuses it with E_CONFIG
    }
    if (!url || !/^https?:$/.test(url.protocol) || url.origin !== origin) {
      throw new TosiaError('E_CONFIG', `--cors-origin ${JSON.stringify(origin)} is not an origin`, { stage: 'config', hint: 'give the scheme, host and port only, as a browser sends it in Origin: https://app.example.org or http://localhost:3000 (no path, no trailing slash, no *)' });
    }
  }
}

import type { Command } from 'commander';
import { TosiaError } from '../../algos/errors.js';
import { loadConfig } from '../../runtime/config/load.js';
import { EXIT } from '../exit-codes.js';
import { warnIfOldFfmpeg } from '../ffmpeg-warning.js';
import { handleError } from '../handle-error.js';
import { addConfigFlags, applyOverrides, type FlagName } from '../overrides.js';
import { addQueueFlags, queueSettings } from './worker.js';

const FLAGS: FlagName[] = ['device', 'decoder', 'ffmpeg', 'maxDuration', 'maxFileSize', 'onDamage', 'minCoughScore', 'aggregate', 'threshold', 'allowConfigMismatch'];

/** --data / --db, shared by serve, keys and db. */
export function addStoreFlags(cmd: Command): Command {
  return cmd
    .option('--data <dir>', 'folder for audio, images and the SQLite records', './tosia-data')
    .option('--db <url>', 'keep the records in PostgreSQL instead of SQLite (postgres://user@host:5432/db)');
}

function positive(name: string, v: unknown, integer: boolean): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!(Number.isFinite(n) && n > 0 && (!integer || Number.isInteger(n)))) {
    throw new TosiaError('E_CONFIG', `--${name}=${String(v)} must be ${integer ? 'an integer' : 'a number'} > 0`, { stage: 'config' });
  }
  return n;
}

export function registerServe(program: Command, setExit: (code: number) => void): void {
  const cmd = program
    .command('serve')
    .description('Serve the HTTP API: POST recordings, GET diagnoses; records in SQLite (or PostgreSQL), audio in --data (or an object store: --audio-store).\nLogs one JSON line per request on stdout. SIGTERM drains: running recordings finish, then it exits 0.')
    .option('--host <addr>', 'address to listen on (other than loopback only with an API key). On loopback with no key at all, the API answers without one, as admin, but only to requests from this machine with no forwarding header (X-Forwarded-For, Forwarded, …) and not sent by a page of another origin', '127.0.0.1')
    .option('--port <n>', 'port (0: any free port)', '8080')
    .option('--model <[name=]path>', 'a model to serve: NAME=PATH, or PATH named by its manifest; repeatable, the first is the default (POST /v1/diagnoses?model=NAME picks another; GET /v1/models lists them). Default: classifier.model, else the bundled model', (v: string, prev: string[] = []) => [...prev, v])
    .option('--shadow <name>', 'a served model (--model NAME=PATH) that also scores every recording once it is done: stored on the record as `shadow`, never answered with')
    .option('--concurrency <n>', 'worker threads (default: number of cores)')
    .option('--max-upload-mb <mb>', 'largest upload accepted (413 above)', '50')
    .option('--max-queue <n>', 'recordings waiting before POST answers 503', '1000')
    .option('--webhook-secret <secret>', 'sign callback_url deliveries with HMAC-SHA256 (or TOSIA_WEBHOOK_SECRET); without it callbacks are refused')
    .option('--allow-callback-host <host>', 'a host (name or address) callback_url may name although it is not public: an internal receiver; repeatable (by default callbacks go only to public addresses)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--retain-audio-days <days>', 'delete audio and images older than this; the records stay')
    .option('--metrics-key <key>', '/metrics needs this key (default: open on loopback only)')
    .option('--rate-limit <n>', 'requests per minute per API key (every route alias counts)', '600')
    .option('--openapi', 'print the OpenAPI 3.1 document this server serves at /openapi.json, and exit (nothing is opened or started)')
    .option('--cors-origin <origin>', 'an origin (https://app.example.org) whose pages may call the API from the browser (CORS); repeatable; none by default', (v: string, prev: string[] = []) => [...prev, v])
    .option('--failed-auth-limit <n>', 'requests without a valid API key per minute per client address before 429', '30')
    .option('--queue <url>', 'run recordings on `tosia worker` processes through NATS JetStream (nats://host:4222) instead of here')
    .option('--source-store <url>', 'a container or bucket (azblob://container[/prefix], s3://bucket[/prefix]) that POST {"source": …} may read recordings from; repeatable', (v: string, prev: string[] = []) => [...prev, v])
    .option('--audio-store <url>', 'where uploaded audio is kept: file:///folder (default: --data), azblob://container[/prefix] (AZURE_STORAGE_CONNECTION_STRING) or s3://bucket[/prefix] (AWS credentials; AWS_ENDPOINT_URL for S3-compatible servers)');
  addQueueFlags(cmd);
  addStoreFlags(cmd);
  addConfigFlags(cmd, FLAGS);
  cmd.addHelpText('after', `
Environment: TOSIA_API_KEY (one write key, for simple deployments), TOSIA_WEBHOOK_SECRET;
  AZURE_STORAGE_CONNECTION_STRING for azblob://; for s3://, the AWS SDK's own (AWS_ACCESS_KEY_ID,
  AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_PROFILE…) and AWS_ENDPOINT_URL for S3-compatible servers.

Examples:
  $ tosia serve                                   # http://127.0.0.1:8080, docs at /docs
  $ tosia keys create --name ops --role admin     # then, with a key:
  $ tosia serve --host 0.0.0.0 --port 8080 --data /var/lib/tosia
  $ tosia serve --db postgres://tosia@db:5432/tosia --retain-audio-days 30
  $ tosia serve --queue nats://queue:4222          # recordings run on tosia worker processes
  $ tosia serve --model v1=models/v1.onnx --model v2=models/v2.onnx   # two models; v1 is the default, ?model=v2 picks the other
  $ tosia serve --model v1=models/v1.onnx --model v2=models/v2.onnx --shadow v2   # v2 also scores every recording, unseen
  $ tosia serve --audio-store azblob://tosia-audio --db postgres://tosia@db:5432/tosia   # replicas sharing no disk
  $ tosia serve --source-store azblob://calls/2026/   # POST {"source": "azblob://calls/2026/12/a.ogg"} diagnoses call audio in place
  $ tosia serve --cors-origin https://app.example.org  # that site's pages may call the API with a key
  $ tosia serve --openapi > openapi.json           # the API's OpenAPI document, for client generators`);
  cmd.action(async (opts: Record<string, unknown>) => {
    // a server outlives a promise nobody waited on (a dependency failing at a bad moment): it is
    // logged as one JSON line, and the process goes on serving
    if (opts.openapi) {
      const { apiDocument } = await import('../../server/index.js');
      process.stdout.write(`${JSON.stringify(await apiDocument(), null, 2)}\n`);
      return;
    }
    process.on('unhandledRejection', (e) => process.stderr.write(`${JSON.stringify({ level: 50, time: Date.now(), msg: 'unhandled rejection', err: String((e as Error)?.stack ?? e) })}\n`));
    let server: import('../../server/index.js').TosiaServer;
    try {
      const cfg = applyOverrides(await loadConfig((opts.config as string | undefined) ?? null), opts, FLAGS);
      const port = Number(opts.port);
      if (!(Number.isInteger(port) && port >= 0 && port <= 65535)) throw new TosiaError('E_CONFIG', `--port=${String(opts.port)} must be 0-65535`, { stage: 'config' });
      const { createServer, parseModelSpec } = await import('../../server/index.js');
      server = await createServer({
        config: cfg,
        models: ((opts.model as string[] | undefined) ?? []).map(parseModelSpec),
        shadow: (opts.shadow as string | undefined) ?? null,
        dataDir: opts.data as string,
        audioStore: opts.audioStore as string | undefined,
        sourceStores: opts.sourceStore as string[] | undefined,
        db: opts.db as string | undefined,
        concurrency: positive('concurrency', opts.concurrency, true),
        maxUploadMb: positive('max-upload-mb', opts.maxUploadMb, false),
        maxQueue: positive('max-queue', opts.maxQueue, true),
        webhookSecret: (opts.webhookSecret as string | undefined) ?? process.env.TOSIA_WEBHOOK_SECRET ?? null,
        allowCallbackHosts: opts.allowCallbackHost as string[] | undefined,
        retainAudioDays: positive('retain-audio-days', opts.retainAudioDays, false) ?? null,
        metricsKey: (opts.metricsKey as string | undefined) ?? null,
        rateLimitPerMinute: positive('rate-limit', opts.rateLimit, true),
        failedAuthPerMinute: positive('failed-auth-limit', opts.failedAuthLimit, true),
        corsOrigins: opts.corsOrigin as string[] | undefined,
        apiKey: process.env.TOSIA_API_KEY || undefined,
        queue: opts.queue === undefined ? undefined : { url: opts.queue as string, settings: queueSettings(opts) },
        logger: { level: 'info' },
      });
      // uploads are untrusted and any of them may need ffmpeg: said at start, unless workers decode
      if (!opts.queue) await warnIfOldFfmpeg(cfg);
      const address = await server.listen(opts.host as string, port).catch(async (e) => {
        await server.close();
        throw e;
      });
      process.stderr.write(`tosia serve: listening on ${address}\n  docs:    ${address}/docs\n  OpenAPI: ${address}/openapi.json\n  keys:    tosia keys create --name NAME --role read|write|admin${opts.db ? ` --db ${String(opts.db).replace(/:[^:@/]*@/, ':***@')}` : ` --data ${String(opts.data)}`}\n`);
    } catch (e) {
      setExit(handleError(e));
      return;
    }
    await new Promise<void>((resolve) => {
      let stopping = false;
      const stop = (signal: NodeJS.Signals) => {
        if (stopping) {
          // a second signal: stop now; records in flight run again at the next start
          process.stderr.write(`tosia serve: ${signal} again, exiting now\n`);
          process.exit(EXIT.INTERRUPTED);
        }
        stopping = true;
        process.stderr.write(`tosia serve: ${signal}: draining (new work gets 503), finishing what is running\n`);
        void server.close().then(() => {
          process.stderr.write('tosia serve: stopped\n');
          resolve();
        }, (e) => {
          setExit(handleError(e));
          resolve();
        });
      };
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
    });
  });
}

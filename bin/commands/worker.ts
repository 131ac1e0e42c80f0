import type { Command } from 'commander';
import { warnIfOldFfmpeg } from '../ffmpeg-warning.js';
import { TosiaError } from '../../algos/errors.js';
import { loadConfig } from '../../runtime/config/load.js';
import { EXIT } from '../exit-codes.js';
import { handleError } from '../handle-error.js';
import { addConfigFlags, applyOverrides, type FlagName } from '../overrides.js';

const FLAGS: FlagName[] = ['device', 'ffmpeg', 'decoder'];

/** --ack-wait and --max-deliver: the work-queue consumer's settings (whoever connects first creates it; later ones update it). */
export function addQueueFlags(cmd: Command): Command {
  return cmd
    .option('--ack-wait <s>', 'queue: seconds without an ack or an in-progress signal before a job goes to another worker', '30')
    .option('--max-deliver <n>', 'queue: deliveries of one job before it is given up as poison (failed)', '5');
}

export function queueSettings(opts: Record<string, unknown>): { ackWaitS: number; maxDeliver: number } {
  const ackWaitS = Number(opts.ackWait);
  const maxDeliver = Number(opts.maxDeliver);
  if (!(ackWaitS >= 1 && ackWaitS <= 3600)) throw new TosiaError('E_CONFIG', `--ack-wait=${String(opts.ackWait)} must be 1-3600 seconds`, { stage: 'config' });
  if (!(Number.isInteger(maxDeliver) && maxDeliver >= 1 && maxDeliver <= 100)) throw new TosiaError('E_CONFIG', `--max-deliver=${String(opts.maxDeliver)} must be an integer 1-100`, { stage: 'config' });
  return { ackWaitS, maxDeliver };
}

export function registerWorker(program: Command, setExit: (code: number) => void): void {
  const cmd = program
    .command('worker')
    .description('Take jobs from NATS JetStream and run them on this machine (needs only NATS: no database, no shared disk).\nSIGTERM drains: it stops taking jobs, finishes and acks the ones it holds, then exits 0.')
    .requiredOption('--queue <url>', 'the NATS server (nats://host:4222)')
    .option('--concurrency <n>', 'worker threads (default: number of cores)')
    .option('--model <[name=]path>', "a model to run: NAME=PATH, or PATH named by its manifest; repeatable, as the servers' --model (a job runs on the model whose sha256 it names). Default: classifier.model, else the bundled model", (v: string, prev: string[] = []) => [...prev, v])
    .option('--audio-store <url>', 'the object store the servers keep audio in (azblob://container[/prefix] or s3://bucket[/prefix]): jobs are read from it instead of from a copy in NATS');
  addQueueFlags(cmd);
  addConfigFlags(cmd, FLAGS);
  cmd.addHelpText('after', `
Examples:
  $ tosia worker --queue nats://queue:4222
  $ tosia worker --queue nats://queue:4222 --concurrency 8 --model /models/cough.onnx
  $ tosia worker --queue nats://queue:4222 --model v1=/models/v1.onnx --model v2=/models/v2.onnx   # as tosia serve --model …
  $ tosia worker --queue nats://queue:4222 --audio-store azblob://tosia-audio   # AZURE_STORAGE_CONNECTION_STRING set`);
  cmd.action(async (opts: Record<string, unknown>) => {
    try {
      const cfg = applyOverrides(await loadConfig((opts.config as string | undefined) ?? null), opts, FLAGS);
      const concurrency = opts.concurrency === undefined ? undefined : Number(opts.concurrency);
      if (concurrency !== undefined && !(Number.isInteger(concurrency) && concurrency >= 1)) throw new TosiaError('E_CONFIG', `--concurrency=${String(opts.concurrency)} must be an integer >= 1`, { stage: 'config' });
      await warnIfOldFfmpeg(cfg);
      const { runWorker, parseModelSpec } = await import('../../server/index.js');
      let stop!: () => void;
      const stopped = new Promise<void>((r) => (stop = r));
      let signals = 0;
      const onSignal = (signal: NodeJS.Signals) => {
        if (++signals > 1) process.exit(EXIT.INTERRUPTED);
        process.stderr.write(`tosia worker: ${signal}: finishing the jobs it holds, then exiting\n`);
        stop();
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
      process.stderr.write(`tosia worker: taking jobs from ${String(opts.queue)}\n`);
      const summary = await runWorker({
        url: opts.queue as string, config: cfg, models: ((opts.model as string[] | undefined) ?? []).map(parseModelSpec), concurrency, settings: queueSettings(opts), stop: stopped, audioStore: opts.audioStore as string | undefined,
        log: (line) => process.stdout.write(JSON.stringify({ time: new Date().toISOString(), ...line }) + '\n'),
      });
      process.stderr.write(`tosia worker: stopped (${summary.done} done, ${summary.failed} failed)\n`);
      setExit(EXIT.OK);
    } catch (e) {
      setExit(handleError(e));
    }
  });
}

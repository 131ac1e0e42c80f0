import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { TosiaError } from '../../algos/errors.js';
import type { Config } from '../../runtime/config/schema.js';
import { loadConfig } from '../../runtime/config/load.js';
import { EXIT } from '../exit-codes.js';
import { errorLine, handleError } from '../handle-error.js';
import { addConfigFlags, applyOverrides, type FlagName } from '../overrides.js';
import { URL_FORM } from '../../runtime/store/output-paths.js';
import { renderResult } from '../render-result.js';
import { warnIfOldFfmpeg } from '../ffmpeg-warning.js';
import { addQueueFlags } from './worker.js';

const FLAGS: FlagName[] = ['model', 'device', 'saveImages', 'labels', 'minCoughScore', 'aggregate', 'threshold', 'sampleRate', 'decoder', 'ffmpeg', 'maxDuration', 'maxFileSize', 'onDamage', 'allowConfigMismatch'];
const collect = (v: string, prev: string[] = []) => [...prev, v];

export function registerRun(program: Command, setExit: (code: number) => void): void {
  const cmd = program
    .command('run')
    .description('Diagnose recordings: segment the coughs, classify each one and the whole recording.\nOne file prints its result; files and folders with --out run as a batch.')
    .argument('[inputs...]', 'audio files (wav, mp3, ogg/opus, flac, m4a, webm, ...), folders (searched recursively), quoted globs, or azblob://container/prefix and s3://bucket/prefix URLs (every recording below them)')
    .option('--json', 'single file: print the full result as JSON')
    .option('--report <file>', 'single file: also write a self-contained HTML report (figure, audio, segments) here')
    .option('-o, --out <dir>', 'batch: write per-recording JSON (mirroring the inputs), results.jsonl/.csv, segments.csv, errors.jsonl and run.json here')
    .option('--from-list <file>', "batch: also read input paths from FILE, one per line ('-' for stdin)")
    .option('--include <pattern>', 'batch: keep only inputs matching this glob (repeatable)', collect)
    .option('--exclude <pattern>', 'batch: drop inputs matching this glob (repeatable)', collect)
    .option('--concurrency <n>', 'batch: worker threads (default: number of cores)')
    .option('--inference <mode>', "batch: per-worker (each worker thread runs the model; the faster here) or shared (one inference thread batches segments across files)", 'per-worker')
    .option('--force', 'batch: reprocess every input, even with an up-to-date result')
    .option('--retry-failed', "batch: process only the files in the output's errors.jsonl")
    .option('--progress <mode>', 'batch: auto (a bar on a TTY), bar, json (NDJSON events on stderr) or none', 'auto')
    .option('--queue <url>', 'batch: run on remote `tosia worker` processes through NATS JetStream (nats://host:4222); --concurrency is then the jobs kept in flight (default 64)');
  addQueueFlags(cmd);
  addConfigFlags(cmd, FLAGS);
  cmd.addHelpText('after', `
Examples:
  $ tosia run samples/coughs-3_snr-25db_white_16k.wav
  $ tosia run cough.ogg --json > result.json
  $ tosia run cough.mp3 --device cpu --save-images out/images
  $ tosia run calls/ --out results/                      # a folder, resumable
  $ tosia run calls/ --out results/ --include '*.mp3' --progress json 2> progress.ndjson
  $ find /data -name '*.wav' | tosia run --from-list - --out results/
  $ tosia run calls/ --out results/ --retry-failed
  $ tosia run calls/ --out results/ --inference shared     # one inference thread for all workers
  $ tosia run calls/ --out results/ --labels audacity,raven --min-cough-score 0.3
  $ tosia run calls/ --out results/ --queue nats://queue:4222   # on tosia worker processes
  $ tosia run azblob://calls/2026-12/ --out results/ --include '*.ogg'   # AZURE_STORAGE_CONNECTION_STRING set
  $ tosia run s3://calls/2026-12/ --out results/                       # AWS credentials; AWS_ENDPOINT_URL for S3-compatible servers`);
  cmd.action(async (inputs: string[], opts: Record<string, unknown>) => {
    let cfg: Config;
    try {
      cfg = applyOverrides(await loadConfig((opts.config as string | undefined) ?? null), opts, FLAGS);
      if (opts.fromList) inputs = [...inputs, ...(await readList(opts.fromList as string))];
      if (inputs.length === 0) throw new TosiaError('E_CONFIG', 'no inputs given', { stage: 'input', hint: 'pass audio files or folders, or --from-list FILE' });
      const remote = inputs.filter((i) => URL_FORM.test(i));
      if (remote.length > 0 && remote.length < inputs.length) throw new TosiaError('E_CONFIG', 'files and object-store URLs cannot be mixed in one run', { stage: 'input', hint: 'run the folders and the azblob:// or s3:// URLs as two batches' });
      if (remote.length > 0 && opts.out === undefined) throw new TosiaError('E_CONFIG', `${remote[0]} is a container or bucket: its recordings run as a batch`, { stage: 'input', hint: 'add --out DIR' });
      const batch = opts.out !== undefined || inputs.length > 1 || inputs.some(isDirectory);
      if (cfg.output.labels && opts.out === undefined) {
        throw new TosiaError('E_CONFIG', `--labels ${cfg.output.labels} writes a label track per recording into an output tree`, { stage: 'config', hint: 'add --out DIR' });
      }
      if (batch && opts.report !== undefined) throw new TosiaError('E_CONFIG', '--report is for one file', { stage: 'input', hint: 'for a batch: tosia report OUT_FOLDER -o report.html' });
      if (batch && opts.out === undefined) {
        throw new TosiaError('E_CONFIG', 'several inputs (or a folder) need an output folder', { stage: 'input', hint: 'add --out DIR' });
      }
      if (batch) {
        setExit(await runAsBatch(inputs, cfg, opts));
        return;
      }
    } catch (e) {
      setExit(handleError(e, { json: Boolean(opts.json) }));
      return;
    }
    setExit(await runOne(inputs[0]!, cfg, Boolean(opts.json), opts.report as string | undefined));
  });
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    // not there: treated as a file, which the run then reports as missing with its own message
    return false;
  }
}

async function readList(file: string): Promise<string[]> {
  let text: string;
  try {
    if (file === '-') {
      const chunks: Buffer[] = [];
      for await (const c of process.stdin) chunks.push(c as Buffer);
      text = Buffer.concat(chunks).toString('utf8');
    } else {
      text = await readFile(file, 'utf8');
    }
  } catch (e) {
    throw new TosiaError('E_INPUT', `--from-list cannot be read (${(e as NodeJS.ErrnoException).code ?? e})`, { file, stage: 'input', hint: 'pass a text file with one path per line, or - for stdin' });
  }
  return text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
}

async function runOne(file: string, cfg: Config, json: boolean, report?: string): Promise<number> {
  try {
    // the pipeline loads only when a recording is to be run: --help and the other commands start without it
    const [{ execute }, { WorkUnit }] = await Promise.all([import('../../runtime/pipeline/execute.js'), import('../../runtime/pipeline/work-unit.js')]);
    const result = await execute(new WorkUnit({ sourceFile: file, ...cfg }));
    if (result.source.decoder === 'ffmpeg') await warnIfOldFfmpeg(cfg);
    process.stdout.write(json ? JSON.stringify(result, null, 2) + '\n' : renderResult(result));
    if (report) {
      const { buildReport } = await import('../../runtime/report/build-report.js');
      const { writeFileAtomic } = await import('../../runtime/io/atomic-write.js');
      // the file just run is the user's own: its folder is where the report reads it
      await writeFileAtomic(report, (await buildReport([result], cfg, { audioBase: dirname(resolve(file)) })).html);
      if (!json) process.stdout.write(`Report: ${report}\n`);
    }
    return EXIT.OK;
  } catch (e) {
    return handleError(e, { json });
  }
}

async function runAsBatch(inputs: string[], cfg: Config, opts: Record<string, unknown>): Promise<number> {
  // the batch engine loads only for batches, keeping a single-file run's start-up short
  const { runBatch } = await import('../../runtime/batch/run-batch.js');
  const { Progress, renderSummary } = await import('../progress.js');
  const { batchFlags, queuePool, stopOnSignals } = await import('../batch-flags.js');
  const f = batchFlags(opts, cfg);
  const { outDir, concurrency, inference, mode } = f;
  cfg = f.config;
  const pool = await queuePool(opts, f);
  // recordings in a container or bucket: listed page by page, each read when a worker takes it
  const objects = inputs.some((i) => URL_FORM.test(i))
    ? await (await import('../../server/index.js')).objectSource(inputs, { include: opts.include as string[] | undefined, exclude: opts.exclude as string[] | undefined })
    : null;
  const controller = new AbortController();
  const release = stopOnSignals(controller, outDir, '\ntosia: stopping after the files in flight (press Ctrl-C again to abort now)\n');
  const progress = new Progress(mode);
  let ffmpegWarning: Promise<void> | undefined;
  try {
    const it = runBatch(inputs, {
      config: cfg, outDir, concurrency: pool ? undefined : concurrency, inference, force: Boolean(opts.force), retryFailed: Boolean(opts.retryFailed),
      include: opts.include as string[] | undefined, exclude: opts.exclude as string[] | undefined, signal: controller.signal, pool,
      ...(objects ? { source: objects.source, base: objects.base } : {}),
    });
    for await (const e of it) {
      // asked as soon as a file needs ffmpeg, said once, at the end (not through the progress bar)
      if (e.type === 'file-done' && e.decoder === 'ffmpeg') ffmpegWarning ??= warnIfOldFfmpeg(cfg);
      progress.event(e);
      if (e.type === 'file-failed' && mode !== 'json') {
        if (mode === 'auto' && process.stderr.isTTY) process.stderr.write('\n');
        process.stderr.write(errorLine(e.code, e.message));
      }
      if (e.type === 'end') {
        progress.finish();
        await ffmpegWarning;
        process.stdout.write(renderSummary(e.summary));
        if (e.summary.interrupted) return EXIT.INTERRUPTED;
        return e.summary.failed > 0 ? EXIT.SOME_FAILED : EXIT.OK;
      }
    }
    return EXIT.OK;
  } finally {
    release();
    await objects?.close();
  }
}

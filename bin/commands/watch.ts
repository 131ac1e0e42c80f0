import { relative } from 'node:path';
import type { Command } from 'commander';
import { TosiaError } from '../../algos/errors.js';
import { loadConfig } from '../../runtime/config/load.js';
import { EXIT } from '../exit-codes.js';
import { warnIfOldFfmpeg } from '../ffmpeg-warning.js';
import { errorLine, handleError, orList } from '../handle-error.js';
import { addConfigFlags, applyOverrides, type FlagName } from '../overrides.js';
import { addQueueFlags } from './worker.js';

const FLAGS: FlagName[] = ['model', 'device', 'saveImages', 'labels', 'minCoughScore', 'aggregate', 'threshold', 'sampleRate', 'decoder', 'ffmpeg', 'maxDuration', 'maxFileSize', 'onDamage', 'allowConfigMismatch'];

export function registerWatch(program: Command, setExit: (code: number) => void): void {
  const cmd = program
    .command('watch')
    .description('Watch a folder: run every recording in it that is not up to date, then each new or changed one once it has stopped growing.\nResults go where `tosia run DIR --out OUT` puts them; a restart runs nothing twice. SIGINT/SIGTERM finishes the files in flight, writes the tables and exits 0.')
    .argument('<dir>', 'the folder to watch (recursively)')
    .requiredOption('-o, --out <dir>', 'per-recording JSON, results.jsonl/.csv, segments.csv, errors.jsonl and run.json, updated after each round')
    .option('--stable <ms>', 'a file is read once its size has not changed for this long', '2000')
    .option('--poll', 'poll the folder instead of waiting for events (network mounts)')
    .option('--concurrency <n>', 'worker threads (default: number of cores); with --queue, the jobs kept in flight (default 64)')
    .option('--inference <mode>', 'per-worker or shared (as for tosia run)', 'per-worker')
    .option('--progress <mode>', 'line (one line per file on stdout), json (NDJSON events on stdout) or none', 'line')
    .option('--queue <url>', 'run on remote `tosia worker` processes through NATS JetStream (nats://host:4222)');
  addQueueFlags(cmd);
  addConfigFlags(cmd, FLAGS);
  cmd.addHelpText('after', `
Examples:
  $ tosia watch incoming/ --out results/
  $ tosia watch /mnt/calls --out results/ --poll --stable 5000
  $ tosia watch incoming/ --out results/ --queue nats://queue:4222 --progress json`);
  cmd.action(async (dir: string, opts: Record<string, unknown>) => {
    try {
      setExit(await watchCommand(dir, opts));
    } catch (e) {
      setExit(handleError(e));
    }
  });
}

/** What watch's --progress takes (validation and completion read this). */
export const WATCH_PROGRESS_MODES = ['line', 'json', 'none'] as const;

async function watchCommand(dir: string, opts: Record<string, unknown>): Promise<number> {
  const { watchFolder } = await import('../../runtime/watch/watch-folder.js');
  const { batchFlags, queuePool, stopOnSignals } = await import('../batch-flags.js');
  const progress = opts.progress as string;
  if (!(WATCH_PROGRESS_MODES as readonly string[]).includes(progress)) throw new TosiaError('E_CONFIG', `--progress=${progress} must be ${orList(WATCH_PROGRESS_MODES)}`, { stage: 'config' });
  const stableMs = Number(opts.stable);
  if (!(Number.isInteger(stableMs) && stableMs >= 50 && stableMs <= 600_000)) throw new TosiaError('E_CONFIG', `--stable=${String(opts.stable)} must be an integer 50-600000 (milliseconds)`, { stage: 'config' });
  const cfg = applyOverrides(await loadConfig((opts.config as string | undefined) ?? null), opts, FLAGS);
  const f = batchFlags({ ...opts, progress: 'none' }, cfg);
  const pool = await queuePool(opts, f);
  const controller = new AbortController();
  const release = stopOnSignals(controller, f.outDir, 'tosia watch: stopping after the files in flight (press Ctrl-C again to abort now)\n');
  const out = (line: string) => process.stdout.write(line + '\n');
  const time = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const shown = (file: string) => relative(process.cwd(), file) || file;
  try {
    const events = watchFolder(dir, {
      config: f.config, outDir: f.outDir, concurrency: pool ? undefined : f.concurrency, inference: f.inference, pool,
      stableMs, poll: Boolean(opts.poll), signal: controller.signal,
    });
    let upToDate = 0;
    for await (const e of events) {
      // a watch never ends: the warning is said when the first file needs ffmpeg
      if (e.type === 'file-done' && e.decoder === 'ffmpeg') void warnIfOldFfmpeg(f.config);
      if (progress === 'json') {
        out(JSON.stringify(e));
        continue;
      }
      if (e.type === 'watching') process.stderr.write(`tosia watch: watching ${e.dir}, results in ${e.out_dir}\n`);
      else if (e.type === 'stopped') process.stderr.write(`tosia watch: stopped (${e.processed} processed, ${e.failed} failed, ${e.skipped} up to date)\n`);
      if (progress === 'none') continue;
      if (e.type === 'file-done' && e.skipped) upToDate++;
      else if (e.type === 'file-done') out(`${time()}  done    ${shown(e.file)}  ${e.label}  ${e.n_segments} segment${e.n_segments === 1 ? '' : 's'}  ${e.duration_s.toFixed(1)} s`);
      else if (e.type === 'file-failed') out(`${time()}  failed  ${shown(e.file)}  ${errorLine(e.code, e.message).trim()}`);
      else if (e.type === 'end' && upToDate > 0) {
        out(`${time()}  ${upToDate} up to date (skipped)`);
        upToDate = 0;
      }
    }
    return EXIT.OK;
  } finally {
    release();
  }
}

import type { Command } from 'commander';
import { TosiaError } from '../../algos/errors.js';
import { loadConfig } from '../../runtime/config/load.js';
import { readLabels } from '../../runtime/extract/read-labels.js';
import { EXIT } from '../exit-codes.js';
import { errorLine, handleError } from '../handle-error.js';
import { addConfigFlags, applyOverrides, type FlagName } from '../overrides.js';

const FLAGS: FlagName[] = ['sampleRate', 'decoder', 'ffmpeg', 'maxDuration', 'maxFileSize'];

export function registerExtract(program: Command, setExit: (code: number) => void): void {
  const cmd = program
    .command('extract')
    .description('Write, for every cough segment, the exact model-input tensor (.npy, float32) and its PNG, plus manifest.csv. Training reads only these.')
    .argument('<inputs...>', 'audio files or folders (searched recursively)')
    .requiredOption('-o, --out <dir>', 'output folder (created; never an input folder)')
    .option('--labels <file>', 'labels: a JSON list of {filename, <key>} (e.g. metadata.json) or a CSV with file and <key> columns')
    .option('--label-key <key>', 'the label field in --labels; booleans become <key> / not_<key>', 'label')
    .option('--model <path>', "take the tensor layout and normalisation from this model's manifest (default: NCHW, pixels / 255)")
    .option('--concurrency <n>', 'worker threads, each extracting one file at a time', '2');
  addConfigFlags(cmd, FLAGS);
  cmd.addHelpText('after', `
Examples:
  $ tosia extract ../shared/data/covid19-cough/raw --out data/extract \\
      --labels ../shared/data/covid19-cough/metadata.json --label-key covid19
  $ tosia extract a.wav b.ogg --out /tmp/segments`);
  cmd.action(async (inputs: string[], opts: Record<string, unknown>) => {
    try {
      const config = applyOverrides(await loadConfig((opts.config as string | undefined) ?? null), opts, FLAGS);
      const labels = opts.labels ? await readLabels(opts.labels as string, opts.labelKey as string) : undefined;
      let layout, normalisation;
      if (opts.model) {
        const { defaultEngine } = await import('../../runtime/engine/engine.js');
        const model = await defaultEngine().model(opts.model as string, { device: 'cpu' });
        layout = model.manifest.input.layout;
        normalisation = model.manifest.input.normalisation;
      }
      const concurrency = Number(opts.concurrency);
      if (!Number.isInteger(concurrency) || concurrency < 1) {
        throw new TosiaError('E_CONFIG', `--concurrency=${String(opts.concurrency)} must be an integer >= 1`, { stage: 'config' });
      }
      let done = 0;
      const { extract } = await import('../../runtime/extract/extract.js');
      const summary = await extract({
        inputs, outDir: opts.out as string, config, labels, layout, normalisation, concurrency,
        onFile: (e) => {
          done++;
          if (e.error) process.stderr.write(errorLine(e.error.code, e.error.message));
          else if (process.stderr.isTTY) process.stderr.write(`\r${done} files`);
        },
      });
      if (process.stderr.isTTY) process.stderr.write('\n');
      process.stdout.write(`${summary.files} files, ${summary.segments} segments, ${summary.failed.length} failed -> ${summary.manifest}\n`);
      setExit(summary.failed.length > 0 ? EXIT.SOME_FAILED : EXIT.OK);
    } catch (e) {
      setExit(handleError(e));
    }
  });
}

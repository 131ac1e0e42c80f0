import type { Command } from 'commander';
import { loadConfig } from '../../runtime/config/load.js';
import { execute } from '../../runtime/pipeline/execute.js';
import { getModel, modelPathFor } from '../../runtime/pipeline/model-cache.js';
import { WorkUnit } from '../../runtime/pipeline/work-unit.js';
import { EXIT, exitCodeFor } from '../exit-codes.js';
import { handleError, toTosiaError } from '../handle-error.js';
import { addConfigFlags, applyOverrides, type FlagName } from '../overrides.js';
import { renderResult } from '../render.js';

const FLAGS: FlagName[] = ['model', 'device', 'saveImages', 'aggregate', 'threshold', 'sampleRate', 'decoder', 'ffmpeg', 'maxDuration', 'maxFileSize', 'allowConfigMismatch'];

export function registerRun(program: Command, setExit: (code: number) => void): void {
  const cmd = program
    .command('run')
    .description('Diagnose recordings: segment the coughs, classify each one and the whole recording.')
    .argument('<files...>', 'audio files (wav, mp3, ogg/opus, flac, m4a, webm, ...)')
    .option('--json', 'print the full result as JSON (one line per file when there are several)');
  addConfigFlags(cmd, FLAGS);
  cmd.addHelpText('after', `
Examples:
  $ tosia run samples/coughs-3_snr-25db_white_16k.wav
  $ tosia run cough.ogg --json > result.json
  $ tosia run cough.mp3 --device cpu --save-images out/images
  $ tosia run cough.m4a --config my.yml --set classifier.aggregate=max`);
  cmd.action(async (files: string[], opts: Record<string, unknown>) => {
    const json = Boolean(opts.json);
    let cfg;
    try {
      cfg = applyOverrides(await loadConfig((opts.config as string | undefined) ?? null), opts, FLAGS);
    } catch (e) {
      setExit(handleError(e, { json }));
      return;
    }
    // loaded once for all files; the first execute overlaps it with its decode
    const model = getModel(modelPathFor(cfg), cfg.classifier.device);
    model.catch(() => undefined);
    let worst: number = EXIT.OK;
    for (const file of files) {
      try {
        const result = await execute(new WorkUnit({ sourceFile: file, ...cfg }), { model });
        process.stdout.write(json ? JSON.stringify(result, null, files.length > 1 ? undefined : 2) + '\n' : renderResult(result));
      } catch (e) {
        const code = exitCodeFor(toTosiaError(e).code);
        handleError(e, { json });
        worst = Math.max(worst, code);
        // a config or model error applies to every file: stop there
        if (code !== EXIT.SOME_FAILED) break;
      }
    }
    setExit(worst);
  });
}

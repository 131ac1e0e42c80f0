import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { TosiaError } from '../../algos/errors.js';
import { loadConfig } from '../../runtime/config/load.js';
import { writeFileAtomic } from '../../runtime/io/atomic-write.js';
import type { Result } from '../../runtime/pipeline/result.js';
import { EXIT } from '../exit-codes.js';
import { handleError } from '../handle-error.js';

export function registerReport(program: Command, setExit: (code: number) => void): void {
  program
    .command('report')
    .description('Write one self-contained HTML report (figures and audio embedded): from a result.json, a results.jsonl or a batch\'s --out folder.\nFor a batch it starts with a summary: counts by label and flag, the worst-quality recordings, a link to each.')
    .argument('<input>', 'result.json (tosia run --json), results.jsonl, or a batch output folder')
    .requiredOption('-o, --output <file>', 'the HTML file to write')
    .option('--audio-base <dir>', 'the folder recordings are looked up in, by the name each result gives (nothing outside it is read); default: here. A batch output folder is read from the paths its run recorded. Exit 1 when a recording is not found below it')
    .option('--max-width <px>', 'widest figure, in columns; longer recordings are pooled down to it', '1200')
    .option('--config <file>', 'the config whose mel and colour settings draw the figures')
    .addHelpText('after', `
Examples:
  $ tosia run cough.wav --json > result.json && tosia report result.json -o cough.html
  $ tosia run calls/ --out results/ && tosia report results/ -o calls.html`)
    .action(async (input: string, opts: Record<string, unknown>) => {
      try {
        const maxWidth = Number(opts.maxWidth);
        if (!(Number.isInteger(maxWidth) && maxWidth >= 50 && maxWidth <= 20000)) throw new TosiaError('E_CONFIG', `--max-width=${String(opts.maxWidth)} must be an integer 50-20000`, { stage: 'config' });
        if (opts.audioBase !== undefined && !(await stat(opts.audioBase as string).then((st) => st.isDirectory(), () => false))) {
          throw new TosiaError('E_CONFIG', `--audio-base ${String(opts.audioBase)} is not a folder`, { stage: 'config', hint: 'pass the folder the recordings are in (the names the results give are looked up below it)' });
        }
        const cfg = await loadConfig((opts.config as string | undefined) ?? null);
        const results = await readResults(input);
        // a result file may come from anywhere (the API's records carry the uploader's file name):
        // its names are looked up below the audio base only. A batch folder, with the run.json
        // tosia run wrote on this machine, holds the paths of that run's own inputs.
        const local = opts.audioBase === undefined && (await isBatchFolder(input));
        const { buildReport } = await import('../../runtime/report/build-report.js');
        const { html, missing } = await buildReport(results, cfg, { maxWidth, audioBase: local ? '/' : opts.audioBase as string | undefined });
        await writeFileAtomic(opts.output as string, html);
        process.stderr.write(`tosia report: ${results.length} recording${results.length === 1 ? '' : 's'} in ${String(opts.output)} (${(html.length / 1024).toFixed(0)} KB)\n`);
        if (missing > 0) process.stderr.write(`tosia report: warning: the audio of ${missing} of them was not found, so they have no figure or player${local ? '' : ` (looked up below ${String(opts.audioBase ?? '.')}; pass --audio-base with the folder the recordings are in)`}\n`);
        // a folder named for the audio that does not hold it is a mistake to report, not to pass over
        setExit(missing > 0 && opts.audioBase !== undefined ? EXIT.SOME_FAILED : EXIT.OK);
      } catch (e) {
        setExit(handleError(e));
      }
    });
}

async function isBatchFolder(input: string): Promise<boolean> {
  return stat(join(input, 'run.json')).then((s) => s.isFile(), () => false);
}

/** Results from a result.json (or a served record holding one), a results.jsonl, or a batch folder. */
async function readResults(input: string): Promise<Result[]> {
  let path = input;
  try {
    if ((await stat(input)).isDirectory()) path = join(input, 'results.jsonl');
  } catch (e) {
    throw new TosiaError('E_INPUT', 'does not exist', { file: input, stage: 'input', hint: 'pass a result.json, a results.jsonl or a batch output folder', cause: e });
  }
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new TosiaError('E_INPUT', `cannot be read (${(e as NodeJS.ErrnoException).code ?? e})`, { file: path, stage: 'input', hint: 'a batch output folder holds results.jsonl once a run has finished' });
  }
  const asResult = (v: unknown, where: string): Result => {
    const r = (v && typeof v === 'object' && 'result' in v && (v as { result: unknown }).result) || v;
    if (!r || typeof r !== 'object' || !('schema_version' in r) || !('segments' in r)) throw new TosiaError('E_INPUT', `${where} is not a tosia result`, { file: path, stage: 'input', hint: 'pass what tosia run --json, a batch or the API wrote' });
    return r as Result;
  };
  const parse = (line: string, where: string) => {
    try {
      return JSON.parse(line) as unknown;
    } catch (e) {
      throw new TosiaError('E_INPUT', `${where} is not JSON`, { file: path, stage: 'input', hint: 'pass what tosia run --json, a batch or the API wrote', cause: e });
    }
  };
  if (path.endsWith('.jsonl')) {
    const lines = text.split('\n').filter((l) => l.trim());
    if (lines.length === 0) throw new TosiaError('E_INPUT', 'holds no results', { file: path, stage: 'input', hint: 'run a batch first' });
    return lines.map((l, i) => asResult(parse(l, `line ${i + 1}`), `line ${i + 1}`));
  }
  return [asResult(parse(text, 'the file'), 'the file')];
}

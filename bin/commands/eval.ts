import type { Command } from 'commander';
import { TosiaError } from '../../algos/errors.js';
import { EXIT } from '../exit-codes.js';
import { handleError } from '../handle-error.js';

const f3 = (x: number) => x.toFixed(3);

export function registerEval(program: Command, setExit: (code: number) => void): void {
  program
    .command('eval')
    .description('Score found cough segments against annotated cough events, event by event: precision, recall, F1 and count error, per file and in total.')
    .requiredOption('--truth <file>', 'annotated events: CSV with file,start,end (seconds), JSON [{file,start,end}], or a sample sidecar .json')
    .requiredOption('--pred <path>', 'the output of tosia run: a result .json (--json), a results.jsonl, or a batch --out folder')
    .option('--onset-tolerance <s>', 'a segment matches an event when their onsets are this close', '0.25')
    .option('--min-overlap <fraction>', '...or when they overlap by this fraction of the shorter one', '0.5')
    .option('--json', 'print the report as JSON')
    .addHelpText('after', `
Each true event is matched at most once (greedy, by overlap then onset distance); files are
matched by base name. Totals are micro-averaged over all events.

Examples:
  $ tosia run samples/ --out /tmp/found && tosia eval --truth truth.csv --pred /tmp/found
  $ tosia run samples/coughs-3_snr-25db_white_16k.wav --json > r.json
  $ tosia eval --truth samples/coughs-3_snr-25db_white_16k.json --pred r.json --json`)
    .action(async (opts: { truth: string; pred: string; onsetTolerance: string; minOverlap: string; json?: boolean }) => {
      try {
        const onsetTolerance = Number(opts.onsetTolerance), minOverlap = Number(opts.minOverlap);
        if (!(onsetTolerance >= 0)) throw new TosiaError('E_CONFIG', `--onset-tolerance=${opts.onsetTolerance} must be a number >= 0`, { stage: 'eval' });
        if (!(minOverlap >= 0 && minOverlap <= 1)) throw new TosiaError('E_CONFIG', `--min-overlap=${opts.minOverlap} must be in [0, 1]`, { stage: 'eval' });
        const { readTruth, readPredictions, evaluate } = await import('../../runtime/eval/eval.js');
        const report = evaluate(await readTruth(opts.truth), await readPredictions(opts.pred), { onsetTolerance, minOverlap });
        if (opts.json) {
          process.stdout.write(JSON.stringify(report, null, 2) + '\n');
        } else {
          const w = Math.max(4, ...report.files.map((f) => f.file.length));
          const line = (name: string, s: { truth: number; predicted: number; tp: number; fp: number; fn: number; precision: number; recall: number; f1: number }, count: string) =>
            `${name.padEnd(w)}  ${String(s.truth).padStart(5)}  ${String(s.predicted).padStart(5)}  ${String(s.tp).padStart(4)}  ${String(s.fp).padStart(4)}  ${String(s.fn).padStart(4)}  ${f3(s.precision)}  ${f3(s.recall)}  ${f3(s.f1)}  ${count.padStart(6)}`;
          const out = [`${'file'.padEnd(w)}  truth  found    tp    fp    fn  prec.  recall  f1     count`];
          for (const f of report.files) out.push(line(f.file, f, (f.count_error > 0 ? '+' : '') + f.count_error));
          out.push(line('TOTAL', report.total, `|${report.total.mean_abs_count_error.toFixed(2)}|`));
          out.push(`(onset tolerance ${onsetTolerance} s, min overlap ${minOverlap}; count = found − truth, TOTAL = mean |count error| per file)`);
          if (report.missing_predictions.length) out.push(`no prediction for ${report.missing_predictions.length} annotated file(s), scored as all missed: ${report.missing_predictions.slice(0, 5).join(', ')}${report.missing_predictions.length > 5 ? ', ...' : ''}`);
          if (report.missing_truth.length) out.push(`not scored (no annotation): ${report.missing_truth.length} file(s)`);
          process.stdout.write(out.join('\n') + '\n');
        }
        setExit(EXIT.OK);
      } catch (e) {
        setExit(handleError(e));
      }
    });
}

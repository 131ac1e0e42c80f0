#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { registerConfig } from './commands/config.js';
import { registerDoctor } from './commands/doctor.js';
import { registerEval } from './commands/eval.js';
import { registerExtract } from './commands/extract.js';
import { registerRun } from './commands/run.js';
import { registerServe } from './commands/serve.js';
import { registerKeys } from './commands/keys.js';
import { registerDb } from './commands/db.js';
import { registerWorker } from './commands/worker.js';
import { registerWatch } from './commands/watch.js';
import { registerReport } from './commands/report.js';
import { registerAudio } from './commands/audio.js';
import { registerCompletion } from './commands/completion.js';
import { EXIT } from './exit-codes.js';
import { handleError } from './handle-error.js';
import { tosiaVersion } from '../runtime/paths.js';

let exitCode: number = EXIT.OK;
const setExit = (code: number) => { exitCode = code; };

// a reader that stops early (`tosia --help | head`, a progress reader that goes away) closes the
// pipe: what is left to print has nobody to read it, so it is dropped quietly; the work goes on
// and the exit code is what it would have been
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
  });
}

const program = new Command('tosia')
  .description('Cough-audio diagnosis pipeline: segment coughs, make mel spectrogram images, classify them with an ONNX model.\nResearch software, not a medical device.')
  .version(tosiaVersion(), '-V, --version')
  .exitOverride()
  .showHelpAfterError('(run with --help for usage)')
  .addHelpText('after', `
Exit codes: 0 all inputs succeeded, 1 some inputs failed, 2 usage or config error, 3 model or environment error,
130 a batch was interrupted (run it again to finish).

Examples:
  $ tosia run samples/coughs-3_snr-25db_white_16k.wav
  $ tosia config > my.yml
  $ tosia doctor`);

registerRun(program, setExit);
registerExtract(program, setExit);
registerConfig(program, setExit);
registerDoctor(program, setExit);
registerEval(program, setExit);
registerServe(program, setExit);
registerKeys(program, setExit);
registerDb(program, setExit);
registerWorker(program, setExit);
registerWatch(program, setExit);
registerReport(program, setExit);
registerAudio(program, setExit);
registerCompletion(program, setExit);
const override = (c: Command): void => {
  c.exitOverride();
  c.commands.forEach(override);
};
program.commands.forEach(override);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    exitCode = e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help' ? EXIT.OK : EXIT.USAGE;
  } else {
    exitCode = handleError(e);
  }
}
process.exitCode = exitCode;

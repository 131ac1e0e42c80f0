#!/usr/bin/env node
import type { Command } from 'commander';
import { tosiaVersion } from '../runtime/paths.js';

// `tosia --version` answers before anything else loads (imports are hoisted: the rest is dynamic)
if (process.argv.length === 3 && (process.argv[2] === '--version' || process.argv[2] === '-V')) {
  process.stdout.write(`${tosiaVersion()}\n`);
  process.exit(0);
}
const [{ Command: CommandClass, CommanderError }, { EXIT }, { handleError }] = await Promise.all([
  import('commander'), import('./exit-codes.js'), import('./handle-error.js'),
]);

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

const program = new CommandClass('tosia')
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

// Each command's module loads only when it is the one asked for (`tosia run x.wav` never loads
// serve's); help, an unknown command and `completion` (which lists them all) load every one, in
// this order, which is the order --help shows them in.
type Register = (program: Command, setExit: (code: number) => void) => void;
const COMMANDS: Record<string, () => Promise<Register>> = {
  run: async () => (await import('./commands/run.js')).registerRun,
  extract: async () => (await import('./commands/extract.js')).registerExtract,
  config: async () => (await import('./commands/config.js')).registerConfig,
  doctor: async () => (await import('./commands/doctor.js')).registerDoctor,
  eval: async () => (await import('./commands/eval.js')).registerEval,
  serve: async () => (await import('./commands/serve.js')).registerServe,
  keys: async () => (await import('./commands/keys.js')).registerKeys,
  db: async () => (await import('./commands/db.js')).registerDb,
  worker: async () => (await import('./commands/worker.js')).registerWorker,
  watch: async () => (await import('./commands/watch.js')).registerWatch,
  report: async () => (await import('./commands/report.js')).registerReport,
  audio: async () => (await import('./commands/audio.js')).registerAudio,
  completion: async () => (await import('./commands/completion.js')).registerCompletion,
};
const asked = process.argv[2];
const names = asked !== undefined && asked !== 'completion' && Object.hasOwn(COMMANDS, asked) ? [asked] : Object.keys(COMMANDS);
for (const register of await Promise.all(names.map((n) => COMMANDS[n]!()))) register(program, setExit);
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

import type { Command } from 'commander';
import { loadConfig } from '../../runtime/config/load.js';
import { EXIT } from '../exit-codes.js';
import { handleError } from '../handle-error.js';
import { addConfigFlags, applyOverrides, type FlagName } from '../overrides.js';

const FLAGS: FlagName[] = ['model', 'device', 'ffmpeg', 'allowConfigMismatch'];

export function registerDoctor(program: Command, setExit: (code: number) => void): void {
  const cmd = program
    .command('doctor')
    .description('Check the environment: Node, ffmpeg (and how it was found), onnxruntime providers, the model and its manifest.')
    .option('--json', 'print the report as JSON')
    .option('--queue <url>', 'also check a NATS JetStream queue: connection, streams, audio bucket, the workers\' consumer');
  addConfigFlags(cmd, FLAGS);
  cmd.addHelpText('after', `
Examples:
  $ tosia doctor
  $ tosia doctor --device cuda      # is the CUDA provider usable here?
  $ tosia doctor --model my.onnx --config my.yml
  $ tosia doctor --queue nats://queue:4222   # jobs waiting, held, redelivered`);
  cmd.action(async (opts: Record<string, unknown>) => {
    try {
      const cfg = applyOverrides(await loadConfig((opts.config as string | undefined) ?? null), opts, FLAGS);
      const { doctor } = await import('../../runtime/doctor.js');
      const report = await doctor(cfg);
      if (opts.queue !== undefined) {
        const { queueChecks } = await import('../../server/index.js');
        const more = await queueChecks(opts.queue as string);
        report.checks.push(...more);
        report.ok &&= more.every((c) => c.ok);
      }
      if (opts.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
      else for (const c of report.checks) process.stdout.write(`${c.ok ? (c.warning ? 'warn' : 'ok  ') : 'FAIL'}  ${c.name.padEnd(14)} ${c.detail}\n`);
      setExit(report.ok ? EXIT.OK : EXIT.ENVIRONMENT);
    } catch (e) {
      setExit(handleError(e));
    }
  });
}

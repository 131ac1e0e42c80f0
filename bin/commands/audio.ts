import type { Command } from 'commander';
import { TosiaError } from '../../algos/errors.js';
import { EXIT } from '../exit-codes.js';
import { handleError } from '../handle-error.js';

export function registerAudio(program: Command, setExit: (code: number) => void): void {
  const audio = program.command('audio').description("The server's stored recordings (content-addressed by sha256, wherever they are kept).");
  audio.command('migrate')
    .description('Copy every stored recording from one audio store to another, checking each sha256 on both sides; run it again to resume.\nThe records need no change: they name audio by sha256. Then start serve with --audio-store set to --to.')
    .requiredOption('--from <url>', 'the store the audio is in now: file:///folder (a serve --data folder), azblob://container[/prefix] or s3://bucket[/prefix]')
    .requiredOption('--to <url>', 'the store to copy it into (made when missing, where the credentials allow it)')
    .option('--delete-source', 'remove each recording from --from once its copy is verified (default: the source is kept)')
    .option('--concurrency <n>', 'recordings copied at once', '4')
    .option('--json', 'progress as NDJSON events on stdout, then the summary')
    .addHelpText('after', `
Environment: AZURE_STORAGE_CONNECTION_STRING for azblob://; AWS credentials (and AWS_ENDPOINT_URL) for s3://.

Examples:
  $ tosia audio migrate --from file:///var/lib/tosia --to azblob://tosia-audio
  $ tosia audio migrate --from file:///var/lib/tosia --to s3://tosia-audio/prod --delete-source`)
    .action(async (o: Record<string, unknown>) => {
      try {
        const concurrency = Number(o.concurrency);
        if (!(Number.isInteger(concurrency) && concurrency >= 1 && concurrency <= 64)) throw new TosiaError('E_CONFIG', `--concurrency=${String(o.concurrency)} must be an integer 1-64`, { stage: 'config' });
        const { migrateAudioUrls } = await import('../../server/index.js');
        const it = migrateAudioUrls(o.from as string, o.to as string, { deleteSource: Boolean(o.deleteSource), concurrency });
        const json = Boolean(o.json);
        let last = 0;
        for (;;) {
          const r = await it.next();
          if (r.done) {
            const s = r.value;
            if (json) process.stdout.write(JSON.stringify({ type: 'end', ...s }) + '\n');
            else {
              process.stdout.write(`${s.total} recordings: ${s.copied} copied (${(s.bytes / 1048576).toFixed(1)} MB), ${s.present} already there, ${s.failed} failed${o.deleteSource ? `, ${s.deleted} removed from the source` : ''}\n`);
              for (const f of s.failures) process.stderr.write(`  ${f.sha256}: ${f.error}\n`);
              if (s.failed > 0) process.stderr.write('Fix: the failed ones are left where they were; run the same command again once their cause is fixed\n');
            }
            setExit(s.failed > 0 ? EXIT.SOME_FAILED : EXIT.OK);
            return;
          }
          const e = r.value;
          if (json) process.stdout.write(JSON.stringify(e) + '\n');
          else if (e.type === 'start') process.stderr.write(`tosia audio migrate: ${e.total} recordings from ${e.from} to ${e.to}\n`);
          else if (e.done === e.total || Date.now() - last > 1000) {
            last = Date.now();
            process.stderr.write(`  ${e.done}/${e.total} (${(e.bytes / 1048576).toFixed(1)} MB copied)\n`);
          }
        }
      } catch (e) {
        setExit(handleError(e));
      }
    });
}

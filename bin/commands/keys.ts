import type { Command } from 'commander';
import { EXIT } from '../exit-codes.js';
import { handleError } from '../handle-error.js';
import { addStoreFlags } from './serve.js';

export function registerKeys(program: Command, setExit: (code: number) => void): void {
  const keys = program.command('keys').description("Manage the server's API keys (stored only as hashes, in the records database).");
  const run = (fn: (opts: Record<string, unknown>, ...args: string[]) => Promise<void>) => async (...args: unknown[]) => {
    const cmd = args.at(-1) as Command;
    try {
      await fn(cmd.opts(), ...(args.slice(0, -2) as string[]));
      setExit(EXIT.OK);
    } catch (e) {
      setExit(handleError(e));
    }
  };
  const where = (o: Record<string, unknown>) => ({ dataDir: o.data as string, db: o.db as string | undefined });

  addStoreFlags(keys.command('create').description('Make a key and print it once: it cannot be shown again.')
    .requiredOption('--name <name>', 'who or what holds it (unique)')
    .requiredOption('--role <role>', 'read (GET), write (also POST) or admin (also DELETE)'))
    .addHelpText('after', '\nExample:\n  $ tosia keys create --name call-centre --role write')
    .action(run(async (o) => {
      const { createKey } = await import('../../server/index.js');
      const k = await createKey(where(o), o.name as string, o.role as string);
      process.stderr.write(`created key "${k.name}" (${k.role}); it is shown only now. Send it as Authorization: Bearer <key>\n`);
      process.stdout.write(`${k.key}\n`);
    }));

  addStoreFlags(keys.command('list').description('List keys: name, role, created, last used, revoked.').option('--json', 'print JSON'))
    .action(run(async (o) => {
      const { listKeys } = await import('../../server/index.js');
      const list = await listKeys(where(o));
      if (o.json) process.stdout.write(JSON.stringify(list, null, 2) + '\n');
      else if (list.length === 0) process.stdout.write('no keys (make one with: tosia keys create --name NAME --role admin)\n');
      else {
        process.stdout.write(`${'name'.padEnd(24)} ${'role'.padEnd(6)} ${'created'.padEnd(24)} ${'last used'.padEnd(24)} revoked\n`);
        for (const k of list) process.stdout.write(`${k.name.padEnd(24)} ${k.role.padEnd(6)} ${k.created_at.padEnd(24)} ${(k.last_used_at ?? '-').padEnd(24)} ${k.revoked_at ?? '-'}\n`);
      }
    }));

  addStoreFlags(keys.command('revoke').description('Revoke a key by name; requests with it get 401 from then on.').argument('<name>'))
    .action(run(async (o, name) => {
      const { revokeKey } = await import('../../server/index.js');
      await revokeKey(where(o), name!);
      process.stderr.write(`revoked key "${name}"\n`);
    }));
}

import type { Command } from 'commander';
import { EXIT } from '../exit-codes.js';
import { handleError } from '../handle-error.js';
import { addStoreFlags } from './serve.js';

export function registerDb(program: Command, setExit: (code: number) => void): void {
  const db = program.command('db').description('The records database: migrations (tosia serve also migrates at start).');
  const where = (o: Record<string, unknown>) => ({ dataDir: o.data as string, db: o.db as string | undefined });
  addStoreFlags(db.command('migrate').description('Bring the database to the latest schema version.')).action(async (o: Record<string, unknown>) => {
    try {
      const { dbMigrate } = await import('../../server/index.js');
      const r = await dbMigrate(where(o));
      process.stdout.write(r.applied.length === 0 ? `${r.database}: up to date\n` : `${r.database}: applied ${r.applied.join(', ')}\n`);
      setExit(EXIT.OK);
    } catch (e) {
      setExit(handleError(e));
    }
  });
  addStoreFlags(db.command('status').description('Show each migration and when it was applied.').option('--json', 'print JSON')).action(async (o: Record<string, unknown>) => {
    try {
      const { dbStatus } = await import('../../server/index.js');
      const r = await dbStatus(where(o));
      if (o.json) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
      else {
        process.stdout.write(`${r.database} (${r.dialect})\n`);
        for (const m of r.migrations) process.stdout.write(`  ${m.applied_at ? 'applied' : 'pending'}  ${m.name}${m.applied_at ? `  ${m.applied_at}` : ''}\n`);
      }
      setExit(EXIT.OK);
    } catch (e) {
      setExit(handleError(e));
    }
  });
}

import { toTosiaError } from '../runtime/errors.js';
import { exitCodeFor } from './exit-codes.js';

/** Print an error on stderr (and as JSON on stdout when asked) and return the exit code. */
export function handleError(e: unknown, opts: { json?: boolean } = {}): number {
  const err = toTosiaError(e);
  process.stderr.write(`tosia: ${err.code}: ${err.message}\n`);
  if (err.code === 'E_INTERNAL' && process.env.TOSIA_DEBUG && err.cause instanceof Error) process.stderr.write(`${err.cause.stack}\n`);
  if (opts.json) process.stdout.write(JSON.stringify({ error: err.toJSON() }) + '\n');
  return exitCodeFor(err.code);
}

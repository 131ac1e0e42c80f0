import { isTosiaError, TosiaError } from '../algos/errors.js';
import { exitCodeFor } from './exit-codes.js';

/** Normalise anything thrown into a TosiaError (unexpected ones become E_INTERNAL). */
export function toTosiaError(e: unknown): TosiaError {
  if (isTosiaError(e)) return e;
  const msg = e instanceof Error ? e.message : String(e);
  return new TosiaError('E_INTERNAL', `unexpected error: ${msg}`, { hint: 'this is a bug in tosia; please report it with the command you ran', cause: e });
}

/** Print an error on stderr (and as JSON on stdout when asked) and return the exit code. */
export function handleError(e: unknown, opts: { json?: boolean } = {}): number {
  const err = toTosiaError(e);
  process.stderr.write(`tosia: ${err.code}: ${err.message}\n`);
  if (err.code === 'E_INTERNAL' && process.env.TOSIA_DEBUG && err.cause instanceof Error) process.stderr.write(`${err.cause.stack}\n`);
  if (opts.json) process.stdout.write(JSON.stringify({ error: err.toJSON() }) + '\n');
  return exitCodeFor(err.code);
}

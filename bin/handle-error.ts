import { toTosiaError } from '../runtime/errors.js';
import { exitCodeFor } from './exit-codes.js';

/**
 * Text safe for a terminal line: control characters (a newline in a file name, ANSI escapes)
 * are written as escapes, so a name can neither forge a line nor drive the terminal.
 */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => (c === '\n' ? '\\n' : c === '\r' ? '\\r' : c === '\t' ? '\\t' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
}

/** The one-line form of an error on stderr. */
export function errorLine(code: string, message: string): string {
  return `tosia: ${code}: ${printable(message)}\n`;
}

/** Print an error on stderr (and as JSON on stdout when asked) and return the exit code. */
export function handleError(e: unknown, opts: { json?: boolean } = {}): number {
  const err = toTosiaError(e);
  process.stderr.write(errorLine(err.code, err.message));
  if (err.code === 'E_INTERNAL' && process.env.TOSIA_DEBUG && err.cause instanceof Error) process.stderr.write(`${err.cause.stack}\n`);
  if (opts.json) process.stdout.write(JSON.stringify({ error: err.toJSON() }) + '\n');
  return exitCodeFor(err.code);
}

/** "a, b or c", for the allowed values in a message. */
export function orList(values: readonly string[]): string {
  return values.length < 2 ? values.join('') : `${values.slice(0, -1).join(', ')} or ${values.at(-1)}`;
}

import { ERROR_CODES, isTosiaError, TosiaError, type ErrorCode } from '../algos/errors.js';

/**
 * The runtime's one place for turning anything thrown into a TosiaError and for carrying errors
 * across threads and processes. The CLI maps codes to exit codes (bin/exit-codes.ts); the
 * server maps the same codes to HTTP statuses.
 */

/** An error as it crosses a thread or process boundary, or lands in errors.jsonl. */
export interface SerializedError { code: ErrorCode; stage?: string; message: string }

/** Anything thrown, as a TosiaError; an unexpected one becomes E_INTERNAL ("a bug"). */
export function toTosiaError(e: unknown, where: { file?: string; stage?: string } = {}): TosiaError {
  if (isTosiaError(e)) return e;
  const msg = e instanceof Error ? e.message : String(e);
  return new TosiaError('E_INTERNAL', `unexpected error: ${msg}`, { ...where, hint: 'this is a bug in tosia; please report it with the command you ran', cause: e });
}

export function serializeError(e: unknown, where: { file?: string; stage?: string } = {}): SerializedError {
  const err = toTosiaError(e, where);
  return { code: err.code, stage: err.stage, message: err.message };
}

/** The TosiaError a serialized one stands for (its message already names the file and stage). */
export function deserializeError(s: SerializedError): TosiaError {
  const code = ERROR_CODES.includes(s.code) ? s.code : 'E_INTERNAL';
  const err = new TosiaError(code, s.message);
  if (s.stage !== undefined) Object.assign(err, { stage: s.stage });
  return err;
}

/** Write errors that no other output in the same folder would escape. */
const FOLDER_WIDE = new Set(['ENOSPC', 'EDQUOT', 'EROFS', 'EIO', 'EACCES', 'EPERM', 'EMFILE', 'ENFILE']);

/**
 * Whether an output error stops every output (a full disk, a read-only or forbidden folder), as
 * opposed to one file's (a name too long, a path blocked by a file). Unknown causes count as
 * folder-wide: stopping is the safe side.
 */
export function stopsEveryOutput(e: TosiaError): boolean {
  if (e.code !== 'E_OUTPUT') return false;
  const errno = (e.cause as NodeJS.ErrnoException | undefined)?.code;
  return errno === undefined || FOLDER_WIDE.has(errno);
}

/**
 * Failures that the same bytes, config, limits and model would only repeat: a property of the
 * input. Environment problems (no ffmpeg, a model that does not load, a full disk) never are.
 */
export function isInputFailure(code: string): boolean {
  return code === 'E_DECODE' || code === 'E_INPUT';
}

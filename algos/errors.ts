/**
 * The one error hierarchy of tosia. Every failure a user can cause carries a stable `code`;
 * the CLI maps codes to exit codes (see bin/handle-error.ts) and batch logs record them.
 */
export type ErrorCode = 'E_INPUT' | 'E_DECODE' | 'E_CONFIG' | 'E_MODEL' | 'E_OUTPUT' | 'E_INTERNAL';

export const ERROR_CODES: readonly ErrorCode[] = ['E_INPUT', 'E_DECODE', 'E_CONFIG', 'E_MODEL', 'E_OUTPUT', 'E_INTERNAL'];

export interface TosiaErrorDetails {
  /** The file the error concerns, when there is one. */
  file?: string;
  /** The pipeline stage: config, decode, segment, mel, colour, classify, output, model. */
  stage?: string;
  /** What the user can do about it. Appended to the message. */
  hint?: string;
  cause?: unknown;
}

export class TosiaError extends Error {
  readonly code: ErrorCode;
  readonly file?: string;
  readonly stage?: string;
  readonly hint?: string;

  constructor(code: ErrorCode, message: string, details: TosiaErrorDetails = {}) {
    const where = [details.file ? `${details.file}` : '', details.stage ? `[${details.stage}]` : '']
      .filter(Boolean)
      .join(' ');
    const full = `${where ? where + ': ' : ''}${message}${details.hint ? `. Fix: ${details.hint}` : ''}`;
    super(full, details.cause !== undefined ? { cause: details.cause } : undefined);
    this.name = 'TosiaError';
    this.code = code;
    if (details.file !== undefined) this.file = details.file;
    if (details.stage !== undefined) this.stage = details.stage;
    if (details.hint !== undefined) this.hint = details.hint;
  }

  toJSON(): { code: ErrorCode; message: string; file?: string; stage?: string } {
    return { code: this.code, message: this.message, file: this.file, stage: this.stage };
  }
}

export function isTosiaError(e: unknown): e is TosiaError {
  return e instanceof TosiaError;
}

import type { ErrorCode } from '../algos/errors.js';

/** CLI exit codes (DESIGN.md). */
export const EXIT = { OK: 0, SOME_FAILED: 1, USAGE: 2, ENVIRONMENT: 3, INTERRUPTED: 130 } as const;

/** Which exit code an error of each code ends the process with. */
export function exitCodeFor(code: ErrorCode): number {
  switch (code) {
    case 'E_CONFIG': return EXIT.USAGE;
    case 'E_MODEL':
    case 'E_INTERNAL': return EXIT.ENVIRONMENT;
    default: return EXIT.SOME_FAILED; // E_INPUT, E_DECODE, E_OUTPUT: that input failed
  }
}

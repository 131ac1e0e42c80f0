import { createHash } from 'node:crypto';

/** The sha256 of `data` as hex: the identity of inputs, models and configs in every result. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

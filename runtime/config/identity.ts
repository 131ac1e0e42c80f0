import { sha256Hex } from '../io/sha256.js';
import { fieldsOf, sections, type Config, type FieldRole } from './schema.js';

/** JSON with object keys sorted, so that equal configs always hash alike. */
function canonical(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  return `{${Object.keys(v as object).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
}

/** The fields of `cfg` whose schema role is `role`, section by section. */
export function fieldsWithRole(cfg: Config, role: FieldRole): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const s of sections()) {
    for (const [k, f] of fieldsOf(s)) {
      if (f.role !== role) continue;
      (out[s] ??= {})[k] = (cfg[s] as Record<string, unknown>)[k];
    }
  }
  return out;
}

/**
 * The config identity, `config_sha256`: the hash of every analysis field (see FieldRole). Two
 * configs with the same identity give the same result for the same input and model, so a
 * stored result with this identity can be reused.
 */
export function configHash(cfg: Config): string {
  return sha256Hex(canonical(fieldsWithRole(cfg, 'analysis')));
}

/** The hash of the input limits (size, duration, decode time): a failure they caused is retried when they change. */
export function limitsHash(cfg: Config): string {
  return sha256Hex(canonical(fieldsWithRole(cfg, 'limit')));
}

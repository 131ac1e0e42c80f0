import { fieldsOf, sections, type Field } from './schema.js';

/**
 * config.yml as a JSON Schema (draft 2020-12), made from the one config table: editors that know
 * JSON Schema (the YAML language server, say) complete and check config.yml with it. It checks
 * each key on its own (type, range, allowed values); the rules between keys (hop_length <=
 * n_fft, low_db < high_db, …) are `tosia config --validate`'s.
 */
export function configJsonSchema(): Record<string, unknown> {
  const property = (f: Field): Record<string, unknown> => {
    const doc = 'unit' in f && f.unit ? `${f.doc} (${f.unit})` : f.doc;
    const alternatives = (f: { values: readonly string[] }) => f.values.join('|');
    const base: Record<string, unknown> = f.kind === 'enum' ? { enum: f.nullable ? [...f.values, null] : [...f.values] }
      : f.kind === 'set' ? {
        anyOf: [
          { type: 'array', items: { enum: [...f.values] }, minItems: 1, uniqueItems: true },
          { type: 'string', pattern: `^(${alternatives(f)})(,(${alternatives(f)}))*$` },
          ...(f.nullable ? [{ type: 'null' }] : []),
        ],
      }
      : { type: f.nullable ? [f.kind, 'null'] : f.kind };
    if (f.kind === 'number' || f.kind === 'integer') {
      if (f.min !== undefined) base[f.minExclusive ? 'exclusiveMinimum' : 'minimum'] = f.min;
      if (f.max !== undefined) base.maximum = f.max;
    }
    return { ...base, default: f.default, description: doc };
  };
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'tosia config.yml',
    description: 'Every key is optional: what is left out takes its default (tosia config prints them all). The rules between keys are checked by tosia config --validate.',
    type: 'object',
    additionalProperties: false,
    properties: Object.fromEntries(sections().map((s) => [s, {
      type: ['object', 'null'],
      additionalProperties: false,
      properties: Object.fromEntries(fieldsOf(s).map(([k, f]) => [k, property(f)])),
    }])),
  };
}

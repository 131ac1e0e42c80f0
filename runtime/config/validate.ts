import { TosiaError } from '../../algos/errors.js';
import { defaultConfig, fieldsOf, sections, SCHEMA, type Config, type Field, type SectionName } from './schema.js';
import { nearest } from './suggest.js';

function describeAllowed(f: Field): string {
  const nul = f.nullable ? ' or null' : '';
  switch (f.kind) {
    case 'enum': return `one of ${f.values.map((v) => `'${v}'`).join(', ')}${nul}`;
    case 'set': return `one or more of ${f.values.map((v) => `'${v}'`).join(', ')} (a list, or comma-separated)${nul}`;
    case 'boolean': return `true or false${nul}`;
    case 'string': return `a string${nul}`;
    default: {
      const what = f.kind === 'integer' ? 'an integer' : 'a number';
      const lo = f.min !== undefined ? `${f.minExclusive ? '>' : '>='} ${f.min}` : '';
      const hi = f.max !== undefined ? `<= ${f.max}` : '';
      const range = [lo, hi].filter(Boolean).join(' and ');
      return `${what}${range ? ` ${range}` : ''}${f.unit ? ` (${f.unit})` : ''}${nul}`;
    }
  }
}

export function allowedValues(f: Field): string {
  return describeAllowed(f);
}

function checkValue(path: string, f: Field, v: unknown, source: string): unknown {
  const bad = (why = '') => new TosiaError('E_CONFIG', `${path}=${JSON.stringify(v)} is invalid${why}: expected ${describeAllowed(f)}`, {
    file: source, stage: 'config', hint: `set ${path} to ${describeAllowed(f)}; default is ${JSON.stringify(f.default)}`,
  });
  if (v === null) {
    if (f.nullable) return null;
    throw bad();
  }
  switch (f.kind) {
    case 'boolean':
      if (typeof v !== 'boolean') throw bad();
      return v;
    case 'string':
      if (typeof v !== 'string' || v.length === 0) throw bad();
      return v;
    case 'enum':
      if (typeof v !== 'string' || !f.values.includes(v)) throw bad();
      return v;
    case 'set': {
      const items = typeof v === 'string' ? v.split(',').map((x) => x.trim()) : v;
      if (!Array.isArray(items) || items.length === 0 || items.some((x) => typeof x !== 'string' || !f.values.includes(x))) throw bad();
      // in the table's order, once each: the same set always reads the same
      return f.values.filter((x) => items.includes(x));
    }
    default: {
      if (typeof v !== 'number' || !Number.isFinite(v)) throw bad();
      if (f.kind === 'integer' && !Number.isInteger(v)) throw bad();
      if (f.min !== undefined && (f.minExclusive ? !(v > f.min) : !(v >= f.min))) throw bad(' (out of range)');
      if (f.max !== undefined && !(v <= f.max)) throw bad(' (out of range)');
      return v;
    }
  }
}

/** Rules that involve more than one key. */
function checkCrossField(c: Config, source: string): void {
  const fail = (path: string, msg: string, hint: string) => {
    throw new TosiaError('E_CONFIG', `${path}: ${msg}`, { file: source, stage: 'config', hint });
  };
  const m = c.mel_spec, sr = c.audio.sample_rate;
  if (m.hop_length > m.n_fft) fail('mel_spec.hop_length', `${m.hop_length} is larger than n_fft=${m.n_fft}, so samples would be skipped`, 'use hop_length <= n_fft');
  if (m.win_length !== null && m.win_length > m.n_fft) fail('mel_spec.win_length', `${m.win_length} is larger than n_fft=${m.n_fft}`, 'use win_length <= n_fft or null');
  const fmax = m.fmax ?? sr / 2;
  if (fmax > sr / 2) fail('mel_spec.fmax', `${fmax} Hz is above the Nyquist frequency ${sr / 2} Hz of audio.sample_rate=${sr}`, `use fmax <= ${sr / 2} or null`);
  if (m.fmin >= fmax) fail('mel_spec.fmin', `${m.fmin} Hz must be below fmax=${fmax} Hz`, 'lower fmin or raise fmax');
  const s = c.segmentation;
  if (s.hop_length_s > s.frame_length_s) fail('segmentation.hop_length_s', `${s.hop_length_s} is larger than frame_length_s=${s.frame_length_s}`, 'use hop_length_s <= frame_length_s');
  if (s.excess_high_db <= s.excess_low_db) fail('segmentation.excess_high_db', `${s.excess_high_db} must be greater than excess_low_db=${s.excess_low_db}`, 'raise excess_high_db or lower excess_low_db');
  if (s.fmin_hz >= s.fmax_hz) fail('segmentation.fmin_hz', `${s.fmin_hz} Hz must be below fmax_hz=${s.fmax_hz} Hz`, 'lower fmin_hz or raise fmax_hz');
  if (s.high_db <= s.low_db) fail('segmentation.high_db', `${s.high_db} must be greater than low_db=${s.low_db}`, 'raise high_db or lower low_db');
  if (s.max_length_s <= 2 * s.min_length_s) fail('segmentation.max_length_s', `${s.max_length_s} must be more than twice min_length_s=${s.min_length_s}`, 'raise max_length_s or lower min_length_s');
  const cs = c.color_spec;
  if (cs.db_max <= cs.db_min) fail('color_spec.db_max', `${cs.db_max} must be greater than db_min=${cs.db_min}`, 'raise db_max or lower db_min');
}

/**
 * Validate a user's config object (parsed YAML or a JS object) against the schema and fill in
 * defaults. Unknown keys, wrong types and out-of-range values are E_CONFIG errors naming the key
 * path, the allowed values and, for unknown keys, the nearest known key.
 */
export function validateConfig(input: unknown, source = '<config>'): Config {
  const out = defaultConfig() as unknown as Record<string, Record<string, unknown>>;
  if (input === null || input === undefined) return out as unknown as Config;
  if (typeof input !== 'object' || Array.isArray(input)) {
    throw new TosiaError('E_CONFIG', `the config must be a mapping of sections (${sections().join(', ')}), got ${Array.isArray(input) ? 'a list' : typeof input}`, { file: source, stage: 'config' });
  }
  const known = sections();
  for (const [sec, body] of Object.entries(input as Record<string, unknown>)) {
    if (!(known as string[]).includes(sec)) {
      const allKeys = known.flatMap((s) => fieldsOf(s).map(([k]) => k));
      const near = nearest(sec, known) ?? (allKeys.includes(sec) ? `${known.find((s) => fieldsOf(s).some(([k]) => k === sec))}.${sec}` : undefined);
      throw new TosiaError('E_CONFIG', `unknown section '${sec}'`, {
        file: source, stage: 'config', hint: near ? `did you mean '${near}'? Sections are ${known.join(', ')}` : `sections are ${known.join(', ')}`,
      });
    }
    if (body === null || body === undefined) continue;
    if (typeof body !== 'object' || Array.isArray(body)) {
      throw new TosiaError('E_CONFIG', `section '${sec}' must be a mapping of keys, got ${JSON.stringify(body)}`, { file: source, stage: 'config' });
    }
    const fields = SCHEMA[sec as SectionName] as Record<string, Field>;
    for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
      const f = fields[key];
      if (!f) {
        const near = nearest(key, Object.keys(fields));
        throw new TosiaError('E_CONFIG', `unknown key '${sec}.${key}'`, {
          file: source, stage: 'config', hint: near ? `did you mean '${sec}.${near}'?` : `keys of ${sec} are ${Object.keys(fields).join(', ')}`,
        });
      }
      out[sec]![key] = checkValue(`${sec}.${key}`, f, value, source);
    }
  }
  const cfg = out as unknown as Config;
  checkCrossField(cfg, source);
  return cfg;
}

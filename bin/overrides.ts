import type { Command } from 'commander';
import { TosiaError } from '../algos/errors.js';
import type { Config } from '../runtime/config/schema.js';
import { SCHEMA } from '../runtime/config/schema.js';
import { validateConfig } from '../runtime/config/validate.js';

/** Named flags that override one config key each; their help text is the schema's doc. */
export const FLAG_KEYS = {
  model: { flag: '--model <path>', key: 'classifier.model' },
  device: { flag: '--device <device>', key: 'classifier.device' },
  saveImages: { flag: '--save-images <dir>', key: 'output.save_images' },
  aggregate: { flag: '--aggregate <method>', key: 'classifier.aggregate' },
  threshold: { flag: '--threshold <p>', key: 'classifier.threshold' },
  sampleRate: { flag: '--sample-rate <hz>', key: 'audio.sample_rate' },
  ffmpeg: { flag: '--ffmpeg <path>', key: 'audio.ffmpeg_path' },
  decoder: { flag: '--decoder <which>', key: 'audio.decoder' },
  labels: { flag: '--labels <formats>', key: 'output.labels' },
  minCoughScore: { flag: '--min-cough-score <s>', key: 'classifier.min_cough_score' },
  maxDuration: { flag: '--max-duration <s>', key: 'audio.max_duration_s' },
  maxFileSize: { flag: '--max-file-size <mb>', key: 'audio.max_file_size_mb' },
  onDamage: { flag: '--on-damage <mode>', key: 'audio.on_damage' },
  allowConfigMismatch: { flag: '--allow-config-mismatch', key: 'classifier.allow_config_mismatch' },
} as const;
export type FlagName = keyof typeof FLAG_KEYS;

/** A flag's help: the key's doc, its values, and its key with the default a config file can change. */
function docOf(path: string): string {
  const [s, k] = path.split('.') as [keyof typeof SCHEMA, string];
  const f = (SCHEMA[s] as Record<string, { doc: string; values?: readonly string[]; default: unknown }>)[k]!;
  const shown = Array.isArray(f.default) ? f.default.join(',') : f.default === null ? 'null' : String(f.default);
  return `${f.doc}${f.values ? ` (${f.values.join(' | ')})` : ''} [${path}; default: ${shown}]`;
}

export function addConfigFlags(cmd: Command, names: readonly FlagName[]): Command {
  cmd.option('-c, --config <file>', 'YAML config file (defaults for every key not in it)');
  for (const n of names) cmd.option(FLAG_KEYS[n].flag, docOf(FLAG_KEYS[n].key));
  cmd.option('--set <key=value>', 'override any config key, e.g. --set mel_spec.n_mels=64 (repeatable)', (v: string, prev: string[] = []) => [...prev, v]);
  return cmd;
}

/** Parse a flag's text value the way YAML would read a scalar. */
function scalar(text: string): unknown {
  if (text === 'null' || text === '~') return null;
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(text)) return Number(text);
  return text;
}

/** Apply --set and named flags on top of a loaded config, then validate the result again. */
export function applyOverrides(cfg: Config, opts: Record<string, unknown>, names: readonly FlagName[]): Config {
  const merged = JSON.parse(JSON.stringify(cfg)) as Record<string, Record<string, unknown>>;
  const put = (path: string, value: unknown, from: string) => {
    const [s, k, ...rest] = path.split('.');
    if (!s || !k || rest.length > 0) throw new TosiaError('E_CONFIG', `${from}: '${path}' is not a section.key path`, { stage: 'config', hint: 'use --set section.key=value, e.g. --set mel_spec.n_mels=64' });
    const field = (SCHEMA as unknown as Record<string, Record<string, { kind: string }>>)[s]?.[k];
    merged[s] ??= {};
    // string keys (paths) keep the text as typed, even when it looks like a number
    merged[s]![k] = field?.kind === 'string' && typeof value !== 'string' && value !== null ? String(value) : value;
  };
  for (const n of names) {
    const v = opts[n];
    if (v === undefined) continue;
    put(FLAG_KEYS[n].key, typeof v === 'string' ? scalar(v) : v, FLAG_KEYS[n].flag.split(' ')[0]!);
  }
  for (const kv of (opts.set as string[] | undefined) ?? []) {
    const eq = kv.indexOf('=');
    if (eq < 0) throw new TosiaError('E_CONFIG', `--set '${kv}' has no '='`, { stage: 'config', hint: 'use --set section.key=value' });
    put(kv.slice(0, eq).trim(), scalar(kv.slice(eq + 1).trim()), '--set');
  }
  return validateConfig(merged, 'command-line flags');
}

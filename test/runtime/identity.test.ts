import { describe, expect, it } from 'vitest';
import { configHash, defaultConfig, limitsHash, SCHEMA, type Config, type Field } from '../../runtime/index.js';

/** A valid value different from the default, for any field. */
function another(f: Field): unknown {
  switch (f.kind) {
    case 'boolean': return !f.default;
    case 'enum': return f.values.find((v) => v !== f.default) ?? (f.default === null ? f.values[0] : null);
    case 'string': return f.default === null ? 'some/path' : `${f.default}x`;
    default: {
      const base = typeof f.default === 'number' ? f.default : (f.min ?? 0) + 1;
      const up = base + (f.kind === 'integer' ? 1 : base === 0 ? 0.1 : Math.abs(base) * 0.01);
      return f.max !== undefined && up > f.max ? base - (f.kind === 'integer' ? 1 : Math.abs(base) * 0.01) : up;
    }
  }
}

const fields = Object.entries(SCHEMA).flatMap(([s, body]) => Object.entries(body as Record<string, Field>).map(([k, f]) => [`${s}.${k}`, s, k, f] as const));

describe('the config identity is derived from the schema', () => {
  it('every field has a role', () => {
    for (const [path, , , f] of fields) expect(['analysis', 'limit', 'deployment'], path).toContain(f.role);
  });

  it.each(fields.map((x) => [x[0], x] as const))('%s: config_sha256 changes exactly when an analysis field changes', (_p, [path, s, k, f]) => {
    const base = defaultConfig();
    const changed = structuredClone(base) as Config;
    (changed[s as keyof Config] as Record<string, unknown>)[k] = another(f);
    expect((changed[s as keyof Config] as Record<string, unknown>)[k], path).not.toEqual((base[s as keyof Config] as Record<string, unknown>)[k]);
    expect(configHash(changed) !== configHash(base), `${path} (${f.role})`).toBe(f.role === 'analysis');
    expect(limitsHash(changed) !== limitsHash(base), `${path} (${f.role})`).toBe(f.role === 'limit');
  });

  it('min_cough_score, which a hand-kept list once left out, is part of it', () => {
    const cfg = defaultConfig();
    expect(configHash({ ...cfg, classifier: { ...cfg.classifier, min_cough_score: 0.75 } })).not.toBe(configHash(cfg));
  });

  it('paths, device, concurrency-like settings and artifacts are not', () => {
    const cfg = defaultConfig();
    const deployed: Config = { ...cfg, audio: { ...cfg.audio, ffmpeg_path: '/usr/bin/ffmpeg' }, classifier: { ...cfg.classifier, device: 'cpu', model: '/m.onnx' }, output: { save_images: '/tmp/x', labels: 'audacity' } };
    expect(configHash(deployed)).toBe(configHash(cfg));
  });
});

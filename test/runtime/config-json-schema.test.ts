import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configJsonSchema } from '../../runtime/config/json-schema.js';
import { defaultConfig } from '../../runtime/config/schema.js';
import { validateConfig } from '../../runtime/config/validate.js';
import { tosia } from '../helpers/cli.js';
import { REPO_ROOT } from '../helpers/shared.js';

// Issue 28: config.yml has a JSON Schema, made from the one config table, shipped as
// schemas/config.schema.json (tosia/config.schema.json) and printed by tosia config --json-schema.

const ajv = new Ajv2020({ strict: true, allErrors: true });
const check = ajv.compile(configJsonSchema());

describe("config.yml's JSON Schema", () => {
  it('the shipped file and tosia config --json-schema are what the config table makes now', async () => {
    const shipped = JSON.parse(readFileSync(join(REPO_ROOT, 'schemas/config.schema.json'), 'utf8'));
    expect(shipped).toEqual(configJsonSchema());
    const printed = await tosia(['config', '--json-schema']);
    expect(printed.code).toBe(0);
    expect(JSON.parse(printed.stdout)).toEqual(shipped);
  });

  it('accepts the defaults, the bundled config.yml, a partial config and an empty section', () => {
    for (const cfg of [defaultConfig(), parse(readFileSync(join(REPO_ROOT, 'config.yml'), 'utf8')), { audio: { sample_rate: 16000 } }, { audio: null }, {}]) {
      expect(check(cfg), JSON.stringify(check.errors)).toBe(true);
    }
  });

  it.each([
    ['an unknown section', { audoi: {} }],
    ['an unknown key', { audio: { sample_rat: 8000 } }],
    ['a value of the wrong type', { audio: { sample_rate: 'fast' } }],
    ['a value below its minimum', { audio: { sample_rate: 100 } }],
    ['zero where the minimum is exclusive', { audio: { decode_timeout_s: 0 } }],
    ['a value not among the allowed', { audio: { decoder: 'gstreamer' } }],
    ['null where null is not allowed', { audio: { sample_rate: null } }],
  ])('refuses %s, as tosia config --validate does', (_what, cfg) => {
    expect(check(cfg)).toBe(false);
    expect(() => validateConfig(cfg)).toThrow(expect.objectContaining({ code: 'E_CONFIG' }));
  });
});

import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { tosia } from '../helpers/cli.js';
import { REPO_ROOT } from '../helpers/shared.js';

// Issue 24: the result's JSON Schema ships in the package (schemas/result.schema.json) and is
// what the API's `Result` component is made from; what the CLI writes must match it, field for
// field (each object in it forbids properties it does not name, so a new field fails here).
const schema = JSON.parse(readFileSync(join(REPO_ROOT, 'schemas/result.schema.json'), 'utf8'));
const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats(ajv);
const validate = ajv.compile(schema);
const errorsOf = (doc: unknown) => (validate(doc) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`));

describe('schemas/result.schema.json', () => {
  it('tosia run --json on one recording prints a result the schema accepts', async () => {
    const r = await tosia(['run', 'samples/coughs-3_snr-25db_white_16k.wav', '--json']);
    expect(r.code).toBe(0);
    expect(errorsOf(JSON.parse(r.stdout))).toEqual([]);
  });

  it('every result of a batch over the bundled samples (clipped, silent, damaged, every codec) matches it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tosia-result-schema-'));
    // a damaged copy too: truncated_missing_s and corrupt_spans appear only then
    const flac = readFileSync(join(REPO_ROOT, 'samples/coughs-3-bout_snr-20db_pink_44k.flac'));
    const inputs = join(dir, 'in');
    const damaged = Buffer.from(flac);
    damaged.fill(0xaa, damaged.length >> 1, (damaged.length >> 1) + 300);
    mkdirSync(inputs, { recursive: true });
    writeFileSync(join(inputs, 'mid.flac'), damaged);
    writeFileSync(join(inputs, 'half.flac'), flac.subarray(0, flac.length >> 1));
    const r = await tosia(['run', 'samples', inputs, '--out', join(dir, 'out')], { timeout: 300_000 });
    expect(r.code, r.stderr).toBe(0);
    const results = readFileSync(join(dir, 'out/results.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(results.length).toBeGreaterThan(15);
    const seen = new Set<string>();
    for (const doc of results) {
      expect(errorsOf(doc), doc.source.path).toEqual([]);
      for (const k of Object.keys(doc.quality)) seen.add(k);
      for (const f of doc.quality.flags) seen.add(f);
    }
    // the optional parts were exercised, not only the common ones
    expect([...seen]).toEqual(expect.arrayContaining(['truncated_missing_s', 'corrupt_spans', 'clipped', 'no_cough', 'truncated', 'corrupt']));
  }, 300_000);

  it('a field the schema does not name is refused (the schema cannot silently drift from the code)', async () => {
    const r = JSON.parse((await tosia(['run', 'samples/coughs-3_snr-25db_white_16k.wav', '--json'])).stdout);
    expect(errorsOf({ ...r, extra: 1 })).toEqual([' must NOT have additional properties']);
    expect(errorsOf({ ...r, segments: [{ ...r.segments[0], extra: 1 }] })).toEqual(['/segments/0 must NOT have additional properties']);
  });
});

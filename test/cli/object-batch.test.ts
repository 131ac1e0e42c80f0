import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBucket, parseStoreUrl } from '../../server/audio-store/open.js';
import { objectSource } from '../../server/index.js';
import { tosia } from '../helpers/cli.js';
import { Azurite, S3rver, type EmulatedStore } from '../helpers/object-stores.js';
import { REPO_ROOT } from '../helpers/shared.js';
import { variant } from '../server/harness.js';

const OGG = readFileSync(join(REPO_ROOT, 'samples/coughs-2-voiced_snr-20db_babble_8k.ogg'));

async function put(url: string, env: NodeJS.ProcessEnv, files: Record<string, Uint8Array>): Promise<void> {
  const at = parseStoreUrl(url) as Extract<ReturnType<typeof parseStoreUrl>, { kind: 'azblob' | 's3' }>;
  const bucket = await openBucket(at, env);
  await bucket.ensure();
  for (const [key, bytes] of Object.entries(files)) await bucket.put(`${at.prefix}${key}`, (async function* () { yield Buffer.from(bytes); })());
  await bucket.close();
}

const lines = (file: string) => readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
const summary = (out: string) => JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));

describe.each([['azblob', new Azurite()], ['s3', new S3rver()]] as [string, EmulatedStore][])('tosia run %s://…: a batch over a container prefix', (scheme, emu) => {
  const root = `${scheme}://calls-${Math.random().toString(36).slice(2, 8)}`;
  const work = mkdtempSync(join(tmpdir(), 'tosia-objbatch-'));
  beforeAll(async () => {
    await emu.start();
    const files: Record<string, Uint8Array> = { 'notes.txt': Buffer.from('not a recording') };
    for (let i = 0; i < 8; i++) files[`2026-12/day-${i % 2}/rec-${i}.wav`] = variant(900 + i);
    files['2026-12/voice.ogg'] = OGG;
    files['2026-11/old.wav'] = variant(990);
    await put(`${root}/`, emu.env, files);
  }, 60_000);
  afterAll(async () => {
    await emu.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('lists the prefix, runs every recording below it, mirrors keys in --out, and resumes without reading what it finished', async () => {
    const out = join(work, `${scheme}-all`);
    const r = await tosia(['run', `${root}/2026-12/`, '--out', out, '--progress', 'none', '--concurrency', '2'], { env: emu.env, timeout: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    const results = lines(join(out, 'results.jsonl'));
    expect(results).toHaveLength(9);
    for (const res of results) {
      expect(res.source.path).toMatch(new RegExp(`^${root}/2026-12/`));
      expect(res.source.version).toEqual(expect.any(String));
    }
    expect(readdirSync(join(out, 'day-0')).sort()).toEqual(['rec-0.wav.json', 'rec-2.wav.json', 'rec-4.wav.json', 'rec-6.wav.json']);
    expect(readFileSync(join(out, 'voice.ogg.json'), 'utf8')).toContain('"codec"');
    expect(summary(out)).toMatchObject({ inputs: 9, processed: 9, skipped: 0, failed: 0, input_base: `${root}/2026-12/` });
    // the same command again: every result stands, by the objects' ETags
    const again = await tosia(['run', `${root}/2026-12/`, '--out', out, '--progress', 'none'], { env: emu.env, timeout: 120_000 });
    expect(again.code, again.stderr).toBe(0);
    expect(summary(out)).toMatchObject({ inputs: 9, processed: 0, skipped: 9 });
  }, 180_000);

  it('an object written again runs again; --include and --exclude filter keys; the results match a local folder batch', async () => {
    const out = join(work, `${scheme}-filtered`);
    const args = ['run', `${root}/2026-12/`, '--out', out, '--progress', 'none', '--include', '*.wav', '--exclude', 'day-1/*'];
    expect((await tosia(args, { env: emu.env, timeout: 120_000 })).code).toBe(0);
    expect(summary(out)).toMatchObject({ inputs: 4, processed: 4 });
    await put(`${root}/`, emu.env, { '2026-12/day-0/rec-2.wav': variant(950) });
    expect((await tosia(args, { env: emu.env, timeout: 120_000 })).code).toBe(0);
    expect(summary(out)).toMatchObject({ inputs: 4, processed: 1, skipped: 3 });
    // the same bytes from a local file give the same result, but for where they came from
    const remote = JSON.parse(readFileSync(join(out, 'day-0/rec-0.wav.json'), 'utf8'));
    const file = join(work, `${scheme}-rec-0.wav`);
    writeFileSync(file, variant(900));
    const local = JSON.parse((await tosia(['run', file, '--json'])).stdout);
    expect(remote.source.sha256).toBe(local.source.sha256);
    expect(remote.diagnosis).toEqual(local.diagnosis);
    expect(remote.segments).toEqual(local.segments);
  }, 180_000);

  it('a prefix with nothing below it is E_INPUT; object URLs need --out and are not mixed with files', async () => {
    const none = await tosia(['run', `${root}/1999/`, '--out', join(work, 'none'), '--progress', 'none'], { env: emu.env });
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/nothing is stored at or below/);
    const noOut = await tosia(['run', `${root}/2026-12/`], { env: emu.env });
    expect(noOut.code).toBe(2);
    expect(noOut.stderr).toMatch(/its recordings run as a batch.*--out/s);
    const mixed = await tosia(['run', `${root}/2026-12/`, 'samples/', '--out', join(work, 'mixed')], { env: emu.env });
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toMatch(/cannot be mixed/);
  }, 60_000);

  it('pages through a listing without holding it: 23 objects in pages of 5, in key order', async () => {
    const files: Record<string, Uint8Array> = {};
    for (let i = 0; i < 23; i++) files[`paged/r-${String(i).padStart(3, '0')}.wav`] = Buffer.from([i]);
    await put(`${root}/`, emu.env, files);
    const src = await objectSource([`${root}/paged/`], { pageSize: 5, env: emu.env });
    const s = src.source(undefined);
    expect(await s.count()).toBe(23);
    const keys: string[] = [];
    for await (const input of s.stream()) keys.push(input.rel);
    expect(keys).toEqual(Object.keys(files).map((k) => k.slice('paged/'.length)));
    await src.close();
  }, 60_000);
});

describe('tosia run on object stores: credentials', () => {
  it('azblob:// without AZURE_STORAGE_CONNECTION_STRING is E_CONFIG (2) naming the variable', async () => {
    const r = await tosia(['run', 'azblob://calls/x/', '--out', join(tmpdir(), 'tosia-nocreds')], { env: { AZURE_STORAGE_CONNECTION_STRING: '' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/AZURE_STORAGE_CONNECTION_STRING/);
  });
});

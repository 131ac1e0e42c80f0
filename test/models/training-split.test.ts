import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../helpers/cli.js';

const ROOT = join(__dirname, '../..');
const RAW = join(ROOT, '../shared/data/covid19-cough/raw');
const SPLIT = join(ROOT, 'models/tosia-cough-demo.split.json');

interface Entry { file: string; sha256: string }
interface SplitFile { parts: Record<'train' | 'calib' | 'val', Entry[]>; dropped_conflicting: { sha256: string; files: string[] }[]; collapsed_agreeing: { files: string[]; kept: string }[] }

/** Content hashes found in more than one part of a split. */
function sharedHashes(parts: Record<string, Entry[]>): string[] {
  const seen = new Map<string, string>(), clash = new Set<string>();
  for (const [name, entries] of Object.entries(parts)) for (const e of entries) {
    const at = seen.get(e.sha256);
    if (at !== undefined && at !== name) clash.add(e.sha256);
    if (at === undefined) seen.set(e.sha256, name);
  }
  return [...clash];
}

describe("the shipped model's training split (models/tosia-cough-demo.split.json)", () => {
  const split = JSON.parse(readFileSync(SPLIT, 'utf8')) as SplitFile;

  it('no content hash is in more than one of train, calibration and validation', () => {
    expect(sharedHashes(split.parts)).toEqual([]);
    expect(split.parts.train.length).toBeGreaterThan(0);
    expect(split.parts.val.length).toBeGreaterThan(0);
  });

  it('the check itself fails on a split that shares a hash between train and validation', () => {
    const leaky = { ...split.parts, val: [...split.parts.val, split.parts.train[0]!] };
    expect(sharedHashes(leaky)).toEqual([split.parts.train[0]!.sha256]);
  });

  it('no recording of a group with contradictory labels is used, and agreeing copies are used once', () => {
    const used = new Set(Object.values(split.parts).flat().map((e) => e.file));
    for (const g of split.dropped_conflicting) for (const f of g.files) expect(used.has(f)).toBe(false);
    for (const g of split.collapsed_agreeing) expect(g.files.filter((f) => used.has(f))).toEqual(used.has(g.kept) ? [g.kept] : []);
  });

  it.skipIf(!existsSync(RAW))('the recorded hashes are those of the recordings in ../shared/data/covid19-cough/raw', () => {
    for (const e of Object.values(split.parts).flat()) {
      expect(createHash('sha256').update(readFileSync(join(RAW, e.file))).digest('hex'), e.file).toBe(e.sha256);
    }
  });
});

describe('models/train/dataset.py (the split make model runs)', () => {
  it('drops groups of identical recordings with contradictory labels, keeps agreeing ones once, and splits by content hash', async () => {
    const script = `
import json, sys
sys.path.insert(0, ${JSON.stringify(join(ROOT, 'models/train'))})
from dataset import deduplicate, split_by_hash, shared_hashes
names = [f"r{i:03d}" for i in range(200)] + ["dupA", "dupB", "conf1", "conf2"]
hash_of = {n: n for n in names}
hash_of.update({"dupA": "same", "dupB": "same", "r000": "same", "conf1": "clash", "conf2": "clash"})
label_of = {n: i % 2 == 0 for i, n in enumerate(names)}
label_of.update({"dupA": True, "dupB": True, "r000": True, "conf1": True, "conf2": False})
kept, conflicting, collapsed = deduplicate(names, label_of, hash_of)
src = {n: "a" if i % 3 else "b" for i, n in enumerate(names)}
parts = split_by_hash(kept, label_of, src, hash_of, 7)
leaky = dict(parts, val=parts["val"] + parts["train"][:1])
print(json.dumps({"kept": len(kept), "conflicting": conflicting, "collapsed": collapsed, "shared": shared_hashes(parts, hash_of),
  "leaky": shared_hashes(leaky, hash_of), "sizes": {k: len(v) for k, v in parts.items()}}))
`;
    const r = await run('python3', ['-c', script]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.conflicting).toEqual([{ sha256: 'clash', files: ['conf1', 'conf2'], labels: [false, true] }]);
    expect(out.collapsed).toEqual([{ sha256: 'same', files: ['dupA', 'dupB', 'r000'], kept: 'dupA', labels: [true] }]);
    expect(out.kept).toBe(204 - 2 - 2);
    expect(out.shared).toEqual([]);
    expect(out.leaky).toHaveLength(1);
    expect(out.sizes.train + out.sizes.calib + out.sizes.val).toBe(out.kept);
  });
});

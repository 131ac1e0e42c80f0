import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { collectInputs } from '../../runtime/io/inputs.js';

/** root/a/{x.wav, y.MP3, notes.txt}, root/a/sub/z.flac, root/b/w.wav */
function tree(): string {
  const root = mkdtempSync(join(tmpdir(), 'tosia-inputs-'));
  mkdirSync(join(root, 'a', 'sub'), { recursive: true });
  mkdirSync(join(root, 'b'));
  for (const f of ['a/x.wav', 'a/y.MP3', 'a/notes.txt', 'a/sub/z.flac', 'b/w.wav']) writeFileSync(join(root, f), 'x');
  return root;
}

const paths = async (args: string[], exclude: string[] = []) => (await collectInputs(args, exclude)).map((f) => resolve(f.path));

describe('input expansion: every file once, without a set of every path', () => {
  it('walks folders depth first in name order, audio extensions in any case', async () => {
    const r = tree();
    expect(await paths([join(r, 'a')])).toEqual(['a/sub/z.flac', 'a/x.wav', 'a/y.MP3'].map((f) => join(r, f)));
  });

  it('a folder given twice, a folder inside another, a file inside a folder: each file once', async () => {
    const r = tree();
    const got = await paths([join(r, 'a'), join(r, 'a', 'sub'), join(r, 'a', 'x.wav'), join(r, 'a'), join(r, 'b'), join(r, 'b', 'w.wav')]);
    expect(got.sort()).toEqual(['a/sub/z.flac', 'a/x.wav', 'a/y.MP3', 'b/w.wav'].map((f) => join(r, f)).sort());
  });

  it('the same file twice, or spelt two ways, once', async () => {
    const r = tree();
    expect(await paths([join(r, 'b', 'w.wav'), join(r, 'b', '..', 'b', 'w.wav')])).toEqual([join(r, 'b', 'w.wav')]);
  });

  it('explicit files that the walk would not yield stay: a non-audio name, and a missing file (reported later)', async () => {
    const r = tree();
    const got = await paths([join(r, 'a'), join(r, 'a', 'notes.txt'), join(r, 'a', 'gone.wav')]);
    expect(got.filter((p) => p.endsWith('notes.txt') || p.endsWith('gone.wav'))).toEqual([join(r, 'a', 'notes.txt'), join(r, 'a', 'gone.wav')]);
    expect(got).toHaveLength(5);
  });

  it('overlapping globs, and a glob over a walked folder or an explicit file, yield each match once', async () => {
    const r = tree();
    const got = await paths([`${r}/**/*.wav`, `${r}/a/*`, join(r, 'b'), join(r, 'a', 'x.wav')]);
    expect(got.sort()).toEqual(['a/x.wav', 'a/y.MP3', 'b/w.wav'].map((f) => join(r, f)).sort());
  });

  it('never walks an excluded folder (the output folder), even inside an input folder', async () => {
    const r = tree();
    expect(await paths([r], [join(r, 'a')])).toEqual([join(r, 'b', 'w.wav')]);
  });

  it('a glob that matches nothing is E_INPUT; no arguments is E_INPUT', async () => {
    const r = tree();
    await expect(collectInputs([`${r}/**/*.ogg`])).rejects.toMatchObject({ code: 'E_INPUT' });
    await expect(collectInputs([])).rejects.toMatchObject({ code: 'E_INPUT' });
  });
});

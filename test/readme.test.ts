import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/shared.js';

/** The code block that follows `<!-- readme-example: NAME -->` in the README. */
function readmeExample(name: string): string {
  const text = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const at = text.indexOf(`<!-- readme-example: ${name} -->`);
  if (at < 0) throw new Error(`README.md has no example '${name}'`);
  const m = /```\w*\n([\s\S]*?)```/.exec(text.slice(at));
  return m![1]!;
}

describe("the README's library examples run as written", () => {
  it('the in-memory store: the first pass runs both recordings, the second finds both stored', () => {
    // a module file inside the package, so that `import 'tosia'` resolves to this package
    const file = join(REPO_ROOT, '.cache', 'readme-example-store.mjs');
    mkdirSync(join(REPO_ROOT, '.cache'), { recursive: true });
    writeFileSync(file, readmeExample('store'));
    const r = spawnSync(process.execPath, [file], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    const lines = r.stdout.trim().split('\n').sort();
    expect(lines).toHaveLength(4);
    expect(lines.filter((l) => l.startsWith('pass 1:') && !l.endsWith('(stored)'))).toHaveLength(2);
    expect(lines.filter((l) => l.startsWith('pass 2:') && l.endsWith('(stored)'))).toHaveLength(2);
  });
});

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from './helpers/cli.js';
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
  it('the in-memory store: the first pass runs both recordings, the second finds both stored', async () => {
    // a module file inside the package, so that `import 'tosia'` resolves to this package
    const file = join(REPO_ROOT, '.cache', 'readme-example-store.mjs');
    mkdirSync(join(REPO_ROOT, '.cache'), { recursive: true });
    writeFileSync(file, readmeExample('store'));
    const r = await run(process.execPath, [file]);
    expect(r.stderr).toBe('');
    const lines = r.stdout.trim().split('\n').sort();
    expect(lines).toHaveLength(4);
    expect(lines.filter((l) => l.startsWith('pass 1:') && !l.endsWith('(stored)'))).toHaveLength(2);
    expect(lines.filter((l) => l.startsWith('pass 2:') && l.endsWith('(stored)'))).toHaveLength(2);
  });
});

describe("the README's client example runs as written against a real server", () => {
  it('uploads, waits, lists, reviews and catches a TosiaProblem', async () => {
    const { startServer } = await import('./server/harness.js');
    const h = await startServer();
    try {
      const file = join(REPO_ROOT, '.cache', 'readme-example-client.mjs');
      mkdirSync(join(REPO_ROOT, '.cache'), { recursive: true });
      writeFileSync(file, readmeExample('client'));
      const r = await run(process.execPath, [file], { env: { TOSIA_URL: h.url, TOSIA_KEY: h.keys.write } });
      expect(r.stderr).toBe('');
      const lines = r.stdout.trim().split('\n');
      expect(lines[0]).toMatch(/^call-17 (covid19|not_covid19) done \d+$/);
      expect(lines[1]).toBe('listed true');
      expect(lines[2]).toBe('refused 412 E_PRECONDITION true');
    } finally {
      await h.close();
    }
  }, 120_000);
});

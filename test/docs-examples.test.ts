import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, run, type CliResult } from './helpers/cli.js';
import { REPO_ROOT } from './helpers/shared.js';

/**
 * Every example marked `<!-- example: NAME -->` in README.md and docs/*.md runs as written: the
 * code block after the marker, JavaScript with node (from inside the package, so that
 * `import 'tosia'` resolves to it) or shell with bash (with `tosia` on PATH). Each has a check
 * below; a marked example without one fails, so none can be added without being run.
 */
interface Example { name: string; file: string; lang: string; code: string }
function examples(): Example[] {
  const files = ['README.md', ...readdirSync(join(REPO_ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
  const found: Example[] = [];
  for (const file of files) {
    const text = readFileSync(join(REPO_ROOT, file), 'utf8');
    for (const m of text.matchAll(/<!-- example: ([\w-]+) -->\s*```(\w+)\n([\s\S]*?)```/g)) found.push({ name: m[1]!, file, lang: m[2]!, code: m[3]! });
  }
  return found;
}

const work = mkdtempSync(join(tmpdir(), 'tosia-docs-'));
const shims = join(work, 'bin');

beforeAll(async () => {
  // `tosia` on PATH, as after `npm i -g tosia`
  mkdirSync(shims);
  // the shell examples run in a folder of their own, with a copy of the bundled samples
  cpSync(join(REPO_ROOT, 'samples'), join(work, 'samples'), { recursive: true, filter: (f) => !f.includes('generator') });
  writeFileSync(join(shims, 'tosia'), `#!/bin/sh\nexec '${process.execPath}' '${BIN}' "$@"\n`);
  chmodSync(join(shims, 'tosia'), 0o755);
}, 60_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Consecutive JSON documents, as two `curl`s print them. */
function jsonSequence(text: string): unknown[] {
  const out: unknown[] = [];
  let depth = 0, start = -1, inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) { if (c === '\\') i++; else if (c === '"') inString = false; continue; }
    if (c === '"') inString = true;
    else if (c === '{' || c === '[') { if (depth++ === 0) start = i; }
    else if ((c === '}' || c === ']') && --depth === 0) out.push(JSON.parse(text.slice(start, i + 1)));
  }
  return out;
}

async function runExample(ex: Example, env: Record<string, string> = {}): Promise<CliResult> {
  const script = join(REPO_ROOT, '.cache', `docs-example-${ex.name}.${ex.lang === 'sh' ? 'sh' : 'mjs'}`);
  mkdirSync(join(REPO_ROOT, '.cache'), { recursive: true });
  writeFileSync(script, ex.lang === 'sh' ? `set -euo pipefail\ncd '${work}'\n${ex.code}` : ex.code);
  const cmd = ex.lang === 'sh' ? 'bash' : process.execPath;
  return run(cmd, [script], { env: { ...env, PATH: `${shims}:${process.env.PATH}` }, timeout: 180_000 });
}

/** What each example must print; `r` is its run. */
const CHECKS: Record<string, (r: CliResult) => void | Promise<void>> = {
  cli: (r) => {
    expect(r.stdout).toMatch(/Diagnosis: (not_)?covid19/);
    const result = JSON.parse(readFileSync(join(work, 'result.json'), 'utf8')) as { segments: unknown[] };
    expect(result.segments).toHaveLength(3);
    expect(readdirSync(join(work, 'results'), { recursive: true }).some((f) => String(f).endsWith('.selections.txt'))).toBe(true);
    expect(r.stdout).toMatch(/^ok\s+model/m);
  },
  library: (r) => expect(r.stdout.trim()).toMatch(/^(not_)?covid19 3 (cpu|cuda|wasm)$/),
  'library-first': (r) => expect(r.stdout.trim()).toMatch(/^(not_)?covid19 2$/),
  'library-bytes': (r) => expect(r.stdout.trim()).toBe('8000 upload-17.ogg true'),
  http: (r) => {
    const [posted, listed] = jsonSequence(r.stdout) as Record<string, unknown>[];
    expect(posted).toMatchObject({ status: 'done', external_id: 'call-17' });
    expect((listed as { items: { id: string }[] }).items.map((i) => i.id)).toContain(posted!.id);
  },
  store: (r) => {
    const lines = r.stdout.trim().split('\n').sort();
    expect(lines).toHaveLength(4);
    expect(lines.filter((l) => l.startsWith('pass 1:') && !l.endsWith('(stored)'))).toHaveLength(2);
    expect(lines.filter((l) => l.startsWith('pass 2:') && l.endsWith('(stored)'))).toHaveLength(2);
  },
  client: (r) => {
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^call-17 (covid19|not_covid19) done \d+$/);
    expect(lines[1]).toBe('listed true');
    expect(lines[2]).toBe('refused 412 E_PRECONDITION true');
  },
};
/** The examples that talk to a server: they get TOSIA_URL and a write key of a real one. */
const NEEDS_SERVER = new Set(['http', 'client']);

describe('the examples in README.md and docs/ run as written', () => {
  const all = examples();

  it('every marked example has a check here, and the README has one for the CLI, the library and HTTP', () => {
    expect(all.filter((e) => !(e.name in CHECKS)).map((e) => `${e.file}: ${e.name}`)).toEqual([]);
    expect(new Set(all.map((e) => e.name)).size, 'example names are unique').toBe(all.length);
    expect(all.filter((e) => e.file === 'README.md').map((e) => e.name).sort()).toEqual(['cli', 'http', 'library']);
  });

  it.each(all.map((e) => [`${e.file}: ${e.name}`, e] as const))('%s', async (_, ex) => {
    // each example that talks to a server gets one of its own, as a reader who starts `tosia serve` would
    const server = NEEDS_SERVER.has(ex.name) ? await (await import('./server/harness.js')).startServer() : null;
    try {
      const r = await runExample(ex, server ? { TOSIA_URL: server.url, TOSIA_KEY: server.keys.write } : {});
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).not.toMatch(/Error|E_[A-Z]+:/);
      await CHECKS[ex.name]!(r);
    } finally {
      await server?.close();
    }
  }, 300_000);
});

describe('the links in README.md and docs/', () => {
  /** GitHub's anchor for a heading. */
  const slug = (h: string) => h.trim().toLowerCase().replace(/[^\w\- ]/g, '').replace(/ /g, '-');
  const anchors = (file: string) => new Set([...readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '').matchAll(/^#+ (.*)$/gm)].map((m) => slug(m[1]!)));

  it('every relative link names a file that exists, and every anchor a heading in it', () => {
    const files = ['README.md', ...readdirSync(join(REPO_ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
    const broken: string[] = [];
    for (const file of files) {
      const text = readFileSync(join(REPO_ROOT, file), 'utf8').replace(/```[\s\S]*?```/g, '');
      for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1]!;
        if (/^[a-z]+:/.test(target)) continue;
        const [path, anchor] = target.split('#') as [string, string | undefined];
        const resolved = path ? join(REPO_ROOT, dirname(file), path) : join(REPO_ROOT, file);
        if (!existsSync(resolved)) broken.push(`${file}: ${target} (no such file)`);
        else if (anchor && resolved.endsWith('.md') && !anchors(resolved).has(anchor)) broken.push(`${file}: ${target} (no such heading)`);
      }
    }
    expect(broken).toEqual([]);
  });
});

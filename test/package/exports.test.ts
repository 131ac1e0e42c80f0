import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/shared.js';

const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8'));

describe('package exports', () => {
  it('has exactly tosia, tosia/algos and tosia/client (each typed), the two JSON documents, and the bin', () => {
    expect(Object.keys(pkg.exports)).toEqual(['.', './algos', './result.schema.json', './client', './openapi.json', './config.schema.json']);
    for (const e of Object.values(pkg.exports) as ({ types: string; default: string } | string)[]) {
      for (const file of typeof e === 'string' ? [e] : [e.types, e.default]) expect(existsSync(join(REPO_ROOT, file)), file).toBe(true);
    }
    expect(pkg.bin.tosia).toBe('dist/bin/tosia.js');
    // what is large and not always needed is an optional peer, never installed on its own
    expect(pkg.optionalDependencies).toBeUndefined();
    for (const peer of ['ffmpeg-static', '@ffmpeg-installer/ffmpeg', 'onnxruntime-node', '@azure/storage-blob', '@aws-sdk/client-s3']) expect(pkg.peerDependenciesMeta[peer], peer).toEqual({ optional: true });
  });

  it.each([
    ["import('tosia/algos').then(m => console.log(typeof m.melSpectrogram))", 'function'],
    ["import('tosia').then(m => console.log([typeof m.loadConfig, typeof m.WorkUnit, typeof m.execute].join()))", 'function,function,function'],
    ["import('tosia/client').then(m => console.log([typeof m.createClient, typeof m.TosiaProblem].join()))", 'function,function'],
    ["import('tosia/result.schema.json', { with: { type: 'json' } }).then(m => console.log(m.default.title))", 'Result'],
  ])('node -e "%s"', (code, want) => {
    expect(execFileSync(process.execPath, ['-e', code], { cwd: REPO_ROOT, encoding: 'utf8' }).trim()).toBe(want);
  });

  it('npm warns about nothing in the project: no unknown .npmrc key, every install script reviewed', () => {
    const config = spawnSync('npm', ['config', 'ls'], { cwd: REPO_ROOT, encoding: 'utf8' });
    expect(config.stderr).not.toMatch(/Unknown project config/);
    const scripts = spawnSync('npm', ['install-scripts', 'ls'], { cwd: REPO_ROOT, encoding: 'utf8' });
    if (/Unknown command/.test(scripts.stderr + scripts.stdout)) return; // npm older than 11.16: no allowScripts yet
    expect(scripts.stdout + scripts.stderr).not.toMatch(/not yet covered/);
    // the CUDA download is denied here and happens only when asked (docs/library.md)
    expect(pkg.allowScripts['onnxruntime-node']).toBe(false);
    expect(pkg.peerDependenciesMeta['onnxruntime-node'].optional).toBe(true);
  });
});

describe('the packed tarball (npm pack)', () => {
  it('holds the LICENSE, the result schema, the OpenAPI document and the typed client, and no tests or sources of the suite', () => {
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const files = (JSON.parse(out) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
    for (const f of ['LICENSE', 'schemas/result.schema.json', 'schemas/config.schema.json', 'dist/openapi.json', 'dist/client/index.js', 'dist/client/index.d.ts', 'dist/client/api-types.d.ts', 'dist/bin/tosia.js', 'config.yml']) expect(files, f).toContain(f);
    expect(files.filter((f) => f.startsWith('test/') || f.startsWith('bench/') || f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
  });
});

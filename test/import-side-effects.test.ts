import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/shared.js';

// Import the built entry points by package name in a fresh process and look at what got loaded.
const probe = `
const before = { sigint: process.listenerCount('SIGINT'), exit: process.listenerCount('exit'), unc: process.listenerCount('uncaughtException') };
const runtime = await import('tosia');
const algos = await import('tosia/algos');
const { createRequire } = await import('node:module');
const loaded = Object.keys(createRequire(import.meta.url).cache);
console.log(JSON.stringify({
  before,
  after: { sigint: process.listenerCount('SIGINT'), exit: process.listenerCount('exit'), unc: process.listenerCount('uncaughtException') },
  heavy: loaded.filter((p) => /onnxruntime|sharp|[\\\\/]yaml[\\\\/]/.test(p)),
  types: [typeof runtime.loadConfig, typeof runtime.WorkUnit, typeof runtime.execute, typeof algos.melSpectrogram],
}));`;

describe('importing tosia has no side effects', () => {
  it('loads no model, no engine and installs no process handlers', () => {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', probe], { cwd: REPO_ROOT, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const j = JSON.parse(r.stdout);
    expect(j.after).toEqual(j.before);
    expect(j.heavy).toEqual([]);
    expect(j.types).toEqual(['function', 'function', 'function', 'function']);
  });
});

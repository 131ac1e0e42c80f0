import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/shared.js';
import { startServer, type Harness } from './harness.js';

// Issue 24: the served document passes Redocly's `recommended` rules and Spectral's
// `spectral:oas` with no error and no warning (it had 1 error and 19 warnings, and 39).
const run = promisify(execFile);
const bin = (name: string) => join(REPO_ROOT, 'node_modules/.bin', name);

describe('the OpenAPI document, linted', () => {
  let h: Harness;
  let dir: string;
  beforeAll(async () => {
    h = await startServer();
    dir = mkdtempSync(join(tmpdir(), 'tosia-openapi-'));
    writeFileSync(join(dir, 'openapi.json'), await (await fetch(`${h.url}/openapi.json`)).text());
    writeFileSync(join(dir, '.spectral.yaml'), 'extends: ["spectral:oas"]\n');
  });
  afterAll(async () => {
    await h?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("Redocly's recommended rules: 0 errors, 0 warnings", async () => {
    const { stdout } = await run(bin('redocly'), ['lint', 'openapi.json', '--format', 'json'], { cwd: dir, env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' } }).catch((e) => e);
    const report = JSON.parse(stdout) as { totals: { errors: number; warnings: number }; problems: { ruleId: string; message: string }[] };
    expect(report.problems.map((p) => `${p.ruleId}: ${p.message}`)).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
  }, 120_000);

  it("Spectral's spectral:oas: 0 errors, 0 warnings", async () => {
    await run(bin('spectral'), ['lint', 'openapi.json', '-f', 'json', '-o', 'spectral.json', '--ruleset', '.spectral.yaml'], { cwd: dir }).catch((e) => e);
    const found = JSON.parse(readFileSync(join(dir, 'spectral.json'), 'utf8')) as { code: string; message: string; path: string[] }[];
    expect(found.map((f) => `${f.code} at ${f.path.join('.')}: ${f.message}`)).toEqual([]);
  }, 120_000);
});

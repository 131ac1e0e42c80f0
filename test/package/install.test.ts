import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import { delimiter, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../helpers/cli.js';
import { REPO_ROOT } from '../helpers/shared.js';
import { resolveFfmpeg } from '../../runtime/index.js';

// What a user who never clones the repository does: `npm i` of the published tarball into an
// empty folder, with npm's defaults (no project .npmrc: the repository's own is not shipped),
// reaching only the npm registry, then `npx tosia`. Without onnxruntime-node (an optional peer,
// never installed by npm on its own) the model runs on the bundled WebAssembly engine.
const dir = mkdtempSync(join(tmpdir(), 'tosia-install-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The environment without what an `npm run`/`npx` parent passes down (npm_config_*, npm_package_*). */
const cleanEnv = Object.fromEntries(Object.keys(process.env).filter((k) => /^npm_/i.test(k)).map((k) => [k, undefined]));
/** And PATH without its folders that hold an ffmpeg, so that none of the machine's is found either. */
const noFfmpegOnPath = { ...cleanEnv, TOSIA_FFMPEG: undefined, PATH: (process.env.PATH ?? '').split(delimiter).filter((d) => d && !existsSync(join(d, 'ffmpeg'))).join(delimiter) };

function du(path: string): number {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) return 0;
  if (!st.isDirectory() || st.isSymbolicLink()) return st.size;
  return readdirSync(path).reduce((n, f) => n + du(join(path, f)), 0);
}

describe('npm i of the packed tarball into an empty folder', () => {
  let app = '';

  it('installs with npm defaults from the registry alone, with no install-script download', async () => {
    // dist/ is already built (make test builds first): pack it as it is
    const pack = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { env: cleanEnv, timeout: 120_000 });
    expect(pack.code, pack.stderr).toBe(0);
    const tgz = join(dir, (JSON.parse(pack.stdout) as { filename: string }[])[0]!.filename);
    app = join(dir, 'app');
    mkdirSync(app);
    const i = await run('npm', ['i', '--no-audit', '--no-fund', tgz], { cwd: app, env: cleanEnv, timeout: 900_000 });
    expect(i.code, i.stderr).toBe(0);
    expect(i.stderr).not.toMatch(/onnxruntime-node|api\.nuget\.org/);
    const mb = (p: string) => Math.round(du(join(app, 'node_modules', p)) / 1e6);
    console.log(`tarball ${(statSync(tgz).size / 1e6).toFixed(1)} MB; installed node_modules ${mb('')} MB (tosia ${mb('tosia')} MB, of it the WebAssembly engine ${mb('tosia/dist/vendor')} MB)`);
    // the native engine, the SDKs and the ffmpeg binaries are optional peers: never installed on their own
    const installed = readdirSync(join(app, 'node_modules'));
    for (const peer of ['onnxruntime-node', 'ffmpeg-static', '@ffmpeg-installer', '@azure', '@aws-sdk']) expect(installed).not.toContain(peer);
  }, 1_000_000);

  it('npx tosia run works on a sample, on the bundled WebAssembly engine', async () => {
    expect(app, 'the install above failed').not.toBe('');
    const sample = join(REPO_ROOT, 'samples/coughs-3_snr-25db_white_16k.wav');
    const r = await run('npx', ['--no-install', 'tosia', 'run', sample, '--json'], { cwd: app, env: cleanEnv, timeout: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { diagnosis: { label: string }; model: { execution_provider: string }; segments: unknown[] };
    expect(result.model.execution_provider).toBe('wasm');
    expect(result.segments.length).toBe(3);
    expect(['covid19', 'not_covid19']).toContain(result.diagnosis.label);
    const doctor = await run('npx', ['--no-install', 'tosia', 'doctor'], { cwd: app, env: noFfmpegOnPath, timeout: 120_000 });
    expect(doctor.stdout).toMatch(/onnxruntime-node is not installed/);
    // no ffmpeg anywhere is a warning, not a failure: the common formats decode in-process
    expect(doctor.stdout).toMatch(/ffmpeg.*none found.*Warning: tosia decodes WAV, MP3, Ogg \(Vorbis, Opus\) and FLAC itself.*npm i ffmpeg-static/);
  }, 300_000);

  it('a format only ffmpeg decodes, with no ffmpeg anywhere: exit 3 saying why the file needs one and how to get it', async () => {
    expect(app, 'the install above failed').not.toBe('');
    const m4a = join(dir, 'call.m4a');
    execFileSync(resolveFfmpeg().path, ['-nostdin', '-loglevel', 'error', '-y', '-i', `file:${join(REPO_ROOT, 'samples/coughs-3_snr-25db_white_16k.wav')}`, '-c:a', 'aac', `file:${m4a}`]);
    const r = await run('npx', ['--no-install', 'tosia', 'run', m4a], { cwd: app, env: noFfmpegOnPath, timeout: 120_000 });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/E_INTERNAL: .*call\.m4a.*no ffmpeg found .*needs an ffmpeg for every other format.*this one is none of those/s);
    expect(r.stderr).toMatch(/apt-get install ffmpeg.*npm i ffmpeg-static/s);
    // an ffmpeg package installed beside tosia is found (ffmpeg-static's binary comes from
    // GitHub, out of this machine's reach: @ffmpeg-installer's comes from the npm registry)
    const add = await run('npm', ['i', '--no-audit', '--no-fund', '@ffmpeg-installer/ffmpeg'], { cwd: app, env: cleanEnv, timeout: 900_000 });
    expect(add.code, add.stderr).toBe(0);
    const again = await run('npx', ['--no-install', 'tosia', 'run', m4a, '--json'], { cwd: app, env: noFfmpegOnPath, timeout: 120_000 });
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).source.decoder).toBe('ffmpeg');
  }, 1_000_000);

  it('an object-store URL without its SDK is a usage error that says what to install', async () => {
    expect(app, 'the install above failed').not.toBe('');
    const r = await run('npx', ['--no-install', 'tosia', 'run', 'azblob://calls/2026/', '--out', join(dir, 'out')], { cwd: app, env: { ...cleanEnv, AZURE_STORAGE_CONNECTION_STRING: 'UseDevelopmentStorage=true' }, timeout: 120_000 });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/E_CONFIG: .*azblob:\/\/calls needs @azure\/storage-blob, which is not installed.*npm i @azure\/storage-blob/);
  });

  it("require('tosia') and import both work from the installed package", async () => {
    expect(app, 'the install above failed').not.toBe('');
    const code = "const t = require('tosia'); import('tosia/algos').then((a) => console.log(typeof t.loadConfig, typeof a.melSpectrogram))";
    const r = await run(process.execPath, ['-e', code], { cwd: app, env: cleanEnv });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('function function');
  });
});

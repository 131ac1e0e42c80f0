import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openBucket, parseStoreUrl } from '../server/audio-store/open.js';
import { packageRoot } from '../runtime/paths.js';
import { Azurite } from './emulators.js';
import { load, pct, serve } from './serve.js';
import { table } from './stats.js';

/**
 * Audio in object storage against audio on this machine's disk, in the same run, on the same
 * files: `tosia serve` with `--audio-store azblob://` against the folder store (upload → done
 * latency and files/s, 16 clients), and `tosia run azblob://…` against the same files in a
 * folder. The object store is Azurite on loopback: its speed is the emulator's, not Azure's,
 * so the figures bound tosia's own overhead, not a cloud round trip.
 */
export async function benchStorage(coughDir: string, quick: boolean): Promise<string> {
  const out = ['### Audio in object storage (Azurite on loopback) against the folder store'];
  const raw = join(coughDir, 'raw');
  if (!existsSync(raw)) return `${out[0]}\n\n${raw} is absent; skipped`;
  const files = readdirSync(raw).filter((f) => f.endsWith('.mp3')).sort().slice(0, quick ? 200 : undefined);
  const bodies = files.map((f) => ({ body: readFileSync(join(raw, f)), type: 'audio/mpeg' }));
  const azurite = await new Azurite().start();
  try {
    // upload → done: synchronous POSTs (each answered when its diagnosis is stored)
    const rows: string[][] = [];
    for (const [name, extra] of [['folder (--data)', []], ['azblob:// (Azurite)', ['--audio-store', 'azblob://bench-audio']]] as const) {
      const dir = mkdtempSync(join(tmpdir(), 'tosia-bench-store-'));
      const srv = await serve(dir, [...extra], azurite.env);
      await load(srv.url, bodies.slice(0, 50), 16, 50);
      const t0 = performance.now();
      const r = await load(srv.url, bodies, 16, bodies.length);
      const s = (performance.now() - t0) / 1000;
      rows.push([name, (bodies.length / s).toFixed(0), pct(r.latencies, 50).toFixed(0), pct(r.latencies, 95).toFixed(0), String(r.bad)]);
      await srv.stop();
      rmSync(dir, { recursive: true, force: true });
    }
    out.push(table([`tosia serve, 16 clients, ${bodies.length} covid19-cough mp3`, 'files/s', 'upload → done p50 ms', 'p95 ms', 'failed'], rows));

    // tosia run over a container prefix against the same files in a folder
    const url = 'azblob://bench-calls/raw/';
    const at = parseStoreUrl(url) as Extract<ReturnType<typeof parseStoreUrl>, { kind: 'azblob' | 's3' }>;
    const bucket = await openBucket(at, azurite.env);
    await bucket.ensure();
    await Promise.all([0, 1, 2, 3].map(async (k) => {
      for (let i = k; i < files.length; i += 4) await bucket.put(`${at.prefix}${files[i]}`, (async function* () { yield bodies[i]!.body; })());
    }));
    await bucket.close();
    const local = mkdtempSync(join(tmpdir(), 'tosia-bench-inputs-'));
    for (const f of files) spawnSync('ln', ['-s', join(raw, f), join(local, f)]);
    const timed = (input: string) => {
      const dest = mkdtempSync(join(tmpdir(), 'tosia-bench-run-'));
      const t0 = performance.now();
      const r = spawnSync(process.execPath, [join(packageRoot(), 'dist/bin/tosia.js'), 'run', input, '--out', dest, '--progress', 'none'], { env: { ...process.env, ...azurite.env } });
      const s = (performance.now() - t0) / 1000;
      const resumed = performance.now();
      spawnSync(process.execPath, [join(packageRoot(), 'dist/bin/tosia.js'), 'run', input, '--out', dest, '--progress', 'none'], { env: { ...process.env, ...azurite.env } });
      const again = (performance.now() - resumed) / 1000;
      rmSync(dest, { recursive: true, force: true });
      return { s, again, code: r.status };
    };
    const folder = timed(local);
    const blob = timed(url);
    rmSync(local, { recursive: true, force: true });
    out.push(table([`tosia run --out, ${files.length} covid19-cough mp3`, 'files/s', 's', 'run again (all up to date) s', 'exit'], [
      ['a local folder', (files.length / folder.s).toFixed(0), folder.s.toFixed(2), folder.again.toFixed(2), String(folder.code)],
      [`${url} (${(100 * folder.s / blob.s).toFixed(0)} % of the folder's rate)`, (files.length / blob.s).toFixed(0), blob.s.toFixed(2), blob.again.toFixed(2), String(blob.code)],
    ]));
  } finally {
    await azurite.stop();
  }
  return out.join('\n\n');
}

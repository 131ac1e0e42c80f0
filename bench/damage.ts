import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode, resolveFfmpeg } from '../runtime/index.js';
import { inspectFlac, inspectMp3, inspectOgg } from '../runtime/decode/integrity.js';
import { sniffFormat } from '../runtime/decode/sniff.js';
import { packageRoot } from '../runtime/paths.js';
import { table } from './stats.js';
import { mulberry32 } from '../algos/random.js';

/**
 * Issue 16's measurements. A seeded corpus of damaged files in the five in-process formats
 * (truncations at random points, byte overwrites, dropped and duplicated chunks) and their
 * intact originals, each judged by tosia (damage found, or E_DECODE) and by ffmpeg (`-v error`:
 * any error line), in a confusion table; then the integrity checks' cost against decoding on
 * covid19-cough, in the same run.
 */

const FORMATS: { ext: string; args: string[] }[] = [
  { ext: 'wav', args: ['-c:a', 'pcm_s16le'] },
  { ext: 'mp3', args: ['-c:a', 'libmp3lame', '-b:a', '64k'] },
  { ext: 'ogg', args: ['-c:a', 'libvorbis', '-q:a', '3'] },
  { ext: 'opus', args: ['-c:a', 'libopus', '-b:a', '32k'] },
  { ext: 'flac', args: ['-c:a', 'flac'] },
];

/** The corpus is the same on every run. */
const rng = mulberry32;

type Kind = 'truncated' | 'overwritten' | 'dropped' | 'duplicated';

function damage(b: Buffer, kind: Kind, r: () => number): Buffer {
  // never the first 10 %: the headers, which make a different (and easier) case
  const at = Math.floor(b.length * (0.1 + 0.85 * r()));
  const len = 50 + Math.floor(r() * 2000);
  switch (kind) {
    case 'truncated': return b.subarray(0, at);
    case 'overwritten': { const o = Buffer.from(b); for (let i = at; i < Math.min(b.length, at + Math.min(len, 500)); i++) o[i] = Math.floor(r() * 256); return o; }
    case 'dropped': return Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + len))]);
    case 'duplicated': return Buffer.concat([b.subarray(0, at + len), b.subarray(at, b.length)]);
  }
}

async function tosiaVerdict(bytes: Uint8Array, name: string): Promise<boolean> {
  try {
    const d = await decode({ bytes, name }, { sampleRate: 8000 });
    return d.damage !== null;
  } catch {
    return true;
  }
}

function ffmpegVerdict(ffmpeg: string, file: string, strict = false): boolean {
  const r = spawnSync(ffmpeg, ['-nostdin', '-v', 'error', ...(strict ? ['-err_detect', 'crccheck+bitstream+buffer'] : []), '-i', `file:${file}`, '-f', 'null', '-'], { encoding: 'utf8' });
  return r.status !== 0 || r.stderr.trim().length > 0;
}

export async function benchDamage(coughDir: string): Promise<string> {
  const ffmpeg = resolveFfmpeg().path;
  const dir = mkdtempSync(join(tmpdir(), 'tosia-bench-damage-'));
  try {
    // the sources: the bundled WAV samples and a few covid19-cough recordings, each encoded in every format
    const samples = join(packageRoot(), 'samples');
    const sources = readdirSync(samples).filter((f) => f.endsWith('.wav')).map((f) => join(samples, f));
    const raw = join(coughDir, 'raw');
    try { sources.push(...readdirSync(raw).filter((f) => f.endsWith('.mp3')).sort().slice(0, 5).map((f) => join(raw, f))); } catch { /* absent */ }
    const r = rng(16);
    const kinds: Kind[] = ['truncated', 'overwritten', 'dropped', 'duplicated'];
    // per format: [tosia, ffmpeg] → count, for damaged and for intact files
    const cells = new Map<string, number>();
    const add = (k: string) => cells.set(k, (cells.get(k) ?? 0) + 1);
    const disagreements: string[] = [];
    let damagedTotal = 0, agree = 0, found = 0, agreeStrict = 0, strictFound = 0;
    for (const [si, src] of sources.entries()) {
      for (const f of FORMATS) {
        const original = join(dir, `s${si}.${f.ext}`);
        execFileSync(ffmpeg, ['-nostdin', '-v', 'error', '-y', '-i', `file:${src}`, '-ac', '1', '-ar', f.ext === 'opus' ? '48000' : '16000', ...f.args, `file:${original}`]);
        const bytes = readFileSync(original);
        const t0 = await tosiaVerdict(bytes, original), f0 = ffmpegVerdict(ffmpeg, original);
        add(`${f.ext}|intact|${t0}|${f0}`);
        for (const kind of kinds) {
          for (let rep = 0; rep < 2; rep++) {
            const name = join(dir, `s${si}-${kind}-${rep}.${f.ext}`);
            const b = damage(bytes, kind, r);
            writeFileSync(name, b);
            const t = await tosiaVerdict(b, name), ff = ffmpegVerdict(ffmpeg, name);
            add(`${f.ext}|damaged|${t}|${ff}`);
            damagedTotal++;
            if (t === ff) agree++;
            else disagreements.push(`${f.ext} ${kind}: tosia ${t ? 'damaged' : 'clean'}, ffmpeg ${ff ? 'damaged' : 'clean'}`);
            if (process.env.BENCH_DAMAGE_KEEP && t !== ff) writeFileSync(join(process.env.BENCH_DAMAGE_KEEP, `${kind}-${si}-${rep}-${t ? 'tosia' : 'ffmpeg'}.${f.ext}`), b);
            const strict = ffmpegVerdict(ffmpeg, name, true);
            if (t === strict) agreeStrict++;
            if (strict) strictFound++;
            if (t) found++;
          }
        }
      }
    }
    const rows = FORMATS.flatMap((f) => (['damaged', 'intact'] as const).map((set) => {
      const c = (t: boolean, ff: boolean) => cells.get(`${f.ext}|${set}|${t}|${ff}`) ?? 0;
      const n = c(true, true) + c(true, false) + c(false, true) + c(false, false);
      return [f.ext, set, n, c(true, true), c(true, false), c(false, true), c(false, false), `${(((c(true, true) + c(false, false)) / Math.max(1, n)) * 100).toFixed(0)} %`];
    }));
    const byCause = new Map<string, number>();
    for (const d of disagreements) byCause.set(d, (byCause.get(d) ?? 0) + 1);
    const sections = [
      `### Damaged recordings: tosia's verdict against ffmpeg's (${damagedTotal} damaged files from ${sources.length} sources × ${FORMATS.length} formats, and the intact originals; seed 16)`,
      '',
      `ffmpeg: ${ffmpeg} (\`-v error\`, any error line or a failed exit is "damaged"). tosia: a damage verdict, or E_DECODE.`,
      '',
      table(['format', 'files', 'n', 'both damaged', 'only tosia', 'only ffmpeg', 'both clean', 'agreement'], rows),
      '',
      `Damaged files: tosia and ffmpeg agree on ${agree} of ${damagedTotal} (${((agree / damagedTotal) * 100).toFixed(1)} %). tosia finds damage in ${found} (${((found / damagedTotal) * 100).toFixed(1)} %), ffmpeg in ${[...cells].filter(([k]) => k.includes('|damaged|') && k.endsWith('|true')).reduce((n, [, v]) => n + v, 0)}. With \`-err_detect crccheck+bitstream+buffer\` ffmpeg finds damage in ${strictFound}, and agrees with tosia on ${agreeStrict} (${((agreeStrict / damagedTotal) * 100).toFixed(1)} %).`,
      '',
      'Disagreements by format and kind:',
      '',
      table(['format, kind: verdicts', 'files'], [...byCause.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, v])),
    ];
    sections.push('', await cost(coughDir));
    return sections.join('\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The integrity checks' time against the in-process decode of the same bytes, over covid19-cough. */
async function cost(coughDir: string): Promise<string> {
  let files: string[];
  try { files = readdirSync(join(coughDir, 'raw')).sort().map((f) => join(coughDir, 'raw', f)); } catch { return 'Cost: not measured (covid19-cough is absent).'; }
  const all = files.map((f) => readFileSync(f));
  const inspectAll = () => {
    const t = performance.now();
    for (const b of all) {
      const k = sniffFormat(b);
      if (k === 'mp3') inspectMp3(b); else if (k === 'flac') inspectFlac(b); else if (k === 'opus' || k === 'vorbis') inspectOgg(b, k);
    }
    return performance.now() - t;
  };
  const decodeAll = async () => {
    const t = performance.now();
    for (const [i, b] of all.entries()) await decode({ bytes: b, name: files[i]! }, { sampleRate: 8000, decoder: 'native' }).catch(() => undefined);
    return performance.now() - t;
  };
  await decodeAll();
  inspectAll();
  const checks: number[] = [], decodes: number[] = [];
  for (let i = 0; i < 3; i++) { decodes.push(await decodeAll()); checks.push(inspectAll()); }
  const c = Math.min(...checks), d = Math.min(...decodes);
  return `Cost on covid19-cough (${files.length} files, bytes in memory, best of 3): the integrity checks take ${c.toFixed(0)} ms, the in-process decode (which includes them) ${d.toFixed(0)} ms: ${((c / (d - c)) * 100).toFixed(1)} % of decoding.`;
}

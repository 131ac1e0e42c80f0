#!/usr/bin/env node
/**
 * Regenerate the bundled samples: `node dist/samples/generator/generate.js [outDir]`, or with
 * `--eval [outDir]` the committed slice of the segmentation evaluation set (FLAC + sidecars).
 * Writes <name>.<format> and <name>.json (exact cough times) for each entry of the catalogue.
 * Lossy formats are encoded by the resolved ffmpeg with bit-exact flags.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { resolveFfmpeg } from '../../runtime/decode/ffmpeg-path.js';
import { packageRoot } from '../../runtime/paths.js';
import { SAMPLES, type SampleSpec } from './catalogue.js';
import { EVAL_COMMITTED, evalSet } from './eval-set.js';
import { synthesize } from './synth.js';
import { encodeWav16 } from './wav.js';

const evalMode = process.argv[2] === '--eval';
const outDir = resolve(process.argv[evalMode ? 3 : 2] ?? join(packageRoot(), evalMode ? 'samples/eval' : 'samples'));
mkdirSync(outDir, { recursive: true });
const ffmpeg = resolveFfmpeg().path;
const catalogue: (SampleSpec & { group?: unknown })[] = evalMode
  ? EVAL_COMMITTED.map((i) => evalSet(1)[i]!).map((s) => ({ ...s, format: 'flac' as const, channels: 1 }))
  : SAMPLES;
for (const s of catalogue) {
  const { samples, truth } = synthesize(s);
  const inter = new Float32Array(samples.length * s.channels);
  for (let i = 0; i < samples.length; i++) for (let c = 0; c < s.channels; c++) inter[i * s.channels + c] = samples[i]!;
  const wav = encodeWav16(inter, s.sampleRate, s.channels);
  const target = join(outDir, `${s.name}.${s.format}`);
  if (s.format === 'wav') {
    writeFileSync(target, wav);
  } else {
    const tmp = join(outDir, `.${s.name}.tmp.wav`);
    writeFileSync(tmp, wav);
    const codec = {
      mp3: ['-c:a', 'libmp3lame', '-b:a', s.sampleRate >= 32000 ? '96k' : '32k'],
      ogg: ['-c:a', 'libopus', '-b:a', '32k'],
      oga: ['-c:a', 'libvorbis', '-q:a', '3', '-f', 'ogg'],
      flac: ['-c:a', 'flac'],
    }[s.format];
    execFileSync(ffmpeg, ['-nostdin', '-hide_banner', '-loglevel', 'error', '-y', '-i', `file:${tmp}`, ...codec, '-fflags', '+bitexact', '-flags:a', '+bitexact', '-map_metadata', '-1', `file:${target}`]);
    rmSync(tmp);
  }
  const sidecar = {
    generator: 'tosia samples/generator (deterministic)',
    spec: s,
    sample_rate: s.sampleRate,
    channels: s.channels,
    duration_s: s.duration,
    coughs: truth.map((t) => ({ start_s: Number(t.start.toFixed(4)), end_s: Number(t.end.toFixed(4)) })),
    ...(s.group ? { conditions: s.group } : {}),
  };
  writeFileSync(join(outDir, `${s.name}.json`), JSON.stringify(sidecar, null, 2) + '\n');
  process.stdout.write(`${target}  ${truth.length} coughs\n`);
}

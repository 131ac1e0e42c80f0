#!/usr/bin/env node
/**
 * Regenerate the bundled samples: `node dist/samples/generator/generate.js [outDir]`.
 * Writes <name>.<format> and <name>.json (exact cough times) for each entry of the catalogue.
 * Lossy formats are encoded by the resolved ffmpeg with bit-exact flags.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { resolveFfmpeg } from '../../runtime/decode/ffmpeg-path.js';
import { packageRoot } from '../../runtime/paths.js';
import { SAMPLES } from './catalogue.js';
import { synthesize } from './synth.js';
import { encodeWav16 } from './wav.js';

const outDir = resolve(process.argv[2] ?? join(packageRoot(), 'samples'));
mkdirSync(outDir, { recursive: true });
const ffmpeg = resolveFfmpeg().path;
for (const s of SAMPLES) {
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
  };
  writeFileSync(join(outDir, `${s.name}.json`), JSON.stringify(sidecar, null, 2) + '\n');
  process.stdout.write(`${target}  ${truth.length} coughs\n`);
}

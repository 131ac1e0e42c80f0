#!/usr/bin/env node
/**
 * The pipeline one stage at a time, as a notebook would walk it, writing each stage's figure to a
 * folder: `make explore` (or `node dist/examples/explore.js [recording] [out folder]`). Outside
 * this repository, import the same names from 'tosia'.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  colourStage, decodeFile, defaultConfig, encodePng, execute, melStage, packageRoot, recordingFigure, resizeImage, segmentStage, WorkUnit,
} from '../runtime/index.js';
import type { RgbImage } from '../algos/color/colorize.js';

const file = resolve(process.argv[2] ?? join(packageRoot(), 'samples/coughs-3_snr-25db_white_16k.wav'));
const out = resolve(process.argv[3] ?? 'explore-out');
mkdirSync(out, { recursive: true });
const cfg = defaultConfig();
const written: string[] = [];
const save = async (name: string, img: RgbImage) => {
  writeFileSync(join(out, name), await encodePng(img));
  written.push(name);
};

/** The waveform, min and max per column, with the segments shaded. */
function waveform(samples: Float32Array, rate: number, spans: { start: number; end: number }[], width = 1000, height = 200): RgbImage {
  const img: RgbImage = { width, height, data: new Uint8Array(width * height * 3).fill(255) };
  const set = (x: number, y: number, [r, g, b]: number[]) => {
    const at = (y * width + x) * 3;
    img.data[at] = r!; img.data[at + 1] = g!; img.data[at + 2] = b!;
  };
  const dur = samples.length / rate;
  for (const s of spans) {
    for (let x = Math.floor((s.start / dur) * width); x < Math.min(width, Math.ceil((s.end / dur) * width)); x++) for (let y = 0; y < height; y++) set(x, y, [255, 228, 196]);
  }
  const per = samples.length / width;
  for (let x = 0; x < width; x++) {
    let lo = 0, hi = 0;
    for (let i = Math.floor(x * per); i < Math.floor((x + 1) * per); i++) { lo = Math.min(lo, samples[i]!); hi = Math.max(hi, samples[i]!); }
    const y0 = Math.round((1 - (hi + 1) / 2) * (height - 1)), y1 = Math.round((1 - (lo + 1) / 2) * (height - 1));
    for (let y = y0; y <= y1; y++) set(x, y, [40, 70, 140]);
  }
  return img;
}

// 1. decode: mono float32 at the analysis rate
const audio = await decodeFile(file, { sampleRate: cfg.audio.sample_rate });
console.log(`decoded ${audio.source.duration_s.toFixed(2)} s of ${audio.source.codec} at ${audio.source.sample_rate} Hz → ${audio.sampleRate} Hz mono`);
await save('1-waveform.png', waveform(audio.samples, audio.sampleRate, []));

// 2. segmentation: where the coughs are
const { segments } = segmentStage(audio, cfg);
console.log(`${segments.length} segments: ${segments.map((s) => `${s.start.toFixed(2)}–${s.end.toFixed(2)} s`).join(', ')}`);
await save('2-segments.png', waveform(audio.samples, audio.sampleRate, segments));

if (segments.length > 0) {
  // 3. one segment's dB mel spectrogram, at its own size (scaled up to be seen), then 4. the model's input image
  const s = segments[0]!;
  const spec = melStage(audio.samples, Math.floor(s.start * audio.sampleRate), Math.ceil(s.end * audio.sampleRate), cfg);
  console.log(`segment 0: mel spectrogram ${spec.nMels} bands × ${spec.nFrames} frames, ${Math.min(...spec.db).toFixed(1)} to ${Math.max(...spec.db).toFixed(1)} dB`);
  const raw = colourStage(spec, { ...cfg, color_spec: { ...cfg.color_spec, width: spec.nFrames, height: spec.nMels } }).image;
  await save('3-segment0-mel.png', await resizeImage(raw, raw.width * 4, raw.height * 4, 'nearest'));
  const { image } = colourStage(spec, cfg);
  console.log(`segment 0: model input ${image.width}×${image.height} RGB (${cfg.color_spec.colormap})`);
  await save('4-segment0-model-input.png', image);
}

// 5. the model, on every segment and the whole recording
const result = await execute(new WorkUnit({ sourceFile: file, ...cfg }));
console.log(`diagnosis: ${result.diagnosis.label}${result.diagnosis.score === null ? '' : ` (score ${result.diagnosis.score.toFixed(3)})`}; per segment: ${result.segments.map((s) => s.probabilities[result.diagnosis.positive_label]?.toFixed(2)).join(', ')}`);

// 6. the whole-recording figure, each segment boxed by its score
const fig = await recordingFigure(audio.samples, audio.sampleRate, result, cfg);
writeFileSync(join(out, '5-figure.png'), fig.png);
writeFileSync(join(out, '5-figure.svg'), fig.svg);
written.push('5-figure.png', '5-figure.svg');
console.log(`wrote ${written.length} figures to ${out}: ${written.join(', ')}`);

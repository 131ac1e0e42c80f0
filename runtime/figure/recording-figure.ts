import { colorize, type RgbImage } from '../../algos/color/colorize.js';
import { resizePlanes } from '../../algos/color/resize.js';
import { amplitudeToDb, powerToDb } from '../../algos/melspec/db.js';
import type { Config } from '../config/schema.js';
import { encodePng } from '../image/png.js';
import { escapeHtml } from '../io/html.js';
import type { Result } from '../pipeline/result.js';
import { melPlanFor } from '../pipeline/stages.js';

export interface FigureOptions {
  /** Most columns: longer recordings are pooled down to this width. Default 1200. */
  maxWidth?: number;
  /** Image height in pixels (mel bands are stretched to it). Default 200. */
  height?: number;
  /** Fewest columns: a short recording is stretched to it, so that its figure is not a thumbnail. Default 900 (or maxWidth if smaller). */
  minWidth?: number;
  /** Also encode the PNG with the boxes drawn in (the SVG needs only the plain one). Default true. */
  png?: boolean;
}

/** A segment's box on the figure, in pixels and seconds, with its colour. */
export interface FigureBox { index: number; start_s: number; end_s: number; x0: number; x1: number; score: number | null; excluded: boolean; colour: string }

export interface RecordingFigure {
  /** The spectrogram with the boxes drawn in (empty when options.png is false). */
  png: Uint8Array;
  /** The same figure as SVG: the spectrogram (without boxes) embedded as PNG, the boxes and a time axis as vectors. */
  svg: string;
  width: number;
  height: number;
  duration_s: number;
  boxes: FigureBox[];
}

/** Seconds of audio per piece: a one-hour recording never has its whole spectrogram in memory. */
const PIECE_S = 30;

/**
 * The whole-recording figure: a dB mel spectrogram of the full recording, as the config computes
 * it, with its colour map; each segment of the result drawn as a box coloured by its score for
 * the positive label (green 0 → red 1; grey dashed when excluded). Long recordings are pooled
 * (maximum power per column, so a short cough stays visible) down to `maxWidth` columns, piece
 * by piece, so memory stays small for an hour of audio.
 */
export async function recordingFigure(samples: Float32Array, sampleRate: number, result: Result, cfg: Config, options: FigureOptions = {}): Promise<RecordingFigure> {
  const m = cfg.mel_spec;
  const plan = melPlanFor(cfg);
  const hop = m.hop_length;
  const totalFrames = Math.max(1, Math.floor(samples.length / hop) + 1);
  const maxWidth = options.maxWidth ?? 1200;
  const cols = Math.max(1, Math.min(maxWidth, totalFrames));
  const width = Math.max(cols, Math.min(options.minWidth ?? 900, maxWidth));
  const height = options.height ?? 200;
  const nMels = m.n_mels;
  const pooled = new Float32Array(nMels * cols);
  const piece = Math.max(hop, Math.floor((PIECE_S * sampleRate) / hop) * hop);
  for (let a = 0; a < samples.length; a += piece) {
    const spec = plan.run(samples.subarray(a, Math.min(samples.length, a + piece)));
    const first = a / hop;
    // a piece's frames past its length overlap the next piece's first ones: only whole hops
    // count, except in the last piece, whose final frame ends the recording
    const own = a + piece >= samples.length ? spec.nFrames : Math.min(spec.nFrames, piece / hop);
    for (let t = 0; t < own; t++) {
      const col = Math.min(cols - 1, Math.floor(((first + t) * cols) / totalFrames));
      for (let b = 0; b < nMels; b++) {
        const v = spec.data[b * spec.nFrames + t]!;
        const at = b * cols + col;
        if (v > pooled[at]!) pooled[at] = v;
      }
    }
  }
  const toDb = m.power === 1 ? amplitudeToDb : powerToDb;
  toDb(pooled, { ref: m.ref, amin: m.power === 1 ? Math.sqrt(m.amin) : m.amin, topDb: m.top_db }, pooled);
  const c = cfg.color_spec;
  const paint = (w: number) => colorize({ data: height === nMels && w === cols ? pooled : resizePlanes(pooled, cols, nMels, 1, w, height, 'linear'), nMels: height, nFrames: w }, { colormap: c.colormap, scale: c.scale, dbMin: c.db_min, dbMax: c.db_max });
  // the SVG embeds the spectrogram at its own columns and lets the browser stretch it to the width
  const base = paint(cols);
  const duration = samples.length / sampleRate;
  const positive = result.diagnosis.positive_label;
  const boxes: FigureBox[] = result.segments.map((s) => {
    const score = s.probabilities[positive] ?? null;
    return {
      index: s.index, start_s: s.start_s, end_s: s.end_s, score, excluded: s.excluded,
      x0: Math.max(0, Math.min(width - 1, Math.floor((s.start_s / duration) * width))),
      x1: Math.max(0, Math.min(width - 1, Math.ceil((s.end_s / duration) * width))),
      colour: s.excluded ? '#9e9e9e' : scoreColour(score),
    };
  });
  let png: Uint8Array = new Uint8Array(0);
  if (options.png !== false) {
    const drawn: RgbImage = width === cols ? { width, height, data: new Uint8Array(base.data) } : paint(width);
    for (const b of boxes) drawBox(drawn, b.x0, b.x1, hex(b.colour), b.excluded);
    png = await encodePng(drawn, { level: 1 });
  }
  const plain = await encodePng(base, { level: 1 });
  return { png, svg: figureSvg(plain, width, height, duration, boxes), width, height, duration_s: duration, boxes };
}

/** Green (0) through yellow to red (1). */
export function scoreColour(score: number | null): string {
  if (score === null || !Number.isFinite(score)) return '#9e9e9e';
  const s = Math.max(0, Math.min(1, score));
  const r = Math.round(s < 0.5 ? 60 + 390 * s : 255);
  const g = Math.round(s < 0.5 ? 200 : 200 - 340 * (s - 0.5));
  return `#${[r, g, 60].map((v) => Math.max(0, Math.min(255, v)).toString(16).padStart(2, '0')).join('')}`;
}

const hex = (c: string) => [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16)) as [number, number, number];

/** A box the full height of the image, 2 px wide lines; dashed when excluded. */
function drawBox(img: RgbImage, x0: number, x1: number, [r, g, b]: [number, number, number], dashed: boolean): void {
  const put = (x: number, y: number) => {
    if (x < 0 || y < 0 || x >= img.width || y >= img.height) return;
    const at = (y * img.width + x) * 3;
    img.data[at] = r; img.data[at + 1] = g; img.data[at + 2] = b;
  };
  const on = (i: number) => !dashed || Math.floor(i / 4) % 2 === 0;
  for (let y = 0; y < img.height; y++) if (on(y)) for (const x of [x0, x0 + 1, x1 - 1, x1]) put(x, y);
  for (let x = x0; x <= x1; x++) if (on(x)) for (const y of [0, 1, img.height - 2, img.height - 1]) put(x, y);
}

const esc = escapeHtml;

/** A time step giving about 8–15 ticks. */
function tickStep(duration: number): number {
  for (const s of [0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800]) if (duration / s <= 15) return s;
  return 3600;
}

const clock = (t: number) => (t >= 60 ? `${Math.floor(t / 60)}:${String(Math.round(t % 60)).padStart(2, '0')}` : `${Number(t.toFixed(1))} s`);

function figureSvg(png: Uint8Array, width: number, height: number, duration: number, boxes: FigureBox[]): string {
  const axis = 22;
  const step = tickStep(duration);
  const ticks: string[] = [];
  for (let t = 0; t <= duration + 1e-9; t += step) {
    const x = (t / duration) * width;
    // the first and last labels stay inside the figure
    const anchor = t === 0 ? 'start' : x > width - 20 ? 'end' : 'middle';
    ticks.push(`<line x1="${x.toFixed(1)}" y1="${height}" x2="${x.toFixed(1)}" y2="${height + 5}" stroke="#444"/><text x="${x.toFixed(1)}" y="${height + 17}" font-size="11" text-anchor="${anchor}" fill="#333">${clock(t)}</text>`);
  }
  const rects = boxes.map((b) => `<rect class="seg" data-index="${b.index}" data-start="${b.start_s}" data-end="${b.end_s}" x="${b.x0}" y="1" width="${Math.max(2, b.x1 - b.x0)}" height="${height - 2}" fill="${b.colour}" fill-opacity="0.12" stroke="${b.colour}" stroke-width="2"${b.excluded ? ' stroke-dasharray="6 4"' : ''}><title>${esc(`segment ${b.index}: ${b.start_s.toFixed(2)}–${b.end_s.toFixed(2)} s, score ${b.score === null ? 'n/a' : b.score.toFixed(2)}${b.excluded ? ' (excluded)' : ''}`)}</title></rect>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height + axis}" width="${width}" height="${height + axis}" role="img" aria-label="spectrogram of the whole recording with ${boxes.length} segment${boxes.length === 1 ? '' : 's'} marked">` +
    `<image href="data:image/png;base64,${Buffer.from(png).toString('base64')}" x="0" y="0" width="${width}" height="${height}" preserveAspectRatio="none"/>` +
    `${rects.join('')}<line class="playhead" x1="0" y1="0" x2="0" y2="${height}" stroke="#fff" stroke-width="1.5" visibility="hidden"/>${ticks.join('')}</svg>`;
}

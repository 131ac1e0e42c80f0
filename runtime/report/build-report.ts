import { readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import type { Config } from '../config/schema.js';
import { recordingFigure, type FigureOptions } from '../figure/recording-figure.js';
import type { Result } from '../pipeline/result.js';
import { decodeStage } from '../pipeline/stages.js';
import { audioMime, renderReport, type ReportEntry } from './report.js';

export interface BuildReportOptions extends FigureOptions {
  /** Where relative `source.path`s are found (default: the working folder). */
  audioBase?: string;
  title?: string;
}

/**
 * A self-contained HTML report of results: each recording's audio is read from its
 * `source.path`, decoded for the figure (with `cfg`'s mel and colour settings) and embedded.
 * A recording whose audio is gone keeps its section, without figure or player, saying why.
 */
export async function buildReport(results: Result[], cfg: Config, options: BuildReportOptions = {}): Promise<string> {
  const entries: ReportEntry[] = [];
  for (const result of results) {
    const p = result.source.path;
    const path = isAbsolute(p) || !options.audioBase ? p : join(options.audioBase, p);
    let bytes: Uint8Array;
    try {
      bytes = await readFile(path);
    } catch (e) {
      entries.push({ result, figure: null, audio: null, note: `The audio is not at ${path} (${(e as NodeJS.ErrnoException).code ?? 'unreadable'}): no figure or player. Pass --audio-base with the folder the recordings were run from.` });
      continue;
    }
    try {
      const audio = await decodeStage({ bytes, name: p }, cfg);
      const figure = await recordingFigure(audio.samples, audio.sampleRate, result, cfg, options);
      entries.push({ result, figure, audio: { bytes, mime: audioMime(p) } });
    } catch (e) {
      entries.push({ result, figure: null, audio: { bytes, mime: audioMime(p) }, note: `The figure could not be made: ${(e as Error).message}` });
    }
  }
  return renderReport(entries, { title: options.title });
}

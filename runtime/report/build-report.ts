import { readFile } from 'node:fs/promises';
import { relative, resolve, sep } from 'node:path';
import type { Config } from '../config/schema.js';
import { recordingFigure, type FigureOptions } from '../figure/recording-figure.js';
import type { Result } from '../pipeline/result.js';
import { decodeStage } from '../pipeline/stages.js';
import { audioMime, renderReport, withNumbers, type ReportEntry } from './report.js';

export interface BuildReportOptions extends FigureOptions {
  /** The folder recordings are looked up in (default: the working folder); nothing outside it is read. */
  audioBase?: string;
  title?: string;
}

/**
 * Where a result's recording may be read: its `source.path` is text from the result (for a
 * served record, the uploader's file name), so it is only a name to look up below the base,
 * never a path to open as it is. A name that leads out of the base (`../…`, or an absolute path
 * elsewhere) is refused.
 */
export function audioPathUnder(base: string, name: string): string | null {
  if (name.includes('\0')) return null;
  const root = resolve(base);
  const path = resolve(root, name);
  const rel = relative(root, path);
  if (rel === '' || rel.startsWith(`..${sep}`) || rel === '..' || resolve(root, rel) !== path) return null;
  return path;
}

/**
 * A self-contained HTML report of results: each recording's audio is read from its
 * `source.path`, decoded for the figure (with `cfg`'s mel and colour settings) and embedded.
 * A recording whose audio is gone keeps its section, without figure or player, saying why.
 */
export async function buildReport(results: Result[], cfg: Config, options: BuildReportOptions = {}): Promise<{ html: string; missing: number }> {
  const entries: ReportEntry[] = [];
  const base = resolve(options.audioBase ?? '.');
  // numbers as numbers before anything is drawn from them (the figure writes them into SVG)
  for (const result of results.map(withNumbers)) {
    const p = String(result.source.path);
    const path = audioPathUnder(base, p);
    if (path === null) {
      entries.push({ result, figure: null, audio: null, note: `The audio was not looked for: ${JSON.stringify(p.slice(0, 200))} is not a name below ${base} (the audio base). Pass --audio-base with the folder the recordings are in.` });
      continue;
    }
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
  return { html: renderReport(entries, { title: options.title }), missing: entries.filter((e) => e.audio === null).length };
}

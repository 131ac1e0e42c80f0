import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { defaultConfig } from '../runtime/config/schema.js';
import { decodeStage } from '../runtime/pipeline/stages.js';
import { fmt, stats, table } from './stats.js';

/**
 * Decode time per file over the covid19-cough folder (mp3), sequentially, one decoder at a time:
 * read, decode, downmix and resample to audio.sample_rate, as the pipeline does.
 */
export async function benchDecode(dataDir: string, limit = Infinity): Promise<string> {
  let files: string[];
  try {
    files = readdirSync(join(dataDir, 'raw')).filter((f) => f.endsWith('.mp3')).sort().map((f) => join(dataDir, 'raw', f));
  } catch {
    return `### Decode\n\nskipped: ${dataDir} is absent (the benchmark reads ../shared/data/covid19-cough).`;
  }
  files = files.slice(0, limit);
  const rows: (string | number)[][] = [];
  for (const decoder of ['native', 'ffmpeg'] as const) {
    const cfg = defaultConfig();
    cfg.audio.decoder = decoder;
    const times: number[] = [];
    let audio = 0, failed = 0;
    const t0 = performance.now();
    for (const f of files) {
      const t = performance.now();
      try {
        const a = await decodeStage(f, cfg);
        audio += a.source.duration_s;
      } catch {
        failed++;
      }
      times.push(performance.now() - t);
    }
    const wall = (performance.now() - t0) / 1000;
    const s = stats(times);
    rows.push([decoder, files.length, failed, fmt(s.median), fmt(s.min), fmt(s.max), wall.toFixed(1), (audio / wall).toFixed(0)]);
  }
  return `### Decode, per file (${files.length} files of covid19-cough, sequential)\n\n` +
    table(['decoder', 'files', 'failed', 'median ms', 'min ms', 'max ms', 'total s', '× real time'], rows);
}

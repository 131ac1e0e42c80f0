import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { defaultConfig } from '../runtime/config/schema.js';
import { loadPffft } from '../runtime/dsp/pffft.js';
import { decodeStage, segmentStage } from '../runtime/pipeline/stages.js';
import { stats, table } from './stats.js';

/**
 * Segmentation cost per recording, each method on the same decoded covid19-cough recordings
 * (decoded once, at the pipeline's rate, with the pipeline's FFT), one thread: rounds of the
 * whole set, alternating the methods, medians with min–max.
 */
export async function benchSegmentation(coughDir: string, quick: boolean): Promise<string> {
  let files: string[];
  try {
    files = readdirSync(join(coughDir, 'raw')).filter((f) => f.endsWith('.mp3')).sort();
  } catch {
    return `### Segmentation cost\n\nskipped: ${coughDir} is absent.`;
  }
  const fft = await loadPffft();
  const cfg = defaultConfig();
  const audio: { samples: Float32Array; sampleRate: number }[] = [];
  for (const f of files) {
    try { audio.push(await decodeStage(join(coughDir, 'raw', f), cfg)); } catch { /* undecodable */ }
  }
  const seconds = audio.reduce((s, a) => s + a.samples.length / a.sampleRate, 0);
  const methods = ['onset', 'adaptive', 'hysteresis'] as const;
  const per: Record<string, number[]> = Object.fromEntries(methods.map((m) => [m, []]));
  const rounds = quick ? 2 : 5;
  for (let r = 0; r < rounds + 1; r++) {
    for (const m of methods) {
      const c = defaultConfig();
      c.segmentation.method = m;
      const t0 = performance.now();
      for (const a of audio) segmentStage(a, c, fft);
      // the first round warms the JIT and is not counted
      if (r > 0) per[m]!.push((performance.now() - t0) / audio.length);
    }
  }
  const base = stats(per.adaptive!).median;
  const rows = methods.map((m) => {
    const s = stats(per[m]!);
    return [m + (m === cfg.segmentation.method ? ' (the default)' : ''), `${s.median.toFixed(3)} (${s.min.toFixed(3)}–${s.max.toFixed(3)})`, ((s.median * audio.length) / seconds).toFixed(3), (s.median / base).toFixed(2)];
  });
  return `### Segmentation cost per recording (covid19-cough, ${audio.length} recordings, ${(seconds / 60).toFixed(0)} min, decoded once; one thread, ${rounds} rounds)\n\n` +
    table(['method', 'ms per recording', 'ms per second of audio', 'relative to adaptive'], rows) +
    '\n\nTarget (issue 15): the default method within 1.3× of the adaptive method, the default before it.';
}

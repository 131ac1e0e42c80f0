import type { Config } from '../runtime/config/schema.js';
import { printable } from './handle-error.js';

/**
 * Warn, once per process, that the ffmpeg in use is more than two years old (the
 * @ffmpeg-installer fallback is from 2018). A run calls it when a file was decoded with ffmpeg,
 * so a run that never needs ffmpeg never spawns one to ask its version; a server calls it at start.
 */
let warned: Promise<void> | undefined;
export function warnIfOldFfmpeg(cfg: Config): Promise<void> {
  warned ??= (async () => {
    const { oldFfmpegWarning } = await import('../runtime/decode/ffmpeg-age.js');
    const warning = await oldFfmpegWarning(cfg.audio.ffmpeg_path);
    if (warning) process.stderr.write(`tosia: warning: ${printable(warning)}\n`);
  })();
  return warned;
}

import { execFile } from 'node:child_process';
import { resolveFfmpeg } from './ffmpeg-path.js';

/** The year an ffmpeg was built, from its copyright line ("Copyright (c) 2000-2018"). */
export function ffmpegYear(versionLine: string): number | null {
  const m = /Copyright \(c\) \d{4}-(\d{4})/.exec(versionLine);
  return m ? Number(m[1]) : null;
}

/** The first line of `ffmpeg -version`. */
export function ffmpegVersion(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(path, ['-hide_banner', '-version'], { timeout: 10_000 }, (err, stdout) => {
      if (err) reject(err);
      else resolve(stdout.split('\n')[0] ?? '');
    });
  });
}

/** More than two years between its build and `now`: old enough to warn about. */
export function isOldFfmpeg(year: number | null, now = new Date()): boolean {
  return year !== null && now.getFullYear() - year > 2;
}

export const OLD_FFMPEG_ADVICE =
  'it decodes every file the in-process decoders cannot (under tosia serve, untrusted uploads); use a maintained one: ' +
  '--ffmpeg PATH, $TOSIA_FFMPEG, or audio.ffmpeg_path (e.g. /usr/bin/ffmpeg from apt-get install ffmpeg)';

/**
 * The warning to give once per run or server start when the ffmpeg tosia would use was built more
 * than two years ago (the @ffmpeg-installer fallback is from 2018); null when it is recent, or
 * when there is no ffmpeg at all (then the first file that needs one says so, with its fix).
 */
export async function oldFfmpegWarning(explicit?: string | null, now = new Date()): Promise<string | null> {
  let ff;
  try {
    ff = resolveFfmpeg(explicit);
  } catch {
    // no ffmpeg anywhere: nothing is old; a file that needs one fails with E_CONFIG naming the fix
    return null;
  }
  const line = await ffmpegVersion(ff.path).catch(() => '');
  const year = ffmpegYear(line);
  if (!isOldFfmpeg(year, now)) return null;
  return `the ffmpeg in use (${ff.path}, found by ${ff.source}) was built in ${year}, more than two years ago: ${OLD_FFMPEG_ADVICE}`;
}

import { accessSync, constants, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';
import { TosiaError } from '../../algos/errors.js';

export type FfmpegSource = 'explicit' | 'ffmpeg-static' | '@ffmpeg-installer/ffmpeg' | 'PATH';

export interface ResolvedFfmpeg {
  path: string;
  /** Which resolution step found it. */
  source: FfmpegSource;
}

const require = createRequire(import.meta.url);

function isExecutable(p: string | null | undefined): p is string {
  if (!p) return false;
  try {
    if (!statSync(p).isFile()) return false;
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    // missing or not executable: not a candidate, and the next resolution step is tried
    return false;
  }
}

function fromPackage(name: string, pick: (mod: unknown) => unknown): string | null {
  try {
    const p = pick(require(name));
    return typeof p === 'string' ? p : null;
  } catch {
    // the optional package is not installed (or its binary failed to download): the next step is tried
    return null;
  }
}

function onPath(): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, 'ffmpeg');
    if (isExecutable(p)) return p;
  }
  return null;
}

let cached: ResolvedFfmpeg | undefined;

/** Every ffmpeg tosia could use, in the order it looks (for `tosia doctor`). */
export function ffmpegCandidates(explicit?: string | null): ResolvedFfmpeg[] {
  const wanted = explicit ?? process.env.TOSIA_FFMPEG ?? null;
  const found: ResolvedFfmpeg[] = [];
  if (isExecutable(wanted)) found.push({ path: wanted, source: 'explicit' });
  const s = fromPackage('ffmpeg-static', (m) => m);
  if (isExecutable(s)) found.push({ path: s, source: 'ffmpeg-static' });
  const i = fromPackage('@ffmpeg-installer/ffmpeg', (m) => (m as { path?: string }).path);
  if (isExecutable(i)) found.push({ path: i, source: '@ffmpeg-installer/ffmpeg' });
  const p = onPath();
  if (isExecutable(p)) found.push({ path: p, source: 'PATH' });
  return found;
}

/** What a missing ffmpeg costs: tosia decodes the common formats itself. */
export const NEEDS_FFMPEG = 'tosia decodes WAV, MP3, Ogg (Vorbis, Opus) and FLAC itself, and needs an ffmpeg for every other format (m4a, aac, webm, amr, wma, …)';

/** How to get one: none comes with tosia (a 66-80 MB binary, and the packaged ones age). */
export const NO_FFMPEG_FIX = 'install one (apt-get install ffmpeg, brew install ffmpeg, or `npm i ffmpeg-static` beside tosia), or point --ffmpeg, $TOSIA_FFMPEG or audio.ffmpeg_path at one';

/**
 * No ffmpeg anywhere: an environment problem, never a property of the file (E_INTERNAL, exit 3,
 * retried by a re-run). The decoder says why the file needed one.
 */
export class NoFfmpegError extends TosiaError {
  constructor(why = NEEDS_FFMPEG, file?: string) {
    super('E_INTERNAL', `no ffmpeg found (tried ffmpeg-static, @ffmpeg-installer/ffmpeg and PATH); ${why}`, { file, stage: 'decode', hint: NO_FFMPEG_FIX });
  }
}

/**
 * Find ffmpeg, in this order: an explicit path (the argument, else $TOSIA_FFMPEG), the
 * ffmpeg-static binary if its optional download succeeded, @ffmpeg-installer/ffmpeg's bundled
 * binary, then `ffmpeg` on PATH.
 */
export function resolveFfmpeg(explicit?: string | null): ResolvedFfmpeg {
  const wanted = explicit ?? process.env.TOSIA_FFMPEG ?? null;
  if (wanted) {
    if (!isExecutable(wanted)) {
      // a wrong setting, not a bad input: E_CONFIG, and a re-run with it fixed retries the files
      throw new TosiaError('E_CONFIG', `ffmpeg at '${wanted}' is missing or not executable`, {
        stage: 'config', hint: 'fix audio.ffmpeg_path / --ffmpeg / $TOSIA_FFMPEG, or unset it to use an installed ffmpeg package or the ffmpeg on PATH',
      });
    }
    return { path: wanted, source: 'explicit' };
  }
  if (cached) return cached;
  const candidates: [FfmpegSource, () => string | null][] = [
    ['ffmpeg-static', () => fromPackage('ffmpeg-static', (m) => m)],
    ['@ffmpeg-installer/ffmpeg', () => fromPackage('@ffmpeg-installer/ffmpeg', (m) => (m as { path?: string }).path)],
    ['PATH', onPath],
  ];
  for (const [source, find] of candidates) {
    const p = find();
    if (isExecutable(p)) {
      cached = { path: p, source };
      return cached;
    }
  }
  // an environment problem, never a property of the file: E_INTERNAL (exit 3), retried by a re-run
  throw new NoFfmpegError();
}

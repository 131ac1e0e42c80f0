import { spawn } from 'node:child_process';
import { resolve as resolvePath } from 'node:path';
import { TosiaError } from '../../algos/errors.js';
import { resolveFfmpeg } from './ffmpeg-path.js';
import { parseAudioDetails, type StreamInfo } from './probe-info.js';

export interface RawPcm {
  /** Interleaved float32 PCM at `sampleRate`, with `channels` channels. */
  interleaved: Float32Array;
  channels: number;
  sampleRate: number;
  source: StreamInfo;
  /** ffmpeg's lines saying the stream is damaged (it decodes on past them), up to 20. */
  damageLines: string[];
}

/** What ffmpeg prints about a damaged stream it goes on decoding; "Estimating duration from bitrate" and the like are not damage. */
const DAMAGE_LINE = /Error while decoding|Invalid data found|Input buffer exhausted|is not allocated|partial file|Header missing|decode_frame\(\) failed|corrupt|invalid (frame|sync|residual|data|header|new backstep)|Inconsistent|overread|CRC mismatch|Truncat|Packet corrupt|concealing|error decoding/i;

export interface FfmpegDecodeOptions {
  /** The name errors give (the input's name when `path` is a temp copy of uploaded bytes). */
  name?: string;
  /** An input decoder to force, e.g. libopus so both decode paths use the same library. */
  inputCodec?: string;
  ffmpegPath?: string | null;
  timeoutS: number;
  /** Stop reading after this many seconds of output (the decoded audio is then reported too long). */
  maxDurationS: number;
  /**
   * Stream instead of collecting: each piece of decoded audio (interleaved, whole frames) goes
   * here as it arrives, and the result's `interleaved` is empty. Memory then stays flat for
   * any length. A throw stops ffmpeg and rejects with that error.
   */
  onPcm?: (interleaved: Float32Array, channels: number, sampleRate: number, durationS: number | null) => void;
}

/**
 * The only place ffmpeg is called: it turns any format it reads into float32 PCM at the stream's
 * own rate with its channels kept (tosia downmixes by the channel mean), on stdout. What it says
 * on stderr gives the stream's description (its first audio stream, the one mapped), the
 * container's duration, and the lines that say the stream is damaged. The input goes through the
 * `file:` protocol, so names beginning with '-' or holding ':' are never read as options or
 * protocols.
 */
export async function decodeWithFfmpeg(path: string, options: FfmpegDecodeOptions): Promise<RawPcm> {
  const file = options.name ?? path;
  const bin = resolveFfmpeg(options.ffmpegPath);
  const args = [
    '-nostdin', '-hide_banner', ...(options.inputCodec ? ['-c:a', options.inputCodec] : []),
    '-i', `file:${resolvePath(path)}`,
    '-vn', '-sn', '-dn', '-map', '0:a:0', '-acodec', 'pcm_f32le', '-f', 'f32le', 'pipe:1',
  ];
  return new Promise<RawPcm>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    let info: StreamInfo | null = null;
    let settled = false;
    let tooLong = false;
    let timedOut = false;
    const stderrTail: string[] = [];
    const damageLines: string[] = [];
    const maxBytesPerChannel = () => Math.ceil(options.maxDurationS * ((info as StreamInfo | null)?.sampleRate ?? 192000)) * 4;
    const proc = spawn(bin.path, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const kill = () => { if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL'); };
    const timer = setTimeout(() => { timedOut = true; kill(); }, options.timeoutS * 1000);
    // the container's declared duration, when ffmpeg reports one: lets a streaming caller size its output once
    let durationS: number | null = null;
    // stderr, line by line: the first input's duration and first audio stream, until the mapping
    let inInput = false;
    let described = false;
    let partial = '';
    const onLine = (line: string) => {
      if (!line.trim()) return;
      stderrTail.push(line);
      if (stderrTail.length > 12) stderrTail.shift();
      if (damageLines.length < 20 && DAMAGE_LINE.test(line)) damageLines.push(line.replace(/^\[[^\]]* @ 0x[0-9a-f]+\] /, '').trim());
      if (described) return;
      if (/^Input #0, /.test(line)) inInput = true;
      else if (/^(Input #[1-9]|Output #\d+|Stream mapping:)/.test(line)) inInput = false;
      else if (inInput) {
        const d = /^\s*Duration: (\d+):(\d+):(\d+(?:\.\d+)?)/.exec(line);
        if (d) durationS = Number(d[1]) * 3600 + Number(d[2]) * 60 + Number(d[3]);
        const a = /^\s*Stream #0:\d+.*?: Audio: (.*)$/.exec(line);
        if (a) {
          const details = a[1]!.split(', ');
          info = parseAudioDetails(details[0], details);
          described = true;
        }
      }
    };
    proc.stderr!.setEncoding('utf8').on('data', (text: string) => {
      const lines = (partial + text).split(/\r\n|\r|\n/);
      partial = lines.pop() ?? '';
      lines.forEach(onLine);
    });
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      if (tooLong) return finish();
      const detail = stderrTail.filter((l) => /error|invalid|could not|does not contain|no such|failed|truncat|matches no streams/i.test(l)).slice(-3).join(' | ');
      const noAudio = stderrTail.some((l) => /matches no streams|does not contain any stream|Output file #0 does not contain/.test(l));
      const reason = noAudio ? 'has no audio stream' : timedOut
        ? `ffmpeg did not finish within ${options.timeoutS} s and was killed`
        : `ffmpeg could not decode it${detail ? `: ${detail}` : `: ${err.message.split('\n')[0]}`}`;
      reject(new TosiaError('E_DECODE', reason, {
        file, stage: 'decode',
        hint: noAudio ? 'the file holds no audio track (a video or image?); pass the audio recording' : timedOut ? 'raise audio.decode_timeout_s or check the file is not a stream that never ends' : 'check that the file is a complete audio recording; re-export it as wav or flac',
      }));
    };
    proc.on('error', (e) => { clearTimeout(timer); fail(new Error(`ffmpeg could not be started (${bin.path}): ${e.message}`)); });
    // close: the process has exited and its stdout and stderr are drained
    proc.on('close', (code, signal) => {
      clearTimeout(timer);
      if (partial) { onLine(partial); partial = ''; }
      if (code === 0 && !timedOut) { if (!settled) { settled = true; finish(); } return; }
      fail(new Error(signal ? `ffmpeg was killed with signal ${signal}` : `ffmpeg exited with code ${code}`));
    });
    // streaming: bytes wait here until the stream's layout is known and a whole frame is there
    let carry: Buffer = Buffer.alloc(0);
    const stream = (c: Buffer | null) => {
      const src = info as StreamInfo | null;
      if (c) carry = carry.length ? Buffer.concat([carry, c]) : c;
      if (!src?.sampleRate) return;
      const frame = 4 * (src.channels ?? 1);
      const usable = carry.length - (carry.length % frame);
      if (usable === 0) return;
      const pcm = new Float32Array(usable / 4);
      new Uint8Array(pcm.buffer).set(carry.subarray(0, usable));
      carry = carry.subarray(usable);
      options.onPcm!(pcm, src.channels ?? 1, src.sampleRate, durationS);
    };
    proc.stdout!.on('data', (c: Buffer) => {
      if (options.onPcm) {
        try {
          stream(c);
        } catch (e) {
          if (!settled) { settled = true; kill(); reject(e); }
          return;
        }
      } else chunks.push(c);
      bytes += c.length;
      const ch = (info as StreamInfo | null)?.channels ?? 1;
      if (bytes > maxBytesPerChannel() * ch && !tooLong) {
        tooLong = true;
        kill();
      }
    });
    function finish(): void {
      const src = info;
      if (tooLong) {
        reject(new TosiaError('E_INPUT', `recording is longer than audio.max_duration_s=${options.maxDurationS} s`, {
          file, stage: 'decode', hint: 'split the recording, or raise audio.max_duration_s / --max-duration',
        }));
        return;
      }
      if (!src) {
        reject(new TosiaError('E_DECODE', 'ffmpeg found no audio stream', { file, stage: 'decode', hint: 'the file has no audio track; check it is an audio recording' }));
        return;
      }
      const rate = src.sampleRate;
      if (!rate) {
        reject(new TosiaError('E_DECODE', 'ffmpeg did not report the stream sample rate', { file, stage: 'decode', hint: 're-export the recording as wav or flac' }));
        return;
      }
      const channels = src.channels ?? 1;
      if (options.onPcm) {
        try {
          stream(null);
        } catch (e) {
          reject(e);
          return;
        }
        resolve({ interleaved: new Float32Array(0), channels, sampleRate: rate, source: src, damageLines });
        return;
      }
      const buf = Buffer.concat(chunks);
      const usable = buf.length - (buf.length % (4 * channels));
      const interleaved = new Float32Array(usable / 4);
      new Uint8Array(interleaved.buffer).set(buf.subarray(0, usable));
      resolve({ interleaved, channels, sampleRate: rate, source: src, damageLines });
    }
  });
}

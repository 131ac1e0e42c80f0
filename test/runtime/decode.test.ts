import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeFile, resolveFfmpeg } from '../../runtime/index.js';
import { bundledSamples } from '../helpers/samples.js';
import { writeWav } from '../helpers/wav.js';

const dir = mkdtempSync(join(tmpdir(), 'tosia-decode-'));
const snrDb = (ref: Float32Array, x: Float32Array) => {
  const n = Math.min(ref.length, x.length);
  let s = 0, e = 0;
  for (let i = 0; i < n; i++) { s += ref[i]! ** 2; e += (ref[i]! - x[i]!) ** 2; }
  return e === 0 ? Infinity : 10 * Math.log10(s / e);
};

describe('the same file gives the same PCM whichever path decodes it', () => {
  it.each(bundledSamples().map((s) => [s.name, s] as const))('%s: native vs ffmpeg >= 60 dB SNR at 8 kHz', async (_n, s) => {
    const a = await decodeFile(s.file, { sampleRate: 8000, decoder: 'native' });
    const b = await decodeFile(s.file, { sampleRate: 8000, decoder: 'ffmpeg' });
    expect(a.source.decoder).toBe('native');
    expect(b.source.decoder).toBe('ffmpeg');
    expect(a.source.codec).toBe(b.source.codec);
    expect(a.source.channels).toBe(b.source.channels);
    expect(a.samples.length).toBe(b.samples.length);
    expect(snrDb(b.samples, a.samples)).toBeGreaterThanOrEqual(60);
  });

  it('auto uses the in-process path for every bundled format', async () => {
    for (const s of bundledSamples()) expect((await decodeFile(s.file, { sampleRate: 8000 })).source.decoder).toBe('native');
  });
});

function wav(channels: number, rate: number, bits: 16 | 24 | 32, format: 1 | 3, frames: number, fill: (f: number, c: number) => number, claimExtra = 0): string {
  return writeWav(join(dir, `w${channels}_${rate}_${bits}_${format}_${claimExtra}.wav`), { channels, rate, bits, format, frames, fill, claimExtra });
}

describe('in-process WAV decoding', () => {
  it('downmixes 8 channels by their mean, and reads 24-bit at 96 kHz', async () => {
    const p = wav(8, 96000, 24, 1, 9600, (_f, c) => (c < 4 ? 0.5 : 0));
    const d = await decodeFile(p, { sampleRate: 8000 });
    expect(d.source).toMatchObject({ decoder: 'native', channels: 8, sample_rate: 96000, codec: 'pcm_s24le' });
    expect(d.samples[400]).toBeCloseTo(0.25, 3);
  });

  it('replaces NaN and Inf floats by 0 with a warning', async () => {
    const p = wav(1, 8000, 32, 3, 800, (f) => (f % 100 === 0 ? NaN : f % 101 === 0 ? Infinity : 0.1));
    const d = await decodeFile(p, { sampleRate: 8000 });
    expect(d.samples.every(Number.isFinite)).toBe(true);
    expect(d.warnings.join()).toMatch(/NaN or infinite samples were replaced by 0/);
  });

  it('a header claiming more data than exists: what is there decodes in-process, reported truncated by the seconds missing; on_damage error refuses it', async () => {
    const p = wav(1, 8000, 16, 1, 8000, (f) => Math.sin(f / 10) * 0.3, 50_000);
    for (const decoder of ['auto', 'native', 'ffmpeg'] as const) {
      const d = await decodeFile(p, { sampleRate: 8000, decoder });
      expect(d.source.duration_s).toBe(1);
      expect(d.damage).toEqual({ truncated: { missing_s: 3.13 }, corrupt: [], details: [expect.stringMatching(/declares 3.13 s more than the file holds/)] });
    }
    await expect(decodeFile(p, { sampleRate: 8000, onDamage: 'error' })).rejects.toMatchObject({ code: 'E_DECODE', message: expect.stringMatching(/is truncated: the data chunk declares 3.13 s more/) });
  });

  it('a format with no in-process decoder (AAC in m4a) goes to ffmpeg; --decoder native refuses it', async () => {
    const src = wav(1, 16000, 16, 1, 16000, (f) => Math.sin(f / 7) * 0.3);
    const m4a = join(dir, 'x.m4a');
    execFileSync(resolveFfmpeg().path, ['-nostdin', '-loglevel', 'error', '-y', '-i', `file:${src}`, '-c:a', 'aac', `file:${m4a}`]);
    const d = await decodeFile(m4a, { sampleRate: 8000 });
    expect(d.source).toMatchObject({ decoder: 'ffmpeg', codec: 'aac' });
    await expect(decodeFile(m4a, { sampleRate: 8000, decoder: 'native' })).rejects.toMatchObject({ code: 'E_DECODE', message: expect.stringMatching(/no in-process decoder/) });
  });

  it('recordings longer than max_duration_s are E_INPUT on both paths', async () => {
    const p = wav(1, 8000, 16, 1, 16000, () => 0.1);
    for (const decoder of ['native', 'ffmpeg'] as const) {
      await expect(decodeFile(p, { sampleRate: 8000, decoder, maxDurationS: 1 })).rejects.toMatchObject({ code: 'E_INPUT', message: expect.stringMatching(/longer than audio.max_duration_s=1/) });
    }
  });
});

describe('in-process mp3 decoding reuses one WASM instance per thread, with its own feed/read loop', () => {
  it('gives the same PCM as a fresh decoder, file after file, even after a corrupt file', async () => {
    const { readFileSync } = await import('node:fs');
    const { MPEGDecoder } = await import('mpg123-decoder');
    const { decodeNative } = await import('../../runtime/decode/native.js');
    const mp3s = bundledSamples().filter((s) => s.file.endsWith('.mp3')).map((s) => readFileSync(s.file));
    expect(mp3s.length).toBeGreaterThanOrEqual(2);
    const corrupt = Uint8Array.from(mp3s[0]!);
    for (let i = 600; i < corrupt.length; i += 97) corrupt[i] ^= 0x5a;
    const sequence = [mp3s[0]!, mp3s[1]!, corrupt, mp3s[1]!, mp3s[0]!];
    for (const bytes of sequence) {
      const fresh = new MPEGDecoder();
      await fresh.ready;
      const want = fresh.decode(new Uint8Array(bytes));
      fresh.free();
      const got = await decodeNative(new Uint8Array(bytes));
      expect(got!.sampleRate).toBe(want.sampleRate);
      // every channel the stream has (one for a mono stream), sample for sample
      for (const [c, ch] of got!.channels.entries()) {
        expect(ch.length).toBe(want.samplesDecoded);
        expect(Buffer.from(ch.buffer, ch.byteOffset, ch.byteLength)).toEqual(Buffer.from(want.channelData[c]!.buffer, want.channelData[c]!.byteOffset, want.samplesDecoded * 4));
      }
    }
  });
});

describe('large files stream through ffmpeg (issue 11, D11)', () => {
  it.each(bundledSamples().map((s) => [s.name, s] as const))('%s: streamed in pieces, the same recording as decoded whole', async (_n, s) => {
    const whole = await decodeFile(s.file, { sampleRate: 8000, decoder: 'ffmpeg' });
    const streamed = await decodeFile(s.file, { sampleRate: 8000, streamAboveBytes: 0 });
    expect(streamed.source).toEqual(whole.source);
    expect(streamed.stats).toEqual(whole.stats);
    expect(streamed.samples.length).toBe(whole.samples.length);
    // the same filter: equal, or (integer ratios, which decode whole by fast convolution) equal to float32 rounding
    let worst = 0;
    for (let i = 0; i < whole.samples.length; i++) worst = Math.max(worst, Math.abs(whole.samples[i]! - streamed.samples[i]!));
    expect(worst).toBeLessThan(1e-5);
  });

  it('a streamed file over audio.max_duration_s is stopped early with E_INPUT', async () => {
    const s = bundledSamples().find((x) => x.name.startsWith('coughs-3_'))!;
    await expect(decodeFile(s.file, { sampleRate: 8000, streamAboveBytes: 0, maxDurationS: 1 })).rejects.toMatchObject({ code: 'E_INPUT', message: expect.stringMatching(/longer than audio.max_duration_s=1 s/) });
  });
});

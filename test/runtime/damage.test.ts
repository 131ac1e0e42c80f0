import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeFile, resolveFfmpeg } from '../../runtime/index.js';
import { inspectFlac, inspectMp3, inspectOgg } from '../../runtime/decode/integrity.js';
import { sniffFormat } from '../../runtime/decode/sniff.js';
import { tosia } from '../helpers/cli.js';
import { COUGH_DIR, hasCoughData, REPO_ROOT, SKIP_COUGH } from '../helpers/shared.js';

// Issue 16's table, rebuilt from the bundled samples: the first half of the bytes kept (half_),
// 300 bytes in the middle overwritten with 0xAA (mid_), the first 2000 bytes kept (cut_). Each
// gives the same verdict whichever decoder runs, never decodes a damaged stretch as sound, and
// fails with E_DECODE under on_damage: error.

const dir = mkdtempSync(join(tmpdir(), 'tosia-damage-'));
const sample = (name: string) => readFileSync(join(REPO_ROOT, 'samples', name));
const FLAC = 'coughs-3-bout_snr-20db_pink_44k.flac', MP3 = 'coughs-4-bout_snr-20db_pink_48k.mp3', VORBIS = 'coughs-2_snr-25db_white_22k.oga', OPUS = 'coughs-2-voiced_snr-20db_babble_8k.ogg';

function damaged(name: string, kind: 'half' | 'mid' | 'cut' | 'keep', keep = 0): string {
  const b = Buffer.from(sample(name));
  let out: Buffer;
  if (kind === 'half') out = b.subarray(0, b.length >> 1);
  else if (kind === 'cut') out = b.subarray(0, 2000);
  else if (kind === 'keep') out = b.subarray(0, keep);
  else { out = Buffer.from(b); out.fill(0xaa, b.length >> 1, (b.length >> 1) + 300); }
  const path = join(dir, `${kind}_${name}`);
  writeFileSync(path, out);
  return path;
}

interface Row { file: () => string; flag: 'truncated' | 'corrupt'; warning: RegExp; missing?: number | null; duration: number }
const rows: Record<string, Row> = {
  'half_a.flac: STREAMINFO declares more': { file: () => damaged(FLAC, 'half'), flag: 'truncated', warning: /STREAMINFO declares 3 s: 1.64 s are missing/, missing: 1.64, duration: 1.36 },
  'mid_a.flac: a damaged frame is dropped, silence stands in, the rest is kept': { file: () => damaged(FLAC, 'mid'), flag: 'corrupt', warning: /damaged FLAC frame \(failed CRC\) at 1.36 s was dropped/, duration: 3 },
  'half_a.mp3: the Xing/Info header declares more': { file: () => damaged(MP3, 'half'), flag: 'truncated', warning: /its header declares 3.02 s: 1.54 s are missing/, missing: 1.54, duration: 1.47 },
  'mid_a.mp3: lost sync and lost frames': { file: () => damaged(MP3, 'mid'), flag: 'corrupt', warning: /bytes without MP3 frame sync at 1.51 s were skipped/, duration: 3 },
  'cut.mp3: the first 2000 bytes': { file: () => damaged(MP3, 'cut'), flag: 'truncated', warning: /its header declares 3.02 s/, missing: 2.9, duration: 0.1 },
  // the Vorbis sample's pages are large: half of it holds no audio page, so it keeps two pages and a bit
  'half_a.ogg (Vorbis): no end-of-stream page': { file: () => damaged(VORBIS, 'keep', 10_500), flag: 'truncated', warning: /without its end-of-stream page/, missing: null, duration: 1 },
  'half_a.opus: no end-of-stream page': { file: () => damaged(OPUS, 'half'), flag: 'truncated', warning: /without its end-of-stream page/, missing: null, duration: 1 },
  'mid_a.ogg (Vorbis): a page failing its CRC is dropped, not decoded; silence keeps the time': { file: () => damaged(VORBIS, 'mid'), flag: 'corrupt', warning: /failed page CRC.*dropped, not decoded/, duration: 2.5 },
  'mid_a.opus: the same': { file: () => damaged(OPUS, 'mid'), flag: 'corrupt', warning: /failed page CRC.*dropped, not decoded/, duration: 3 },
};

describe('damaged recordings', () => {
  for (const [name, row] of Object.entries(rows)) {
    it(`${name}: flagged ${row.flag}, the same whichever decoder, E_DECODE under on_damage error`, async () => {
      const file = row.file();
      const verdicts = [];
      for (const decoder of ['auto', 'ffmpeg'] as const) {
        const d = await decodeFile(file, { sampleRate: 8000, decoder });
        expect(d.damage, decoder).not.toBeNull();
        expect(d.warnings.join('\n'), decoder).toMatch(row.warning);
        if (row.flag === 'truncated') expect(d.damage!.truncated).toEqual({ missing_s: row.missing });
        else expect(d.damage!.corrupt.length).toBeGreaterThan(0);
        expect(Math.abs(d.source.duration_s - row.duration), `${decoder}: ${d.source.duration_s} s`).toBeLessThan(0.1);
        verdicts.push(JSON.stringify(d.damage));
      }
      expect(verdicts[1]).toBe(verdicts[0]);
      await expect(decodeFile(file, { sampleRate: 8000, onDamage: 'error' })).rejects.toMatchObject({ code: 'E_DECODE', message: expect.stringMatching(new RegExp(`is ${row.flag}`)) });
    });
  }

  it('the intact samples are clean', async () => {
    for (const name of [FLAC, MP3, VORBIS, OPUS, 'coughs-3_snr-25db_white_16k.wav', 'coughs-3-bout_snr-15db_white_8k.mp3', 'coughs-2_snr-30db_pink_48k.ogg']) {
      const d = await decodeFile(join(REPO_ROOT, 'samples', name), { sampleRate: 8000 });
      expect(d.damage, name).toBeNull();
    }
  });

  it('through the CLI: the result\'s quality flags and fields, results.csv\'s columns, and --on-damage error into errors.jsonl', async () => {
    const file = damaged(FLAC, 'half');
    const one = await tosia(['run', file, '--json']);
    expect(one.code).toBe(0);
    expect(JSON.parse(one.stdout).quality).toMatchObject({ flags: expect.arrayContaining(['truncated']), truncated_missing_s: 1.64 });
    const mid = JSON.parse((await tosia(['run', damaged(MP3, 'mid'), '--json'])).stdout);
    expect(mid.quality).toMatchObject({ flags: expect.arrayContaining(['corrupt']), corrupt_spans: [{ start_s: 1.51, end_s: 1.53 }] });
    const out = join(dir, 'out');
    expect((await tosia(['run', file, damaged(MP3, 'mid'), join(REPO_ROOT, 'samples', MP3), '--out', out])).code).toBe(0);
    const csv = readFileSync(join(out, 'results.csv'), 'utf8').trim().split('\n');
    const head = csv[0]!.split(',');
    const col = (line: string, name: string) => line.split(',')[head.indexOf(name)];
    expect(col(csv.find((l) => l.includes('half_'))!, 'truncated_missing_s')).toBe('1.64');
    expect(col(csv.find((l) => l.includes('mid_'))!, 'corrupt_spans')).toBe('1.51-1.53');
    expect(col(csv.find((l) => l.includes('/samples/'))!, 'truncated_missing_s')).toBe('');
    const strict = join(dir, 'strict');
    const r = await tosia(['run', file, join(REPO_ROOT, 'samples', MP3), '--out', strict, '--on-damage', 'error']);
    expect(r.code).toBe(1);
    const errors = readFileSync(join(strict, 'errors.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(errors).toEqual([expect.objectContaining({ code: 'E_DECODE', message: expect.stringMatching(/is truncated: the stream ends at 1.36 s; its STREAMINFO declares 3 s/) })]);
    expect(await tosia(['run', file, '--on-damage', 'maybe'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/on_damage/) });
  });

  it.skipIf(!hasCoughData)('no false alarm on covid19-cough: every recording there is intact', () => {
    if (!hasCoughData) return console.warn(SKIP_COUGH);
    const raw = join(COUGH_DIR, 'raw');
    const alarms: string[] = [];
    for (const f of readdirSync(raw)) {
      const b = readFileSync(join(raw, f));
      const kind = sniffFormat(b);
      const i = kind === 'mp3' ? inspectMp3(b) : kind === 'flac' ? inspectFlac(b) : kind === 'opus' || kind === 'vorbis' ? inspectOgg(b, kind) : { damage: null };
      if (i.damage) alarms.push(`${f}: ${i.damage.details.join('; ')}`);
    }
    expect(alarms).toEqual([]);
  });

  it('formats only ffmpeg decodes: its error lines are the verdict (AAC in m4a with bytes overwritten is corrupt; the intact one is clean)', async () => {
    const ffmpeg = resolveFfmpeg().path;
    const m4a = join(dir, 'x.m4a');
    execFileSync(ffmpeg, ['-nostdin', '-v', 'error', '-y', '-i', `file:${join(REPO_ROOT, 'samples/coughs-3_snr-25db_white_16k.wav')}`, '-c:a', 'aac', '-b:a', '48k', `file:${m4a}`]);
    expect((await decodeFile(m4a, { sampleRate: 8000 })).damage).toBeNull();
    const b = readFileSync(m4a);
    b.fill(0xaa, b.length >> 1, (b.length >> 1) + 300);
    const bad = join(dir, 'mid_x.m4a');
    writeFileSync(bad, b);
    const d = await decodeFile(bad, { sampleRate: 8000 });
    expect(d.damage).toMatchObject({ truncated: null, corrupt: [], unlocated: expect.any(Number) });
    expect(d.warnings.join()).toMatch(/ffmpeg reported \d+ decoding errors? \(.*\): the recording is damaged somewhere it does not say/);
    await expect(decodeFile(bad, { sampleRate: 8000, onDamage: 'error' })).rejects.toMatchObject({ code: 'E_DECODE', message: expect.stringMatching(/is corrupt: ffmpeg reported/) });
  });

  it('an Ogg page dropped whole (every CRC holds): the gap in the page sequence is found, and silence keeps the time', async () => {
    const b = sample(OPUS);
    const pages: number[] = [];
    for (let at = 0; at < b.length;) {
      pages.push(at);
      const nseg = b[at + 26]!;
      let body = 0;
      for (let i = 0; i < nseg; i++) body += b[at + 27 + i]!;
      at += 27 + nseg + body;
    }
    expect(pages.length).toBeGreaterThan(4);
    const k = pages.length - 2;
    const file = join(dir, 'dropped-page.ogg');
    writeFileSync(file, Buffer.concat([b.subarray(0, pages[k]!), b.subarray(pages[k + 1]!)]));
    const d = await decodeFile(file, { sampleRate: 8000 });
    expect(d.damage?.details.join()).toMatch(/1 Ogg page\(s\) missing from the sequence/);
    expect(d.damage?.corrupt.length).toBe(1);
    expect(Math.abs(d.source.duration_s - 3.01)).toBeLessThan(0.05);
  });
});

describe('a small file that claims hours of missing audio (issue 25, finding 6)', () => {
  // the 3 s sample with its Info header claiming 7,000 s and one frame's sync broken in the
  // middle: before, 7,000 s of silence were put back for it (20 s and 4 GB); now it is refused
  function bomb(): string {
    const b = Buffer.from(sample(MP3));
    const info = b.indexOf('Info');
    b.writeUInt32BE(291_666, info + 8);
    const syncs: number[] = [];
    for (let k = info; k < b.length - 1; k++) if (b[k] === 0xff && (b[k + 1]! & 0xe0) === 0xe0) syncs.push(k);
    b.fill(0, syncs[syncs.length >> 1]!, syncs[syncs.length >> 1]! + 4);
    const path = join(dir, 'bomb.mp3');
    writeFileSync(path, b);
    return path;
  }

  it.each(['auto', 'ffmpeg'] as const)('with the %s decoder: E_DECODE "mostly missing", before any silence is made', async (decoder) => {
    await expect(decodeFile(bomb(), { sampleRate: 16000, decoder })).rejects.toMatchObject({ code: 'E_DECODE', message: expect.stringMatching(/is mostly missing: it holds 2\.\d+ s of audio and its headers claim 7000 s/) });
  });

  // an Opus recording with a page cut out of its middle and its last page claiming 7,000 s (its
  // CRC made good): 9.3 s and 1.7 GB before the bound
  it('an Ogg file claiming 7,000 s with a page missing: E_DECODE "mostly missing"', async () => {
    const T = Array.from({ length: 256 }, (_, i) => {
      let r = i << 24;
      for (let k = 0; k < 8; k++) r = r & 0x80000000 ? ((r << 1) ^ 0x04c11db7) >>> 0 : (r << 1) >>> 0;
      return r >>> 0;
    });
    const crc = (b: Buffer) => { let c = 0; for (const x of b) c = (((c << 8) >>> 0) ^ T[((c >>> 24) & 0xff) ^ x]!) >>> 0; return c; };
    const b = sample('coughs-2_snr-30db_pink_48k.ogg');
    const pages: Buffer[] = [];
    for (let i = 0; i < b.length;) {
      const n = b[i + 26]!;
      let size = 27 + n;
      for (let k = 0; k < n; k++) size += b[i + 27 + k]!;
      pages.push(Buffer.from(b.subarray(i, i + size)));
      i += size;
    }
    const kept = pages.filter((_, k) => k !== pages.length >> 1);
    const last = kept.at(-1)!;
    last.writeBigUInt64LE(BigInt(7000 * 48000), 6);
    last.writeUInt32LE(0, 22);
    last.writeUInt32LE(crc(last), 22);
    const path = join(dir, 'bomb.ogg');
    writeFileSync(path, Buffer.concat(kept));
    await expect(decodeFile(path, { sampleRate: 16000 })).rejects.toMatchObject({ code: 'E_DECODE', message: expect.stringMatching(/is mostly missing: .*claim 7000 s/) });
  });

  // a FLAC recording whose last frame is renumbered to end at 7,000 s (its header CRC-8 and frame
  // CRC-16 made good) and whose STREAMINFO agrees: the hole before it would be filled with silence
  it('a FLAC file whose last frame claims to start near 7,000 s: E_DECODE "mostly missing"', async () => {
    const crc8 = (b: Buffer) => { let c = 0; for (const x of b) { c ^= x; for (let k = 0; k < 8; k++) c = c & 0x80 ? ((c << 1) ^ 0x07) & 0xff : (c << 1) & 0xff; } return c; };
    const crc16 = (b: Buffer) => { let c = 0; for (const x of b) { c ^= x << 8; for (let k = 0; k < 8; k++) c = c & 0x8000 ? ((c << 1) ^ 0x8005) & 0xffff : (c << 1) & 0xffff; } return c; };
    const utf8 = (n: number) => {
      if (n < 0x80) return Buffer.from([n]);
      const out: number[] = [];
      let lead = 0x80, room = 0x3f;
      while (n > room >> 1 || lead === 0x80) { out.unshift(0x80 | (n & 0x3f)); n = Math.floor(n / 64); lead = (lead >> 1) | 0x80; room >>= 1; }
      return Buffer.from([lead | n, ...out]);
    };
    const b = sample(FLAC);
    // STREAMINFO: the fixed block size, the rate and the total sample count
    const block = b.readUInt16BE(8 + 2), rate = (b[18]! << 12) | (b[19]! << 4) | (b[20]! >> 4);
    let pos = 4;
    for (let last = false; !last; pos += 4 + ((b[pos + 1]! << 16) | (b[pos + 2]! << 8) | b[pos + 3]!)) last = (b[pos]! & 0x80) !== 0;
    const head = Buffer.from(b.subarray(0, pos));
    const total = 7000 * rate;
    head[21] = (head[21]! & 0xf0) | Math.floor(total / 2 ** 32);
    head.writeUInt32BE(total % 2 ** 32, 22);
    // frame headers: sync, codes, the frame number (one byte in the sample), block size and rate
    // extras, then the CRC-8 over all of it
    const extraOf = (k: number) => ((b[k + 2]! >> 4) === 7 ? 2 : (b[k + 2]! >> 4) === 6 ? 1 : 0) + ((b[k + 2]! & 15) === 12 ? 1 : (b[k + 2]! & 15) >= 13 ? 2 : 0);
    const frameStarts: number[] = [];
    for (let k = pos; k < b.length - 6; k++) if (b[k] === 0xff && b[k + 1] === 0xf8 && b[k + 4]! < 0x80 && crc8(b.subarray(k, k + 5 + extraOf(k))) === b[k + 5 + extraOf(k)]) frameStarts.push(k);
    expect(frameStarts.length).toBeGreaterThan(5);
    const at = frameStarts.at(-1)!;
    const extra = extraOf(at);
    const header = Buffer.concat([b.subarray(at, at + 4), utf8(Math.floor(total / block) - 1), b.subarray(at + 5, at + 5 + extra)]);
    const body = b.subarray(at + 5 + extra + 1, b.length - 2);
    const frame = Buffer.concat([header, Buffer.from([crc8(header)]), body]);
    const crc = Buffer.alloc(2);
    crc.writeUInt16BE(crc16(frame));
    const path = join(dir, 'bomb.flac');
    writeFileSync(path, Buffer.concat([head, b.subarray(pos, at), frame, crc]));
    await expect(decodeFile(path, { sampleRate: 16000 })).rejects.toMatchObject({ code: 'E_DECODE', message: expect.stringMatching(/is mostly missing: .*claim 7000 s/) });
    // the file's own frames are intact: with a plausible claim it would decode
    expect(inspectFlac(new Uint8Array(readFileSync(path))).damage?.details.join()).toMatch(/FLAC frames from 2\.\d+ s to 6999\.\d+ s are missing/);
  });

  it('the same file with a plausible claim still decodes, its lost frames filled', async () => {
    const d = await decodeFile(damaged(MP3, 'mid'), { sampleRate: 16000 });
    expect(d.damage?.corrupt.length).toBeGreaterThan(0);
  });
});

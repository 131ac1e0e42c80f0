/**
 * Integrity of a recording's container, checked on its bytes before any decoder sees them, so
 * the verdict is the same whichever decoder runs: Ogg page CRCs, sequence numbers and the
 * end-of-stream page; FLAC frame header CRC-8 and frame CRC-16 against STREAMINFO's length; MP3
 * frame sync against the Xing/Info/VBRI frame count; WAV's data length against the bytes there.
 * Damaged Ogg pages and FLAC frames are cut out of the stream handed to the decoder, so they are
 * never decoded as sound; where the lost length is known, silence of that length goes back in.
 */

export interface Span { start_s: number; end_s: number }

export interface Damage {
  /** The stream ends early; `missing_s` where a length was declared (null where none was). */
  truncated: { missing_s: number | null } | null;
  /** Damaged stretches, dropped (never decoded); their times in the recording. */
  corrupt: Span[];
  /** Damage ffmpeg reported without a time (formats only ffmpeg decodes): how many errors. */
  unlocated?: number;
  /** One sentence per finding, for warnings and E_DECODE. */
  details: string[];
}

export interface Inspection {
  damage: Damage | null;
  /** The stream without its damaged pages or frames, when any were cut out. */
  cleaned?: Uint8Array;
  /**
   * FLAC with frames cut out: each run of unbroken frames as a stream of its own (libFLAC
   * decodes a stream that starts at a later frame without complaint, but not one with frames
   * missing inside); `gaps[i]` is the silence between run i and run i + 1.
   */
  runs?: Uint8Array[];
  /** Silence to put back after decoding the cleaned stream: at `at` source-rate frames, `frames` long. */
  gaps?: { at: number; frames: number }[];
  /**
   * Ogg: the frames the decoded stream should hold (the last intact page's granule position) and
   * where pages were cut out; the shortfall after decoding is put back as silence there, shared
   * in proportion to each hole's span.
   */
  fill?: { expect: number; holes: { at: number; span: number }[] };
}

/** The silence to put back into a decoded stream of `decoded` frames. */
export function gapsFor(i: Inspection, decoded: number): { at: number; frames: number }[] {
  if (i.gaps) return i.gaps;
  if (!i.fill || i.fill.holes.length === 0) return [];
  const lost = i.fill.expect - decoded;
  if (lost <= 0) return [];
  const total = i.fill.holes.reduce((n, h) => n + h.span, 0) || 1;
  let given = 0;
  return i.fill.holes.map((h, k) => {
    const frames = k === i.fill!.holes.length - 1 ? lost - given : Math.round((lost * h.span) / total);
    given += frames;
    return { at: Math.min(h.at, decoded), frames };
  });
}

const s2 = (x: number) => Math.round(x * 100) / 100;

function damageOf(truncated: Damage['truncated'], corrupt: Span[], details: string[]): Damage | null {
  return truncated || corrupt.length > 0 ? { truncated, corrupt, details } : null;
}

// ---- CRCs ----

const OGG_CRC = new Uint32Array(256);
const FLAC_CRC8 = new Uint8Array(256);
const FLAC_CRC16 = new Uint16Array(256);
for (let i = 0; i < 256; i++) {
  let r = i << 24;
  for (let k = 0; k < 8; k++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
  OGG_CRC[i] = r >>> 0;
  let c = i;
  for (let k = 0; k < 8; k++) c = c & 0x80 ? ((c << 1) ^ 0x07) & 0xff : (c << 1) & 0xff;
  FLAC_CRC8[i] = c;
  let d = i << 8;
  for (let k = 0; k < 8; k++) d = d & 0x8000 ? ((d << 1) ^ 0x8005) & 0xffff : (d << 1) & 0xffff;
  FLAC_CRC16[i] = d;
}

function oggCrc(b: Uint8Array, start: number, end: number): number {
  let crc = 0;
  for (let i = start; i < end; i++) {
    // the CRC field itself counts as zeros
    const byte = i - start >= 22 && i - start < 26 ? 0 : b[i]!;
    crc = ((crc << 8) ^ OGG_CRC[((crc >>> 24) ^ byte) & 0xff]!) >>> 0;
  }
  return crc;
}

function crc8(b: Uint8Array, start: number, end: number): number {
  let c = 0;
  for (let i = start; i < end; i++) c = FLAC_CRC8[c ^ b[i]!]!;
  return c;
}

function crc16(b: Uint8Array, start: number, end: number): number {
  let c = 0;
  for (let i = start; i < end; i++) c = ((c << 8) ^ FLAC_CRC16[(c >> 8) ^ b[i]!]!) & 0xffff;
  return c;
}

const u32le = (b: Uint8Array, i: number) => (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
const u32be = (b: Uint8Array, i: number) => ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;

// ---- Ogg ----

interface OggPage { start: number; end: number; granule: number | null; serial: number; seq: number; eos: boolean }

function oggPageAt(b: Uint8Array, pos: number): OggPage | 'short' | null {
  if (pos + 27 > b.length) return 'short';
  if (b[pos] !== 0x4f || b[pos + 1] !== 0x67 || b[pos + 2] !== 0x67 || b[pos + 3] !== 0x53 || b[pos + 4] !== 0) return null;
  const nseg = b[pos + 26]!;
  if (pos + 27 + nseg > b.length) return 'short';
  let body = 0;
  for (let i = 0; i < nseg; i++) body += b[pos + 27 + i]!;
  const end = pos + 27 + nseg + body;
  if (end > b.length) return 'short';
  if (oggCrc(b, pos, end) !== u32le(b, pos + 22)) return null;
  const lo = u32le(b, pos + 6), hi = u32le(b, pos + 10);
  const granule = lo === 0xffffffff && hi === 0xffffffff ? null : hi * 2 ** 32 + lo;
  return { start: pos, end, granule, serial: u32le(b, pos + 14), seq: u32le(b, pos + 18), eos: (b[pos + 5]! & 4) !== 0 };
}

/** The next position at or after `from` where a page with a valid CRC starts, or -1. */
function nextOggPage(b: Uint8Array, from: number): number {
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  for (let at = buf.indexOf('OggS', from, 'latin1'); at >= 0; at = buf.indexOf('OggS', at + 1, 'latin1')) {
    const p = oggPageAt(b, at);
    if (p && p !== 'short') return at;
  }
  return -1;
}

export function inspectOgg(b: Uint8Array, codec: 'opus' | 'vorbis'): Inspection {
  const pages: OggPage[] = [];
  const details: string[] = [];
  const bad: { from: number; to: number; before: OggPage | null }[] = [];
  let truncated = false;
  for (let pos = 0; pos < b.length;) {
    const p = oggPageAt(b, pos);
    if (p === 'short') {
      // a last page cut short: what remains cannot be checked and is not decoded
      if (nextOggPage(b, pos + 1) < 0) { truncated = true; bad.push({ from: pos, to: b.length, before: pages.at(-1) ?? null }); break; }
    }
    if (p && p !== 'short') {
      pages.push(p);
      pos = p.end;
      continue;
    }
    const next = nextOggPage(b, pos + 1);
    bad.push({ from: pos, to: next < 0 ? b.length : next, before: pages.at(-1) ?? null });
    if (next < 0) break;
    pos = next;
  }
  if (pages.length === 0) return { damage: null };
  // where the audio's time comes from: Opus counts at 48 kHz after its pre-skip; Vorbis at its own rate
  const head = b.subarray(pages[0]!.start, pages[0]!.end);
  const body = head.subarray(27 + head[26]!);
  let rate = 48000, skip = 0;
  if (codec === 'opus') skip = body[10]! | (body[11]! << 8);
  else rate = u32le(body, 12) || 48000;
  const time = (g: number | null) => (g === null ? null : Math.max(0, (g - skip) / rate));
  const corrupt: Span[] = [];
  // pages missing from the sequence (a dropped chunk) are damage too, even where every CRC holds
  const seqGaps: { after: OggPage; next: OggPage }[] = [];
  for (let i = 1; i < pages.length; i++) {
    const a = pages[i - 1]!, c = pages[i]!;
    if (a.serial === c.serial && c.seq !== a.seq + 1 && !bad.some((x) => x.before === a)) seqGaps.push({ after: a, next: c });
  }
  const spanAfter = (page: OggPage | null) => {
    const i = page ? pages.indexOf(page) : -1;
    const prevT = page ? time(lastGranuleUpTo(pages, i)) ?? 0 : 0;
    const nextT = time(nextGranuleFrom(pages, i + 1));
    return { start_s: s2(prevT), end_s: s2(nextT ?? prevT) };
  };
  for (const x of bad.filter((x) => !(truncated && x.to === b.length && x === bad.at(-1)))) {
    corrupt.push(spanAfter(x.before));
    details.push(`${x.to - x.from} damaged bytes (failed page CRC) near ${spanAfter(x.before).start_s} s were dropped, not decoded`);
  }
  for (const g of seqGaps) {
    corrupt.push(spanAfter(g.after));
    details.push(`${g.next.seq - g.after.seq - 1} Ogg page(s) missing from the sequence near ${spanAfter(g.after).start_s} s`);
  }
  const last = pages.at(-1)!;
  if (!last.eos || truncated) {
    truncated = true;
    details.push(`the stream stops at ${s2(time(lastGranuleUpTo(pages, pages.length - 1)) ?? 0)} s without its end-of-stream page: the rest of the recording is missing`);
  }
  const damage = damageOf(truncated ? { missing_s: null } : null, corrupt, details);
  if (bad.length === 0 && seqGaps.length === 0) return { damage };
  const frames = (g: number | null) => Math.max(0, (g ?? 0) - skip);
  // where audio went missing (cut-out pages, pages lost from the sequence), and how much at most
  const holeAfter = (page: OggPage | null) => {
    const i = page ? pages.indexOf(page) : -1;
    const from = frames(lastGranuleUpTo(pages, i));
    return { at: from, span: Math.max(1, frames(nextGranuleFrom(pages, i + 1)) - from) };
  };
  const holes = [...bad.filter((x) => x.to < b.length).map((x) => holeAfter(x.before)), ...seqGaps.map((g) => holeAfter(g.after))].sort((p, q) => p.at - q.at);
  const fill = { expect: frames(lastGranuleUpTo(pages, pages.length - 1)), holes };
  if (bad.length === 0) return { damage, fill };
  // the stream handed to the decoder: good pages only, in order
  const cleaned = new Uint8Array(pages.reduce((n, p) => n + p.end - p.start, 0));
  let at = 0;
  for (const p of pages) { cleaned.set(b.subarray(p.start, p.end), at); at += p.end - p.start; }
  return { damage, cleaned, fill };
}

function lastGranuleUpTo(pages: OggPage[], i: number): number | null {
  for (let k = i; k >= 0; k--) if (pages[k]!.granule !== null && pages[k]!.granule! > 0) return pages[k]!.granule;
  return null;
}

function nextGranuleFrom(pages: OggPage[], i: number): number | null {
  for (let k = i; k < pages.length; k++) if (pages[k]!.granule !== null) return pages[k]!.granule;
  return null;
}

// ---- FLAC ----

interface FlacFrame { start: number; end: number; sample: number; block: number }

const FLAC_RATES = [0, 88200, 176400, 192000, 8000, 16000, 22050, 24000, 32000, 44100, 48000, 96000];

/** A FLAC frame header at `pos` whose CRC-8 holds: its first sample and block size. */
function flacHeader(b: Uint8Array, pos: number, fixedBlock: number): { sample: number; block: number; headerEnd: number } | null {
  if (pos + 6 > b.length || b[pos] !== 0xff || (b[pos + 1]! & 0xfe) !== 0xf8) return null;
  const variable = (b[pos + 1]! & 1) === 1;
  const bsCode = b[pos + 2]! >> 4, srCode = b[pos + 2]! & 15;
  if (bsCode === 0 || srCode === 15 || (b[pos + 3]! >> 4) > 10 || ((b[pos + 3]! >> 1) & 7) === 3 || ((b[pos + 3]! >> 1) & 7) === 7) return null;
  // the frame or sample number, UTF-8 coded
  let i = pos + 4;
  const first = b[i++]!;
  let n: number, extra: number;
  if (first < 0x80) { n = first; extra = 0; } else if ((first & 0xe0) === 0xc0) { n = first & 0x1f; extra = 1; } else if ((first & 0xf0) === 0xe0) { n = first & 0x0f; extra = 2; } else if ((first & 0xf8) === 0xf0) { n = first & 0x07; extra = 3; } else if ((first & 0xfc) === 0xf8) { n = first & 0x03; extra = 4; } else if ((first & 0xfe) === 0xfc) { n = first & 0x01; extra = 5; } else if (first === 0xfe) { n = 0; extra = 6; } else return null;
  for (let k = 0; k < extra; k++) {
    const c = b[i++];
    if (c === undefined || (c & 0xc0) !== 0x80) return null;
    n = n * 64 + (c & 0x3f);
  }
  let block: number;
  if (bsCode === 1) block = 192;
  else if (bsCode <= 5) block = 576 << (bsCode - 2);
  else if (bsCode === 6) block = b[i++]! + 1;
  else if (bsCode === 7) { block = ((b[i]! << 8) | b[i + 1]!) + 1; i += 2; }
  else block = 256 << (bsCode - 8);
  if (srCode === 12) i += 1;
  else if (srCode === 13 || srCode === 14) i += 2;
  if (i >= b.length || crc8(b, pos, i) !== b[i]) return null;
  return { sample: variable ? n : n * fixedBlock, block, headerEnd: i + 1 };
}

export function inspectFlac(b: Uint8Array): Inspection {
  if (b.length < 42 || b[0] !== 0x66 || b[1] !== 0x4c || b[2] !== 0x61 || b[3] !== 0x43) return { damage: null };
  // metadata blocks; STREAMINFO first
  let pos = 4, rate = 0, total = 0, fixedBlock = 4096;
  for (;;) {
    if (pos + 4 > b.length) return { damage: { truncated: { missing_s: null }, corrupt: [], details: ['the file ends inside its metadata: no audio is left'] } };
    const last = (b[pos]! & 0x80) !== 0, type = b[pos]! & 0x7f;
    const len = (b[pos + 1]! << 16) | (b[pos + 2]! << 8) | b[pos + 3]!;
    if (type === 0 && len >= 18 && pos + 4 + 18 <= b.length) {
      const s = pos + 4;
      fixedBlock = (b[s + 2]! << 8) | b[s + 3]!;
      rate = (b[s + 10]! << 12) | (b[s + 11]! << 4) | (b[s + 12]! >> 4);
      total = (b[s + 13]! & 0x0f) * 2 ** 32 + u32be(b, s + 14);
    }
    pos += 4 + len;
    if (last) break;
  }
  if (!rate) rate = FLAC_RATES[b[pos + 2]! & 15] ?? 0;
  if (!rate) return { damage: null };
  const frames: FlacFrame[] = [];
  const details: string[] = [];
  const corrupt: Span[] = [];
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  /** The next frame header after `from` that follows `after` (its sample number is later). */
  const nextHeader = (from: number, after: number) => {
    for (let at = buf.indexOf(0xff, from); at >= 0 && at + 1 < b.length; at = buf.indexOf(0xff, at + 1)) {
      const h = flacHeader(b, at, fixedBlock);
      if (h && h.sample > after && (total === 0 || h.sample < total)) return { at, h };
    }
    return null;
  };
  let cur = flacHeader(b, pos, fixedBlock) ? { at: pos, h: flacHeader(b, pos, fixedBlock)! } : nextHeader(pos, -1);
  const cur0 = cur;
  // the first frame follows the metadata at once; bytes before it are damage (a broken metadata block)
  if (cur && cur.at > pos) details.push(`${cur.at - pos} bytes between the metadata and the first FLAC frame are not a frame`);
  let truncatedAt: number | null = null;
  while (cur) {
    const { at, h } = cur;
    const next = nextHeader(h.headerEnd, h.sample);
    const end = next ? next.at : b.length;
    const ok = end - at >= 2 && crc16(b, at, end - 2) === ((b[end - 2]! << 8) | b[end - 1]!);
    if (ok) frames.push({ start: at, end, sample: h.sample, block: h.block });
    else if (!next) truncatedAt = h.sample;
    else {
      corrupt.push({ start_s: s2(h.sample / rate), end_s: s2((h.sample + h.block) / rate) });
      details.push(`a damaged FLAC frame (failed CRC) at ${s2(h.sample / rate)} s was dropped, not decoded: ${s2(h.block / rate)} s of silence stand in for it`);
    }
    cur = next;
  }
  if (frames.length === 0) return { damage: { truncated: { missing_s: total ? s2(total / rate) : null }, corrupt, details: [...details, 'no intact FLAC frame: nothing to decode'] } };
  // silence for every hole between intact frames: where the next one starts in the decoded output
  const gaps: { at: number; frames: number }[] = [];
  let expected = 0;
  let decoded = 0;
  for (const f of frames) {
    if (f.sample > expected) {
      gaps.push({ at: decoded, frames: f.sample - expected });
      // frames missing with no damaged frame in their place: a dropped chunk
      const start = s2(expected / rate), stop = s2(f.sample / rate);
      if (!corrupt.some((c) => c.start_s < stop && c.end_s > start)) {
        corrupt.push({ start_s: start, end_s: stop });
        details.push(`FLAC frames from ${start} s to ${stop} s are missing: ${s2(stop - start)} s of silence stand in for them`);
      }
    }
    decoded += f.block;
    expected = f.sample + f.block;
  }
  const decodedEnd = expected;
  let truncated: Damage['truncated'] = null;
  if (total > 0 && decodedEnd < total) {
    truncated = { missing_s: s2((total - decodedEnd) / rate) };
    details.push(`the stream ends at ${s2(decodedEnd / rate)} s; its STREAMINFO declares ${s2(total / rate)} s: ${s2((total - decodedEnd) / rate)} s are missing`);
  } else if (truncatedAt !== null) {
    truncated = { missing_s: null };
    details.push(`the last FLAC frame, at ${s2(truncatedAt / rate)} s, is cut short`);
  }
  if (cur0 && cur0.at > pos && corrupt.length === 0) corrupt.push({ start_s: 0, end_s: s2(frames[0]!.sample / rate) });
  const damage = damageOf(truncated, corrupt, details);
  if (!damage) return { damage: null };
  const kept = frames.reduce((n, f) => n + f.end - f.start, 0);
  if (kept === b.length - frames[0]!.start && gaps.length === 0) return { damage };
  const head = b.subarray(0, frames[0]!.start);
  const stream = (fs: FlacFrame[]) => {
    const out = new Uint8Array(head.length + fs.reduce((n, f) => n + f.end - f.start, 0));
    out.set(head);
    let w = head.length;
    for (const f of fs) { out.set(b.subarray(f.start, f.end), w); w += f.end - f.start; }
    return out;
  };
  const runs: FlacFrame[][] = [[]];
  for (const [i, f] of frames.entries()) {
    if (i > 0 && f.sample !== frames[i - 1]!.sample + frames[i - 1]!.block) runs.push([]);
    runs.at(-1)!.push(f);
  }
  return { damage, cleaned: stream(frames), gaps, runs: runs.length > 1 ? runs.map(stream) : undefined };
}

// ---- MP3 ----

const MP3_BITRATES: Record<string, number[]> = {
  '1': [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  '2': [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
};
const MP3_RATES: Record<number, number[]> = { 3: [44100, 48000, 32000], 2: [22050, 24000, 16000], 0: [11025, 12000, 8000] };

interface Mp3Frame { len: number; rate: number; spf: number; mono: boolean; mpeg1: boolean; crc: boolean }

/** A Layer III frame header at `pos`, or null. */
function mp3Header(b: Uint8Array, pos: number): Mp3Frame | null {
  if (pos + 4 > b.length || b[pos] !== 0xff || (b[pos + 1]! & 0xe0) !== 0xe0) return null;
  const version = (b[pos + 1]! >> 3) & 3, layer = (b[pos + 1]! >> 1) & 3;
  if (version === 1 || layer !== 1) return null;
  const bi = b[pos + 2]! >> 4, si = (b[pos + 2]! >> 2) & 3, pad = (b[pos + 2]! >> 1) & 1;
  if (bi === 0 || bi === 15 || si === 3) return null;
  const mpeg1 = version === 3;
  const kbps = MP3_BITRATES[mpeg1 ? '1' : '2']![bi]!;
  const rate = MP3_RATES[version]![si]!;
  const len = Math.floor(((mpeg1 ? 144000 : 72000) * kbps) / rate) + pad;
  return { len, rate, spf: mpeg1 ? 1152 : 576, mono: (b[pos + 3]! >> 6) === 3, mpeg1, crc: (b[pos + 1]! & 1) === 0 };
}

export function inspectMp3(b: Uint8Array): Inspection {
  let pos = 0;
  if (b.length >= 10 && b[0] === 0x49 && b[1] === 0x44 && b[2] === 0x33) {
    pos = 10 + (((b[6]! & 0x7f) << 21) | ((b[7]! & 0x7f) << 14) | ((b[8]! & 0x7f) << 7) | (b[9]! & 0x7f)) + ((b[5]! & 0x10) ? 10 : 0);
  }
  // the audio ends before a trailing ID3v1 or APE tag
  let end = b.length;
  if (end >= 128 && b[end - 128] === 0x54 && b[end - 127] === 0x41 && b[end - 126] === 0x47) end -= 128;
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  const apeAt = buf.lastIndexOf('APETAGEX', end, 'latin1');
  if (apeAt >= 0 && apeAt > end - 4096) end = apeAt;
  /** Two frames in a row from `at`: a sync that is not a chance 0xFF. */
  const chained = (at: number) => {
    const h = mp3Header(b, at);
    if (!h) return null;
    if (at + h.len >= end) return h;
    const n = mp3Header(b, at + h.len);
    return n && n.rate === h.rate ? h : null;
  };
  const resync = (from: number) => {
    for (let at = buf.indexOf(0xff, from); at >= 0 && at < end; at = buf.indexOf(0xff, at + 1)) if (chained(at)) return at;
    return -1;
  };
  if (!chained(pos)) pos = resync(pos);
  if (pos < 0) return { damage: null };
  const first = mp3Header(b, pos)!;
  // a Xing/Info or VBRI frame declares the frame count; it holds no audio
  let declared: number | null = null;
  const side = first.mpeg1 ? (first.mono ? 17 : 32) : first.mono ? 9 : 17;
  const x = pos + 4 + (first.crc ? 2 : 0) + side;
  const tag = String.fromCharCode(b[x] ?? 0, b[x + 1] ?? 0, b[x + 2] ?? 0, b[x + 3] ?? 0);
  if ((tag === 'Xing' || tag === 'Info') && (u32be(b, x + 4) & 1)) { declared = u32be(b, x + 8); pos += first.len; }
  else if (String.fromCharCode(b[pos + 36] ?? 0, b[pos + 37] ?? 0, b[pos + 38] ?? 0, b[pos + 39] ?? 0) === 'VBRI') { declared = u32be(b, pos + 50); pos += first.len; }
  const rate = first.rate, spf = first.spf;
  let count = 0, frameBytes = 0;
  const holes: { at: number; bytes: number }[] = [];
  const corrupt: Span[] = [];
  const details: string[] = [];
  let cut = false;
  while (pos < end) {
    const h = mp3Header(b, pos);
    if (h && pos + h.len <= end) {
      count++;
      frameBytes += h.len;
      pos += h.len;
      continue;
    }
    const next = resync(pos + 1);
    const t = s2((count * spf) / rate);
    if (next < 0) {
      // what follows the last frame is no frame at all: a stream cut inside a frame
      cut = true;
      break;
    }
    corrupt.push({ start_s: t, end_s: t });
    holes.push({ at: count * spf, bytes: next - pos });
    details.push(`${next - pos} bytes without MP3 frame sync at ${t} s were skipped`);
    pos = next;
  }
  let truncated: Damage['truncated'] = null;
  if (declared !== null && count < declared) {
    const missing = s2(((declared - count) * spf) / rate);
    if (corrupt.length > 0 && !cut) {
      // the frames lost went with the damaged stretches
      details.push(`${declared - count} frames (${missing} s) of the ${s2((declared * spf) / rate)} s its header declares are missing`);
      const each = missing / corrupt.length;
      for (const c of corrupt) c.end_s = s2(c.start_s + each);
      // mpg123 skips what has no sync: silence of the frames lost stands in, shared among the holes
      const lost = (declared - count) * spf;
      const gaps = holes.map((h, k) => ({ at: h.at, frames: k === holes.length - 1 ? lost - Math.round(lost / holes.length) * (holes.length - 1) : Math.round(lost / holes.length) }));
      return { damage: damageOf(truncated, corrupt, [...details, `${missing} s of silence stand in for them`]), gaps };
    } else {
      truncated = { missing_s: missing };
      details.push(`the stream ends at ${s2((count * spf) / rate)} s; its header declares ${s2((declared * spf) / rate)} s: ${missing} s are missing`);
    }
  } else if (cut) {
    truncated = { missing_s: null };
    details.push(`the last MP3 frame, at ${s2((count * spf) / rate)} s, is cut short`);
  }
  const mean = count > 0 ? frameBytes / count : 0;
  const gaps = declared === null && mean > 0 ? holes.map((h) => ({ at: h.at, frames: Math.round(h.bytes / mean) * spf })).filter((g) => g.frames > 0) : [];
  return { damage: damageOf(truncated, corrupt, details), ...(gaps.length ? { gaps } : {}) };
}

// ---- WAV ----

/** A WAV whose data chunk declares more bytes than the file holds. */
export function inspectWav(missingBytes: number, bytesPerSecond: number): Inspection {
  if (missingBytes <= 0) return { damage: null };
  const missing = s2(missingBytes / bytesPerSecond);
  return { damage: { truncated: { missing_s: missing }, corrupt: [], details: [`the data chunk declares ${missing} s more than the file holds: the end of the recording is missing`] } };
}

/** Put silence back where damaged frames were cut out (positions in the decoded stream's frames). */
export function withGaps(channels: Float32Array[], gaps: { at: number; frames: number }[]): Float32Array[] {
  if (gaps.length === 0) return channels;
  const add = gaps.reduce((n, g) => n + g.frames, 0);
  return channels.map((c) => {
    const out = new Float32Array(c.length + add);
    let read = 0, write = 0;
    for (const g of gaps) {
      const upto = Math.min(g.at, c.length);
      out.set(c.subarray(read, upto), write);
      write += upto - read;
      read = upto;
      write += g.frames;
    }
    out.set(c.subarray(read), write);
    return out;
  });
}

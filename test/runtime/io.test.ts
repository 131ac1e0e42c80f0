import { describe, expect, it } from 'vitest';
import { csvRow, parseCsv } from '../../runtime/io/csv.js';
import { encodeNpyFloat32 } from '../../runtime/io/npy.js';

describe('CSV (RFC 4180)', () => {
  it('round-trips quotes, commas and newlines', () => {
    const rows = [['file', 'n'], ['a "quoted", name\nwith newline.mp3', '3'], ['plain.wav', '']];
    const text = rows.map(csvRow).join('');
    expect(parseCsv(text)).toEqual(rows);
  });
});

describe('npy', () => {
  it('writes a numpy 1.0 header aligned to 64 bytes and little-endian floats', () => {
    const bytes = encodeNpyFloat32(Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3]);
    const headerLen = bytes[8]! + 256 * bytes[9]!;
    expect((10 + headerLen) % 64).toBe(0);
    const header = new TextDecoder().decode(bytes.subarray(10, 10 + headerLen));
    expect(header).toContain("'descr': '<f4'");
    expect(header).toContain("'shape': (2, 3)");
    expect(new DataView(bytes.buffer).getFloat32(10 + headerLen + 4, true)).toBe(2);
  });
});

describe('writeFileAtomic', () => {
  it('still writes after a folder it made earlier was removed (it remembers folders it made)', async () => {
    const { mkdtempSync, readFileSync, rmSync, readdirSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { writeFileAtomic } = await import('../../runtime/io/atomic-write.js');
    const root = mkdtempSync(join(tmpdir(), 'tosia-atomic-'));
    const out = join(root, 'a/b/c.json'), tmp = join(root, 'tmp');
    await writeFileAtomic(out, 'one', tmp);
    rmSync(join(root, 'a'), { recursive: true });
    rmSync(tmp, { recursive: true });
    await writeFileAtomic(out, 'two', tmp);
    expect(readFileSync(out, 'utf8')).toBe('two');
    expect(readdirSync(tmp)).toEqual([]);
    rmSync(root, { recursive: true });
  });
});

describe('CSV cells a spreadsheet would run (issue 25, finding 8)', () => {
  it.each(['=HYPERLINK("http://x","y")', '+1+1', '-2+3', '@SUM(A1)', '\tcmd', '\r=1'])('%j is written inert, and read back as written', (cell) => {
    const line = csvRow([cell, 'x', -0.5]);
    expect(line.startsWith(`"'`)).toBe(true);
    expect(line).toContain(',-0.5\r\n');
    expect(parseCsv(line)).toEqual([[cell, 'x', '-0.5']]);
  });
});

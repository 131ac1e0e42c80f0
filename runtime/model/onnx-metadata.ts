/**
 * Reads ModelProto.metadata_props (field 14: repeated StringStringEntryProto {1: key, 2: value})
 * straight from the ONNX protobuf bytes. onnxruntime-node does not expose custom metadata, and a
 * protobuf dependency for two fields is not worth it. Only top-level fields are walked.
 */
function readVarint(buf: Uint8Array, pos: number): [number, number] {
  let result = 0, shift = 0, b: number;
  do {
    if (pos >= buf.length) throw new RangeError('truncated varint');
    b = buf[pos++]!;
    result += (b & 0x7f) * 2 ** shift;
    shift += 7;
  } while (b & 0x80);
  return [result, pos];
}

function skipField(buf: Uint8Array, pos: number, wire: number): number {
  switch (wire) {
    case 0: return readVarint(buf, pos)[1];
    case 1: return pos + 8;
    case 2: { const [len, p] = readVarint(buf, pos); return p + len; }
    case 5: return pos + 4;
    default: throw new RangeError(`unsupported wire type ${wire}`);
  }
}

export function readOnnxMetadata(buf: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  const dec = new TextDecoder();
  let pos = 0;
  while (pos < buf.length) {
    const [tag, p] = readVarint(buf, pos);
    const field = Math.floor(tag / 8), wire = tag & 7;
    if (field === 14 && wire === 2) {
      const [len, start] = readVarint(buf, p);
      const end = start + len;
      let q = start, key = '', value = '';
      while (q < end) {
        const [t, r] = readVarint(buf, q);
        if ((t & 7) !== 2) { q = skipField(buf, r, t & 7); continue; }
        const [l, s] = readVarint(buf, r);
        const text = dec.decode(buf.subarray(s, s + l));
        if (t >> 3 === 1) key = text; else if (t >> 3 === 2) value = text;
        q = s + l;
      }
      out[key] = value;
      pos = end;
    } else {
      pos = skipField(buf, p, wire);
    }
    if (pos > buf.length) throw new RangeError('truncated ONNX file');
  }
  return out;
}

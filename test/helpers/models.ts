import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultModelPath } from '../../runtime/index.js';

/** A protobuf length-delimited field: tag, varint length, bytes. */
function field(no: number, bytes: Buffer): Buffer {
  const len: number[] = [];
  let n = bytes.length;
  do {
    len.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
    n >>>= 7;
  } while (n > 0);
  return Buffer.concat([Buffer.from([(no << 3) | 2, ...len]), bytes]);
}

/**
 * A second model derived from the bundled one, so that two served models differ: its ONNX gets
 * one more metadata entry (ModelProto field 14; protobuf merges an appended field, so the
 * weights are the same file and the sha256 is not), and its manifest another name, version and
 * input normalisation (`stdScale` times the std), so that its scores differ too.
 */
export function deriveModel(dir: string, name: string, o: { version?: string; stdScale?: number } = {}): string {
  const src = defaultModelPath();
  const path = join(dir, `${name}.onnx`);
  const entry = Buffer.concat([field(1, Buffer.from('tosia_derived')), field(2, Buffer.from(name))]);
  writeFileSync(path, Buffer.concat([readFileSync(src), field(14, entry)]));
  const manifest = JSON.parse(readFileSync(src.replace(/\.onnx$/, '.json'), 'utf8'));
  manifest.name = name;
  manifest.version = o.version ?? `${manifest.version}+${name}`;
  const scale = o.stdScale ?? 1.5;
  manifest.input.normalisation.std = manifest.input.normalisation.std.map((s: number) => s * scale);
  writeFileSync(path.replace(/\.onnx$/, '.json'), JSON.stringify(manifest, null, 2));
  return path;
}

/** The bundled model copied under another file name (same bytes, same manifest). */
export function copyModel(dir: string, file: string): string {
  const src = defaultModelPath();
  const path = join(dir, file);
  copyFileSync(src, path);
  copyFileSync(src.replace(/\.onnx$/, '.json'), path.replace(/\.onnx$/, '.json'));
  return path;
}

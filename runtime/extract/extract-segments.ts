import { imagesToTensor, type Layout, type Normalisation } from '../../algos/classify/tensor.js';
import type { Config } from '../config/schema.js';
import type { Engine } from '../engine/engine.js';
import type { ExtractedSegment } from '../engine/pool.js';
import { encodePng } from '../image/png.js';
import { encodeNpyFloat32 } from '../io/npy.js';
import { prepareSegments } from '../pipeline/prepare-segments.js';
import { decodeStage, segmentStage } from '../pipeline/stages.js';

/**
 * One recording's segments as training data: for each, the exact float32 tensor `execute()`
 * feeds the model (.npy, [3, H, W] for NCHW) and its PNG. Runs in a pool worker; writes nothing.
 */
export async function extractSegments(
  input: { sourceFile: string; sourceBytes?: Uint8Array },
  cfg: Config,
  tensor: { layout: Layout; normalisation: Normalisation },
  engine: Engine,
): Promise<{ sha256: string; duration_s: number; segments: ExtractedSegment[] }> {
  const fft = await engine.fft();
  const audio = await decodeStage(input.sourceBytes ? { bytes: input.sourceBytes, name: input.sourceFile } : input.sourceFile, cfg, engine);
  const { segments } = segmentStage(audio, cfg, fft);
  const prepared = prepareSegments(audio, segments, cfg, { mel: 0, colour: 0 }, fft, engine);
  return {
    sha256: audio.source.sha256,
    duration_s: audio.source.duration_s,
    segments: await Promise.all(prepared.map(async (p) => {
      const { data, dims } = imagesToTensor([p.image], tensor);
      return { start: p.segment.start, end: p.segment.end, npy: encodeNpyFloat32(data, dims.slice(1)), png: await encodePng(p.image) };
    })),
  };
}

import { TosiaError } from '../../algos/errors.js';
import type { Config } from '../config/schema.js';

/** What a model was trained with and how to feed it. Stored beside the ONNX and in its metadata. */
export interface ModelManifest {
  format: 'tosia-model/1';
  name: string;
  version: string;
  labels: string[];
  /** The label whose score the threshold applies to. */
  positive_label: string;
  /** The shipped decision threshold on the positive label's recording score. */
  threshold: number;
  input: {
    name: string;
    layout: 'NCHW' | 'NHWC';
    /** [batch, C, H, W] or [batch, H, W, C]; batch may be a string (dynamic). */
    shape: (number | string)[];
    dtype: 'float32';
    normalisation: { scale: number; mean: number[]; std: number[] };
  };
  output: { name: string; activation: 'softmax' | 'sigmoid' };
  /** The preprocessing the model was trained with, in config.yml's keys. */
  preprocessing: {
    audio: { sample_rate: number };
    mel_spec: Partial<Config['mel_spec']>;
    color_spec: Partial<Config['color_spec']>;
  };
  [extra: string]: unknown;
}

export const MANIFEST_METADATA_KEY = 'tosia_manifest';

/** Check a parsed manifest's shape; `where` names the file for messages. */
export function checkManifest(m: unknown, where: string): ModelManifest {
  const fail = (msg: string): never => {
    throw new TosiaError('E_MODEL', `model manifest ${msg}`, { file: where, stage: 'model', hint: 'use a manifest written by the tosia training script (format tosia-model/1)' });
  };
  if (!m || typeof m !== 'object') return fail('is not a JSON object');
  const o = m as Partial<ModelManifest>;
  if (o.format !== 'tosia-model/1') fail(`has format ${JSON.stringify(o.format)}, expected "tosia-model/1"`);
  if (!Array.isArray(o.labels) || o.labels.length === 0 || !o.labels.every((l) => typeof l === 'string')) fail('needs a non-empty list of string labels');
  if (typeof o.positive_label !== 'string' || !o.labels!.includes(o.positive_label)) fail(`positive_label ${JSON.stringify(o.positive_label)} is not one of its labels`);
  if (typeof o.threshold !== 'number' || o.threshold < 0 || o.threshold > 1) fail('threshold must be a number in [0, 1]');
  const inp = o.input;
  if (!inp || typeof inp.name !== 'string') fail('input.name is missing');
  if (inp!.layout !== 'NCHW' && inp!.layout !== 'NHWC') fail(`input.layout ${JSON.stringify(inp!.layout)} must be NCHW or NHWC`);
  if (!Array.isArray(inp!.shape) || inp!.shape.length !== 4) fail('input.shape must have 4 dimensions');
  if (inp!.dtype !== 'float32') fail(`input.dtype ${JSON.stringify(inp!.dtype)} must be float32`);
  const n = inp!.normalisation;
  if (!n || typeof n.scale !== 'number' || n.mean?.length !== 3 || n.std?.length !== 3) fail('input.normalisation needs scale, 3 means and 3 stds');
  if (!o.output || typeof o.output.name !== 'string' || (o.output.activation !== 'softmax' && o.output.activation !== 'sigmoid')) fail('output needs a name and an activation (softmax or sigmoid)');
  if (!o.preprocessing?.audio || !o.preprocessing.mel_spec || !o.preprocessing.color_spec) fail('preprocessing needs audio, mel_spec and color_spec');
  return o as ModelManifest;
}

/** Image height and width the model takes. */
export function inputSize(m: ModelManifest): { height: number; width: number } {
  const s = m.input.shape;
  const [h, w] = m.input.layout === 'NCHW' ? [s[2], s[3]] : [s[1], s[2]];
  return { height: Number(h), width: Number(w) };
}

export interface Mismatch { key: string; config: unknown; model: unknown }

/** Every preprocessing key where the config differs from what the model was trained with. */
export function compareWithConfig(m: ModelManifest, cfg: Config): Mismatch[] {
  const out: Mismatch[] = [];
  const sections = ['audio', 'mel_spec', 'color_spec'] as const;
  for (const s of sections) {
    const want = m.preprocessing[s] as Record<string, unknown>;
    const have = cfg[s] as Record<string, unknown>;
    for (const [k, v] of Object.entries(want)) {
      if (!(k in have)) continue;
      if (JSON.stringify(have[k]) !== JSON.stringify(v)) out.push({ key: `${s}.${k}`, config: have[k], model: v });
    }
  }
  const { height, width } = inputSize(m);
  if (cfg.color_spec.height !== height) out.push({ key: 'color_spec.height', config: cfg.color_spec.height, model: height });
  if (cfg.color_spec.width !== width) out.push({ key: 'color_spec.width', config: cfg.color_spec.width, model: width });
  const seen = new Set<string>();
  return out.filter((d) => (seen.has(d.key) ? false : (seen.add(d.key), true)));
}

export function describeMismatches(diffs: Mismatch[]): string {
  return diffs.map((d) => `${d.key}: config ${JSON.stringify(d.config)}, model ${JSON.stringify(d.model)}`).join('; ');
}

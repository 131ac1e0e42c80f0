import { sha256Hex } from '../io/sha256.js';
import { TosiaError } from '../../algos/errors.js';
import type { Config, ConfigInput } from '../config/schema.js';
import { validateConfig } from '../config/validate.js';

export interface WorkUnitInit extends ConfigInput {
  /** The recording to process. */
  sourceFile: string;
}

function canonical(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  return `{${Object.keys(v as object).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
}

/** The settings that change a result; paths, timeouts and output options do not. */
export function configHash(cfg: Config): string {
  const { sample_rate } = cfg.audio;
  const { aggregate, top_k, threshold } = cfg.classifier;
  const relevant = { audio: { sample_rate }, segmentation: cfg.segmentation, mel_spec: cfg.mel_spec, color_spec: cfg.color_spec, classifier: { aggregate, top_k, threshold } };
  return sha256Hex(canonical(relevant));
}

/**
 * One recording and the validated configuration to run it with. Built from `loadConfig()`'s
 * result spread in: `new WorkUnit({ sourceFile, ...cfg })`. Sections left out take defaults.
 */
export class WorkUnit {
  readonly sourceFile: string;
  readonly config: Config;
  readonly configSha256: string;

  constructor(init: WorkUnitInit) {
    if (!init || typeof init.sourceFile !== 'string' || init.sourceFile.length === 0) {
      throw new TosiaError('E_INPUT', 'WorkUnit needs a sourceFile path', { stage: 'input', hint: "new WorkUnit({ sourceFile: 'cough.ogg', ...cfg })" });
    }
    const { sourceFile, ...sections } = init;
    this.sourceFile = sourceFile;
    this.config = validateConfig(sections, '<WorkUnit>');
    this.configSha256 = configHash(this.config);
  }
}

import { TosiaError } from '../../algos/errors.js';
import type { Config, ConfigInput } from '../config/schema.js';
import { validateConfig } from '../config/validate.js';
import { configHash } from '../config/identity.js';

export interface WorkUnitInit extends ConfigInput {
  /** The recording to process; with `sourceBytes`, only the name the bytes came under. */
  sourceFile: string;
  /** The recording's bytes, when they are not in a file (an upload, a queue message). */
  sourceBytes?: Uint8Array;
}

/**
 * One recording and the validated configuration to run it with. Built from `loadConfig()`'s
 * result spread in: `new WorkUnit({ sourceFile, ...cfg })`. Sections left out take defaults.
 */
export class WorkUnit {
  readonly sourceFile: string;
  readonly sourceBytes?: Uint8Array;
  readonly config: Config;
  readonly configSha256: string;

  constructor(init: WorkUnitInit) {
    if (!init || typeof init.sourceFile !== 'string' || init.sourceFile.length === 0) {
      throw new TosiaError('E_INPUT', 'WorkUnit needs a sourceFile path', { stage: 'input', hint: "new WorkUnit({ sourceFile: 'cough.ogg', ...cfg })" });
    }
    const { sourceFile, sourceBytes, ...sections } = init;
    this.sourceFile = sourceFile;
    if (sourceBytes !== undefined) this.sourceBytes = sourceBytes;
    this.config = validateConfig(sections, '<WorkUnit>');
    this.configSha256 = configHash(this.config);
  }
}

import { resolve } from 'node:path';
import { MODEL_NAME_PATTERN } from '../schemas/diagnosis.js';
import { describeModel, identityOf, modelPathFor, TosiaError, type Config, type Identity, type ModelManifest } from '../../runtime/index.js';

/**
 * The models one server serves (`tosia serve --model NAME=PATH`, repeatable): each is the
 * server's config with its own model file, so each has its own identity (model sha256) and its
 * own records. Records name the model that made them by NAME.
 */
export interface ServedModel {
  /** The NAME of --model NAME=PATH, or the manifest's name for a bare PATH. */
  readonly name: string;
  readonly path: string;
  /** The server's config with classifier.model set to this model. */
  readonly config: Config;
  readonly identity: Identity;
  readonly manifest: ModelManifest;
  readonly sha256: string;
}

/** One --model value: NAME=PATH, or a bare PATH named by its manifest. */
export interface ModelSpec { name: string | null; path: string }

/** What a served model's name may be: it appears in URLs, job messages and file names. */
export const MODEL_NAME = new RegExp(MODEL_NAME_PATTERN);

/** Parse a --model value. A Windows-style `C:\…` or a path holding `=` after a `/` is a bare path. */
export function parseModelSpec(text: string): ModelSpec {
  const eq = text.indexOf('=');
  if (eq > 0 && !text.slice(0, eq).includes('/')) {
    const name = text.slice(0, eq), path = text.slice(eq + 1);
    if (!MODEL_NAME.test(name)) throw new TosiaError('E_CONFIG', `--model ${text}: the name ${JSON.stringify(name)} must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`, { stage: 'config', hint: 'e.g. --model cough-v2=models/cough-v2.onnx' });
    if (path === '') throw new TosiaError('E_CONFIG', `--model ${text} names no file`, { stage: 'config', hint: 'e.g. --model cough-v2=models/cough-v2.onnx' });
    return { name, path };
  }
  if (text === '') throw new TosiaError('E_CONFIG', '--model needs a path (NAME=PATH or PATH)', { stage: 'config' });
  return { name: null, path: text };
}

/**
 * Read every model's manifest and sha256 (nothing is loaded into onnxruntime yet). With no
 * specs, the config's own model (classifier.model, or the bundled one) is the one served.
 * Names must be unique; a bare PATH takes its manifest's name.
 */
export async function describeServedModels(base: Config, specs: readonly ModelSpec[]): Promise<ServedModel[]> {
  const list = specs.length > 0 ? specs : [{ name: null, path: modelPathFor(base) }];
  const out: ServedModel[] = [];
  for (const spec of list) {
    const path = resolve(spec.path);
    const { manifest, sha256 } = await describeModel(path);
    const name = spec.name ?? manifest.name;
    if (!MODEL_NAME.test(name)) throw new TosiaError('E_CONFIG', `the model ${path} is named ${JSON.stringify(name)} by its manifest, which cannot name a served model`, { stage: 'config', hint: `name it: --model NAME=${spec.path}` });
    const twin = out.find((m) => m.name === name);
    if (twin) throw new TosiaError('E_CONFIG', `two models are named ${JSON.stringify(name)}: ${twin.path} and ${path}`, { stage: 'config', hint: `name each: --model ${name}=${twin.path} --model ${name}-2=${spec.path}` });
    const config = { ...base, classifier: { ...base.classifier, model: path } };
    out.push({ name, path, config, identity: await identityOf(config), manifest, sha256 });
  }
  return out;
}

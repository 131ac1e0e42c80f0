import type { Config } from '../config/schema.js';
import { Model, type Device } from '../model/model.js';
import { defaultModelPath } from '../paths.js';

const loaded = new Map<string, Promise<Model>>();

export function modelPathFor(cfg: Config): string {
  return cfg.classifier.model ?? defaultModelPath();
}

/** Load a model once per process and device; later calls share the same session. */
export function getModel(path: string, device: Device): Promise<Model> {
  const key = `${device}\0${path}`;
  let p = loaded.get(key);
  if (!p) {
    p = Model.load(path, { device });
    loaded.set(key, p);
    p.catch(() => loaded.delete(key));
  }
  return p;
}

import { readFile } from 'node:fs/promises';
import { TosiaError } from '../../algos/errors.js';
import type { Config } from './schema.js';
import { validateConfig } from './validate.js';

/**
 * Load and validate a config file. Without a path, the defaults. The YAML parser is loaded only
 * when a file is given.
 */
export async function loadConfig(path?: string | null): Promise<Config> {
  if (path === undefined || path === null) return validateConfig(undefined);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'does not exist' : err.code === 'EISDIR' ? 'is a directory' : err.code === 'EACCES' ? 'is not readable' : err.message;
    throw new TosiaError('E_CONFIG', `config file ${why}`, { file: path, stage: 'config', hint: 'pass an existing YAML file to --config, or omit it to use the defaults', cause: e });
  }
  return parseConfigText(text, path);
}

export async function parseConfigText(text: string, source = '<config>'): Promise<Config> {
  const YAML = await import('yaml');
  const doc = YAML.parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const pos = e.linePos?.[0];
    const where = pos ? `line ${pos.line}, column ${pos.col}` : 'unknown position';
    throw new TosiaError('E_CONFIG', `YAML syntax error at ${where}: ${e.message.split('\n')[0]}`, { file: source, stage: 'config', hint: 'fix the YAML at that line (indentation, a missing colon or an unclosed quote)' });
  }
  return validateConfig(doc.toJS(), source);
}

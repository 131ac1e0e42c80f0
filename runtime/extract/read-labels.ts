import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { TosiaError } from '../../algos/errors.js';
import { parseCsv } from '../io/csv.js';

/**
 * Read labels keyed by file basename from a JSON list of objects ({filename|file, <key>}) or a
 * CSV with a header holding `file` (or `filename`) and the label column. A boolean label `true`
 * becomes `<key>` and `false` becomes `not_<key>`, so `--label-key covid19` gives covid19 / not_covid19.
 */
export async function readLabels(path: string, key = 'label'): Promise<Map<string, string>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new TosiaError('E_INPUT', `labels file cannot be read (${(e as NodeJS.ErrnoException).code})`, { file: path, stage: 'input', hint: 'pass an existing metadata.json or labels.csv to --labels' });
  }
  const map = new Map<string, string>();
  const put = (file: unknown, value: unknown) => {
    if (typeof file !== 'string' || value === undefined || value === null || value === '') return;
    const label = typeof value === 'boolean' ? (value ? key : `not_${key}`) : String(value);
    map.set(basename(file), label);
  };
  if (extname(path).toLowerCase() === '.json') {
    let rows: unknown;
    try { rows = JSON.parse(text); } catch (e) {
      throw new TosiaError('E_INPUT', `labels file is not valid JSON: ${(e as Error).message}`, { file: path, stage: 'input' });
    }
    if (!Array.isArray(rows)) throw new TosiaError('E_INPUT', 'labels JSON must be a list of objects', { file: path, stage: 'input', hint: 'use [{"filename": "a.mp3", "label": "x"}, ...]' });
    for (const r of rows as Record<string, unknown>[]) put(r.filename ?? r.file, r[key]);
  } else {
    const [header, ...rows] = parseCsv(text);
    const fi = header?.findIndex((h) => h === 'file' || h === 'filename') ?? -1;
    const li = header?.indexOf(key) ?? -1;
    if (fi < 0 || li < 0) throw new TosiaError('E_INPUT', `labels CSV needs a 'file' column and a '${key}' column`, { file: path, stage: 'input', hint: `header found: ${header?.join(',')}` });
    for (const r of rows) put(r[fi], r[li] === 'true' ? true : r[li] === 'false' ? false : r[li]);
  }
  if (map.size === 0) throw new TosiaError('E_INPUT', `no labels found under key '${key}'`, { file: path, stage: 'input', hint: 'check --label-key' });
  return map;
}

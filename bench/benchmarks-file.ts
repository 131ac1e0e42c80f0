import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../runtime/paths.js';

const INTRO = '# Benchmarks\n\nThe latest figure of each kind comes first, made from the entries below it; then every run, oldest first, as `make bench` (and `make soak`, `make eval-segmentation`) appended it. Numbers are medians over repeated runs after warm-up, with min–max.\n';
const START = '<!-- latest:start (generated from the entries below by bench/benchmarks-file.ts; edit the entries, not this) -->';
const END = '<!-- latest:end -->';

/** Append a dated entry (`## heading`, then `### sections`) to BENCHMARKS.md and rebuild its summary. */
export function appendEntry(entry: string): string {
  const file = join(packageRoot(), 'BENCHMARKS.md');
  const old = existsSync(file) ? readFileSync(file, 'utf8') : INTRO;
  const history = (old.includes(END) ? old.slice(old.indexOf(END) + END.length) : old.replace(/^# Benchmarks\n\n[^\n]*\n/, '')).replace(/^\s*(## History\s*)?/, '');
  const entries = `${history.trimEnd()}\n\n${entry.trim()}\n`;
  writeFileSync(file, `${INTRO}\n${START}\n${latest(entries)}\n${END}\n\n## History\n\n${entries.trimStart()}`);
  return file;
}

/**
 * The newest section of each kind, with its entry's date and machine. A kind is a section's
 * title without its parentheses (a title's details change between runs: "(scale 2)", "(the default)").
 */
export function latest(entries: string): string {
  const byKind = new Map<string, { title: string; body: string; when: string; machine: string }>();
  for (const part of entries.split(/^## /m).slice(1)) {
    const when = part.split('\n')[0]!.trim();
    if (when === 'History') continue;
    const machine = /^Machine: (.*)$/m.exec(part)?.[1] ?? '';
    for (const sec of part.split(/^### /m).slice(1)) {
      const title = sec.split('\n')[0]!.trim();
      if (/^(Notes on|Issue \d)/.test(title)) continue;
      const kind = title.replace(/\s*\([^)]*\)/g, '').replace(/`/g, '').trim().toLowerCase();
      byKind.set(kind, { title, body: sec.slice(sec.indexOf('\n') + 1).trim(), when, machine });
    }
  }
  const out = ['## Latest figures', ''];
  for (const s of byKind.values()) out.push(`### ${s.title}`, '', `_${s.when}${s.machine ? `; ${s.machine}` : ''}_`, '', s.body, '');
  return out.join('\n');
}

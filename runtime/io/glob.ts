import { sep } from 'node:path';

/** A shell-style pattern (`*`, `**`, `?`) as a RegExp over '/'-separated relative paths. */
export function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') {
      if (pattern[i + 1] === '*') {
        re += '[\\s\\S]*'; // file names may hold newlines
        i++;
        if (pattern[i + 1] === '/') i++;
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 'i');
}

/** Whether `rel` (relative path) matches `pattern`; a pattern without '/' matches the basename too. */
export function matchesPattern(rel: string, pattern: string): boolean {
  const re = globToRegExp(pattern);
  const unix = rel.split(sep).join('/');
  return re.test(unix) || (!pattern.includes('/') && re.test(unix.split('/').pop()!));
}

/** Whether an argument looks like an unexpanded glob (the shell passed it through quoted). */
export function isGlob(arg: string): boolean {
  return /[*?]/.test(arg);
}

/** The folder part of a glob before its first wildcard segment ('.' when it starts with one). */
export function globRoot(pattern: string): string {
  const parts = pattern.split('/');
  const fixed: string[] = [];
  for (const p of parts) {
    if (isGlob(p)) break;
    fixed.push(p);
  }
  if (fixed.length === parts.length) fixed.pop();
  return fixed.join('/') || (pattern.startsWith('/') ? '/' : '.');
}

import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { run, tosia } from '../helpers/cli.js';

// The scripts are made from commander's own commands and options, and the config table's values:
// each shell is asked what it would complete, as a user pressing Tab would.
const dir = mkdtempSync(join(tmpdir(), 'tosia-completion-'));
const has = (shell: string) => spawnSync('sh', ['-c', `command -v ${shell}`]).status === 0;
const script: Record<string, string> = {};
beforeAll(async () => {
  for (const shell of ['bash', 'zsh', 'fish']) {
    const r = await tosia(['completion', shell]);
    expect(r.code, r.stderr).toBe(0);
    script[shell] = join(dir, `tosia.${shell}`);
    writeFileSync(script[shell]!, r.stdout);
  }
});

/** What bash completes for the words typed so far (a trailing space: a new, empty word). */
async function bashCompletes(typed: string): Promise<string[]> {
  const prog = `source '${script.bash}'; read -ra COMP_WORDS <<< "$TYPED"; [[ "$TYPED" == *" " ]] && COMP_WORDS+=(""); COMP_CWORD=$((\${#COMP_WORDS[@]}-1)); _tosia; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = await run('bash', ['-c', prog], { env: { TYPED: typed } });
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.split('\n').filter(Boolean);
}

describe('tosia completion', () => {
  it('bash: commands, subcommands, options, and the values of enumerated options', async () => {
    expect(await bashCompletes('tosia ')).toEqual(expect.arrayContaining(['run', 'serve', 'worker', 'completion', 'keys']));
    expect(await bashCompletes('tosia ru')).toEqual(['run']);
    expect(await bashCompletes('tosia run --dev')).toEqual(['--device']);
    expect(await bashCompletes('tosia run --device ')).toEqual(['auto', 'cpu', 'cuda', 'wasm']);
    expect(await bashCompletes('tosia run x.wav --labels ')).toEqual(['audacity', 'raven']);
    expect(await bashCompletes('tosia watch in --progress ')).toEqual(['line', 'json', 'none']);
    expect(await bashCompletes('tosia keys ')).toEqual(['create', 'list', 'revoke', '--help']);
    expect(await bashCompletes('tosia keys create --role ')).toEqual(['read', 'write', 'admin']);
    expect(await bashCompletes('tosia completion ')).toEqual(['bash', 'zsh', 'fish']);
    // extract's --labels is a labels file, not the config's formats: files, from the shell
    expect(await bashCompletes('tosia extract in --labels ')).toEqual([]);
  });

  it.skipIf(!has('fish'))('fish: the same answers through complete -C', async () => {
    const ask = async (typed: string) => (await run('fish', ['-c', `source '${script.fish}'; complete -C '${typed}'`])).stdout.split('\n').filter(Boolean).map((l) => l.split('\t')[0]);
    expect(await ask('tosia run --device ')).toEqual(['auto', 'cpu', 'cuda', 'wasm']);
    expect(await ask('tosia keys cr')).toEqual(['create']);
    expect(await ask('tosia run --lab')).toEqual(['--labels']);
  });

  it.skipIf(!has('zsh'))('zsh: the script loads under compinit and registers tosia', async () => {
    const r = await run('zsh', ['-c', `autoload -U compinit && compinit -u -d '${dir}/zcompdump'; source '${script.zsh}'; whence -w _tosia; print -r -- \${_comps[tosia]}`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/_tosia: function/);
    expect(r.stdout).toMatch(/-F _tosia/);
  });

  it('an unknown shell is a usage error naming the ones there are', async () => {
    const r = await tosia(['completion', 'tcsh']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/E_CONFIG: .*no completion for the shell 'tcsh'.*bash, zsh or fish/);
  });
});

import type { Command, Option } from 'commander';
import { TosiaError } from '../../algos/errors.js';
import { SCHEMA } from '../../runtime/config/schema.js';
import { handleError, orList } from '../handle-error.js';
import { PROGRESS_MODES } from '../progress.js';
import { FLAG_KEYS } from '../overrides.js';
import { WATCH_PROGRESS_MODES } from './watch.js';

/**
 * `tosia completion bash|zsh|fish`: a completion script made from the commands and options
 * commander knows, so it never lags behind them. The values an option takes come from the config
 * table for config-backed flags (--device, --labels, …) and, for the rest, from the lists that
 * validate them.
 */
const SHELLS = ['bash', 'zsh', 'fish'] as const;

type OptionValues = Record<string, Record<string, readonly string[]>>;

/** Each from the list that validates the option, so that completion cannot drift from it. */
async function optionValues(): Promise<OptionValues> {
  // the engine's and the server's modules are large: loaded when a script is made, not for every --help
  const [{ INFERENCE_MODES }, { ROLES }] = await Promise.all([import('../../runtime/engine/pool.js'), import('../../server/index.js')]);
  return {
    '*': { '--inference': INFERENCE_MODES },
    run: { '--progress': PROGRESS_MODES },
    watch: { '--progress': WATCH_PROGRESS_MODES },
    extract: { '--progress': PROGRESS_MODES },
    'keys create': { '--role': ROLES },
    completion: { '': SHELLS },
  };
}


interface Spec { name: string; summary: string; options: { flag: string; takesValue: boolean; summary: string; values: readonly string[] }[]; sub: Spec[]; args: readonly string[] }

/** The values of a config-backed flag: only the option declared by addConfigFlags (extract's --labels is a file). */
function configValues(flags: string): readonly string[] {
  const entry = Object.values(FLAG_KEYS).find((f) => f.flag === flags);
  if (!entry) return [];
  const [s, k] = entry.key.split('.') as [keyof typeof SCHEMA, string];
  return (SCHEMA[s] as Record<string, { values?: readonly string[] }>)[k]?.values ?? [];
}

const firstLine = (text: string) => (text.split('\n')[0] ?? '').replace(/\s*\(.*$/, '').split(/(?<=\.)\s/)[0]!.slice(0, 80);

function spec(cmd: Command, values: OptionValues, path: string[] = []): Spec {
  const name = cmd.name();
  const at = path.join(' ');
  const options = (cmd.options as Option[]).filter((o) => o.long).map((o) => {
    const flag = o.long!;
    return { flag, takesValue: o.required || o.optional, summary: firstLine(o.description), values: values[at]?.[flag] ?? values['*']![flag] ?? configValues(o.flags) };
  });
  options.push({ flag: '--help', takesValue: false, summary: 'show help', values: [] });
  return {
    name, summary: firstLine(cmd.description()), options,
    sub: cmd.commands.map((c) => spec(c, values, [...path, c.name()])),
    args: values[at]?.[''] ?? [],
  };
}

const q = (t: string) => t.replace(/'/g, "'\\''");

function bash(root: Spec): string {
  const lines: string[] = [
    '# tosia completion for bash: `source <(tosia completion bash)`, or save it as',
    '# /etc/bash_completion.d/tosia (or ~/.local/share/bash-completion/completions/tosia)',
    '_tosia() {',
    '  local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}" cmd="${COMP_WORDS[1]}" sub="${COMP_WORDS[2]}"',
    '  local words="" opts=""',
    `  if [ "$COMP_CWORD" -eq 1 ]; then COMPREPLY=( $(compgen -W '${root.sub.map((s) => s.name).join(' ')} --help --version' -- "$cur") ); return; fi`,
    '  case "$cmd" in',
  ];
  for (const c of root.sub) {
    lines.push(`    ${c.name})`);
    const subs = c.sub.map((s) => s.name);
    if (subs.length) {
      lines.push(`      if [ "$COMP_CWORD" -eq 2 ]; then COMPREPLY=( $(compgen -W '${subs.join(' ')} --help' -- "$cur") ); return; fi`);
      lines.push('      case "$sub" in');
      for (const s of c.sub) lines.push(`        ${s.name}) ${caseBody(s)} ;;`);
      lines.push('      esac ;;');
    } else {
      lines.push(`      ${caseBody(c)} ;;`);
    }
  }
  lines.push(
    '  esac',
    '  if [ -n "$words" ]; then COMPREPLY=( $(compgen -W "$words" -- "$cur") ); return; fi',
    '  if [[ "$cur" == -* ]]; then COMPREPLY=( $(compgen -W "$opts" -- "$cur") ); return; fi',
    '  COMPREPLY=()   # files and folders: the shell\'s own completion (-o default)',
    '}',
    'complete -o bashdefault -o default -F _tosia tosia',
  );
  return lines.join('\n') + '\n';

  function caseBody(c: Spec): string {
    const valued = c.options.filter((o) => o.values.length);
    const prevCase = valued.length ? `case "$prev" in ${valued.map((o) => `${o.flag}) words='${o.values.join(' ')}' ;;`).join(' ')} esac; ` : '';
    const args = c.args.length ? `[ -z "$words" ] && [[ "$cur" != -* ]] && words='${c.args.join(' ')}'; ` : '';
    return `opts='${c.options.map((o) => o.flag).join(' ')}'; ${prevCase}${args}`.trimEnd();
  }
}

function zsh(root: Spec): string {
  // zsh runs the bash function through its bashcompinit layer: one script, the same answers
  return ['#compdef tosia', '# tosia completion for zsh: `source <(tosia completion zsh)` in ~/.zshrc (after compinit)',
    'autoload -U +X bashcompinit && bashcompinit', bash(root).split('\n').filter((l) => !l.startsWith('#')).join('\n')].join('\n');
}

function fish(root: Spec): string {
  const lines = ['# tosia completion for fish: `tosia completion fish > ~/.config/fish/completions/tosia.fish`', 'complete -c tosia -f'];
  const desc = (t: string) => (t ? ` -d '${q(t)}'` : '');
  for (const c of root.sub) {
    lines.push(`complete -c tosia -n __fish_use_subcommand -a ${c.name}${desc(c.summary)}`);
    const when = `__fish_seen_subcommand_from ${c.name}`;
    for (const s of c.sub) lines.push(`complete -c tosia -n '${when}; and not __fish_seen_subcommand_from ${c.sub.map((x) => x.name).join(' ')}' -a ${s.name}${desc(s.summary)}`);
    const optsOf = (sp: Spec, cond: string) => {
      for (const o of sp.options) {
        const arg = o.values.length ? ` -xa '${o.values.join(' ')}'` : o.takesValue ? ' -r -F' : '';
        lines.push(`complete -c tosia -n '${cond}' -l ${o.flag.slice(2)}${arg}${desc(o.summary)}`);
      }
      if (sp.args.length) lines.push(`complete -c tosia -n '${cond}' -xa '${sp.args.join(' ')}'`);
      else if (!sp.sub.length) lines.push(`complete -c tosia -n '${cond}' -F`);
    };
    if (c.sub.length) for (const s of c.sub) optsOf(s, `${when}; and __fish_seen_subcommand_from ${s.name}`);
    else optsOf(c, when);
  }
  return lines.join('\n') + '\n';
}

export function registerCompletion(program: Command, setExit: (code: number) => void): void {
  program
    .command('completion')
    .description('Print a shell completion script for tosia\'s commands, options and their values')
    .argument('<shell>', orList(SHELLS))
    .addHelpText('after', `
Examples:
  $ source <(tosia completion bash)                                  # this shell; add it to ~/.bashrc to keep it
  $ tosia completion bash > /etc/bash_completion.d/tosia             # every bash on this machine
  $ source <(tosia completion zsh)                                   # in ~/.zshrc, after compinit
  $ tosia completion fish > ~/.config/fish/completions/tosia.fish`)
    .action(async (shell: string) => {
      const make = { bash, zsh, fish }[shell as (typeof SHELLS)[number]];
      if (!make) {
        setExit(handleError(new TosiaError('E_CONFIG', `no completion for the shell '${shell}'`, { stage: 'input', hint: `use ${orList(SHELLS)}` })));
        return;
      }
      process.stdout.write(make(spec(program, await optionValues())));
    });
}

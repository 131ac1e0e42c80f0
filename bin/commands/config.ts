import type { Command } from 'commander';
import { loadConfig } from '../../runtime/config/load.js';
import { fieldsOf, sections, type Config } from '../../runtime/config/schema.js';
import { allowedValues } from '../../runtime/config/validate.js';
import { EXIT } from '../exit-codes.js';
import { handleError } from '../handle-error.js';

function yamlScalar(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return /^[\w./-]+$/.test(v) && !/^(true|false|null|~|[-+]?[\d.]+)$/.test(v) ? v : JSON.stringify(v);
  return String(v);
}

/** The effective config as YAML, each key with its doc and allowed values as a comment. */
export function renderConfigYaml(cfg: Config): string {
  const out: string[] = ['# tosia effective configuration (every key, with defaults filled in)'];
  for (const s of sections()) {
    out.push('', `${s}:`);
    for (const [k, f] of fieldsOf(s)) {
      out.push(`  # ${f.doc}`, `  # allowed: ${allowedValues(f)}; default ${yamlScalar(f.default)}`);
      out.push(`  ${k}: ${yamlScalar((cfg[s] as Record<string, unknown>)[k])}`);
    }
  }
  return out.join('\n') + '\n';
}

export function registerConfig(program: Command, setExit: (code: number) => void): void {
  program
    .command('config')
    .description('Print the effective config with every default and its doc, or check a config file.')
    .option('-c, --config <file>', 'config file to load on top of the defaults')
    .option('--validate <file>', 'only check FILE; exit 0 when valid, 2 otherwise')
    .option('--json', 'print the effective config as JSON')
    .option('--json-schema', 'print config.yml\'s JSON Schema, for editors (also shipped as tosia/config.schema.json)')
    .addHelpText('after', `
Examples:
  $ tosia config > my.yml            # a fully commented starting point
  $ tosia config --validate my.yml
  $ tosia config --config my.yml --json
  $ tosia config --json-schema > config.schema.json   # then, in config.yml: # yaml-language-server: $schema=config.schema.json`)
    .action(async (opts: { config?: string; validate?: string; json?: boolean; jsonSchema?: boolean }) => {
      try {
        if (opts.jsonSchema) {
          const { configJsonSchema } = await import('../../runtime/config/json-schema.js');
          process.stdout.write(JSON.stringify(configJsonSchema(), null, 2) + '\n');
          setExit(EXIT.OK);
          return;
        }
        if (opts.validate) {
          const cfg = await loadConfig(opts.validate);
          const { emptyFilterWarning } = await import('../../runtime/pipeline/stages.js');
          const warning = emptyFilterWarning(cfg);
          if (warning) process.stderr.write(`tosia: warning: ${warning}\n`);
          process.stdout.write(`${opts.validate}: valid\n`);
          setExit(EXIT.OK);
          return;
        }
        const cfg = await loadConfig(opts.config ?? null);
        process.stdout.write(opts.json ? JSON.stringify(cfg, null, 2) + '\n' : renderConfigYaml(cfg));
        setExit(EXIT.OK);
      } catch (e) {
        setExit(handleError(e));
      }
    });
}

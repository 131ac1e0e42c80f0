import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { BIN, tosia } from '../helpers/cli.js';
import { REPO_ROOT } from '../helpers/shared.js';
import { requirePostgres, scratchDatabase, serve } from '../server/harness.js';
import { freePort, Nats, natsMissing } from '../server/queue-harness.js';
import { Azurite } from '../helpers/object-stores.js';

// No compose engine runs here (the image itself is built and run by `make image-smoke`), so the recipe is checked instead: every tosia command
// compose.yaml gives is run by the built CLI against this machine's services (its hosts and
// volume mapped to them), and every path the Dockerfile copies exists.

interface Service { image?: string; build?: string; command?: string[]; environment?: Record<string, string>; deploy?: { replicas?: number } }
const compose = parse(readFileSync(join(REPO_ROOT, 'compose.yaml'), 'utf8'), { merge: true }) as { services: Record<string, Service> };
const tosiaServices = Object.entries(compose.services).filter(([, s]) => s.image?.startsWith('tosia'));

describe('the deployment recipe', () => {
  it('has NATS, PostgreSQL, Azurite, two serve replicas on them and N workers reading audio from the container', () => {
    const byCommand = (c: string) => tosiaServices.filter(([, s]) => s.command?.[0] === c);
    expect(compose.services.nats?.command).toContain('-js');
    expect(compose.services.postgres?.image).toMatch(/^postgres:/);
    const serves = byCommand('serve');
    expect(serves.length).toBe(2);
    for (const [, s] of serves) expect(s.command).toEqual(expect.arrayContaining(['--db', '--queue', '--data', '--audio-store']));
    expect(compose.services.azurite?.command).toContain('azurite-blob');
    expect(byCommand('worker').length).toBe(1);
    expect(byCommand('worker')[0]![1].command).toEqual(expect.arrayContaining(['--audio-store']));
    expect(byCommand('worker')[0]![1].deploy?.replicas).toBeGreaterThanOrEqual(1);
  });

  it('every tosia command and flag in it is one the built CLI has', async () => {
    for (const [name, s] of tosiaServices) {
      // `db migrate`: the command is every word before the first flag
      const words = s.command!.findIndex((a) => a.startsWith('-'));
      const cmd = s.command!.slice(0, words < 0 ? undefined : words);
      const help = await tosia([...cmd, '--help']);
      expect(help.code, `${name}: tosia ${cmd.join(' ')}`).toBe(0);
      expect(help.stdout).toMatch(new RegExp(`^Usage: tosia ${cmd.join(' ')} `));
      for (const flag of s.command!.filter((a) => a.startsWith('--'))) expect(help.stdout, `${name}: tosia ${cmd.join(' ')} ${flag}`).toMatch(new RegExp(`^\\s+(-\\w, )?${flag}\\b`, 'm'));
    }
  });

  it('every path the Dockerfile copies exists, and it runs the CLI', () => {
    const docker = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');
    const copies = [...docker.matchAll(/^COPY (?!--from)(.+)$/gm)].flatMap((m) => m[1]!.trim().split(/\s+/).slice(0, -1));
    expect(copies.length).toBeGreaterThan(5);
    for (const p of copies) expect(existsSync(join(REPO_ROOT, p)), p).toBe(true);
    expect(docker).toMatch(/ENTRYPOINT \[.*"node", "\/app\/dist\/bin\/tosia\.js"\]/);
  });
});

const missing = natsMissing();

describe.skipIf(missing)('the recipe\'s commands, run here', () => {
  let nats: Nats;
  let db: { url: string; drop: () => Promise<void> } | null = null;
  let data: string;
  let skipPg: string | null = null;
  const azurite = new Azurite();
  beforeAll(async () => {
    nats = new Nats(await freePort());
    await nats.start();
    await azurite.start();
    skipPg = await requirePostgres();
    if (!skipPg) db = await scratchDatabase();
    data = mkdtempSync(join(tmpdir(), 'tosia-compose-'));
  });
  afterAll(async () => {
    await nats?.kill();
    if (nats) rmSync(nats.store, { recursive: true, force: true });
    await db?.drop();
    await azurite.stop();
    rmSync(data, { recursive: true, force: true });
  });
  /** The service's command with the compose hosts and volume mapped to this machine's. */
  const local = (s: Service) => s.command!.map((a) => a
    .replace(/^postgres:\/\/[^@]+@postgres:5432\/\w+$/, db!.url)
    .replace('nats://nats:4222', nats.url)
    .replace(/^\/data$/, data)
    .replace(/^0\.0\.0\.0$/, '127.0.0.1')
    .replace(/^8080$/, '0'));
  const service = (cmd: string) => tosiaServices.find(([, s]) => s.command?.[0] === cmd)![1];

  it('migrate, then serve (ready, then drained by SIGTERM), then a worker (drained by SIGTERM)', async () => {
    if (skipPg) return;
    const migrate = await tosia(local(service('db')));
    expect(migrate.code, migrate.stderr).toBe(0);
    const [, ...serveArgs] = local(service('serve'));
    const s = await serve(data, serveArgs.filter((_, i, all) => all[i] !== '--data' && all[i - 1] !== '--data'), { TOSIA_API_KEY: 'compose-test-key-0123456789', ...azurite.env });
    expect((await fetch(`${s.url}/ready`)).status).toBe(200);
    s.proc.kill('SIGTERM');
    expect(await s.exited).toBe(0);
    const w = spawn(process.execPath, [BIN, ...local(service('worker'))], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...azurite.env } });
    let err = '';
    w.stderr!.on('data', (c) => (err += c));
    while (!/taking jobs/.test(err)) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 1500));
    const code = new Promise((r) => w.once('exit', r));
    w.kill('SIGTERM');
    expect(await code, err).toBe(0);
    expect(err).toMatch(/stopped \(0 done, 0 failed\)/);
  }, 120_000);
});

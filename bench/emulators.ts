import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../runtime/paths.js';

const REPO_ROOT = packageRoot();

/**
 * The object stores the tests and `make bench` run against, each a real server process of the test's own on a
 * free loopback port, which a test may kill and start again on the same port and data:
 * Azurite (Microsoft's Azure Blob emulator) and s3rver (an S3-protocol stand-in: unmaintained,
 * and the only S3 server installable here; no MinIO in Debian or npm).
 */

/** Azurite's well-known development account: public, documented by Microsoft, never a secret. */
const DEV_ACCOUNT = 'devstoreaccount1';
const DEV_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export abstract class EmulatedStore {
  proc: ChildProcess | null = null;
  readonly dir = mkdtempSync(join(tmpdir(), 'tosia-objstore-'));
  port = 0;
  /** The environment a tosia process needs to reach it. */
  abstract get env(): NodeJS.ProcessEnv;
  protected abstract command(): { bin: string; args: string[]; ready: RegExp; node?: string[] };

  async start(): Promise<this> {
    this.port ||= await freePort();
    const { bin, args, ready, node = [] } = this.command();
    const proc = spawn(process.execPath, [...node, bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    let out = '';
    await new Promise<void>((resolve, reject) => {
      const seen = (c: Buffer) => {
        out += c;
        if (ready.test(out)) resolve();
      };
      proc.stdout!.on('data', seen);
      proc.stderr!.on('data', seen);
      proc.once('exit', (code) => reject(new Error(`${bin} exited ${code}: ${out}`)));
    });
    // it may say it listens a moment before it accepts
    for (let i = 0; i < 50; i++) {
      if (await reachable(this.port)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    return this;
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    await new Promise((r) => {
      p.once('exit', r);
      p.kill(signal);
    });
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function reachable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = new Socket();
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
    s.connect(port, '127.0.0.1');
  });
}

export class Azurite extends EmulatedStore {
  get env(): NodeJS.ProcessEnv {
    return { AZURE_STORAGE_CONNECTION_STRING: `DefaultEndpointsProtocol=http;AccountName=${DEV_ACCOUNT};AccountKey=${DEV_KEY};BlobEndpoint=http://127.0.0.1:${this.port}/${DEV_ACCOUNT};` };
  }
  protected command() {
    return {
      bin: join(REPO_ROOT, 'node_modules/azurite/dist/src/blob/main.js'),
      args: ['--blobHost', '127.0.0.1', '--blobPort', String(this.port), '--location', this.dir, '--silent', '--skipApiVersionCheck', '--disableTelemetry', '--loose'],
      ready: /successfully listens/,
    };
  }
}

export class S3rver extends EmulatedStore {
  get env(): NodeJS.ProcessEnv {
    return { AWS_ENDPOINT_URL: `http://127.0.0.1:${this.port}`, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' };
  }
  protected command() {
    return {
      bin: join(REPO_ROOT, 'node_modules/s3rver/bin/s3rver.js'), args: ['-d', this.dir, '-a', '127.0.0.1', '-p', String(this.port), '--no-vhost-buckets'], ready: /listening|S3rver/i,
      // s3rver encrypts listing continuation tokens with a cipher OpenSSL 3 keeps only in its legacy provider
      node: ['--openssl-legacy-provider'],
    };
  }
}

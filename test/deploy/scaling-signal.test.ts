import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { STREAM_JOBS, WORKERS_CONSUMER } from '../../server/queue/protocol.js';
import { BIN } from '../helpers/cli.js';
import { freePort, Nats, natsMissing, recordings, Worker } from '../server/queue-harness.js';

// Issue 27, part 3: what KEDA's nats-jetstream scaler would read. KEDA cannot run here, so the
// test reads the same thing it does: the workers' consumer's num_pending on nats-server's /jsz
// (the monitoring port the manifests give KEDA). It rises with queued jobs and falls to 0 as a
// worker drains them.

interface Jsz { account_details?: { name: string; stream_detail?: { name: string; consumer_detail?: { name: string; num_pending: number; num_ack_pending: number }[] }[] }[] }

describe.skipIf(natsMissing())('the scaling signal KEDA reads', () => {
  it('num_pending of the tosia-workers consumer on /jsz rises with queued jobs and falls to 0 as a worker drains them', async () => {
    const nats = new Nats(await freePort(), await freePort());
    await nats.start();
    const pending = async () => {
      const jsz = await (await fetch(`http://127.0.0.1:${nats.monitorPort}/jsz?accounts=true&streams=true&consumers=true`)).json() as Jsz;
      const account = jsz.account_details?.find((a) => a.name === '$G');
      const consumer = account?.stream_detail?.find((s) => s.name === STREAM_JOBS)?.consumer_detail?.find((c) => c.name === WORKERS_CONSUMER);
      return consumer ? consumer.num_pending : null;
    };
    const until = async (ok: (n: number | null) => boolean, what: string) => {
      for (let i = 0; i < 600; i++) {
        const n = await pending();
        if (ok(n)) return n;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`num_pending never ${what} (last ${await pending()})`);
    };
    const input = recordings(24);
    const out = join(mkdtempSync(join(tmpdir(), 'tosia-signal-')), 'out');
    // a batch on the queue with no worker yet: its jobs wait in the stream
    const batch = spawn(process.execPath, [BIN, 'run', input, '--out', out, '--queue', nats.url, '--progress', 'none'], { stdio: 'ignore' });
    const exited = new Promise<number | null>((r) => batch.once('exit', r));
    const worker = new Worker(['--queue', nats.url, '--concurrency', '1']);
    try {
      expect(await until((n) => n === 24, 'reached 24')).toBe(24);
      worker.start();
      // it falls as the worker takes them, to 0 once all are taken
      const seen: number[] = [];
      await until((n) => (n !== null && seen.push(n), n === 0), 'fell to 0');
      expect(seen.some((n) => n > 0 && n < 24)).toBe(true);
      expect(await exited).toBe(0);
    } finally {
      batch.kill('SIGKILL');
      await worker.stop();
      await nats.kill();
    }
  }, 180_000);
});

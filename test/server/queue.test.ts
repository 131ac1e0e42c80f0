import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, tosia } from '../helpers/cli.js';
import { Watch } from '../helpers/watch.js';
import { freePort, Nats, natsMissing, recordings, Worker } from './queue-harness.js';

// `tosia run --queue` and `tosia worker` against a real nats-server of the test's own (so it
// can be killed and restarted), with real worker processes killed mid-job.
const missing = natsMissing();

function runAsync(args: string[]) {
  const proc = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout!.on('data', (c) => (stdout += c));
  proc.stderr!.on('data', (c) => (stderr += c));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((r) => proc.once('exit', (code) => r({ code, stdout, stderr })));
  return { proc, done, progress: () => stderr };
}

/** Every input exactly once in results.jsonl, results.csv and as a per-file JSON, and they agree. */
function checkOutput(out: string, inputs: string[]) {
  const lines = readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const files = lines.map((l) => l.source.path as string);
  expect(new Set(files).size).toBe(files.length);
  expect(files.length).toBe(inputs.length);
  const csv = readFileSync(join(out, 'results.csv'), 'utf8').trim().split('\n');
  expect(csv.length - 1).toBe(inputs.length);
  for (const l of lines) {
    const own = JSON.parse(readFileSync(join(out, ...(l.source.path as string).split('/').slice(-2)) + '.json', 'utf8'));
    expect(own.diagnosis).toEqual(l.diagnosis);
  }
  return lines;
}

describe.skipIf(missing)('the queue (NATS JetStream)', () => {
  let nats: Nats;
  const dirs: string[] = [];
  const tmp = (p: string) => {
    const d = mkdtempSync(join(tmpdir(), p));
    dirs.push(d);
    return d;
  };
  beforeAll(async () => {
    nats = new Nats(await freePort());
    await nats.start();
  });
  afterAll(async () => {
    await nats?.kill();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    if (nats) rmSync(nats.store, { recursive: true, force: true });
  });
  const q = () => ['--queue', nats.url, '--ack-wait', '2', '--max-deliver', '3'];

  it('run --queue on two workers writes what a local batch writes', async () => {
    const input = recordings(30);
    dirs.push(input);
    const workers = [new Worker([...q(), '--concurrency', '1']).start(), new Worker([...q(), '--concurrency', '1']).start()];
    try {
      const local = tmp('tosia-local-');
      expect((await tosia(['run', input, '--out', local, '--progress', 'none'])).code).toBe(0);
      const remote = tmp('tosia-remote-');
      const r = await runAsync(['run', input, '--out', remote, '--progress', 'none', ...q()]).done;
      expect(r.code, r.stderr).toBe(0);
      const a = checkOutput(local, readdirSync(input));
      const b = checkOutput(remote, readdirSync(input));
      const strip = (l: Record<string, any>) => ({ ...l, timings_ms: null, source: { ...l.source } });
      const byPath = (x: Record<string, any>, y: Record<string, any>) => String(x.source.path).localeCompare(String(y.source.path));
      expect(b.map(strip).sort(byPath)).toEqual(a.map(strip).sort(byPath));
      // both workers took jobs
      expect(workers.every((w) => w.jobs().length > 0)).toBe(true);
      // run again: everything is up to date, nothing goes to the queue
      const again = await runAsync(['run', input, '--out', remote, '--progress', 'none', ...q()]).done;
      expect(again.stdout).toMatch(/0 processed, 30 up to date/);
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
    }
  }, 120_000);

  it('a worker killed mid-job: 300 files, every one in the output exactly once', async () => {
    const input = recordings(300);
    dirs.push(input);
    const a = new Worker([...q(), '--concurrency', '1']).start();
    const b = new Worker([...q(), '--concurrency', '1']).start();
    try {
      const out = tmp('tosia-kill-');
      const run = runAsync(['run', input, '--out', out, '--progress', 'json', ...q()]);
      let ended = false;
      void run.done.then(() => (ended = true));
      while (a.jobs().length < 10 && !ended) await new Promise((r) => setTimeout(r, 10));
      expect(ended, 'the batch was still running when the worker was killed').toBe(false);
      a.proc!.kill('SIGKILL');
      const r = await run.done;
      expect(r.code, r.stderr.slice(-2000)).toBe(0);
      checkOutput(out, readdirSync(input));
      expect(b.jobs().length).toBeGreaterThan(150);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  }, 240_000);

  it('a poison file that kills its worker every time ends failed after max_deliver; the rest completes', async () => {
    const input = recordings(20, { 'poison-take.wav': readFileSync(join(readdirSync('.').includes('samples') ? 'samples' : '.', 'coughs-3_snr-25db_white_16k.wav')) });
    dirs.push(input);
    const w = new Worker([...q(), '--concurrency', '1'], { TOSIA_TEST_CRASH_ON: 'poison' }, true).start();
    try {
      const out = tmp('tosia-poison-');
      const r = await runAsync(['run', input, '--out', out, '--progress', 'none', ...q()]).done;
      expect(r.code, r.stderr.slice(-2000)).toBe(1);
      expect(r.stderr).toMatch(/poison-take\.wav.*gave up after 3 deliveries: the worker died each time/);
      const errors = readFileSync(join(out, 'errors.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      expect(errors, JSON.stringify(errors)).toEqual([expect.objectContaining({ code: 'E_INTERNAL', message: expect.stringContaining('gave up after 3 deliveries') })]);
      expect(readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n')).toHaveLength(20);
      expect(w.deaths).toBe(3);
    } finally {
      await w.stop();
    }
  }, 120_000);

  it('the NATS server restarted mid-batch: the batch completes, nothing lost or duplicated', async () => {
    const input = recordings(150);
    dirs.push(input);
    const w = new Worker([...q(), '--concurrency', '2']).start();
    try {
      const out = tmp('tosia-restart-');
      const run = runAsync(['run', input, '--out', out, '--progress', 'none', ...q()]);
      while (w.jobs().length < 30) await new Promise((r) => setTimeout(r, 20));
      await nats.kill();
      await new Promise((r) => setTimeout(r, 500));
      await nats.start();
      const r = await run.done;
      expect(r.code, r.stderr.slice(-2000)).toBe(0);
      checkOutput(out, readdirSync(input));
    } finally {
      await w.stop();
    }
  }, 180_000);

  it('a submitter killed mid-batch: the same command again resumes and takes the results that arrived meanwhile', async () => {
    const input = recordings(120);
    dirs.push(input);
    const w = new Worker([...q(), '--concurrency', '2']).start();
    try {
      const out = tmp('tosia-submitter-');
      const first = runAsync(['run', input, '--out', out, '--progress', 'json', ...q()]);
      while (!/file-done/.test(first.progress())) await new Promise((r) => setTimeout(r, 20));
      first.proc.kill('SIGKILL');
      await first.done;
      // the workers go on with what was published
      await new Promise((r) => setTimeout(r, 1500));
      const r = await runAsync(['run', input, '--out', out, '--progress', 'none', ...q()]).done;
      expect(r.code, r.stderr.slice(-2000)).toBe(0);
      checkOutput(out, readdirSync(input));
      // no job ran twice: what arrived while the submitter was down was taken, not redone
      const ran = w.jobs().map((j) => j.file);
      expect(new Set(ran).size).toBe(ran.length);
    } finally {
      await w.stop();
    }
  }, 180_000);

  it('watch --queue: files arriving in a watched folder run on a worker, each once; a restart runs nothing again', async () => {
    const src = recordings(40);
    dirs.push(src);
    const dir = tmp('tosia-watch-q-');
    const out = tmp('tosia-watch-q-out-');
    const w = new Worker([...q(), '--concurrency', '2']).start();
    try {
      const watch = new Watch(dir, out, q());
      await watch.until(() => watch.events.some((e) => e.type === 'watching'));
      for (const f of readdirSync(src)) writeFileSync(join(dir, f), readFileSync(join(src, f)));
      await watch.until(() => watch.reported(false).length >= 40, 120_000);
      expect(await watch.stop()).toBe(0);
      expect(new Set(watch.reported(false)).size).toBe(40);
      checkOutput(out, readdirSync(src));
      const ran = w.jobs().map((j) => j.file);
      expect(ran.length).toBe(40);
      expect(new Set(ran).size).toBe(40);
      const again = new Watch(dir, out, q());
      await again.until(() => again.reported().length >= 40);
      expect(again.reported(false)).toEqual([]);
      expect(await again.stop()).toBe(0);
      expect(w.jobs().length).toBe(40);
    } finally {
      await w.stop();
    }
  }, 180_000);

  it('audio in the bucket: what putAudio stores the object store client reads, and readAudio finds it without the hint or past a stale one', async () => {
    const { openQueue, putAudio, readAudio } = await import('../../server/queue/topology.js');
    const queue = await openQueue(nats.url, { ackWaitS: 30, maxDeliver: 5 }, 'test-audio');
    try {
      for (const n of [0, 1000, 128 * 1024, 300_000]) {
        const bytes = randomBytes(n);
        const sha = createHash('sha256').update(bytes).digest('hex');
        const where = await putAudio(queue, sha, bytes);
        expect(Buffer.compare(Buffer.from((await queue.audio.getBlob(sha))!), bytes)).toBe(0);
        expect(await queue.audio.info(sha)).toMatchObject({ size: n, chunks: Math.ceil(n / (128 * 1024)) });
        expect(Buffer.compare(Buffer.from((await readAudio(queue, sha, where))!), bytes)).toBe(0);
        expect(Buffer.compare(Buffer.from((await readAudio(queue, sha))!), bytes)).toBe(0);
        expect(Buffer.compare(Buffer.from((await readAudio(queue, sha, { nuid: 'gone', size: n }))!), bytes)).toBe(0);
      }
      expect(await readAudio(queue, 'f'.repeat(64))).toBeNull();
    } finally {
      await queue.nc.close();
    }
  });

  it('serve --queue: a POST runs on a remote worker, images and all; /ready says when the queue is gone', async () => {
    const { startServer, variant } = await import('./harness.js');
    const w = new Worker([...q(), '--concurrency', '1']).start();
    const h = await startServer({ queue: { url: nats.url, settings: { ackWaitS: 2, maxDeliver: 3 } } });
    try {
      const res = await h.call('/v1/diagnoses?wait=60', { method: 'POST', body: variant(9000), headers: { 'content-type': 'audio/wav' } });
      expect(res.status).toBe(201);
      const rec = await res.json();
      expect(rec).toMatchObject({ status: 'done', result: { segments: expect.any(Array) } });
      expect(rec.links.segments.length).toBe(rec.result.segments.length);
      expect((await h.call(rec.links.segments[0], { role: 'read' })).headers.get('content-type')).toBe('image/png');
      expect(w.jobs()).toHaveLength(1);
      // the figure is drawn by the replica from the stored audio
      expect(((await (await h.call(`/v1/diagnoses/${rec.id}/figure.svg`, { role: 'read' })).text()).match(/<rect class="seg"/g) ?? []).length).toBe(rec.result.segments.length);
      const bad = await h.call('/v1/diagnoses?wait=60', { method: 'POST', body: Buffer.from('not audio'), headers: { 'content-type': 'audio/wav' } });
      expect(bad.status).toBe(422);
      expect((await fetch(`${h.url}/ready`)).status).toBe(200);
      await nats.kill();
      let ready = await fetch(`${h.url}/ready`);
      for (let i = 0; i < 200 && ready.status !== 503; i++) {
        await new Promise((r) => setTimeout(r, 50));
        ready = await fetch(`${h.url}/ready`);
      }
      expect(ready.status).toBe(503);
      expect((await ready.json()).detail).toMatch(/queue .* unreachable/);
      await nats.start();
      for (let i = 0; i < 300 && (await fetch(`${h.url}/ready`)).status !== 200; i++) await new Promise((r) => setTimeout(r, 100));
      expect((await fetch(`${h.url}/ready`)).status).toBe(200);
    } finally {
      await h.close();
      await w.stop();
    }
  }, 120_000);

  it("serve --queue whose results consumer is deleted: /ready says results cannot be read, not ok in silence", async () => {
    const { startServer } = await import('./harness.js');
    const { connect } = await import('@nats-io/transport-node');
    const { jetstreamManager } = await import('@nats-io/jetstream');
    const { STREAM_RESULTS } = await import('../../server/queue/protocol.js');
    const h = await startServer({ queue: { url: nats.url, settings: { ackWaitS: 2, maxDeliver: 3 } } });
    const nc = await connect({ servers: nats.url });
    try {
      for (let i = 0; i < 100 && (await fetch(`${h.url}/ready`)).status !== 200; i++) await new Promise((r) => setTimeout(r, 100));
      expect((await fetch(`${h.url}/ready`)).status).toBe(200);
      const jsm = await jetstreamManager(nc);
      // an operator's mistake: every submitter's results consumer removed under it
      for await (const c of jsm.consumers.list(STREAM_RESULTS)) if (c.name.startsWith('results-')) await jsm.consumers.delete(STREAM_RESULTS, c.name);
      let ready = await fetch(`${h.url}/ready`);
      for (let i = 0; i < 300 && ready.status !== 503; i++) {
        await new Promise((r) => setTimeout(r, 100));
        ready = await fetch(`${h.url}/ready`);
      }
      expect(ready.status).toBe(503);
      expect((await ready.json()).detail).toMatch(/results cannot be read from the queue/);
    } finally {
      await nc.close();
      await h.close();
    }
  }, 120_000);

  it('two serve replicas on one PostgreSQL and one NATS: a record made through one is read, waited on and deleted through the other; one killed mid-load loses nothing', async () => {
    const { requirePostgres, scratchDatabase, serve, variant } = await import('./harness.js');
    if (await requirePostgres()) return;
    const db = await scratchDatabase();
    const data = tmp('tosia-replicas-');
    const { createKey } = await import('../../server/index.js');
    const KEY = (await createKey({ db: db.url }, 'ops', 'admin')).key;
    const flags = ['--db', db.url, ...q()];
    const w = new Worker([...q(), '--concurrency', '2']).start();
    let a = await serve(data, flags);
    const b = await serve(data, flags);
    const call = (url: string, path: string, init: RequestInit = {}) => fetch(`${url}${path}`, { ...init, headers: { authorization: `Bearer ${KEY}`, ...(init.headers ?? {}) } });
    const post = async (url: string, i: number) => {
      const res = await call(url, `/v1/diagnoses?wait=0&external_id=r-${i}`, { method: 'POST', body: variant(7000 + i), headers: { 'content-type': 'audio/wav', 'idempotency-key': `r-${i}` } });
      expect([201, 202]).toContain(res.status);
      return (await res.json()).id as string;
    };
    try {
      const first = await Promise.all(Array.from({ length: 20 }, (_, i) => post(a.url, i)));
      // waited on through the other replica, which stored none of them itself
      for (const id of first) {
        const rec = await (await call(b.url, `/v1/diagnoses/${id}?wait=60`)).json();
        expect(rec.status, JSON.stringify(rec)).toBe('done');
      }
      const audio = await call(b.url, `/v1/diagnoses/${first[3]}/audio`);
      expect(Buffer.compare(Buffer.from(await audio.arrayBuffer()), variant(7003))).toBe(0);
      // the same Idempotency-Key through the other replica is the same record
      const again = await call(b.url, '/v1/diagnoses?wait=0&external_id=r-5', { method: 'POST', body: variant(7005), headers: { 'content-type': 'audio/wav', 'idempotency-key': 'r-5' } });
      expect((await again.json()).id).toBe(first[5]);
      expect((await call(b.url, `/v1/diagnoses/${first[0]}`, { method: 'DELETE' })).status).toBe(204);
      expect((await call(a.url, `/v1/diagnoses/${first[0]}`)).status).toBe(404);

      // 40 more through A, killed with SIGKILL while they run; a supervisor starts it again
      const more = await Promise.all(Array.from({ length: 40 }, (_, i) => post(a.url, 100 + i)));
      a.proc.kill('SIGKILL');
      await a.exited;
      a = await serve(data, flags);
      for (const id of [...first.slice(1), ...more]) {
        const rec = await (await call(b.url, `/v1/diagnoses/${id}?wait=60`)).json();
        expect(rec.status, JSON.stringify(rec)).toBe('done');
      }
      const list = await (await call(a.url, '/v1/diagnoses?limit=100')).json();
      expect(list.items.length).toBe(59);
      expect(list.items.every((r: { status: string }) => r.status === 'done')).toBe(true);
      // each record's job ran once (the suite's NATS may hold other tests' jobs: only these records count)
      const ours = new Set([...first, ...more]);
      const ran = w.jobs().map((j) => j.job.replace(/-a\d+$/, '')).filter((id) => ours.has(id));
      expect(ran.length).toBe(60);
      expect(new Set(ran).size).toBe(60);
    } finally {
      a.proc.kill('SIGTERM');
      b.proc.kill('SIGTERM');
      await Promise.all([a.exited, b.exited]);
      await w.stop();
      await db.drop();
    }
  }, 240_000);

  it('tosia doctor --queue reports the streams, the bucket and the workers\' consumer; an unreachable queue fails it (3)', async () => {
    // what the first worker or submitter makes
    const { openQueue } = await import('../../server/queue/topology.js');
    await (await openQueue(nats.url, { ackWaitS: 2, maxDeliver: 3 }, 'test')).nc.close();
    const r = await tosia(['doctor', '--queue', nats.url, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const checks = JSON.parse(r.stdout).checks as { name: string; ok: boolean; detail: string }[];
    expect(checks.find((c) => c.name === 'jetstream')).toMatchObject({ ok: true, detail: expect.stringMatching(/^enabled/) });
    expect(checks.find((c) => c.name === 'queue jobs')?.detail).toMatch(/TOSIA_JOBS: \d+ message/);
    expect(checks.find((c) => c.name === 'queue audio')?.detail).toMatch(/OBJ_tosia-audio: \d+ message/);
    expect(checks.find((c) => c.name === 'queue workers')?.detail).toMatch(/job\(s\) waiting, \d+ held by workers.*max_deliver 3/);
    const down = await tosia(['doctor', '--queue', `nats://127.0.0.1:${await freePort()}`]);
    expect(down.code).toBe(3);
    expect(down.stdout).toMatch(/FAIL\s+queue\s+cannot connect to NATS/);
  }, 60_000);

  it('a worker whose model cannot load takes nothing and exits with E_MODEL (3); a bad --queue is E_CONFIG (2)', async () => {
    const w = new Worker([...q(), '--model', '/nonexistent/model.onnx']).start();
    expect(await w.exited()).toBe(3);
    expect(w.log).toMatch(/E_MODEL/);
    expect(await tosia(['worker', '--queue', 'http://x'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/not a NATS URL/) });
    expect(await tosia(['worker', '--queue', nats.url, '--ack-wait', '0'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--ack-wait=0/) });
    const port = await freePort();
    expect(await tosia(['run', 'samples', '--out', join(tmp('tosia-noq-'), 'o'), '--queue', `nats://127.0.0.1:${port}`])).toMatchObject({ code: 2, stderr: expect.stringMatching(/cannot connect to NATS/) });
    expect(existsSync(BIN)).toBe(true);
  }, 60_000);
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey } from '../../server/index.js';
import { burstySignal, writeWav } from '../helpers/wav.js';
import { serve, variant } from './harness.js';

// `tosia serve` as a real process: killed with SIGKILL mid-load and restarted, and drained with SIGTERM.

let dir: string;
let key: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tosia-crash-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('crash safety', () => {
  it('SIGKILL mid-way through 200 uploads from 16 clients: every acknowledged upload ends done or failed, exactly once, none stuck', async () => {
    const data = join(dir, 'kill');
    key = (await createKey({ dataDir: data }, 'load', 'admin')).key;
    let server = await serve(data);
    const TOTAL = 200;
    const acked = new Map<number, string>();
    const pending: number[] = Array.from({ length: TOTAL }, (_, i) => i);
    let killed = false;
    const postOne = async (i: number): Promise<boolean> => {
      // a bad recording every 25th: a failed record is an outcome too
      const body = i % 25 === 24 ? Buffer.from(`not audio ${i}`) : variant(1000 + i);
      try {
        const res = await fetch(`${server.url}/v1/diagnoses?wait=0&external_id=upload-${i}`, { method: 'POST', body, headers: { authorization: `Bearer ${key}`, 'content-type': 'audio/wav', 'idempotency-key': `upload-${i}` } });
        const rec = await res.json();
        // 503 while the restarted server loads its model is fine; anything else is a bug
        if (res.status === 503) return false;
        expect([200, 201, 202], JSON.stringify(rec)).toContain(res.status);
        const prev = acked.get(i);
        if (prev !== undefined) expect(rec.id).toBe(prev);
        acked.set(i, rec.id);
        return true;
      } catch {
        return false;
      }
    };
    const client = async () => {
      for (;;) {
        const i = pending.shift();
        if (i === undefined) return;
        if (!(await postOne(i))) {
          // not acknowledged (the server died under it): try again later with the same Idempotency-Key
          pending.push(i);
          await new Promise((r) => setTimeout(r, 100));
        }
        if (!killed && acked.size >= 70) {
          killed = true;
          server.proc.kill('SIGKILL');
          await server.exited;
          server = await serve(data);
        }
      }
    };
    await Promise.all(Array.from({ length: 16 }, client));
    expect(killed).toBe(true);
    expect(acked.size).toBe(TOTAL);
    const finals = new Map<string, { status: string; attempts: number }>();
    for (const [i, id] of acked) {
      const res = await fetch(`${server.url}/v1/diagnoses/${id}?wait=60`, { headers: { authorization: `Bearer ${key}` } });
      const rec = await res.json();
      expect(['done', 'failed'], `upload ${i}`).toContain(rec.status);
      if (i % 25 === 24) expect(rec.error.code).toBe('E_DECODE');
      else expect(rec.status).toBe('done');
      finals.set(id, rec);
    }
    // exactly once: one record per upload, whatever was retried
    const all: { external_id: string; status: string }[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: { external_id: string; status: string }[]; next_cursor: string | null } = await (await fetch(`${server.url}/v1/diagnoses?limit=500${cursor ? `&cursor=${cursor}` : ''}`, { headers: { authorization: `Bearer ${key}` } })).json();
      all.push(...page.items);
      cursor = page.next_cursor;
    } while (cursor);
    expect(all).toHaveLength(TOTAL);
    expect(new Set(all.map((r) => r.external_id)).size).toBe(TOTAL);
    expect(all.filter((r) => r.status === 'running' || r.status === 'queued')).toEqual([]);
    server.proc.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  }, 240_000);

  it('SIGTERM drains: new work gets 503 with Retry-After, what is running finishes, exit 0; what was queued runs after the restart', async () => {
    const data = join(dir, 'drain');
    key = (await createKey({ dataDir: data }, 'drain', 'admin')).key;
    const long = writeWav(join(dir, 'long.wav'), { channels: 1, rate: 16000, bits: 16, format: 1, frames: 16000 * 240, fill: burstySignal(16000, 1.5, 3) });
    const server = await serve(data);
    const { readFileSync } = await import('node:fs');
    const bytes = readFileSync(long);
    const post = (b: Uint8Array, q: string) => fetch(`${server.url}/v1/diagnoses${q}`, { method: 'POST', body: b, headers: { authorization: `Bearer ${key}`, 'content-type': 'audio/wav' } });
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const b = Buffer.from(bytes);
      b.writeUInt32LE(i, b.length - 4);
      const res = await post(b, '?wait=0');
      expect(res.status).toBe(202);
      ids.push((await res.json()).id);
    }
    // wait until the pool holds work
    for (let i = 0; i < 200; i++) {
      const r = await (await fetch(`${server.url}/ready`)).json();
      if (r.busy_workers > 0) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    server.proc.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 100));
    const refused = await post(variant(5000), '?wait=0').catch(() => null);
    expect(refused, 'the server still answers while it drains').not.toBeNull();
    expect(refused!.status).toBe(503);
    expect(refused!.headers.get('retry-after')).toBeTruthy();
    expect((await refused!.json()).code).toBe('E_UNAVAILABLE');
    expect((await fetch(`${server.url}/ready`)).status).toBe(503);
    expect(await server.exited).toBe(0);
    expect(server.stderr()).toMatch(/draining/);
    // one JSON line per request on stdout
    const lines = server.stdout().trim().split('\n').map((l) => JSON.parse(l)).filter((l) => l.msg === 'request');
    expect(lines.filter((l) => l.route === '/v1/diagnoses' && l.method === 'POST').map((l) => l.status)).toEqual([202, 202, 202, 202, 202, 202, 503]);
    expect(lines[0]).toMatchObject({ key: 'drain', ms: expect.any(Number) });
    // nothing is left running; the rest runs after a restart
    const again = await serve(data);
    const statuses: string[] = [];
    for (const id of ids) statuses.push((await (await fetch(`${again.url}/v1/diagnoses/${id}?wait=120`, { headers: { authorization: `Bearer ${key}` } })).json()).status);
    expect(statuses).toEqual(ids.map(() => 'done'));
    again.proc.kill('SIGTERM');
    expect(await again.exited).toBe(0);
  }, 240_000);
});

describe('tosia keys and tosia db', () => {
  it('create prints a key once, list shows it without the key, revoke takes it away; bad input is E_CONFIG (exit 2)', async () => {
    const { tosia } = await import('../helpers/cli.js');
    const data = join(dir, 'keys');
    const made = await tosia(['keys', 'create', '--name', 'ops', '--role', 'admin', '--data', data]);
    expect(made.code).toBe(0);
    expect(made.stdout.trim()).toMatch(/^tosia_[A-Za-z0-9_-]{43}$/);
    const list = await tosia(['keys', 'list', '--data', data, '--json']);
    expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({ name: 'ops', role: 'admin', revoked_at: null })]);
    expect(list.stdout).not.toContain(made.stdout.trim());
    expect(await tosia(['keys', 'create', '--name', 'ops', '--role', 'read', '--data', data])).toMatchObject({ code: 2, stderr: expect.stringMatching(/E_CONFIG.*already exists/) });
    expect(await tosia(['keys', 'create', '--name', 'x', '--role', 'root', '--data', data])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--role=root must be read, write, admin/) });
    expect((await tosia(['keys', 'create', '--name', 'a b', '--role', 'read', '--data', data])).code).toBe(2);
    expect((await tosia(['keys', 'revoke', 'ops', '--data', data])).code).toBe(0);
    expect(await tosia(['keys', 'revoke', 'ops', '--data', data])).toMatchObject({ code: 2, stderr: expect.stringMatching(/no live key is named ops/) });
    expect(JSON.parse((await tosia(['keys', 'list', '--data', data, '--json'])).stdout)[0].revoked_at).not.toBeNull();
    const status = JSON.parse((await tosia(['db', 'status', '--data', data, '--json'])).stdout);
    expect(status).toMatchObject({ dialect: 'sqlite', migrations: [{ name: '0001_records_and_keys', applied_at: expect.any(String) }, { name: '0002_settings', applied_at: expect.any(String) }, { name: '0003_reviews', applied_at: expect.any(String) }, { name: '0004_figures', applied_at: expect.any(String) }, { name: '0005_served_models', applied_at: expect.any(String) }] });
    expect((await tosia(['db', 'migrate', '--data', data])).stdout).toMatch(/up to date/);
    expect(await tosia(['db', 'status', '--db', 'mysql://x/y'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/not a PostgreSQL URL/) });
    expect(await tosia(['db', 'status', '--db', 'postgres://nobody:secret@127.0.0.1:1/none'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/cannot connect to PostgreSQL at postgres:\/\/nobody:\*\*\*@/) });
    expect(await tosia(['serve', '--data', data, '--host', '0.0.0.0', '--port', '0'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/refusing to listen on 0\.0\.0\.0.*tosia keys create/) });
    expect(await tosia(['serve', '--data', data, '--port', 'x'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--port=x/) });
    expect(await tosia(['serve', '--data', data, '--max-upload-mb', '0'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--max-upload-mb=0/) });
  });
});

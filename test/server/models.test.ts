import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig, defaultModelPath } from '../../runtime/index.js';
import { rocAuc } from '../../algos/metrics/binary.js';
import { tosia } from '../helpers/cli.js';
import { deriveModel } from '../helpers/models.js';
import { freePort, Nats, natsMissing, Worker } from './queue-harness.js';
import { problem, requirePostgres, SAMPLE_BYTES, scratchDatabase, startServer, variant, type Harness } from './harness.js';

// Issue 26: several models in tosia serve (--model NAME=PATH), GET /v1/models, ?model=,
// PUT /v1/models/default, and every record naming the served model that made it.

const dir = mkdtempSync(join(tmpdir(), 'tosia-models-'));
const V1 = defaultModelPath();
const V2 = deriveModel(dir, 'cough-v2', { version: '3.0.0-test' });
const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
const models = [{ name: 'v1', path: V1 }, { name: 'v2', path: V2 }];
const post = (h: Harness, bytes: Uint8Array, query = '', wait = 60) => h.call(`/v1/diagnoses?wait=${wait}${query}`, { method: 'POST', body: bytes, headers: { 'content-type': 'audio/wav' }, role: 'write' });

const pgSkip = await requirePostgres();

/** The keys of tosia eval --labels --json, which an evaluation reports per model. */
const EVAL_KEYS = ['n', 'positives', 'abstained', 'auc', 'pr_auc', 'threshold', 'at_target_sensitivity', 'at_prevalence', 'calibration', 'groups', 'confound', 'duplicates', 'by_quality'];

/** An evaluation once it is done or failed. */
async function evaluated(h: Harness, id: string): Promise<Record<string, any>> {
  for (let i = 0; i < 1200; i++) {
    const e = await (await h.call(`/v1/evaluations/${id}`, { role: 'read' })).json();
    if (e.status === 'done' || e.status === 'failed') return e;
    await new Promise((ok) => setTimeout(ok, 100));
  }
  throw new Error(`${id}: the evaluation never finished`);
}

/** The record once the shadow model's verdict is stored (it runs after the record is done). */
async function shadowed(h: Harness, id: string): Promise<Record<string, any>> {
  for (let i = 0; i < 600; i++) {
    const r = await (await h.call(`/v1/diagnoses/${id}`, { role: 'read' })).json();
    if (r.shadow?.state !== 'pending') return r;
    await new Promise((ok) => setTimeout(ok, 100));
  }
  throw new Error(`${id}: the shadow verdict never came`);
}

describe.each([
  { store: 'sqlite' as const },
  { store: 'postgres' as const },
])('several models on $store', ({ store }) => {
  let h: Harness;
  let db: { url: string; drop: () => Promise<void> } | null = null;
  const skip = store === 'postgres' && pgSkip !== null;

  beforeAll(async () => {
    if (skip) return;
    if (store === 'postgres') db = await scratchDatabase();
    h = await startServer({ models, db: db?.url });
  }, 120_000);
  afterAll(async () => {
    await h?.close();
    await db?.drop();
  });

  it.skipIf(skip)('GET /v1/models lists each with its identity; the first is the default', async () => {
    const res = await h.call('/v1/models', { role: 'read' });
    expect(res.status).toBe(200);
    const { items } = await res.json();
    expect(items.map((m: { name: string }) => m.name)).toEqual(['v1', 'v2']);
    expect(items[0]).toMatchObject({ name: 'v1', sha256: sha(V1), default: true, shadow: false, labels: ['not_covid19', 'covid19'], manifest: { name: 'tosia-cough-demo', positive_label: 'covid19' } });
    expect(items[1]).toMatchObject({ name: 'v2', version: '3.0.0-test', sha256: sha(V2), default: false, manifest: { name: 'cough-v2' } });
    expect((await h.call('/v1/models', { role: null })).status).toBe(401);
  });

  it.skipIf(skip)('?model= runs the recording with that model; the record names it; the same bytes under each model are two results', async () => {
    const bytes = variant(2601);
    const a = await (await post(h, bytes)).json();
    const b = await (await post(h, bytes, '&model=v2')).json();
    expect(a).toMatchObject({ status: 'done', model: 'v1', model_sha256: sha(V1) });
    expect(b).toMatchObject({ status: 'done', model: 'v2', model_sha256: sha(V2) });
    expect(b.deduplicated).toBeUndefined();
    expect(b.result.model).toMatchObject({ name: 'cough-v2', version: '3.0.0-test', sha256: sha(V2) });
    expect(a.result.model.sha256).toBe(sha(V1));
    // the same segments, scored by another network input: another score
    expect(b.result.segments.map((s: { start: number }) => s.start)).toEqual(a.result.segments.map((s: { start: number }) => s.start));
    expect(b.result.diagnosis.score).not.toBeCloseTo(a.result.diagnosis.score, 6);
    // the same submission under v2 again is v2's record
    const again = await post(h, bytes, '&model=v2');
    expect(again.status).toBe(200);
    expect((await again.json()).id).toBe(b.id);
    const listed = await (await h.call('/v1/diagnoses?model=v2', { role: 'read' })).json();
    expect(listed.items.map((r: { id: string }) => r.id)).toEqual([b.id]);
    expect(listed.items[0].model).toBe('v2');
  }, 120_000);

  it.skipIf(skip)('an unknown model is 400 naming the served ones, before the body is stored', async () => {
    const p = await problem(await post(h, SAMPLE_BYTES, '&model=v3'), 400, 'E_INPUT');
    expect(p.detail).toMatch(/querystring\.model "v3" is not a model this server serves/);
    expect(p.errors).toEqual([{ field: 'querystring.model', message: expect.stringMatching(/one of: v1, v2/) }]);
    await problem(await post(h, SAMPLE_BYTES, '&model=..%2Fetc'), 400, 'E_INPUT');
  });

  it.skipIf(skip)('POST /v1/evaluations measures a model on the reviewed records beside the default, with the metrics of tosia eval; one a dead process left is taken up again', async () => {
    // eight reviewed records made by v1: the reviewers' labels are the truth
    const made: { id: string; score: number; truth: number }[] = [];
    for (let i = 0; i < 8; i++) {
      const r = await (await post(h, variant(2700 + i), '&force=true')).json();
      const label = i % 2 === 0 ? 'covid19' : 'not_covid19';
      expect((await h.call(`/v1/diagnoses/${r.id}/review`, { method: 'PUT', body: JSON.stringify({ reviewed: true, label }), headers: { 'content-type': 'application/json' }, role: 'write' })).status).toBe(200);
      made.push({ id: r.id, score: r.outcome.score, truth: i % 2 === 0 ? 1 : 0 });
    }
    const res = await h.call('/v1/evaluations', { method: 'POST', body: JSON.stringify({ model: 'v2', filter: { made_by: 'v1' } }), headers: { 'content-type': 'application/json' }, role: 'write' });
    expect(res.status).toBe(202);
    const accepted = await res.json();
    expect(res.headers.get('location')).toBe(`/v1/evaluations/${accepted.id}`);
    expect(accepted).toMatchObject({ model: 'v2', baseline: 'v1', filter: { made_by: 'v1' }, metrics: null });
    const e = await evaluated(h, accepted.id);
    expect(e).toMatchObject({ status: 'done', records: 8, error: null });
    expect(e.scored).toEqual({ v2: { reused: 0, rescored: 8, failed: 0 }, v1: { reused: 8, rescored: 0, failed: 0 } });
    expect(Object.keys(e.metrics)).toEqual(['v2', 'v1']);
    expect(Object.keys(e.metrics.v2)).toEqual(EVAL_KEYS);
    expect(e.metrics.v1).toMatchObject({ n: 8, positives: 4 });
    // the default's AUC is the AUC of its own scores against the reviews
    expect(e.metrics.v1.auc.value).toBeCloseTo(rocAuc(made.map((m) => m.score), made.map((m) => m.truth)), 12);
    expect(e.metrics.v2.auc.value).not.toBeNull();
    const listed = await (await h.call('/v1/evaluations', { role: 'read' })).json();
    expect(listed.items[0].id).toBe(accepted.id);
    const roc = await h.call(`/v1/evaluations/${accepted.id}/roc.svg`, { role: 'read' });
    expect(roc.status).toBe(200);
    expect(roc.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
    expect(await roc.text()).toMatch(/^<svg [^>]*role="img"[^]*<polyline /);
    expect((await h.call(`/v1/evaluations/${accepted.id}/roc.svg?model=v1`, { role: 'read' })).status).toBe(200);
    expect((await problem(await h.call(`/v1/evaluations/${accepted.id}/roc.svg?model=v3`, { role: 'read' }), 404, 'E_NOT_FOUND')).detail).toMatch(/measured v2, v1/);

    // bad requests: an unknown model, an unknown filter key; a filter nothing matches fails the evaluation itself
    await problem(await h.call('/v1/evaluations', { method: 'POST', body: JSON.stringify({ model: 'v9' }), headers: { 'content-type': 'application/json' }, role: 'write' }), 422, 'E_INPUT');
    await problem(await h.call('/v1/evaluations', { method: 'POST', body: JSON.stringify({ model: 'v2', filter: { site: 'a' } }), headers: { 'content-type': 'application/json' }, role: 'write' }), 400, 'E_INPUT');
    await problem(await h.call('/v1/evaluations', { method: 'POST', body: JSON.stringify({ model: 'v2' }), headers: { 'content-type': 'application/json' }, role: 'read' }), 403, 'E_FORBIDDEN');
    const none = await (await h.call('/v1/evaluations', { method: 'POST', body: JSON.stringify({ model: 'v2', filter: { external_id: 'nobody' } }), headers: { 'content-type': 'application/json' }, role: 'write' })).json();
    expect(await evaluated(h, none.id)).toMatchObject({ status: 'failed', error: { code: 'E_INPUT', message: expect.stringMatching(/no reviewed record matches the filter/) } });
    await problem(await h.call(`/v1/evaluations/${none.id}/roc.svg`, { role: 'read' }), 409, 'E_CONFLICT');
    await problem(await h.call('/v1/evaluations/01a2b396-f0fb-704e-81b1-ac003793cecb', { role: 'read' }), 404, 'E_NOT_FOUND');

    // an evaluation whose process died mid-way (its heartbeat long stopped) is run by the next sweep
    const { openDatabase } = await import('../../server/db/database.js');
    const database = await openDatabase(db ? { url: db.url } : { sqliteFile: join(h.dir, 'records.sqlite') });
    const orphan = '01a2b396-f0fb-704e-81b1-ac003793ce00';
    await database.db.insertInto('evaluations').values({ id: orphan, model: 'v2', baseline: 'v1', filter: '{}', status: 'running', created_at: '2026-12-01T00:00:00.000Z', started_at: '2026-12-01T00:00:00.000Z', finished_at: null, heartbeat_at: '2026-12-01T00:00:01.000Z', records: null, report: null, error_code: null, error_message: null }).execute();
    await database.db.destroy();
    const other = await startServer({ models, db: db?.url, dataDir: h.dir });
    try {
      expect(await evaluated(other, orphan)).toMatchObject({ status: 'done', records: 8 });
    } finally {
      await other.srv.close();
    }
  }, 180_000);

  it.skipIf(skip)('PUT /v1/models/default promotes a model (admin only); records made after use it; a restart keeps it', async () => {
    const put = (name: string, role: 'write' | 'admin' = 'admin') => h.call('/v1/models/default', { method: 'PUT', body: JSON.stringify({ name }), headers: { 'content-type': 'application/json' }, role });
    expect((await put('v2', 'write')).status).toBe(403);
    const bad = await problem(await put('v9'), 422, 'E_INPUT');
    expect(bad.errors[0]).toMatchObject({ field: 'body.name' });
    const res = await put('v2');
    expect(res.status).toBe(200);
    const { items } = await res.json();
    expect(items.map((m: { name: string; default: boolean }) => [m.name, m.default])).toEqual([['v2', true], ['v1', false]]);
    const made = await (await post(h, variant(2602))).json();
    expect(made).toMatchObject({ model: 'v2', model_sha256: sha(V2) });
    // another server on the same records (a replica, or this one restarted) follows the promotion
    const other = await startServer({ models, db: db?.url, dataDir: h.dir });
    try {
      const listed = await (await other.call('/v1/models', { role: 'read' })).json();
      expect(listed.items[0]).toMatchObject({ name: 'v2', default: true });
    } finally {
      await other.srv.close();
    }
    expect((await put('v1')).status).toBe(200);
  }, 120_000);
});

describe.each([
  { store: 'sqlite' as const },
  { store: 'postgres' as const },
])('a shadow model on $store', ({ store }) => {
  const skip = store === 'postgres' && pgSkip !== null;

  it.skipIf(skip)('--shadow scores every recording beside the model that answers; never in its place; one a stop left unscored is scored at the next start', async () => {
    const db = store === 'postgres' ? await scratchDatabase() : null;
    const first = await startServer({ models, db: db?.url });
    try {
      // made with no shadow, then marked as waiting for one, as a stop between the two would leave it
      const early = await (await post(first, variant(2610))).json();
      expect(early.shadow).toBeNull();
      await first.srv.close();
      const { openDatabase } = await import('../../server/db/database.js');
      const database = await openDatabase(db ? { url: db.url } : { sqliteFile: join(first.dir, 'records.sqlite') });
      await database.db.updateTable('diagnoses').set({ shadow_state: 'pending' }).where('id', '=', early.id).execute();
      await database.db.destroy();

      const h = await startServer({ models, shadow: 'v2', db: db?.url, dataDir: first.dir });
      try {
        const listed = await (await h.call('/v1/models', { role: 'read' })).json();
        expect(listed.items.map((m: { name: string; shadow: boolean }) => [m.name, m.shadow])).toEqual([['v1', false], ['v2', true]]);
        const recovered = await shadowed(h, early.id);
        expect(recovered.shadow).toMatchObject({ state: 'done', model: 'v2', model_sha256: sha(V2) });

        const made = await (await post(h, variant(2611))).json();
        expect(made).toMatchObject({ status: 'done', model: 'v1', model_sha256: sha(V1) });
        expect(['pending', 'done']).toContain(made.shadow.state);
        const r = await shadowed(h, made.id);
        expect(r.shadow).toMatchObject({ state: 'done', model: 'v2', model_sha256: sha(V2), label: expect.any(String), n_segments: r.outcome.n_segments });
        // the answer is still v1's
        expect(r.result.model.sha256).toBe(sha(V1));
        expect(r.outcome.score).toBe(r.result.diagnosis.score);
        expect(r.shadow.score).not.toBeCloseTo(r.outcome.score, 6);
        // a recording made with the shadow model itself has no shadow
        const own = await (await post(h, variant(2612), '&model=v2')).json();
        expect(own.shadow).toBeNull();
      } finally {
        await h.srv.close();
      }
    } finally {
      await db?.drop();
    }
  }, 180_000);
});

describe('one model, as before', () => {
  it('a server with no --model serves the config model, named by its manifest; records name it', async () => {
    const h = await startServer({ config: defaultConfig() });
    try {
      const { items } = await (await h.call('/v1/models', { role: 'read' })).json();
      expect(items).toHaveLength(1);
      expect(items[0]).toMatchObject({ name: 'tosia-cough-demo', default: true, sha256: sha(V1) });
      const rec = await (await post(h, variant(2603))).json();
      expect(rec).toMatchObject({ status: 'done', model: 'tosia-cough-demo' });
    } finally {
      await h.close();
    }
  }, 120_000);
});

describe('tosia serve --model: bad values are refused before anything starts', () => {
  it.each([
    [['--model', 'v1=/nonexistent/model.onnx'], 3, /E_MODEL.*does not exist/],
    [['--model', `v1=${V1}`, '--model', `v1=${V2}`], 2, /E_CONFIG: \[config\]: two models are named "v1"/],
    [['--model', V1, '--model', join(dir, 'cough-v2.onnx'), '--model', V1], 2, /two models are named "tosia-cough-demo"/],
    [['--model', `bad name=${V1}`], 2, /E_CONFIG: \[config\]: --model bad name=.*must be 1-64 letters/],
    [['--model', 'v1='], 2, /names no file/],
    [['--model', `v1=${V1}`, '--shadow', 'v2'], 2, /E_CONFIG: \[config\]: --shadow v2 is not a served model \(serving v1\)/],
  ] as const)('%j: exit %i', async (args, code, message) => {
    const r = await tosia(['serve', '--port', '0', '--data', mkdtempSync(join(tmpdir(), 'tosia-models-bad-')), ...args]);
    expect(r.code, r.stderr).toBe(code);
    expect(r.stderr).toMatch(message);
  });
});

describe.skipIf(natsMissing())('several models through the queue', () => {
  it('workers run the model the job names; a worker that lacks it says so and leaves the job to one that has it', async () => {
    const nats = new Nats(await freePort());
    await nats.start();
    const h = await startServer({ models, shadow: 'v2', queue: { url: nats.url } });
    const workers: Worker[] = [];
    try {
      const lacking = new Worker(['--queue', nats.url, '--concurrency', '1', '--model', `v1=${V1}`]).start();
      workers.push(lacking);
      const first = await (await post(h, variant(2604), '&model=v2', 0)).json();
      expect(first.model).toBe('v2');
      expect(await lacking.exited()).toBe(3);
      expect(lacking.log).toMatch(/E_MODEL: \[worker\]: a job asks for the model "v2" \(sha256 [0-9a-f]{12}\), and this worker runs v1 \(sha256 [0-9a-f]{12}\); it takes no jobs/);
      expect(lacking.log).toMatch(/--model v2=PATH/);
      const both = new Worker(['--queue', nats.url, '--concurrency', '1', '--model', `v1=${V1}`, '--model', `v2=${V2}`]).start();
      workers.push(both);
      const done = await (await h.call(`/v1/diagnoses/${first.id}?wait=60`, { role: 'read' })).json();
      expect(done).toMatchObject({ status: 'done', model: 'v2' });
      expect(done.result.model.sha256).toBe(sha(V2));
      expect(done.shadow).toBeNull();
      const byDefault = await (await post(h, variant(2605))).json();
      expect(byDefault).toMatchObject({ status: 'done', model: 'v1' });
      expect(byDefault.result.model.sha256).toBe(sha(V1));
      // the shadow's job goes through the queue too, to a worker that has it
      expect((await shadowed(h, byDefault.id)).shadow).toMatchObject({ state: 'done', model: 'v2', model_sha256: sha(V2) });
    } finally {
      for (const w of workers) await w.stop();
      await h.close();
      await nats.kill();
    }
  }, 180_000);
});

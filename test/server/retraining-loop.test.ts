import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultModelPath } from '../../runtime/index.js';
import { tosia } from '../helpers/cli.js';
import { deriveModel } from '../helpers/models.js';
import { form, startServer, variant } from './harness.js';

// Issue 26, part 5: the retraining loop end to end, as the README's "The retraining loop"
// describes it: reviewed records → GET /v1/reviews/labels.csv → tosia extract → (make model) →
// tosia eval → served as shadow → POST /v1/evaluations → PUT /v1/models/default. Every step
// but the torch training, which is never part of make test: a second model derived from the
// first stands in for what make model would write.

describe('the retraining loop', () => {
  it('reviews become labels, tensors, an evaluated candidate, a shadow, an evaluation and a promotion', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tosia-loop-'));
    const json = { 'content-type': 'application/json' };
    // 1. a server on the shipped model; recordings come in and reviewers confirm or correct them
    const first = await startServer();
    const labels = ['covid19', 'not_covid19'];
    for (let i = 0; i < 8; i++) {
      const r = await (await first.call('/v1/diagnoses?wait=60', { method: 'POST', body: form(variant(2800 + i), {}, `call-${i}.wav`), role: 'write' })).json();
      expect(r.status).toBe('done');
      const put = await first.call(`/v1/diagnoses/${r.id}/review`, { method: 'PUT', body: JSON.stringify({ reviewed: true, label: labels[i % 2] }), headers: json, role: 'write' });
      expect(put.status).toBe(200);
    }
    // 2. the reviewed labels, and the recordings they name
    const csv = await (await first.call('/v1/reviews/labels.csv', { role: 'read' })).text();
    const rows = csv.trim().split('\n').slice(1).map((l) => l.split(','));
    expect(rows).toHaveLength(8);
    writeFileSync(join(dir, 'labels.csv'), csv);
    mkdirSync(join(dir, 'audio'));
    const listed = await (await first.call('/v1/diagnoses?limit=100', { role: 'read' })).json();
    for (const d of listed.items) {
      const audio = Buffer.from(await (await first.call(`/v1/diagnoses/${d.id}/audio`, { role: 'read' })).arrayBuffer());
      writeFileSync(join(dir, 'audio', d.source.filename), audio);
    }
    await first.srv.close();

    // 3. tosia extract: the exact tensors, each segment with its reviewed label
    const extracted = await tosia(['extract', join(dir, 'audio'), '--out', join(dir, 'extract'), '--labels', join(dir, 'labels.csv')], { timeout: 120_000 });
    expect(extracted.code, extracted.stderr).toBe(0);
    const manifest = readFileSync(join(dir, 'extract', 'manifest.csv'), 'utf8').trim().split('\n');
    expect(manifest.length).toBeGreaterThan(8);
    expect(new Set(manifest.slice(1).map((l) => l.split(',')[4]))).toEqual(new Set(labels));

    // 4. make model would train on them; the candidate here is derived from the shipped model
    const candidate = deriveModel(dir, 'cough-v2');

    // 5. tosia eval: the candidate on the reviewed recordings, offline
    const ran = await tosia(['run', join(dir, 'audio'), '--out', join(dir, 'v2'), '--model', candidate, '--progress', 'none'], { timeout: 120_000 });
    expect(ran.code, ran.stderr).toBe(0);
    const offline = await tosia(['eval', '--labels', join(dir, 'labels.csv'), '--pred', join(dir, 'v2'), '--json']);
    expect(offline.code, offline.stderr).toBe(0);
    const offlineReport = JSON.parse(offline.stdout);
    expect(offlineReport.n).toBe(8);

    // 6. served as a shadow beside the shipped model, on the same records
    const models = [{ name: 'v1', path: defaultModelPath() }, { name: 'v2', path: candidate }];
    const h = await startServer({ models, shadow: 'v2', dataDir: first.dir });
    try {
      const fresh = await (await h.call('/v1/diagnoses?wait=60', { method: 'POST', body: form(variant(2810), {}, 'call-new.wav'), role: 'write' })).json();
      expect(fresh).toMatchObject({ status: 'done', model: 'v1', shadow: { model: 'v2' } });
      // 7. the evaluation: the reviews are the truth; the candidate's AUC is the one tosia eval gave
      const accepted = await (await h.call('/v1/evaluations', { method: 'POST', body: JSON.stringify({ model: 'v2' }), headers: json, role: 'write' })).json();
      let e = accepted;
      for (let i = 0; i < 1200 && (e.status === 'queued' || e.status === 'running'); i++) {
        await new Promise((ok) => setTimeout(ok, 100));
        e = await (await h.call(`/v1/evaluations/${accepted.id}`, { role: 'read' })).json();
      }
      expect(e).toMatchObject({ status: 'done', records: 8, baseline: 'v1' });
      expect(e.metrics.v2.auc.value).toBeCloseTo(offlineReport.auc.value, 12);
      expect(e.metrics.v2.n).toBe(offlineReport.n);
      expect(e.scored.v2).toEqual({ reused: 0, rescored: 8, failed: 0 });
      // 8. promotion: new records are made by the candidate
      expect((await h.call('/v1/models/default', { method: 'PUT', body: JSON.stringify({ name: 'v2' }), headers: json })).status).toBe(200);
      const after = await (await h.call('/v1/diagnoses?wait=60', { method: 'POST', body: form(variant(2811), {}, 'call-later.wav'), role: 'write' })).json();
      expect(after).toMatchObject({ status: 'done', model: 'v2' });
      expect(after.result.model.name).toBe('cough-v2');
    } finally {
      await h.close();
    }
  }, 300_000);
});

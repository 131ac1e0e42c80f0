import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../algos/random.js';
import { answerChecker, type ApiDocument, type Operation } from '../helpers/openapi.js';
import { form, requirePostgres, scratchDatabase, startServer, variant, type Harness } from './harness.js';

// Issue 24: a fuzz test of our own, seeded and bounded, driven by the served document. Every
// operation is called with values made from its schemas, then with each part mutated (missing,
// wrong type, out of range, huge, NUL, unknown parameters, garbage bodies and headers). Every
// answer must be a non-5xx, every error problem+json, and every answer what the document says
// (status, content type and, for JSON, the schema, checked with ajv). Set TOSIA_FUZZ_SEED to
// replay a run, TOSIA_FUZZ_REQUESTS to make it longer.

const SEED = Number(process.env.TOSIA_FUZZ_SEED ?? 24);
const REQUESTS = Number(process.env.TOSIA_FUZZ_REQUESTS ?? 700);
const pgMissing = await requirePostgres();
const STORES = [{ store: 'sqlite' }, ...(pgMissing ? [] : [{ store: 'postgres' }])];

/** Seeded choices, so a failing run can be replayed exactly. */
function prng(seed: number) {
  const next = mulberry32(seed);
  return {
    next,
    int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!,
    chance: (p: number) => next() < p,
  };
}
type Rng = ReturnType<typeof prng>;

type Schema = Record<string, unknown>;
const NASTY = ['', ' ', 'a\u0000b', '\u202e\u0007', '../../etc/passwd', "'; drop table diagnoses; --", '%00', '<script>alert(1)</script>', 'x'.repeat(5000), '😀'.repeat(50), '-1', '1e309', 'NaN', 'null', '{"a":1}', '2026-13-45T25:61:61Z'];

/** A value the schema accepts (as far as a fuzzer needs), resolving component refs. */
function valid(s: Schema, doc: ApiDocument, r: Rng, depth = 0): unknown {
  if (typeof s.$ref === 'string') return valid(doc.components.schemas[s.$ref.split('/').pop()!] as Schema, doc, r, depth);
  if (s.const !== undefined) return s.const;
  if (Array.isArray(s.enum)) return r.pick(s.enum);
  if (Array.isArray(s.anyOf)) return valid(r.pick(s.anyOf as Schema[]), doc, r, depth);
  const type = Array.isArray(s.type) ? r.pick(s.type as string[]) : s.type;
  switch (type) {
    case 'null': return null;
    case 'boolean': return r.chance(0.5);
    case 'integer': return r.int(Number(s.minimum ?? 0), Math.min(Number(s.maximum ?? 1000), Number(s.minimum ?? 0) + 1000));
    case 'number': return Number(s.minimum ?? 0) + r.next() * Math.min(10, Number(s.maximum ?? 10) - Number(s.minimum ?? 0));
    case 'string':
      if (s.format === 'date-time') return new Date(Date.UTC(2026, 11, r.int(1, 28), r.int(0, 23))).toISOString();
      if (s.format === 'uri') return 'https://example.org/hook';
      if (typeof s.pattern === 'string' && s.pattern.startsWith('^[0-9a-f]{8}')) return '01a2b396-f0fb-704e-81b1-ac003793cecb';
      return 'v'.repeat(Math.max(1, Number(s.minLength ?? 1)));
    case 'array': return depth > 3 ? [] : Array.from({ length: r.int(0, 3) }, () => valid((s.items ?? {}) as Schema, doc, r, depth + 1));
    case 'object': {
      if (depth > 3) return {};
      const out: Record<string, unknown> = {};
      const props = (s.properties ?? {}) as Record<string, Schema>;
      for (const [k, p] of Object.entries(props)) if ((s.required as string[] | undefined)?.includes(k) || r.chance(0.5)) out[k] = valid(p, doc, r, depth + 1);
      return out;
    }
    default: return 'x';
  }
}

/** A value that is probably not valid: of another type, out of range, hostile text. */
function mutant(r: Rng): unknown {
  return r.pick<() => unknown>([
    () => r.pick(NASTY), () => -r.int(1, 1e9), () => 1e308, () => r.int(1e6, 1e12), () => true, () => null, () => [], () => ({ nested: { deep: [1, 'a'] } }), () => 3.14159,
  ])();
}

interface Req { method: string; url: string; headers: Record<string, string>; body?: BodyInit }

describe.each(STORES)('fuzzing the API from its document on $store', ({ store }) => {
  let h: Harness;
  let drop: (() => Promise<void>) | null = null;
  let doc: ApiDocument;
  let ids: string[] = [];
  beforeAll(async () => {
    let db: string | undefined;
    if (store === 'postgres') ({ url: db, drop } = await scratchDatabase());
    h = await startServer({ db, rateLimitPerMinute: 1_000_000, maxUploadMb: 2, webhookSecret: 'a-test-secret-of-32-characters!!' });
    doc = await (await fetch(`${h.url}/openapi.json`)).json();
    const done = await (await h.call('/v1/diagnoses?wait=60', { method: 'POST', body: variant(990), headers: { 'content-type': 'audio/wav' } })).json();
    const failed = await (await h.call('/v1/diagnoses?wait=60', { method: 'POST', body: Buffer.from('no audio here'), headers: { 'content-type': 'audio/wav' } })).json();
    await h.call(`/v1/diagnoses/${done.id}/review`, { method: 'PUT', body: JSON.stringify({ reviewed: true, note: 'fuzz' }), headers: { 'content-type': 'application/json' } });
    ids = [done.id, failed.record.id];
  });
  afterAll(async () => {
    await h?.close();
    await drop?.();
  });

  it(`${REQUESTS} requests (seed ${SEED}): 0 5xx, every error problem+json, every answer as the document says`, async () => {
    const r = prng(SEED);
    const checker = answerChecker(doc);
    const ops = Object.entries(doc.paths).flatMap(([path, byMethod]) => Object.entries(byMethod).map(([method, op]) => ({ path, method, op: op as Operation })));
    const findings: string[] = [];
    const counts = { requests: 0, fiveXX: 0, nonProblem: 0, disagreements: 0, byStatus: {} as Record<number, number> };
    const keys = [h.keys.admin, h.keys.admin, h.keys.admin, h.keys.write, h.keys.read, 'not-a-key', ''];

    const make = (path: string, method: string, op: Operation): Req => {
      const mutate = r.chance(0.6);
      const headers: Record<string, string> = {};
      const key = r.pick(keys);
      if (key) headers.authorization = `Bearer ${key}`;
      const query = new URLSearchParams();
      let url = path.replace(/\{(\w+)\}/g, (_m, name: string) => {
        const p = op.parameters?.find((x) => x.in === 'path' && x.name === name);
        const v = name === 'id' ? r.pick([...ids, ...ids, '01a2b396-f0fb-704e-81b1-ac003793cecb', String(mutant(r)).slice(0, 300)]) : mutate && r.chance(0.3) ? String(mutant(r)) : String(valid(p?.schema ?? {}, doc, r));
        return encodeURIComponent(v);
      });
      for (const p of op.parameters ?? []) {
        if (p.in === 'query' && (p.required || r.chance(0.4))) {
          let v = mutate && r.chance(0.3) ? mutant(r) : valid(p.schema, doc, r);
          if (p.name === 'wait') v = r.chance(0.8) ? 0 : v;
          query.set(p.name, typeof v === 'object' ? JSON.stringify(v) : String(v));
        }
        if (p.in === 'header' && r.chance(0.3)) headers[p.name] = String(mutate ? mutant(r) : valid(p.schema, doc, r)).replace(/[^\x20-\x7e]/g, '?').slice(0, 3000);
      }
      if (mutate && r.chance(0.2)) query.set(r.pick(['unknown', 'limit', 'cursor', 'include', 'status']), String(mutant(r)).slice(0, 500));
      const qs = query.toString();
      if (qs) url += `?${qs}`;
      let body: BodyInit | undefined;
      if (op.requestBody) {
        const kind = r.pick(Object.keys(op.requestBody.content));
        if (kind === 'audio/*') {
          headers['content-type'] = r.pick(['audio/wav', 'audio/ogg', 'audio/mpeg', 'video/webm', 'application/ogg']);
          body = r.chance(0.5) ? variant(r.int(2000, 1e6)) : Buffer.from(Array.from({ length: r.int(0, 3000) }, () => r.int(0, 255)));
        } else if (kind === 'multipart/form-data') {
          const fields: Record<string, string> = {};
          for (const f of ['external_id', 'metadata', 'callback_url']) if (r.chance(0.3)) fields[f] = f === 'metadata' && !mutate ? '{"a":1}' : String(mutant(r)).slice(0, 20_000);
          body = form(r.chance(0.5) ? variant(r.int(2000, 1e6)) : Buffer.from('garbage'), fields);
        } else {
          headers['content-type'] = r.pick(['application/json', 'application/json; charset=utf-8']);
          const value = mutate ? r.pick([mutant(r), { ...(valid(op.requestBody.content[kind]!.schema as Schema, doc, r) as object), [r.pick(['extra', 'reviewed', 'source', 'label'])]: mutant(r) }]) : valid(op.requestBody.content[kind]!.schema as Schema, doc, r);
          body = r.chance(0.1) ? '{"broken": ' : JSON.stringify(value);
        }
        if (mutate && r.chance(0.1)) headers['content-type'] = r.pick(['text/plain', 'multipart/form-data', 'multipart/form-data; boundary=zzz', 'application/x-www-form-urlencoded', 'image/png']);
      }
      return { method: method.toUpperCase(), url, headers, body };
    };

    for (let i = 0; i < REQUESTS; i++) {
      const { path, method, op } = r.pick(ops);
      const req = make(path, method, op);
      const res = await fetch(h.url + req.url, { method: req.method, headers: req.headers, body: req.body, signal: AbortSignal.timeout(60_000) });
      const bytes = Buffer.from(await res.arrayBuffer());
      counts.requests++;
      counts.byStatus[res.status] = (counts.byStatus[res.status] ?? 0) + 1;
      const what = `#${i} ${req.method} ${req.url.slice(0, 200)} → ${res.status}`;
      if (res.status >= 500) {
        counts.fiveXX++;
        findings.push(`${what}: a 5xx: ${bytes.toString('utf8').slice(0, 300)}`);
      }
      const type = res.headers.get('content-type') ?? '';
      if (res.status >= 400 && !(type.startsWith('application/problem+json') && typeof JSON.parse(bytes.toString('utf8') || '{}').code === 'string')) {
        counts.nonProblem++;
        findings.push(`${what}: an error that is not problem+json (${type})`);
      }
      // the route the request reached decides which entry the answer must match
      const docPath = checker.pathOf(new URL(h.url + req.url).pathname) ?? path;
      const disagreement = checker.check(req.method, docPath, res.status, type, bytes);
      if (disagreement) {
        counts.disagreements++;
        findings.push(`${what}: ${disagreement}`);
      }
    }
    console.log(`fuzz on ${store}, seed ${SEED}: ${JSON.stringify(counts)}`);
    expect(findings.slice(0, 30)).toEqual([]);
    // the run reached past validation: successes and failures of several kinds
    expect(Object.keys(counts.byStatus).filter((s) => Number(s) < 300).length).toBeGreaterThan(1);
    expect(Object.keys(counts.byStatus).filter((s) => Number(s) >= 400).length).toBeGreaterThan(4);
  }, 600_000);
});

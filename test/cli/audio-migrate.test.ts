import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBucket, parseStoreUrl } from '../../server/audio-store/open.js';
import { tosia } from '../helpers/cli.js';
import { Azurite } from '../helpers/object-stores.js';
import { startServer, variant, type Harness } from '../server/harness.js';

describe('tosia audio migrate: a folder store into Azure Blob', () => {
  const azurite = new Azurite();
  let h: Harness;
  const shas: string[] = [];
  const ids: string[] = [];
  beforeAll(async () => {
    await azurite.start();
    h = await startServer();
    for (let i = 0; i < 5; i++) {
      const rec = await (await h.call('/v1/diagnoses?wait=60', { method: 'POST', body: variant(3000 + i), headers: { 'content-type': 'audio/wav' } })).json();
      shas.push(rec.source.sha256);
      ids.push(rec.id);
    }
    await h.srv.close();
  }, 120_000);
  afterAll(async () => {
    await h?.close();
    await azurite.stop();
  });
  const migrate = (to: string, extra: string[] = []) => tosia(['audio', 'migrate', '--from', `file://${h.dir}`, '--to', to, ...extra], { env: azurite.env, timeout: 120_000 });

  it('copies every recording, verifies it, resumes by running again, and the server then reads the records\' audio from the container', async () => {
    const to = 'azblob://migrated-audio';
    const first = await migrate(to);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^5 recordings: 5 copied \(.* MB\), 0 already there, 0 failed/);
    // a migration cut short: two objects never arrived; running it again copies only those
    const at = parseStoreUrl(to) as Extract<ReturnType<typeof parseStoreUrl>, { kind: 'azblob' | 's3' }>;
    const bucket = await openBucket(at, azurite.env);
    for (const sha of shas.slice(0, 2)) await bucket.delete(`audio/${sha.slice(0, 2)}/${sha}`);
    await bucket.close();
    const again = await migrate(to, ['--json']);
    expect(again.code).toBe(0);
    const end = JSON.parse(again.stdout.trim().split('\n').at(-1)!);
    expect(end).toMatchObject({ type: 'end', total: 5, copied: 2, present: 3, failed: 0 });
    // the same records (SQLite in --data), their audio now from Azurite
    const srv = await startServer({ dataDir: h.dir, audioStore: to, env: azurite.env });
    try {
      for (const [i, id] of ids.entries()) {
        const audio = await srv.call(`/v1/diagnoses/${id}/audio`, { role: 'read' });
        expect(Buffer.compare(Buffer.from(await audio.arrayBuffer()), variant(3000 + i))).toBe(0);
      }
      expect((await srv.call(`/v1/diagnoses/${ids[0]}/figure.svg`, { role: 'read' })).status).toBe(200);
    } finally {
      await srv.srv.close();
    }
  }, 180_000);

  it('a damaged source recording is reported and left; the rest are copied; --delete-source removes only verified copies', async () => {
    const bad = shas[4]!;
    writeFileSync(join(h.dir, 'audio', bad.slice(0, 2), bad), variant(3999));
    const r = await migrate('azblob://second-copy', ['--delete-source']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/5 recordings: 4 copied .* 1 failed, 4 removed from the source/);
    expect(r.stderr).toContain(`${bad}: the stored audio`);
    expect(r.stderr).toMatch(/damaged/);
    const left = readdirSync(join(h.dir, 'audio')).flatMap((d) => readdirSync(join(h.dir, 'audio', d)));
    expect(left).toEqual([bad]);
    expect(existsSync(join(h.dir, 'records.sqlite'))).toBe(true);
  }, 120_000);

  it('bad arguments are E_CONFIG (2): the same store twice, a bad URL, a bad --concurrency', async () => {
    const same = await tosia(['audio', 'migrate', '--from', 'azblob://same-one', '--to', 'azblob://same-one'], { env: azurite.env });
    expect(same.code).toBe(2);
    expect(same.stderr).toMatch(/the same store/);
    const url = await tosia(['audio', 'migrate', '--from', '/var/lib/tosia', '--to', 'azblob://x-y-z'], { env: azurite.env });
    expect(url.code).toBe(2);
    expect(url.stderr).toMatch(/--from=\/var\/lib\/tosia is not a storage URL/);
    expect((await tosia(['audio', 'migrate', '--from', 'file:///tmp', '--to', 'azblob://xyz', '--concurrency', '0'])).code).toBe(2);
  });
});

import { describe, expect, it } from 'vitest';
import { ListPages } from '../../server/routes/list-page.js';
import { decodeCursor } from '../../server/ids.js';
import { unpackRow } from '../../server/db/record-store.js';
import { renderRecord } from '../../server/routes/render.js';

// The compact list page from listed versions: packed rows (the order of RecordStore's
// LIST_COLUMNS, then flags), as SQLite lists them, or ids and versions, as PostgreSQL does.
function packed(n: number, status = 'done', flags: string | null = null): string {
  const id = `01a2b396-f0fb-704e-81b1-ac0037930${String(n).padStart(3, '0')}`;
  return JSON.stringify([id, `call-${n}`, status, '2026-12-07T06:00:00.000Z', null, null, 1, 'a.wav', 'audio/wav', 1000, 'ab'.repeat(32), '{"ward":"3\\u2603"}', null, 'cd'.repeat(32), 'ef'.repeat(32), null,
    status === 'done' ? 'covid' : null, status === 'done' ? 0.75 : null, status === 'done' ? 3 : null, status === 'done' ? 3 : 0, null, null, null, null, 0, null, null, null, 'default', null, null, flags]);
}

const none = async () => { throw new Error('nothing should be fetched'); };
const onSqlite = (rows: string[]) => rows.map((p) => ({ version: p, packed: p }));
const expected = (rows: string[], next: string | null) => ({ items: rows.map((p) => { const r = unpackRow(p); return renderRecord(r, r.flag_list ? r.flag_list.split(',') : [], { result: false }); }), next_cursor: next });

describe('ListPages', () => {
  it('renders each item as renderRecord does, with next_cursor pointing past the last item shown', async () => {
    const pages = new ListPages();
    const rows = [packed(3, 'done', 'clipped,noisy'), packed(2, 'running'), packed(1)];
    const page = JSON.parse((await pages.page(onSqlite(rows), 2, none)).toString('utf8'));
    expect(page).toEqual(expected(rows.slice(0, 2), page.next_cursor));
    expect(decodeCursor(page.next_cursor)).toBe(page.items[1].id);
    expect(page.items[0].flags).toEqual(['clipped', 'noisy']);
    expect(page.items[0].metadata).toEqual({ ward: '3☃' });
    expect(JSON.parse((await pages.page(onSqlite(rows), 3, none)).toString('utf8'))).toEqual(expected(rows, null));
    expect(JSON.parse((await pages.page([], 50, none)).toString('utf8'))).toEqual({ items: [], next_cursor: null });
  });

  it('a row that changed is rendered anew; past its capacity it still answers rightly', async () => {
    const pages = new ListPages(2);
    const before = packed(1, 'running');
    const after = packed(1, 'done', 'noisy');
    expect(JSON.parse((await pages.page(onSqlite([before]), 50, none)).toString()).items[0].status).toBe('running');
    expect(JSON.parse((await pages.page(onSqlite([after]), 50, none)).toString()).items[0]).toMatchObject({ status: 'done', flags: ['noisy'], outcome: { label: 'covid', score: 0.75, n_segments: 3 } });
    const many = Array.from({ length: 7 }, (_, i) => packed(10 + i));
    for (let round = 0; round < 2; round++) expect(JSON.parse((await pages.page(onSqlite(many), 50, none)).toString())).toEqual(expected(many, null));
  });

  it('rows listed by id and version are read once per version; one deleted meanwhile is left out', async () => {
    const pages = new ListPages();
    const rows = [packed(3), packed(2), packed(1)];
    const ids = rows.map((p) => unpackRow(p).id);
    let version = 1;
    const fetched: string[][] = [];
    const fetch = async (want: string[]) => {
      fetched.push(want);
      return new Map(want.filter((id) => id !== ids[1]).map((id) => [id, { version: `${id}:${version}`, packed: rows[ids.indexOf(id)]! }]));
    };
    const listed = () => ids.map((id) => ({ version: `${id}:${version}`, id }));
    const first = JSON.parse((await pages.page(listed(), 2, fetch)).toString());
    expect(first.items.map((d: { id: string }) => d.id)).toEqual([ids[0]]);
    expect(decodeCursor(first.next_cursor)).toBe(ids[1]);
    expect(fetched).toEqual([[ids[0], ids[1]]]);
    await pages.page(listed(), 2, fetch);
    expect(fetched).toEqual([[ids[0], ids[1]], [ids[1]]]);
    version = 2;
    await pages.page(listed(), 3, fetch);
    expect(fetched.at(-1)).toEqual(ids);
  });
});

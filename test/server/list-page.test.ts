import { describe, expect, it } from 'vitest';
import { ListPages } from '../../server/routes/list-page.js';
import { decodeCursor } from '../../server/ids.js';
import { unpackRow } from '../../server/db/record-store.js';
import { renderRecord } from '../../server/routes/render.js';

// The compact list page from packed rows (the order of RecordStore's LIST_COLUMNS, then flags).
function packed(n: number, status = 'done', flags: string | null = null): string {
  const id = `01a2b396-f0fb-704e-81b1-ac0037930${String(n).padStart(3, '0')}`;
  return JSON.stringify([id, `call-${n}`, status, '2026-12-07T06:00:00.000Z', null, null, 1, 'a.wav', 'audio/wav', 1000, 'ab'.repeat(32), '{"ward":"3\\u2603"}', null, 'cd'.repeat(32), 'ef'.repeat(32), null,
    status === 'done' ? 'covid' : null, status === 'done' ? 0.75 : null, status === 'done' ? 3 : null, status === 'done' ? 3 : 0, null, null, null, null, 0, null, null, null, 'default', null, null, flags]);
}

const expected = (rows: string[], next: string | null) => ({ items: rows.map((p) => { const r = unpackRow(p); return renderRecord(r, r.flag_list ? r.flag_list.split(',') : [], { result: false }); }), next_cursor: next });

describe('ListPages', () => {
  it('renders each item as renderRecord does, with next_cursor pointing past the last item shown', () => {
    const pages = new ListPages();
    const rows = [packed(3, 'done', 'clipped,noisy'), packed(2, 'running'), packed(1)];
    const page = JSON.parse(pages.page(rows, 2).toString('utf8'));
    expect(page).toEqual(expected(rows.slice(0, 2), page.next_cursor));
    expect(decodeCursor(page.next_cursor)).toBe(page.items[1].id);
    expect(page.items[0].flags).toEqual(['clipped', 'noisy']);
    expect(page.items[0].metadata).toEqual({ ward: '3☃' });
    expect(JSON.parse(pages.page(rows, 3).toString('utf8'))).toEqual(expected(rows, null));
    expect(JSON.parse(pages.page([], 50).toString('utf8'))).toEqual({ items: [], next_cursor: null });
  });

  it('a row that changed is rendered anew; past its capacity it still answers rightly', () => {
    const pages = new ListPages(2);
    const before = packed(1, 'running');
    const after = packed(1, 'done', 'noisy');
    expect(JSON.parse(pages.page([before], 50).toString()).items[0].status).toBe('running');
    expect(JSON.parse(pages.page([after], 50).toString()).items[0]).toMatchObject({ status: 'done', flags: ['noisy'], outcome: { label: 'covid', score: 0.75, n_segments: 3 } });
    const many = Array.from({ length: 7 }, (_, i) => packed(10 + i));
    for (let round = 0; round < 2; round++) expect(JSON.parse(pages.page(many, 50).toString())).toEqual(expected(many, null));
  });
});

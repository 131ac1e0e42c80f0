import { describe, expect, it } from 'vitest';
import { matchEvents } from '../../algos/index.js';

describe('matchEvents', () => {
  it('perfect match', () => {
    const m = matchEvents([{ start: 1, end: 1.3 }], [{ start: 0.95, end: 1.35 }]);
    expect([m.precision, m.recall, m.f1]).toEqual([1, 1, 1]);
  });
  it('no truth and no predictions scores 1', () => expect(matchEvents([], []).f1).toBe(1));
  it('no predictions: recall 0, precision 1 (vacuous), f1 0', () => expect(matchEvents([{ start: 0, end: 1 }], [])).toMatchObject({ recall: 0, precision: 1, f1: 0 }));
  it('no truth: precision 0, recall 1 (vacuous), f1 0', () => expect(matchEvents([], [{ start: 0, end: 1 }])).toMatchObject({ recall: 1, precision: 0, f1: 0 }));
  it('one prediction over two true events matches only one', () => {
    const m = matchEvents([{ start: 1, end: 1.2 }, { start: 1.3, end: 1.5 }], [{ start: 0.98, end: 1.52 }]);
    expect(m.truePositives).toBe(1);
    expect(m.falseNegatives).toBe(1);
    expect(m.precision).toBe(1);
    expect(m.recall).toBe(0.5);
  });
});

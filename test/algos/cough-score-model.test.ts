import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COUGH_SCORE_MODEL } from '../../algos/segment/cough-score-model.js';
import { loadAnnotated } from '../../bench/annotated.js';
import { fitShipped } from '../../bench/fit-cough-score.js';
import { loadPffft } from '../../runtime/dsp/pffft.js';

const DATA = join(__dirname, '../../../shared/data/covid19-cough');
const present = existsSync(join(DATA, 'annotations'));
if (!present) console.warn(`skipped: ${DATA}/annotations is absent (the cough score is fitted on it)`);

// the candidate features and the fitted trees must stay in step: a change to either without
// `make fit-cough-score` would score features the trees were never fitted on
describe.skipIf(!present)('the shipped cough-score model', () => {
  it('is exactly what make fit-cough-score fits from the current candidate features', async () => {
    const annotated = (await loadAnnotated(DATA))!;
    const { model } = fitShipped(annotated, await loadPffft());
    expect(model).toEqual(COUGH_SCORE_MODEL);
  }, 120_000);
});

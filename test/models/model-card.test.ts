import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cardTable, evaluateDemoModel } from '../../bench/model-card.js';
import { COUGH_DIR, hasCoughData, REPO_ROOT, SKIP_COUGH } from '../helpers/shared.js';

// Issue 26: the model card takes its figures from tosia eval on the validation split. This runs
// the shipped model on that split, evaluates it as `make model-card` does, and fails when the
// card's table or the shipped report differ from what tosia eval gives now.

describe.skipIf(!hasCoughData)('the demo model card', () => {
  it("its results table and tosia-cough-demo.eval.json are tosia eval's on the validation split", async () => {
    const { report } = await evaluateDemoModel(COUGH_DIR);
    const card = readFileSync(join(REPO_ROOT, 'models/README.md'), 'utf8');
    const table = /<!-- model-card: tosia eval -->\n([\s\S]*?)\n<!-- \/model-card -->/.exec(card)?.[1];
    expect(table, 'models/README.md has the marked table').toBeDefined();
    expect(table).toBe(cardTable(report));
    const shipped = JSON.parse(readFileSync(join(REPO_ROOT, 'models/tosia-cough-demo.eval.json'), 'utf8'));
    expect(shipped.auc).toEqual(report.auc);
    expect(shipped.confound).toEqual(report.confound);
    expect(shipped.duplicates).toEqual(report.duplicates);
    expect(card).toContain(`| source-only baseline: each recording scored by its source's share of positives (AUC) | ${report.confound.source!.group_only_auc!.toFixed(3)} |`);
    expect(card).toContain(`| the model's score as a source detector (AUC, 0.5 = no leakage) | ${report.confound.source!.score_as_group_auc!.toFixed(3)} |`);
  }, 300_000);
});
if (!hasCoughData) console.warn(SKIP_COUGH);

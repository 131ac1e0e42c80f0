import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../helpers/cli.js';
import { REPO_ROOT } from '../helpers/shared.js';

// make explore: the notebook walk-through (examples/explore.ts) runs end to end and writes its figures.
describe('examples/explore.ts', () => {
  it('decodes, segments, shows one mel spectrogram and the model input, runs the model and draws the figure, each stage a file', async () => {
    const out = mkdtempSync(join(tmpdir(), 'tosia-explore-'));
    const r = await run(process.execPath, [join(REPO_ROOT, 'dist/examples/explore.js'), join(REPO_ROOT, 'samples/coughs-3_snr-25db_white_16k.wav'), out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/3 segments: 0\.51–0\.90 s/);
    expect(r.stdout).toMatch(/model input 64×64 RGB/);
    expect(r.stdout).toMatch(/diagnosis: \w+/);
    for (const f of ['1-waveform.png', '2-segments.png', '3-segment0-mel.png', '4-segment0-model-input.png', '5-figure.png']) {
      expect(readFileSync(join(out, f)).subarray(0, 8).toString('latin1'), f).toBe('\x89PNG\r\n\x1a\n');
    }
    expect(readFileSync(join(out, '5-figure.svg'), 'utf8')).toMatch(/^<svg .*<rect class="seg"/s);
  });
});

import { relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resultPath } from '../../runtime/store/output-paths.js';

describe('where an object read from a bucket has its result', () => {
  it('mirrors its key below the listed prefix', () => {
    expect(resultPath('/out', 'azblob://calls/2026/', 'azblob://calls/2026/a/b.ogg')).toBe('/out/a/b.ogg.json');
    expect(resultPath('/out', 's3://calls/', 's3://other/x.wav')).toBe('/out/_outside/s3/other/x.wav.json');
  });

  it.each([
    'azblob://calls/2026/../../etc/passwd', 'azblob://calls/2026/./x', 'azblob://calls/2026//x', 's3://b/../../../../x', 'azblob://calls/2026/..',
  ])('a hostile key never climbs out of the output folder: %s', (url) => {
    const p = resultPath('/out', 'azblob://calls/2026/', url);
    expect(relative('/out', p).startsWith('..')).toBe(false);
    expect(p.split('/')).not.toContain('..');
  });
});

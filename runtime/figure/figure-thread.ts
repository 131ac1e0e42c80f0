import { parentPort } from 'node:worker_threads';
import type { Config } from '../config/schema.js';
import type { DecodeInput } from '../decode/decode.js';
import { serializeError } from '../errors.js';
import type { Result } from '../pipeline/result.js';
import { decodeStage } from '../pipeline/stages.js';
import { recordingFigure } from './recording-figure.js';

/** The figure thread: decodes a recording and draws its figure, off the caller's event loop. */
parentPort!.on('message', (m: { id: number; input: DecodeInput; result: Result; config: Config }) => {
  void (async () => {
    try {
      const audio = await decodeStage(m.input, m.config);
      const { svg } = await recordingFigure(audio.samples, audio.sampleRate, m.result, m.config, { png: false });
      parentPort!.postMessage({ id: m.id, svg });
    } catch (e) {
      parentPort!.postMessage({ id: m.id, error: serializeError(e, { stage: 'figure' }) });
    }
  })();
});

/**
 * A `tosia worker` whose pipeline does nothing: it answers every job with the same recorded
 * outcome, so that `make bench` measures only the queue's path (fetch, object get, result back).
 * argv: NATS URL, the outcome's JSON file, jobs held at once.
 */
import { readFileSync } from 'node:fs';
import { defaultConfig } from '../runtime/config/schema.js';
import { runWorker } from '../server/index.js';
import type { JobOutcome } from '../runtime/index.js';

const [url, outcomeFile, capacity] = process.argv.slice(2);
const outcome = JSON.parse(readFileSync(outcomeFile!, 'utf8')) as JobOutcome;
let stop!: () => void;
process.on('SIGTERM', () => stop());
await runWorker({
  url: url!, config: defaultConfig(), stop: new Promise<void>((r) => (stop = r)),
  runner: { capacity: Number(capacity ?? 8), run: async () => outcome },
});

#!/usr/bin/env node
/**
 * `make bench`: prints the figures the issues ask for and appends a dated entry, with the
 * machine, to BENCHMARKS.md. Reported numbers, never pass/fail tests.
 */
import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { packageRoot } from '../runtime/paths.js';
import { benchColdStart } from './cold-start.js';
import { benchDecode } from './decode.js';
import { benchMel } from './mel.js';
import { benchBatch } from './batch.js';
import { benchServe } from './serve.js';
import { coughFolderCounts } from './eval-segmentation.js';

const root = packageRoot();
const shared = resolve(process.env.TOSIA_SHARED ?? join(root, '../shared'));
const sections: string[] = [];
const show = (s: string) => { process.stdout.write(s + '\n\n'); sections.push(s); };

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${process.platform}-${process.arch}`;
const when = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
process.stdout.write(`tosia bench — ${when}\n${machine}\n\n`);

const mel = await benchMel();
show(mel.text);
show(await benchDecode(join(shared, 'data/covid19-cough'), Number(process.env.BENCH_DECODE_FILES ?? Infinity)));
show(benchColdStart(join(root, 'samples/coughs-3_snr-25db_white_16k.wav')).text);
show(await benchBatch(join(shared, 'data/covid19-cough'), process.env.BENCH_QUICK === '1'));
show(await benchServe(join(shared, 'data/covid19-cough'), process.env.BENCH_QUICK === '1'));
show(await coughFolderCounts(join(shared, 'data/covid19-cough')));

const file = join(root, 'BENCHMARKS.md');
if (!existsSync(file)) writeFileSync(file, '# Benchmarks\n\nEach entry is one `make bench` run, appended by bench/bench.ts. Numbers are medians over repeated runs after warm-up, with min–max.\n');
appendFileSync(file, `\n## ${when}\n\nMachine: ${machine}\n\n${sections.join('\n\n')}\n`);
process.stdout.write(`appended to ${file}\n`);

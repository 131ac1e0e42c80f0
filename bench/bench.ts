#!/usr/bin/env node
/**
 * `make bench`: prints the figures the issues ask for and appends a dated entry, with the
 * machine, to BENCHMARKS.md. Reported numbers, never pass/fail tests.
 */
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { packageRoot } from '../runtime/paths.js';
import { appendEntry } from './benchmarks-file.js';
import { benchColdStart } from './cold-start.js';
import { benchEngines } from './engines.js';
import { benchDecode } from './decode.js';
import { benchMel } from './mel.js';
import { benchBatch } from './batch.js';
import { benchServe } from './serve.js';
import { benchQueue } from './queue.js';
import { benchDamage } from './damage.js';
import { coughFolderCounts } from './eval-segmentation.js';
import { benchSegmentation } from './segment-cost.js';
import { benchStorage } from './storage.js';
import { benchApiList } from './api-list.js';

const root = packageRoot();
const shared = resolve(process.env.TOSIA_SHARED ?? join(root, '../shared'));
const sections: string[] = [];
const show = (s: string) => { process.stdout.write(s + '\n\n'); sections.push(s); };

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${process.platform}-${process.arch}`;
const when = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
process.stdout.write(`tosia bench — ${when}\n${machine}\n\n`);

// BENCH_ONLY=serve,batch runs only those sections (mel, decode, engines, cold, segment, batch, serve, list, storage, queue, damage, counts)
const only = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',')) : null;
const wanted = (name: string) => !only || only.has(name);
const quick = process.env.BENCH_QUICK === '1';
const cough = join(shared, 'data/covid19-cough');
if (wanted('mel')) show((await benchMel()).text);
if (wanted('decode')) show(await benchDecode(cough, Number(process.env.BENCH_DECODE_FILES ?? Infinity)));
if (wanted('engines')) show(await benchEngines(cough, quick));
if (wanted('cold')) show(benchColdStart(join(root, 'samples/coughs-3_snr-25db_white_16k.wav')).text);
if (wanted('segment')) show(await benchSegmentation(cough, quick));
if (wanted('batch')) show(await benchBatch(cough, quick));
if (wanted('serve')) show(await benchServe(cough, quick));
if (wanted('list')) show(await benchApiList(quick));
if (wanted('storage')) show(await benchStorage(cough, quick));
if (wanted('queue')) show(await benchQueue(cough, quick));
if (wanted('damage')) show(await benchDamage(cough));
if (wanted('counts')) show(await coughFolderCounts(cough));

const file = appendEntry(`## ${when}\n\nMachine: ${machine}\n\n${sections.join('\n\n')}\n`);
process.stdout.write(`appended to ${file}, and its latest figures updated\n`);

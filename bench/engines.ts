import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Model } from '../runtime/model/model.js';
import { WASM_ENGINE_DIR } from '../runtime/model/onnx-engines.js';
import { defaultModelPath, packageRoot } from '../runtime/paths.js';
import { fmtStats, stats, table } from './stats.js';

/**
 * The two ONNX engines on the demo model (issue 28's decision): inference per segment on one
 * thread, a session's creation in a fresh process, and a batch over covid19-cough with each,
 * rounds interleaved so that the machine's load touches both alike.
 */
export async function benchEngines(cough: string, quick: boolean): Promise<string> {
  const rows: string[][] = [];
  const per: Record<string, number> = {};
  for (const device of ['cpu', 'wasm'] as const) {
    const m = await Model.load(defaultModelPath(), { device, threads: 1 });
    for (const batch of [1, 32]) {
      const data = new Float32Array(batch * 3 * 64 * 64).map((_, i) => (i * 2654435761 % 1000) / 1000);
      for (let i = 0; i < 20; i++) await m.run(data, [batch, 3, 64, 64]);
      const samples: number[] = [];
      for (let r = 0; r < 15; r++) {
        const n = Math.ceil(640 / batch);
        const t0 = performance.now();
        for (let i = 0; i < n; i++) await m.run(data, [batch, 3, 64, 64]);
        samples.push((performance.now() - t0) / (n * batch));
      }
      const s = stats(samples);
      if (batch === 32) per[device] = s.median;
      rows.push([device === 'cpu' ? 'onnxruntime-node (cpu)' : 'onnxruntime-web (wasm, bundled)', `inference, batches of ${batch}, ms a segment`, fmtStats(s)]);
    }
    await m.release();
  }
  // a session's first creation, in a fresh process each time (what every CLI start pays)
  const script = `const t=performance.now();const {Model}=await import(${JSON.stringify(join(packageRoot(), 'dist/runtime/model/model.js'))});await Model.load(${JSON.stringify(defaultModelPath())},{device:process.argv[1]});console.log(performance.now()-t)`;
  for (const device of ['cpu', 'wasm']) {
    const s = stats(Array.from({ length: 7 }, () => Number(spawnSync(process.execPath, ['--input-type=module', '-e', script, device], { encoding: 'utf8' }).stdout.trim())));
    rows.push([device === 'cpu' ? 'onnxruntime-node (cpu)' : 'onnxruntime-web (wasm, bundled)', 'engine load and first session, fresh process, ms', fmtStats(s)]);
  }
  // the bundled engine with WebAssembly threads (the build has them; tosia runs it on one, as
  // its callers scale with worker threads): the engine's numThreads is set once per process
  const threaded = `const ort=await import(${JSON.stringify(pathToFileURL(join(packageRoot(), WASM_ENGINE_DIR, 'ort.node.min.mjs')).href)});ort.env.wasm.numThreads=Number(process.argv[1]);
const s=await ort.InferenceSession.create(new Uint8Array((await import('node:fs')).readFileSync(${JSON.stringify(defaultModelPath())})),{executionProviders:['wasm'],graphOptimizationLevel:'all',logSeverityLevel:4});
const out={};for(const b of [1,32]){const t=new ort.Tensor('float32',new Float32Array(b*3*64*64).map((_,i)=>(i*2654435761%1000)/1000),[b,3,64,64]);const name=s.inputNames[0];
for(let i=0;i<20;i++)await s.run({[name]:t});const xs=[];for(let r=0;r<15;r++){const n=Math.ceil(640/b);const t0=performance.now();for(let i=0;i<n;i++)await s.run({[name]:t});xs.push((performance.now()-t0)/(n*b));}out[b]=xs;}
console.log(JSON.stringify(out));process.exit(0);`;
  // a file, not -e: the engine's threads are workers that inherit the process's flags, and
  // --input-type is refused with a file entry
  const dir = mkdtempSync(join(tmpdir(), 'tosia-bench-threads-'));
  const file = join(dir, 'threads.mjs');
  writeFileSync(file, threaded);
  for (const threads of [1, availableParallelism()]) {
    const r = spawnSync(process.execPath, [file, String(threads)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`the threaded WebAssembly engine: ${r.stderr}`);
    const out = JSON.parse(r.stdout.trim()) as Record<string, number[]>;
    for (const b of ['1', '32']) rows.push([`onnxruntime-web (wasm), ${threads} thread${threads === 1 ? '' : 's'}, own process`, `inference, batches of ${b}, ms a segment`, fmtStats(stats(out[b]!))]);
  }
  rmSync(dir, { recursive: true, force: true });
  let text = '### ONNX engines: onnxruntime-node against the bundled onnxruntime-web (demo model, one thread unless said)\n\n' + table(['engine', 'what', 'median (min–max)'], rows);
  text += `\n\nPer segment the WebAssembly engine takes ${(per.wasm! / per.cpu!).toFixed(1)}× onnxruntime-node's time.`;
  const raw = join(cough, 'raw');
  if (existsSync(raw) && !quick) {
    const bin = join(packageRoot(), 'dist/bin/tosia.js');
    const walls: Record<string, number[]> = { cpu: [], wasm: [] };
    const ROUNDS = 5;
    for (let round = 0; round < ROUNDS; round++) {
      for (const device of ['cpu', 'wasm']) {
        const out = mkdtempSync(join(tmpdir(), 'tosia-bench-engine-'));
        const t0 = performance.now();
        const r = spawnSync(process.execPath, [bin, 'run', raw, '--out', out, '--device', device, '--progress', 'none'], { encoding: 'utf8' });
        walls[device]!.push((performance.now() - t0) / 1000);
        rmSync(out, { recursive: true, force: true });
        if (r.status !== 0 && r.status !== 1) throw new Error(`batch on ${device} exited ${r.status}: ${r.stderr}`);
      }
    }
    const c = stats(walls.cpu!), w = stats(walls.wasm!);
    // issue 28: the bundled engine (the default install's) within 5 % of onnxruntime-node's batch
    const slower = (w.median / c.median - 1) * 100;
    text += '\n\n' + table(['batch: covid19-cough (1077 files), 2 worker threads, every output written', `s median (min–max) of ${ROUNDS}, interleaved`, 'target'], [
      ['--device cpu (onnxruntime-node)', `${c.median.toFixed(2)} (${c.min.toFixed(2)}–${c.max.toFixed(2)})`, ''],
      ['--device wasm (bundled)', `${w.median.toFixed(2)} (${w.min.toFixed(2)}–${w.max.toFixed(2)}): ${slower.toFixed(1)} % slower`, `≤ 5 % slower: ${slower <= 5 ? 'met' : 'MISSED'}`],
    ]);
  }
  return text;
}

/**
 * Gradient-boosted regression trees on the logistic loss (second-order, as XGBoost), small
 * enough to read: what bench/fit-cough-score.ts fits the cough score with. The trees it returns
 * are in the layout algos/segment/cough-score.ts evaluates: a node is [feature, threshold, left,
 * right] (go left when the value is <= threshold) or [-1, leaf value].
 */
export interface BoostOptions { trees: number; depth: number; rate: number; minLeaf: number }
export interface BoostedTrees { base: number; rate: number; trees: number[][][] }

export function fitBoostedTrees(X: readonly (readonly number[])[], y: readonly number[], weight: readonly number[], o: BoostOptions): BoostedTrees {
  const n = X.length, d = X[0]?.length ?? 0;
  let wPos = 0, wAll = 0;
  for (let i = 0; i < n; i++) { wPos += weight[i]! * y[i]!; wAll += weight[i]!; }
  const base = Math.log((wPos + 1) / (wAll - wPos + 1));
  const F = new Float64Array(n).fill(base), g = new Float64Array(n), h = new Float64Array(n);
  const order = Array.from({ length: d }, (_, j) => Int32Array.from([...Array(n).keys()].sort((a, b) => X[a]![j]! - X[b]![j]!)));
  const trees: number[][][] = [];
  const member = new Int32Array(n);
  for (let m = 0; m < o.trees; m++) {
    for (let i = 0; i < n; i++) { const p = 1 / (1 + Math.exp(-F[i]!)); g[i] = weight[i]! * (p - y[i]!); h[i] = weight[i]! * p * (1 - p); }
    const nodes: number[][] = [];
    member.fill(0);
    const grow = (id: number, lvl: number): number => {
      const at = nodes.length;
      nodes.push([]);
      let G = 0, H = 0, count = 0;
      for (let i = 0; i < n; i++) if (member[i] === id) { G += g[i]!; H += h[i]!; count++; }
      let best: { gain: number; j: number; t: number } | null = null;
      if (lvl < o.depth && count >= 2 * o.minLeaf) {
        for (let j = 0; j < d; j++) {
          let gl = 0, hl = 0, c = 0, prev = -1;
          for (const i of order[j]!) {
            if (member[i] !== id) continue;
            if (prev >= 0 && c >= o.minLeaf && count - c >= o.minLeaf && X[i]![j]! > X[prev]![j]!) {
              const gain = (gl * gl) / (hl + 1e-6) + ((G - gl) * (G - gl)) / (H - hl + 1e-6) - (G * G) / (H + 1e-6);
              if (!best || gain > best.gain) best = { gain, j, t: (X[i]![j]! + X[prev]![j]!) / 2 };
            }
            gl += g[i]!; hl += h[i]!; c++; prev = i;
          }
        }
      }
      if (!best || best.gain <= 1e-9) { nodes[at] = [-1, round(-G / (H + 1e-6))]; return at; }
      const left = nextId++, right = nextId++;
      for (let i = 0; i < n; i++) if (member[i] === id) member[i] = X[i]![best.j]! <= best.t ? left : right;
      const l = grow(left, lvl + 1), r = grow(right, lvl + 1);
      nodes[at] = [best.j, round(best.t), l, r];
      return at;
    };
    let nextId = 1;
    grow(0, 0);
    trees.push(nodes);
    for (let i = 0; i < n; i++) F[i] = F[i]! + o.rate * evalTree(nodes, X[i]!);
  }
  return { base: round(base), rate: o.rate, trees };
}

export function evalTree(nodes: readonly (readonly number[])[], x: readonly number[]): number {
  let k = 0;
  for (;;) {
    const nd = nodes[k]!;
    if (nd[0]! < 0) return nd[1]!;
    k = x[nd[0]!]! <= nd[1]! ? nd[2]! : nd[3]!;
  }
}

export function predict(model: BoostedTrees, x: readonly number[]): number {
  let z = model.base;
  for (const t of model.trees) z += model.rate * evalTree(t, x);
  return 1 / (1 + Math.exp(-z));
}

/** Six significant digits: the written model stays short and reads the same on every machine. */
const round = (v: number) => Number(v.toPrecision(6));

/** Row-wise softmax over `nClasses` logits per row, numerically stable. */
export function softmax(logits: ArrayLike<number>, nClasses: number): Float32Array {
  const out = new Float32Array(logits.length);
  for (let r = 0; r < logits.length; r += nClasses) {
    let max = -Infinity;
    for (let c = 0; c < nClasses; c++) max = Math.max(max, logits[r + c]!);
    let sum = 0;
    for (let c = 0; c < nClasses; c++) { const e = Math.exp(logits[r + c]! - max); out[r + c] = e; sum += e; }
    for (let c = 0; c < nClasses; c++) out[r + c] = out[r + c]! / sum;
  }
  return out;
}

export function sigmoid(logits: ArrayLike<number>): Float32Array {
  const out = new Float32Array(logits.length);
  for (let i = 0; i < logits.length; i++) {
    const x = logits[i]!;
    out[i] = x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
  }
  return out;
}

// A plain-JS (f64) reference of SPO's time-conditioned CLIP encoder layer, for gradient checks:
//   (shift, scale, gate)×2 = Linear(SiLU(c)), h = x + gate_msa·attn(LN1(x)(1 + scale_msa) + shift_msa),
//   out = h + gate_mlp·mlp(LN2(h)(1 + scale_mlp) + shift_mlp), quick_gelu MLP, bidirectional attention.

export type Params = Map<string, Float64Array>;

function linear(x: Float64Array, rows: number, inF: number, w: Float64Array, b: Float64Array | undefined, outF: number): Float64Array {
  const y = new Float64Array(rows * outF);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < outF; o++) {
      let acc = b ? b[o] : 0;
      for (let i = 0; i < inF; i++) acc += x[r * inF + i] * w[o * inF + i];
      y[r * outF + o] = acc;
    }
  }
  return y;
}

function layerNorm(x: Float64Array, rows: number, d: number, w: Float64Array, b: Float64Array, eps: number): Float64Array {
  const y = new Float64Array(x.length);
  for (let r = 0; r < rows; r++) {
    let mean = 0;
    for (let i = 0; i < d; i++) mean += x[r * d + i] / d;
    let variance = 0;
    for (let i = 0; i < d; i++) variance += (x[r * d + i] - mean) ** 2 / d;
    for (let i = 0; i < d; i++) y[r * d + i] = ((x[r * d + i] - mean) / Math.sqrt(variance + eps)) * w[i] + b[i];
  }
  return y;
}

const silu = (v: number) => v / (1 + Math.exp(-v));
const quickGelu = (v: number) => v / (1 + Math.exp(-1.702 * v));

export interface LayerShape {
  batch: number;
  length: number;
  hidden: number;
  heads: number;
  intermediate: number;
}

/** out [B, L, D] of the modulated layer, from x [B, L, D] and the conditioning c [B, D]. */
export function referenceLayer(p: Params, x: Float64Array, c: Float64Array, s: LayerShape): Float64Array {
  const { batch: B, length: L, hidden: D, heads: H, intermediate: M } = s;
  const hd = D / H;
  const g = (name: string) => p.get(name)!;
  const modulation = linear(c.map(silu), B, D, g("adaLN_modulation.1.weight"), g("adaLN_modulation.1.bias"), 6 * D);
  const chunk = (b: number, k: number, i: number) => modulation[b * 6 * D + k * D + i];
  const modulate = (y: Float64Array, shiftK: number, scaleK: number) =>
    y.map((v, idx) => {
      const b = Math.floor(idx / (L * D));
      const i = idx % D;
      return v * (1 + chunk(b, scaleK, i)) + chunk(b, shiftK, i);
    });
  // attention block
  const a = modulate(layerNorm(x, B * L, D, g("layer_norm1.weight"), g("layer_norm1.bias"), 1e-5), 0, 1);
  const q = linear(a, B * L, D, g("self_attn.q_proj.weight"), g("self_attn.q_proj.bias"), D);
  const k = linear(a, B * L, D, g("self_attn.k_proj.weight"), g("self_attn.k_proj.bias"), D);
  const v = linear(a, B * L, D, g("self_attn.v_proj.weight"), g("self_attn.v_proj.bias"), D);
  const attended = new Float64Array(B * L * D);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      for (let i = 0; i < L; i++) {
        const scores = Array.from({ length: L }, (_, j) => {
          let dot = 0;
          for (let e = 0; e < hd; e++) dot += q[(b * L + i) * D + h * hd + e] * k[(b * L + j) * D + h * hd + e];
          return dot / Math.sqrt(hd);
        });
        const max = Math.max(...scores);
        const weights = scores.map((sc) => Math.exp(sc - max));
        const total = weights.reduce((t, w) => t + w, 0);
        for (let e = 0; e < hd; e++) {
          let acc = 0;
          for (let j = 0; j < L; j++) acc += (weights[j] / total) * v[(b * L + j) * D + h * hd + e];
          attended[(b * L + i) * D + h * hd + e] = acc;
        }
      }
    }
  }
  const attnOut = linear(attended, B * L, D, g("self_attn.out_proj.weight"), g("self_attn.out_proj.bias"), D);
  const h1 = x.map((val, idx) => val + chunk(Math.floor(idx / (L * D)), 2, idx % D) * attnOut[idx]);
  // MLP block
  const m = modulate(layerNorm(h1, B * L, D, g("layer_norm2.weight"), g("layer_norm2.bias"), 1e-5), 3, 4);
  const hidden = linear(m, B * L, D, g("mlp.fc1.weight"), g("mlp.fc1.bias"), M).map(quickGelu);
  const mlpOut = linear(hidden, B * L, M, g("mlp.fc2.weight"), g("mlp.fc2.bias"), D);
  return h1.map((val, idx) => val + chunk(Math.floor(idx / (L * D)), 5, idx % D) * mlpOut[idx]);
}

import { type HostTensor, hostZeros } from "../../tensor/host_tensor.ts";
import { broadcastStrides } from "../../tensor/shape.ts";

/** Options of the plain-JS attention references (the same meaning as in `scaledDotProductAttention`). */
export interface ReferenceAttentionOptions {
  /** Default 1/√D. */
  scale?: number;
  isCausal?: boolean;
  /** Additive mask broadcastable to [B, H, Lq, Lk]. */
  mask?: HostTensor | null;
}

/** Gradients of attention with respect to each input; `mask` is shaped like the scores [B, H, Lq, Lk]. */
export interface ReferenceAttentionGradients {
  query: HostTensor;
  key: HostTensor;
  value: HostTensor;
  mask: HostTensor;
}

/**
 * Attention the slow, obvious way in f64, materialising every score: for each batch and head
 * S = Q·Kᵀ·scale + mask (−∞ above the diagonal when causal), P = softmax(S) along keys, O = P·V.
 * The truth the fused kernel is tested against.
 *
 * @example
 * ```ts
 * const q = hostTensor([1, 0], [1, 1, 1, 2]);
 * const k = hostTensor([1, 0, 0, 1], [1, 1, 2, 2]);
 * const v = hostTensor([1, 2], [1, 1, 2, 1]);
 * referenceAttention(q, k, v, { scale: Math.log(3) }).data; // Float64Array [1.25]: weights ¾ and ¼
 * ```
 */
export function referenceAttention(
  query: HostTensor,
  key: HostTensor,
  value: HostTensor,
  options: ReferenceAttentionOptions = {},
): HostTensor {
  const [batch, heads, queries] = query.shape;
  const [keys, valueSize] = [key.shape[2], value.shape[3]];
  const out = hostZeros([batch, heads, queries, valueSize], query.dtype);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      const probabilities = softmaxProbabilities(query, key, options, b, h);
      const valueRows = headOffset(value, b, h);
      const outRows = headOffset(out, b, h);
      for (let i = 0; i < queries; i++) {
        for (let c = 0; c < valueSize; c++) {
          let sum = 0;
          for (let j = 0; j < keys; j++) sum += probabilities[i * keys + j] * value.data[valueRows + j * valueSize + c];
          out.data[outRows + i * valueSize + c] = sum;
        }
      }
    }
  }
  return out;
}

/**
 * The gradients of `referenceAttention` given the output gradient dO, from the math: with
 * P = softmax(S) and O = P·V, dV = Pᵀ·dO, dP = dO·Vᵀ, dS = P ∘ (dP − rowsum(dO ∘ O)),
 * dQ = dS·K·scale, dK = dSᵀ·Q·scale, and the mask's gradient is dS itself.
 *
 * @example
 * ```ts
 * const grads = referenceAttentionBackward(q, k, v, dOut, { isCausal: true });
 * grads.query.shape; // same as q
 * ```
 */
export function referenceAttentionBackward(
  query: HostTensor,
  key: HostTensor,
  value: HostTensor,
  outGrad: HostTensor,
  options: ReferenceAttentionOptions = {},
): ReferenceAttentionGradients {
  const output = referenceAttention(query, key, value, options);
  const [batch, heads, queries] = query.shape;
  const grads = emptyGradients(query, key, value);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      const probabilities = softmaxProbabilities(query, key, options, b, h);
      const delta = new Float64Array(queries);
      for (let i = 0; i < queries; i++) delta[i] = rowDot(outGrad, output, b, h, i);
      backwardFromProbabilities(probabilities, delta, { query, key, value, outGrad }, grads, resolveScale(query, options), b, h);
    }
  }
  return grads;
}

/**
 * Per query row, the log-sum-exp of its scores and delta = rowsum(dO ∘ O): what the gradient
 * kernels read instead of the score matrix. Shape [B, H, Lq, 2].
 */
export function referenceAttentionStats(
  query: HostTensor,
  key: HostTensor,
  output: HostTensor,
  outGrad: HostTensor,
  options: ReferenceAttentionOptions,
): HostTensor {
  const [batch, heads, queries] = query.shape;
  const keys = key.shape[2];
  const stats = hostZeros([batch, heads, queries, 2], "f32");
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      const scores = maskedScores(query, key, options, b, h);
      for (let i = 0; i < queries; i++) {
        const row = scores.subarray(i * keys, (i + 1) * keys);
        const max = Math.max(...row);
        const sum = row.reduce((acc, s) => acc + Math.exp(s - max), 0);
        const statsRow = ((b * heads + h) * queries + i) * 2;
        stats.data[statsRow] = max + Math.log(sum);
        stats.data[statsRow + 1] = rowDot(outGrad, output, b, h, i);
      }
    }
  }
  return stats;
}

/**
 * The gradients as the kernels compute them: P recomputed as exp(S − lse) from saved per-row
 * statistics (`referenceAttentionStats`), then the same formulas as `referenceAttentionBackward`.
 */
export function referenceGradientsFromStats(
  inputs: { query: HostTensor; key: HostTensor; value: HostTensor; outGrad: HostTensor },
  stats: HostTensor,
  options: ReferenceAttentionOptions,
): ReferenceAttentionGradients {
  const { query, key, value } = inputs;
  const [batch, heads, queries] = query.shape;
  const keys = key.shape[2];
  const grads = emptyGradients(query, key, value);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      const probabilities = maskedScores(query, key, options, b, h);
      const delta = new Float64Array(queries);
      for (let i = 0; i < queries; i++) {
        const statsRow = ((b * heads + h) * queries + i) * 2;
        for (let j = 0; j < keys; j++) probabilities[i * keys + j] = Math.exp(probabilities[i * keys + j] - stats.data[statsRow]);
        delta[i] = stats.data[statsRow + 1];
      }
      backwardFromProbabilities(probabilities, delta, inputs, grads, resolveScale(query, options), b, h);
    }
  }
  return grads;
}

function resolveScale(query: HostTensor, options: ReferenceAttentionOptions): number {
  return options.scale ?? 1 / Math.sqrt(query.shape[3]);
}

/** S = Q·Kᵀ·scale + mask for one (batch, head), −∞ where causality hides a key; [Lq, Lk] row-major. */
function maskedScores(query: HostTensor, key: HostTensor, options: ReferenceAttentionOptions, b: number, h: number): Float64Array {
  const [batch, heads, queries, headSize] = query.shape;
  const keys = key.shape[2];
  const scale = resolveScale(query, options);
  const mask = options.mask ?? null;
  const maskStrides = mask ? broadcastStrides(mask.shape, [batch, heads, queries, keys]) : [];
  const queryRows = headOffset(query, b, h);
  const keyRows = headOffset(key, b, h);
  const scores = new Float64Array(queries * keys);
  for (let i = 0; i < queries; i++) {
    for (let j = 0; j < keys; j++) {
      let dot = 0;
      for (let c = 0; c < headSize; c++) dot += query.data[queryRows + i * headSize + c] * key.data[keyRows + j * headSize + c];
      let score = dot * scale;
      if (mask) score += mask.data[b * maskStrides[0] + h * maskStrides[1] + i * maskStrides[2] + j * maskStrides[3]];
      if (options.isCausal && j > i) score = -Infinity;
      scores[i * keys + j] = score;
    }
  }
  return scores;
}

/** softmax(S) along keys for one (batch, head); a row with every score −∞ becomes NaN, as in PyTorch. */
function softmaxProbabilities(query: HostTensor, key: HostTensor, options: ReferenceAttentionOptions, b: number, h: number): Float64Array {
  const queries = query.shape[2];
  const keys = key.shape[2];
  const scores = maskedScores(query, key, options, b, h);
  for (let i = 0; i < queries; i++) {
    const row = scores.subarray(i * keys, (i + 1) * keys);
    const max = Math.max(...row);
    let sum = 0;
    for (let j = 0; j < keys; j++) {
      row[j] = Math.exp(row[j] - max);
      sum += row[j];
    }
    for (let j = 0; j < keys; j++) row[j] /= sum;
  }
  return scores;
}

/** Accumulates dQ, dK, dV and dS of one (batch, head) from its probabilities P and delta. */
function backwardFromProbabilities(
  probabilities: Float64Array,
  delta: Float64Array,
  inputs: { query: HostTensor; key: HostTensor; value: HostTensor; outGrad: HostTensor },
  grads: ReferenceAttentionGradients,
  scale: number,
  b: number,
  h: number,
): void {
  const { query, key, value, outGrad } = inputs;
  const [, , queries, headSize] = query.shape;
  const [keys, valueSize] = [key.shape[2], value.shape[3]];
  const [queryRows, keyRows, valueRows] = [headOffset(query, b, h), headOffset(key, b, h), headOffset(value, b, h)];
  const outGradRows = headOffset(outGrad, b, h);
  const maskRows = headOffset(grads.mask, b, h);
  for (let i = 0; i < queries; i++) {
    for (let j = 0; j < keys; j++) {
      const p = probabilities[i * keys + j];
      let dp = 0;
      for (let c = 0; c < valueSize; c++) {
        const dOut = outGrad.data[outGradRows + i * valueSize + c];
        dp += dOut * value.data[valueRows + j * valueSize + c];
        grads.value.data[valueRows + j * valueSize + c] += p * dOut; // dV = Pᵀ·dO
      }
      const ds = p * (dp - delta[i]);
      grads.mask.data[maskRows + i * keys + j] = ds;
      for (let c = 0; c < headSize; c++) {
        grads.query.data[queryRows + i * headSize + c] += ds * key.data[keyRows + j * headSize + c] * scale;
        grads.key.data[keyRows + j * headSize + c] += ds * query.data[queryRows + i * headSize + c] * scale;
      }
    }
  }
}

function emptyGradients(query: HostTensor, key: HostTensor, value: HostTensor): ReferenceAttentionGradients {
  const [batch, heads, queries] = query.shape;
  return {
    query: hostZeros(query.shape, query.dtype),
    key: hostZeros(key.shape, key.dtype),
    value: hostZeros(value.shape, value.dtype),
    mask: hostZeros([batch, heads, queries, key.shape[2]], query.dtype),
  };
}

/** Σ_c a[b, h, i, c]·b[b, h, i, c] for two tensors of the same [B, H, L, C] shape. */
function rowDot(a: HostTensor, other: HostTensor, b: number, h: number, i: number): number {
  const size = a.shape[3];
  const start = headOffset(a, b, h) + i * size;
  let sum = 0;
  for (let c = 0; c < size; c++) sum += a.data[start + c] * other.data[start + c];
  return sum;
}

/** Flat offset of the [L, C] matrix of (batch b, head h) in a [B, H, L, C] tensor. */
function headOffset(t: HostTensor, b: number, h: number): number {
  const [, heads, length, size] = t.shape;
  return (b * heads + h) * length * size;
}

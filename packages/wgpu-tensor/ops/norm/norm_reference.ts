import type { DType } from "../../tensor/dtype.ts";
import { type HostTensor, hostZeros } from "../../tensor/host_tensor.ts";
import { channelOf, type NormLayout } from "./norm_layout.ts";

/** Post-normalisation activation fused into the forward kernel. */
export type NormActivation = "none" | "silu";

/** Per-row mean and 1/√(biased variance + eps). */
export interface RowStats {
  mean: Float64Array;
  rstd: Float64Array;
}

/** Mean and 1/√(biased variance + eps) of every row, in f64 (two passes). */
export function referenceRowStats(x: HostTensor, layout: NormLayout, eps: number): RowStats {
  const { rows, rowLength } = layout;
  const mean = new Float64Array(rows);
  const rstd = new Float64Array(rows);
  for (let row = 0; row < rows; row++) {
    let total = 0;
    for (let t = 0; t < rowLength; t++) total += x.data[row * rowLength + t];
    mean[row] = total / rowLength;
    let m2 = 0;
    for (let t = 0; t < rowLength; t++) m2 += (x.data[row * rowLength + t] - mean[row]) ** 2;
    rstd[row] = 1 / Math.sqrt(m2 / rowLength + eps);
  }
  return { mean, rstd };
}

/** The stats as the [rows, 2] f32 tensor the kernels pass around: (mean, rstd) per row. */
export function referenceNormStats(x: HostTensor, layout: NormLayout, eps: number): HostTensor {
  const { mean, rstd } = referenceRowStats(x, layout, eps);
  const out = hostZeros([layout.rows, 2], "f32");
  for (let row = 0; row < layout.rows; row++) {
    out.data[2 * row] = mean[row];
    out.data[2 * row + 1] = rstd[row];
  }
  return out;
}

/** Reads the [rows, 2] stats tensor back into per-row arrays. */
export function rowStatsFrom(stats: HostTensor): RowStats {
  const rows = stats.data.length / 2;
  const mean = new Float64Array(rows);
  const rstd = new Float64Array(rows);
  for (let row = 0; row < rows; row++) {
    mean[row] = stats.data[2 * row];
    rstd[row] = stats.data[2 * row + 1];
  }
  return { mean, rstd };
}

/** y = act((x − mean)·rstd·w[c] + b[c]). */
export function referenceNorm(
  x: HostTensor,
  layout: NormLayout,
  eps: number,
  weight: HostTensor | null,
  bias: HostTensor | null,
  activation: NormActivation,
): HostTensor {
  const { mean, rstd } = referenceRowStats(x, layout, eps);
  const out = hostZeros(x.shape, x.dtype);
  for (let i = 0; i < x.data.length; i++) {
    const row = Math.floor(i / layout.rowLength);
    const c = channelOf(layout, i);
    let v = (x.data[i] - mean[row]) * rstd[row];
    v = v * (weight ? weight.data[c] : 1) + (bias ? bias.data[c] : 0);
    out.data[i] = activation === "silu" ? v / (1 + Math.exp(-v)) : v;
  }
  return out;
}

/**
 * dx of a normalisation without activation: with g = dy·w[c] and x̂ = (x − mean)·rstd,
 * dx = rstd·(g − mean_row(g) − x̂·mean_row(g·x̂)).
 */
export function referenceNormInputGrad(
  x: HostTensor,
  dy: HostTensor,
  weight: HostTensor | null,
  layout: NormLayout,
  stats: RowStats,
): HostTensor {
  const { mean, rstd } = stats;
  const { rowLength } = layout;
  const out = hostZeros(x.shape, x.dtype);
  for (let row = 0; row < layout.rows; row++) {
    const g = new Float64Array(rowLength);
    const xhat = new Float64Array(rowLength);
    let meanG = 0;
    let meanGX = 0;
    for (let t = 0; t < rowLength; t++) {
      const i = row * rowLength + t;
      g[t] = dy.data[i] * (weight ? weight.data[channelOf(layout, i)] : 1);
      xhat[t] = (x.data[i] - mean[row]) * rstd[row];
      meanG += g[t] / rowLength;
      meanGX += (g[t] * xhat[t]) / rowLength;
    }
    for (let t = 0; t < rowLength; t++) {
      out.data[row * rowLength + t] = rstd[row] * (g[t] - meanG - xhat[t] * meanGX);
    }
  }
  return out;
}

/** dweight[c] = Σ_{i in channel c} dy·x̂. */
export function referenceNormWeightGrad(x: HostTensor, dy: HostTensor, layout: NormLayout, stats: RowStats, dtype: DType): HostTensor {
  const { mean, rstd } = stats;
  const out = hostZeros([layout.channels], dtype);
  for (let i = 0; i < x.data.length; i++) {
    const row = Math.floor(i / layout.rowLength);
    out.data[channelOf(layout, i)] += dy.data[i] * (x.data[i] - mean[row]) * rstd[row];
  }
  return out;
}

/**
 * How much the rounding of x (a relative ε) is amplified in x̂ = (x − mean)·rstd: max |x|·rstd over
 * the rows, at least 1. Rows whose values nearly agree (tiny variance) or sit far from zero are
 * ill-conditioned for any f32 implementation; tests scale their tolerances by this.
 */
export function normCondition(x: HostTensor, layout: NormLayout, eps: number): number {
  const { rstd } = referenceRowStats(x, layout, eps);
  let condition = 1;
  for (let i = 0; i < x.data.length; i++) {
    const row = Math.floor(i / layout.rowLength);
    condition = Math.max(condition, Math.abs(x.data[i]) * rstd[row]);
  }
  return condition;
}

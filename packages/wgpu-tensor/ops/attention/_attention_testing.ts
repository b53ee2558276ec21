// Shapes, inputs and checks shared by the attention tests (not exported from the package).
import fc from "fast-check";
import { type DType, f16BitsToF32, f32ToF16Bits } from "../../tensor/dtype.ts";
import type { HostTensor } from "../../tensor/host_tensor.ts";
import { broadcastStrides, contiguousStrides, sizeOf } from "../../tensor/shape.ts";
import { checkAgainstReference, randomHost, type Tolerance, toleranceFor } from "../../testing/mod.ts";
import {
  attentionBackwardStatsOp,
  attentionGradKeyOp,
  attentionGradMaskOp,
  attentionGradQueryOp,
  attentionGradValueOp,
} from "./attention_backward.ts";
import { referenceAttention, referenceAttentionStats } from "./attention_reference.ts";
import { FORWARD_BLOCKING, GRAD_BLOCKING, LANES } from "./attention_wgsl.ts";

/** One attention problem: sizes, causality and the mask's (broadcast) shape. */
export interface AttentionCase {
  batch: number;
  heads: number;
  queries: number;
  keys: number;
  headSize: number;
  valueSize: number;
  isCausal: boolean;
  maskShape: number[] | null;
}

const groupRows = [FORWARD_BLOCKING, GRAD_BLOCKING].map((blocking) => LANES * blocking.rows);

/** Lengths that break kernels: 1, odd, the lane count and the rows per workgroup ± 1, CLIP's 77. */
export const awkwardLengths = [1, 2, 3, 5, LANES - 1, LANES, LANES + 1, ...groupRows.flatMap((n) => [n - 1, n, n + 1]), 77];

/**
 * Head sizes of the smallest kernels (capacity 32), odd ones included; larger head sizes compile
 * larger kernels, so the tests cover them with a few fixed cases.
 */
export const smallHeadSizes = [1, 3, 8, 17, 31, 32];

/**
 * Random attention problems whose plain-JS reference stays cheap. Head sizes come from `headSizes`;
 * the value head size is the same or another from the list.
 */
export function arbAttentionCase(
  options: { headSizes?: readonly number[]; withMask?: boolean; maxWork?: number } = {},
): fc.Arbitrary<AttentionCase> {
  const headSizes = options.headSizes ?? smallHeadSizes;
  const maxWork = options.maxWork ?? 2e6;
  const length = fc.oneof(fc.constantFrom(...awkwardLengths), fc.integer({ min: 1, max: 100 }));
  return fc
    .record({
      batch: fc.integer({ min: 1, max: 2 }),
      heads: fc.integer({ min: 1, max: 3 }),
      queries: length,
      keys: length,
      headSize: fc.constantFrom(...headSizes),
      valueIndex: fc.option(fc.nat({ max: headSizes.length - 1 })),
      isCausal: options.withMask ? fc.constant(false) : fc.boolean(),
      maskPattern: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
      maskRank: fc.integer({ min: 1, max: 4 }),
    })
    .map((drawn) => {
      const valueSize = drawn.valueIndex === null ? drawn.headSize : headSizes[drawn.valueIndex];
      const scores = [drawn.batch, drawn.heads, drawn.queries, drawn.keys];
      // the mask keeps its last `maskRank` score dimensions, each either full or broadcast (1)
      const maskShape = options.withMask ? scores.slice(4 - drawn.maskRank).map((dim, i) => (drawn.maskPattern[i] ? dim : 1)) : null;
      return { ...drawn, valueSize, maskShape };
    })
    .filter((c) => c.batch * c.heads * c.queries * c.keys * (c.headSize + c.valueSize) <= maxWork);
}

/** Seeded inputs for a case: query, key, value, an output gradient and the mask (or null). */
export function attentionInputs(
  c: AttentionCase,
  seed: number,
  dtype: DType = "f32",
): {
  query: HostTensor;
  key: HostTensor;
  value: HostTensor;
  outGrad: HostTensor;
  mask: HostTensor | null;
} {
  const { batch, heads, queries, keys, headSize, valueSize } = c;
  return {
    query: randomHost([batch, heads, queries, headSize], seed, { dtype }),
    key: randomHost([batch, heads, keys, headSize], seed + 1, { dtype }),
    value: randomHost([batch, heads, keys, valueSize], seed + 2, { dtype }),
    outGrad: randomHost([batch, heads, queries, valueSize], seed + 3, { dtype }),
    mask: c.maskShape ? randomMask(c.maskShape, seed + 4, dtype) : null,
  };
}

/**
 * An additive mask with values in [−3, 0] and some −∞, never at key 0 so that no row is hidden
 * completely (such rows have no defined result).
 */
function randomMask(shape: readonly number[], seed: number, dtype: DType): HostTensor {
  const mask = randomHost(shape, seed, { dtype, low: -3, high: 0 });
  const keys = shape[shape.length - 1];
  mask.data.forEach((value, i) => {
    if (i % keys !== 0 && value < -2.7) mask.data[i] = -Infinity;
  });
  return mask;
}

/** The values rounded to the tensor's dtype (f32 or f16), so the GPU and the reference read identical numbers. */
export function roundToDType(t: HostTensor): HostTensor {
  const rounded = Float64Array.from(Float32Array.from(t.data));
  if (t.dtype === "f16") rounded.forEach((value, i) => (rounded[i] = f16BitsToF32(f32ToF16Bits(value))));
  return { ...t, data: rounded };
}

/** Sums a host tensor over the dimensions where `shape` broadcasts (what autograd does to gradients). */
export function sumToShapeHost(t: HostTensor, shape: readonly number[]): HostTensor {
  const out: HostTensor = { shape: [...shape], dtype: t.dtype, data: new Float64Array(sizeOf(shape)) };
  const strides = broadcastStrides(shape, t.shape);
  const fullStrides = contiguousStrides(t.shape);
  for (let flat = 0; flat < t.data.length; flat++) {
    let target = 0;
    for (let axis = 0; axis < t.shape.length; axis++) {
      const index = Math.floor(flat / fullStrides[axis]) % t.shape[axis];
      target += index * strides[axis];
    }
    out.data[target] += t.data[flat];
  }
  return out;
}

/**
 * Each gradient element sums over one length (dQ over keys, dK and dV over queries) products that
 * hold a D- or Dv-term dot product, so rounding grows with √(Lq + Lk + D + Dv); the factor 8 covers
 * exp's ULPs and the cancellation in dP − delta, which are of similar size.
 */
export function gradTolerance(c: AttentionCase): Tolerance {
  return toleranceFor("f32", c.queries + c.keys + c.headSize + c.valueSize, 8);
}

/** Runs every gradient kernel on one case against its reference, given the same saved statistics. */
export async function checkGradKernels(c: AttentionCase, seed: number, dtype: "f32" | "f16" = "f32"): Promise<void> {
  const { query, key, value, outGrad, mask } = attentionInputs(c, seed, dtype);
  const attrs = { scale: 1 / Math.sqrt(c.headSize), isCausal: c.isCausal };
  const options = { ...attrs, mask };
  const output = roundToDType(referenceAttention(query, key, value, options));
  const stats = roundToDType(referenceAttentionStats(query, key, output, outGrad, options));
  const maskInput = mask ? [mask] : [];
  // f16 gradients are computed in f32 from exact f16 inputs: the final rounding to f16 dominates
  const tolerance = dtype === "f16" ? toleranceFor("f16") : gradTolerance(c);
  await checkAgainstReference(attentionBackwardStatsOp, [query, key, output, outGrad, ...maskInput], attrs, tolerance);
  await checkAgainstReference(attentionGradQueryOp, [query, key, value, outGrad, stats, ...maskInput], attrs, tolerance);
  await checkAgainstReference(attentionGradKeyOp, [query, key, value, outGrad, stats, ...maskInput], attrs, tolerance);
  await checkAgainstReference(attentionGradValueOp, [query, key, outGrad, stats, ...maskInput], attrs, tolerance);
  if (mask) await checkAgainstReference(attentionGradMaskOp, [query, key, value, outGrad, stats, mask], attrs, tolerance);
}

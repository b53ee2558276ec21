import type { DType } from "../../tensor/dtype.ts";
import { linearGrid, linearMain } from "../../wgsl/grid.ts";
import { Params } from "../../wgsl/params.ts";
import type { KernelPlan } from "../op_def.ts";
import { blocksFor, seedKey, splitU64 } from "./philox_reference.ts";
import { boxMullerWgsl, F32_TO_F16_WGSL, philoxWgsl } from "./philox_wgsl.ts";

/** What a random tensor holds: raw Philox words, U[0, 1) or N(0, 1). */
export type Distribution = "bits" | "uniform" | "normal";

export interface RandomKernelSpec {
  distribution: Distribution;
  dtype: DType;
  size: number;
  seed: number;
  /** First Philox block (counter) used. */
  offset: number;
}

// each invocation computes one Philox block (four outputs); lavapipe wants multiples of 8
const WORKGROUP_SIZE = 64;

/**
 * The kernel that fills a tensor from Philox blocks offset, offset + 1, …: one invocation per
 * block, one Philox call per invocation. Seed and offset travel as uniforms, so one pipeline per
 * (distribution, dtype) serves every call.
 */
export function randomKernel(spec: RandomKernelSpec): KernelPlan {
  const blocks = blocksFor(spec.size);
  const [keyLo, keyHi] = seedKey(spec.seed);
  const [offsetLo, offsetHi] = splitU64(spec.offset);
  const params = new Params()
    .u32("size", spec.size)
    .u32("blocks", blocks)
    .u32("key_lo", keyLo)
    .u32("key_hi", keyHi)
    .u32("offset_lo", offsetLo)
    .u32("offset_hi", offsetHi);
  return {
    key: `random_${spec.distribution}_${spec.dtype}`,
    wgsl: () => randomSource(spec.distribution, spec.dtype, params),
    params: params.pack(),
    workgroups: linearGrid(blocks, WORKGROUP_SIZE),
    bindings: ["output"],
  };
}

/** WGSL turning the block's four words `w` into four output words `v` (f32/u32 bits). */
function wordsToValues(distribution: Distribution): string {
  if (distribution === "bits") return "  let v = w;";
  if (distribution === "uniform") {
    // top 24 bits times 2^-24: exact in f32 (the conversion and the power-of-two product are exact)
    return "  let v = bitcast<vec4u>(vec4f(w >> vec4u(8u)) * 5.9604644775390625e-8);";
  }
  return ["  let pair0 = box_muller(w.x, w.y);", "  let pair1 = box_muller(w.z, w.w);", "  let v = vec4u(pair0, pair1);"].join("\n");
}

function randomSource(distribution: Distribution, dtype: DType, params: Params): string {
  const isHalf = dtype === "f16";
  const lines = [params.struct(), "@group(0) @binding(1) var<storage, read_write> y: array<u32>;", philoxWgsl()];
  if (distribution === "normal") lines.push(boxMullerWgsl());
  if (isHalf && distribution === "normal") lines.push(F32_TO_F16_WGSL);
  lines.push(linearMain(WORKGROUP_SIZE));
  // 1. the block's counter: offset + block as a 64-bit number (low word, high word, 0, 0)
  lines.push(
    "  if (index >= p.blocks) { return; }",
    "  let low = p.offset_lo + index;",
    "  let high = p.offset_hi + select(0u, 1u, low < index);",
    "  let w = philox(vec4u(low, high, 0u, 0u), vec2u(p.key_lo, p.key_hi));",
  );
  // 2. words to values, 3. store (f16: two halves per u32 word; the pad half of an odd tail is in
  // the buffer's rounding, never in another tensor)
  if (isHalf && distribution === "uniform") {
    // top 11 bits times 2^-11: exactly representable in f16, so the packing conversion is exact
    lines.push("  let halves = vec4f(w >> vec4u(21u)) * 0.00048828125;");
    lines.push("  let packed = vec2u(pack2x16float(halves.xy), pack2x16float(halves.zw));");
  } else if (isHalf) {
    lines.push(wordsToValues(distribution));
    lines.push("  let h = vec4u(f32_to_f16_bits(v.x), f32_to_f16_bits(v.y), f32_to_f16_bits(v.z), f32_to_f16_bits(v.w));");
    lines.push("  let packed = vec2u(h.x | (h.y << 16u), h.z | (h.w << 16u));");
  } else {
    lines.push(wordsToValues(distribution));
  }
  if (isHalf) {
    lines.push("  y[2u * index] = packed.x;", "  if (4u * index + 2u < p.size) { y[2u * index + 1u] = packed.y; }");
  } else {
    lines.push(
      "  let base = 4u * index;",
      "  for (var lane = 0u; lane < 4u; lane++) {",
      "    if (base + lane < p.size) { y[base + lane] = v[lane]; }",
      "  }",
    );
  }
  lines.push("}");
  return lines.join("\n");
}

import { type DType, f16BitsToF32, f32ToF16Bits, isFloat, wgslType } from "../../tensor/dtype.ts";
import { DTypeError } from "../../tensor/errors.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import { sizeOf } from "../../tensor/shape.ts";
import { linearGrid, linearMain } from "../../wgsl/grid.ts";
import { Params } from "../../wgsl/params.ts";
import type { KernelPlan, OpDef } from "../op_def.ts";
import { runOp } from "../run_op.ts";

const WORKGROUP_SIZE = 256;
const DTYPES: readonly DType[] = ["f32", "f16", "i32", "u32"];

/** The dtype to convert to. */
export interface CastAttrs {
  dtype: DType;
}

/** The value `v` (of dtype `from`) becomes in dtype `to`, with WGSL's (and PyTorch's) rules. */
export function castValue(v: number, from: DType, to: DType): number {
  switch (to) {
    case "f32":
      return Math.fround(v);
    case "f16":
      return f16BitsToF32(f32ToF16Bits(v));
    case "i32":
      if (from === "u32") return v | 0; // two's-complement reinterpretation
      if (Number.isNaN(v)) return 0;
      // toward zero, saturating at the largest f32 values inside i32 (WGSL's rule)
      return Math.min(Math.max(Math.trunc(v), -(2 ** 31)), 2 ** 31 - 128);
    case "u32":
      if (from === "i32") return v >>> 0;
      if (Number.isNaN(v)) return 0;
      return Math.min(Math.max(Math.trunc(v), 0), 2 ** 32 - 256);
  }
}

function castPlan(from: DType, to: DType, size: number): KernelPlan {
  const params = new Params().u32("size", size);
  const usesF16 = from === "f16" || to === "f16";
  return {
    key: `cast_${from}_${to}`,
    wgsl: () =>
      [
        usesF16 ? "enable f16;" : "",
        params.struct(),
        `@group(0) @binding(1) var<storage, read> x: array<${wgslType(from)}>;`,
        `@group(0) @binding(2) var<storage, read_write> y: array<${wgslType(to)}>;`,
        linearMain(WORKGROUP_SIZE),
        "  if (index >= p.size) { return; }",
        // WGSL conversions: float → int rounds toward zero and saturates; i32 ↔ u32 keeps the bits
        `  y[index] = ${wgslType(to)}(x[index]);`,
        "}",
      ].join("\n"),
    params: params.pack(),
    workgroups: linearGrid(size, WORKGROUP_SIZE),
  };
}

/**
 * Element type conversion, like `x.to(dtype)` in PyTorch: f32 ↔ f16 rounds to nearest, float →
 * integer truncates toward zero (out-of-range values saturate, as WGSL defines, at the largest floats
 * inside the integer range: 2³¹ − 128 and 2³² − 256), i32 ↔ u32 keeps the bits. Gradient (float → float only): dy cast back to x's dtype; none through integer casts.
 */
export const castOp: OpDef<CastAttrs> = {
  name: "cast",
  check([x], attrs) {
    if (!DTYPES.includes(attrs.dtype)) {
      throw new DTypeError(
        "cast",
        [x.dtype, String(attrs.dtype)],
        `Cannot cast ${x.dtype} to ${attrs.dtype}: the dtypes are ${DTYPES.join(", ")}`,
      );
    }
    return { shape: [...x.shape], dtype: attrs.dtype };
  },
  kernel([x], attrs, _output, context) {
    if ((x.dtype === "f16" || attrs.dtype === "f16") && !context.hasF16) throw f16Missing(x.dtype, attrs.dtype);
    return castPlan(x.dtype, attrs.dtype, sizeOf(x.shape));
  },
  reference([x], attrs) {
    return { shape: [...x.shape], dtype: attrs.dtype, data: x.data.map((v) => castValue(v, x.dtype, attrs.dtype)) };
  },
  backward: ({ inputs, output, dy }) => {
    const from = inputs[0].dtype;
    if (!isFloat(from) || !isFloat(output.dtype)) return [null];
    return [cast(dy, from)];
  },
  saves: { inputs: false, output: false },
};

function f16Missing(from: DType, to: DType): DTypeError {
  return new DTypeError("cast", [from, to], `Cannot cast ${from} to ${to}: shader-f16 is not enabled on this device`);
}

/**
 * Converts a tensor to another dtype (always a new tensor, also for the same dtype).
 * Gradient: float → float casts pass dy back cast to x's dtype; integer casts pass none.
 *
 * @example
 * ```ts
 * const x = tensor([-1.7, 2.5, 3.9]);
 * await cast(x, "i32").toArray(); // Int32Array [-1, 2, 3]
 * const half = cast(x, "f16");    // needs the shader-f16 feature
 * ```
 */
export function cast(x: Tensor, dtype: DType): Tensor {
  if ((x.dtype === "f16" || dtype === "f16") && !x.device.hasF16) throw f16Missing(x.dtype, dtype);
  return runOp(castOp, [x], { dtype });
}

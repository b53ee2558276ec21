import { ShapeError } from "../../tensor/errors.ts";
import { type HostTensor, hostZeros } from "../../tensor/host_tensor.ts";
import { formatShape } from "../../tensor/shape.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import type { OpDef, TensorSpec } from "../op_def.ts";
import { runOp } from "../run_op.ts";
import { copyRunLength } from "../movement/strided_copy_kernel.ts";
import { resizeAdjointPlan, type ResizeGeometry, resizePlan } from "./resize_kernel.ts";
import { checkResizeInput, type InterpolateOptions, type ResizeAttrs, resolveResize } from "./resize_options.ts";
import { axisTaps, type Taps } from "./resize_taps.ts";

/** The gradient of a resize also needs the input's spatial size. */
export interface ResizeGradAttrs extends ResizeAttrs {
  inH: number;
  inW: number;
}

function geometry(shape: readonly number[], attrs: ResizeAttrs, inH = shape[2], inW = shape[3]): ResizeGeometry {
  return { ...attrs, planes: shape[0] * shape[1], inH, inW };
}

/** The taps of every output coordinate on one axis. */
function allTaps(attrs: ResizeAttrs, inSize: number, outSize: number, scale: number): Taps[] {
  return Array.from({ length: outSize }, (_, o) => axisTaps(attrs.mode, o, inSize, outSize, scale, attrs.alignCorners));
}

/** Calls `visit(plane, outIndex, inIndex, weight)` for every tap of every output pixel. */
function forEachTap(g: ResizeGeometry, visit: (plane: number, outIndex: number, inIndex: number, weight: number) => void): void {
  const rows = allTaps(g, g.inH, g.outH, g.scaleH);
  const cols = allTaps(g, g.inW, g.outW, g.scaleW);
  for (let plane = 0; plane < g.planes; plane++) {
    for (let oy = 0; oy < g.outH; oy++) {
      for (let ox = 0; ox < g.outW; ox++) {
        const outIndex = (plane * g.outH + oy) * g.outW + ox;
        rows[oy].index.forEach((iy, j) => {
          cols[ox].index.forEach((ix, i) => {
            visit(plane, outIndex, (plane * g.inH + iy) * g.inW + ix, rows[oy].weight[j] * cols[ox].weight[i]);
          });
        });
      }
    }
  }
}

/**
 * NCHW resize with PyTorch's `interpolate` semantics (nearest, nearest-exact, bilinear, bicubic
 * A = −0.75; half-pixel centres or aligned corners; border taps clamped; no antialias):
 * y[n, c, oy, ox] = Σⱼ Σᵢ wyⱼ(oy)·wxᵢ(ox)·x[n, c, iyⱼ(oy), ixᵢ(ox)].
 * Gradient: the adjoint, dx[iy, ix] = Σ over outputs reading (iy, ix) of wy·wx·dy (`resizeGradOp`).
 */
export const resizeOp: OpDef<ResizeAttrs> = {
  name: "interpolate",
  check([x], attrs) {
    checkResizeInput("interpolate", x);
    return { shape: [x.shape[0], x.shape[1], attrs.outH, attrs.outW], dtype: x.dtype };
  },
  kernel([x], attrs, _output, context) {
    return resizePlan(x.dtype, geometry(x.shape, attrs), copyRunLength(context));
  },
  reference([x], attrs) {
    const out = hostZeros([x.shape[0], x.shape[1], attrs.outH, attrs.outW], x.dtype);
    forEachTap(geometry(x.shape, attrs), (_, o, i, w) => (out.data[o] += w * x.data[i]));
    return out;
  },
  backward: ({ inputs, dy, attrs }) => [resizeGrad(dy, { ...attrs, inH: inputs[0].shape[2], inW: inputs[0].shape[3] })],
  saves: { inputs: false, output: false },
};

function checkGrad(dy: TensorSpec, attrs: ResizeGradAttrs): TensorSpec {
  checkResizeInput("interpolateGrad", dy);
  if (dy.shape[2] !== attrs.outH || dy.shape[3] !== attrs.outW) {
    throw new ShapeError(
      "interpolateGrad",
      [dy.shape],
      `Cannot run interpolateGrad on dy ${formatShape(dy.shape)}: the resize made ${attrs.outH}×${attrs.outW}`,
    );
  }
  return { shape: [dy.shape[0], dy.shape[1], attrs.inH, attrs.inW], dtype: dy.dtype };
}

/**
 * The gradient of `resizeOp`: dx = Rᵀ·dy, computed separably in two gather-form passes (along
 * the width into an f32 scratch [N·C, outH, inW], then along the height), with no atomics.
 */
export const resizeGradOp: OpDef<ResizeGradAttrs> = {
  name: "interpolateGrad",
  check([dy], attrs) {
    return checkGrad(dy, attrs);
  },
  kernel([dy], attrs) {
    const planes = dy.shape[0] * dy.shape[1];
    const common = { mode: attrs.mode, alignCorners: attrs.alignCorners };
    return {
      temps: [planes * attrs.outH * attrs.inW * 4],
      passes: [
        resizeAdjointPlan({
          ...common,
          outer: planes * attrs.outH,
          inner: 1,
          inSize: attrs.inW,
          outSize: attrs.outW,
          scale: attrs.scaleW,
          srcType: dy.dtype,
          dstType: "f32",
          source: { input: 0 },
          target: { temp: 0 },
        }),
        resizeAdjointPlan({
          ...common,
          outer: planes,
          inner: attrs.inW,
          inSize: attrs.inH,
          outSize: attrs.outH,
          scale: attrs.scaleH,
          srcType: "f32",
          dstType: dy.dtype,
          source: { temp: 0 },
          target: "output",
        }),
      ],
    };
  },
  reference([dy], attrs) {
    const spec = checkGrad(dy, attrs);
    const out: HostTensor = hostZeros(spec.shape, dy.dtype);
    forEachTap(geometry(dy.shape, attrs, attrs.inH, attrs.inW), (_, o, i, w) => (out.data[i] += w * dy.data[o]));
    return out;
  },
  backward: "notDifferentiable",
};

/**
 * Resizes an NCHW image batch like `torch.nn.functional.interpolate` (antialias off): modes
 * "nearest" (PyTorch's default: src = ⌊dst · in/out⌋), "nearest-exact", "bilinear" and "bicubic"
 * (Keys A = −0.75, taps clamped at the border), with half-pixel centres unless `alignCorners`.
 * A `scaleFactor` maps coordinates by 1/scaleFactor, as PyTorch does.
 * Gradient: the adjoint of the resampling (each input pixel sums the weighted dy of the outputs
 * that read it).
 *
 * @example
 * ```ts
 * const image = zeros([1, 3, 512, 512]);
 * interpolate(image, { size: [224, 224], mode: "bicubic" }).shape; // [1, 3, 224, 224]
 * ```
 */
export function interpolate(x: Tensor, options: InterpolateOptions): Tensor {
  checkResizeInput("interpolate", x);
  return runOp(resizeOp, [x], resolveResize("interpolate", x.shape, options));
}

/**
 * Nearest-neighbour upsampling (PyTorch's `mode="nearest"`), as in the UNet's `Upsample2D`:
 * by `scaleFactor` (e.g. 2) or to an explicit `size`. Gradient: each input pixel sums dy over the
 * output pixels copied from it.
 *
 * @example
 * ```ts
 * upsampleNearest(zeros([2, 320, 8, 8]), { scaleFactor: 2 }).shape; // [2, 320, 16, 16]
 * ```
 */
export function upsampleNearest(
  x: Tensor,
  options: { scaleFactor: number | readonly [number, number] } | { size: number | readonly [number, number] },
): Tensor {
  return interpolate(x, { ...options, mode: "nearest" });
}

/**
 * The gradient of a resize as an op: dy [N, C, outH, outW] → dx [N, C, inH, inW].
 *
 * @example
 * ```ts
 * const attrs = { ...resolveResize("interpolate", [1, 1, 4, 4], { scaleFactor: 2 }), inH: 4, inW: 4 };
 * resizeGrad(ones([1, 1, 8, 8]), attrs).shape; // [1, 1, 4, 4], every value 4
 * ```
 */
export function resizeGrad(dy: Tensor, attrs: ResizeGradAttrs): Tensor {
  return runOp(resizeGradOp, [dy], attrs);
}

import { DTypeError, ShapeError } from "../../tensor/errors.ts";
import { isFloat } from "../../tensor/dtype.ts";
import { formatShape } from "../../tensor/shape.ts";
import type { TensorSpec } from "../op_def.ts";

/** PyTorch's `interpolate` modes that are implemented (`nearest` is PyTorch's legacy nearest). */
export type ResizeMode = "nearest" | "nearest-exact" | "bilinear" | "bicubic";

const MODES: readonly ResizeMode[] = ["nearest", "nearest-exact", "bilinear", "bicubic"];

/** What a user passes, as in `torch.nn.functional.interpolate` (camelCase). */
export interface InterpolateOptions {
  /** Output [height, width] (or one number for both). Give this or `scaleFactor`. */
  size?: number | readonly [number, number];
  /** Output = ⌊input · scaleFactor⌋ per axis. Give this or `size`. */
  scaleFactor?: number | readonly [number, number];
  /** Default "nearest", like PyTorch. */
  mode?: ResizeMode;
  /** bilinear/bicubic only: map corner centres onto corner centres. Default false. */
  alignCorners?: boolean;
  /** With `scaleFactor`: map coordinates by in/out instead of 1/scaleFactor. Default false. */
  recomputeScaleFactor?: boolean;
  /** Not implemented: true throws (PyTorch's default is false). */
  antialias?: boolean;
}

/**
 * The resolved resize: output size and, per axis, the float32 source scale PyTorch maps output
 * coordinates with (`area_pixel_compute_scale` / `compute_scales_value`).
 */
export interface ResizeAttrs {
  mode: ResizeMode;
  alignCorners: boolean;
  outH: number;
  outW: number;
  /** Source pixels per output pixel, already rounded to f32 as PyTorch computes it. */
  scaleH: number;
  scaleW: number;
}

function pair(value: number | readonly [number, number]): [number, number] {
  return typeof value === "number" ? [value, value] : [value[0], value[1]];
}

/** PyTorch's source scale for one axis, rounded to f32 like its `float` arithmetic. */
function axisScale(inSize: number, outSize: number, mode: ResizeMode, alignCorners: boolean, scaleFactor: number | undefined): number {
  if (alignCorners && (mode === "bilinear" || mode === "bicubic")) {
    return outSize > 1 ? Math.fround((inSize - 1) / (outSize - 1)) : 0;
  }
  if (scaleFactor !== undefined && scaleFactor > 0) return Math.fround(1 / scaleFactor);
  return Math.fround(inSize / outSize);
}

/** Checks x is a float NCHW tensor. */
export function checkResizeInput(op: string, x: TensorSpec): void {
  if (x.shape.length !== 4) {
    throw new ShapeError(op, [x.shape], `Cannot ${op} a tensor of shape ${formatShape(x.shape)}: it must be NCHW (rank 4)`);
  }
  if (!isFloat(x.dtype)) throw new DTypeError(op, [x.dtype], `Cannot ${op} a ${x.dtype} tensor: it must be f32 or f16`);
}

/**
 * Turns `interpolate` options into explicit attributes for an NCHW input, following PyTorch 1.13+:
 * the output size is `size` or ⌊in · scaleFactor⌋; coordinates map with (in−1)/(out−1) under
 * alignCorners, else with 1/scaleFactor when a factor is given (unless recomputeScaleFactor), else
 * in/out.
 */
export function resolveResize(op: string, inShape: readonly number[], options: InterpolateOptions): ResizeAttrs {
  const mode = options.mode ?? "nearest";
  const describe = `Cannot ${op} ${formatShape(inShape)} with ${JSON.stringify(options)}`;
  if (!MODES.includes(mode)) throw new TypeError(`${describe}: mode "${mode}" is not one of ${MODES.join(", ")}`);
  if (options.antialias) throw new TypeError(`${describe}: antialias is not implemented`);
  if (options.alignCorners && (mode === "nearest" || mode === "nearest-exact")) {
    throw new TypeError(`${describe}: alignCorners only applies to bilinear and bicubic`);
  }
  if ((options.size === undefined) === (options.scaleFactor === undefined)) {
    throw new TypeError(`${describe}: give exactly one of size and scaleFactor`);
  }
  const [inH, inW] = [inShape[2], inShape[3]];
  let outH: number;
  let outW: number;
  let factors: [number | undefined, number | undefined] = [undefined, undefined];
  if (options.size !== undefined) {
    [outH, outW] = pair(options.size);
  } else {
    const [fh, fw] = pair(options.scaleFactor!);
    if (!(fh > 0 && fw > 0)) throw new TypeError(`${describe}: scale factors must be positive`);
    outH = Math.floor(inH * fh);
    outW = Math.floor(inW * fw);
    if (!options.recomputeScaleFactor) factors = [fh, fw];
  }
  if (![outH, outW].every((size) => Number.isInteger(size) && size > 0) || inH === 0 || inW === 0) {
    throw new ShapeError(op, [inShape], `${describe}: input and output sizes must be positive integers, got output ${outH}×${outW}`);
  }
  const alignCorners = options.alignCorners ?? false;
  return {
    mode,
    alignCorners,
    outH,
    outW,
    scaleH: axisScale(inH, outH, mode, alignCorners, factors[0]),
    scaleW: axisScale(inW, outW, mode, alignCorners, factors[1]),
  };
}

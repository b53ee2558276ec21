import type { TensorSpec } from "../op_def.ts";
import { DTypeError, ShapeError } from "../../tensor/errors.ts";
import { formatShape } from "../../tensor/shape.ts";
import { Params } from "../../wgsl/params.ts";

type Pair = number | readonly [number, number];

/** torch.nn.functional.conv2d's keyword arguments. */
export interface Conv2dOptions {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  groups?: number;
}

/** Everything a convolution kernel needs to know, resolved to numbers. */
export interface Conv2dGeometry {
  batch: number;
  inChannels: number;
  height: number;
  width: number;
  outChannels: number;
  outHeight: number;
  outWidth: number;
  kernelHeight: number;
  kernelWidth: number;
  strideH: number;
  strideW: number;
  padH: number;
  padW: number;
  dilationH: number;
  dilationW: number;
  groups: number;
}

/** Attributes of the conv2d op (and of its gradient ops). */
export interface Conv2dAttrs {
  stride: [number, number];
  padding: [number, number];
  dilation: [number, number];
  groups: number;
  hasBias: boolean;
}

function pair(value: Pair | undefined, fallback: number): [number, number] {
  if (value === undefined) return [fallback, fallback];
  return typeof value === "number" ? [value, value] : [value[0], value[1]];
}

export function conv2dAttrs(options: Conv2dOptions, hasBias: boolean): Conv2dAttrs {
  return {
    stride: pair(options.stride, 1),
    padding: pair(options.padding, 0),
    dilation: pair(options.dilation, 1),
    groups: options.groups ?? 1,
    hasBias,
  };
}

/** Checks x [N, Cin, H, W] against weight [Cout, Cin/groups, kH, kW] and resolves the output size. */
export function conv2dGeometry(op: string, x: TensorSpec, weight: TensorSpec, attrs: Conv2dAttrs, bias?: TensorSpec): Conv2dGeometry {
  const shapes = [x.shape, weight.shape, ...(bias ? [bias.shape] : [])];
  if (x.shape.length !== 4 || weight.shape.length !== 4) {
    throw new ShapeError(
      op,
      shapes,
      `Cannot ${op} ${formatShape(x.shape)} with weight ${formatShape(weight.shape)}: both must be 4-D (NCHW input, [out, in/groups, kH, kW] weight)`,
    );
  }
  if (x.dtype !== weight.dtype || (bias && bias.dtype !== x.dtype)) {
    throw new DTypeError(op, [x.dtype, weight.dtype], `Cannot ${op} ${x.dtype} input with ${weight.dtype} weight: dtypes must match`);
  }
  if (x.dtype !== "f32" && x.dtype !== "f16") throw new DTypeError(op, [x.dtype], `Cannot ${op} ${x.dtype} tensors: it needs f32 or f16`);
  const [batch, inChannels, height, width] = x.shape;
  const [outChannels, perGroup, kernelHeight, kernelWidth] = weight.shape;
  const { groups } = attrs;
  if (!Number.isInteger(groups) || groups < 1 || inChannels % groups !== 0 || outChannels % groups !== 0) {
    throw new ShapeError(
      op,
      shapes,
      `Cannot ${op} with groups=${groups}: input channels ${inChannels} and output channels ${outChannels} must both be divisible by it`,
    );
  }
  if (perGroup !== inChannels / groups) {
    throw new ShapeError(
      op,
      shapes,
      `Cannot ${op} ${formatShape(x.shape)} with weight ${formatShape(weight.shape)}: the weight expects ${perGroup * groups} input channels, the input has ${inChannels}`,
    );
  }
  if (bias && (bias.shape.length !== 1 || bias.shape[0] !== outChannels)) {
    throw new ShapeError(op, shapes, `Cannot ${op} with bias ${formatShape(bias.shape)}: expected [${outChannels}]`);
  }
  const [strideH, strideW] = attrs.stride;
  const [padH, padW] = attrs.padding;
  const [dilationH, dilationW] = attrs.dilation;
  if (
    [strideH, strideW, dilationH, dilationW].some((v) => !Number.isInteger(v) || v < 1) ||
    [padH, padW].some((v) => !Number.isInteger(v) || v < 0)
  ) {
    throw new ShapeError(
      op,
      shapes,
      `Cannot ${op} with stride ${attrs.stride}, padding ${attrs.padding}, dilation ${attrs.dilation}: strides and dilations must be positive integers, paddings non-negative`,
    );
  }
  const outHeight = Math.floor((height + 2 * padH - dilationH * (kernelHeight - 1) - 1) / strideH) + 1;
  const outWidth = Math.floor((width + 2 * padW - dilationW * (kernelWidth - 1) - 1) / strideW) + 1;
  if (outHeight < 1 || outWidth < 1) {
    throw new ShapeError(
      op,
      shapes,
      `Cannot ${op} ${formatShape(x.shape)} with a ${kernelHeight}×${kernelWidth} kernel: the padded input is smaller than the dilated kernel`,
    );
  }
  return {
    batch,
    inChannels,
    height,
    width,
    outChannels,
    outHeight,
    outWidth,
    kernelHeight,
    kernelWidth,
    strideH,
    strideW,
    padH,
    padW,
    dilationH,
    dilationW,
    groups,
  };
}

/** The geometry as kernel parameters (same field names in WGSL). */
export function geometryParams(g: Conv2dGeometry): Params {
  return new Params()
    .u32("batch", g.batch)
    .u32("in_channels", g.inChannels)
    .u32("height", g.height)
    .u32("width", g.width)
    .u32("out_channels", g.outChannels)
    .u32("out_height", g.outHeight)
    .u32("out_width", g.outWidth)
    .u32("kernel_h", g.kernelHeight)
    .u32("kernel_w", g.kernelWidth)
    .i32("stride_h", g.strideH)
    .i32("stride_w", g.strideW)
    .i32("pad_h", g.padH)
    .i32("pad_w", g.padW)
    .i32("dilation_h", g.dilationH)
    .i32("dilation_w", g.dilationW)
    .u32("in_per_group", g.inChannels / g.groups)
    .u32("out_per_group", g.outChannels / g.groups);
}

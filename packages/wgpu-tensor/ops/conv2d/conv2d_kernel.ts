import type { DType } from "../../tensor/dtype.ts";
import { linearGrid, linearMain } from "../../wgsl/grid.ts";
import type { KernelPlan } from "../op_def.ts";
import { type Conv2dGeometry, geometryParams } from "./conv2d_geometry.ts";

const LANES = 64;
/** Output pixels per invocation, strided by the workgroup size so lanes read neighbouring pixels. */
const PIXELS = 4;

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

function header(dtype: DType, structText: string, buffers: [string, "read" | "read_write"][]): string {
  const lines = dtype === "f16" ? ["enable f16;"] : [];
  lines.push(structText);
  buffers.forEach(([name, access], i) => lines.push(`@group(0) @binding(${i + 1}) var<storage, ${access}> ${name}: array<${dtype}>;`));
  return lines.join("\n");
}

/**
 * Direct convolution, register-blocked: each invocation computes `channels` output channels
 * (weights loaded once per tap, the same for every lane: broadcast loads on CPU adapters) at
 * PIXELS output pixels (input loads lane-contiguous). No workgroup memory, no barriers.
 */
export function conv2dForwardPlan(g: Conv2dGeometry, dtype: DType, hasBias: boolean): KernelPlan {
  const outPerGroup = g.outChannels / g.groups;
  const channels = outPerGroup % 4 === 0 ? 4 : 1;
  const params = geometryParams(g);
  const plane = g.outHeight * g.outWidth;
  const key = `conv2d_direct_c${channels}_p${PIXELS}_${dtype}${hasBias ? "_bias" : ""}`;
  const wgsl = () => {
    const buffers: [string, "read" | "read_write"][] = [["x", "read"], ["w", "read"]];
    if (hasBias) buffers.push(["b", "read"]);
    buffers.push(["y", "read_write"]);
    const lines = [header(dtype, params.struct(), buffers)];
    lines.push(`@compute @workgroup_size(${LANES})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let co_blocks = p.out_channels / ${channels}u;
  let n = wid.y / co_blocks;
  let co0 = (wid.y % co_blocks) * ${channels}u;
  let group = co0 / p.out_per_group;
  let plane = p.out_height * p.out_width;
  let area = p.kernel_h * p.kernel_w;`);
    // 1. the output pixels this invocation owns
    for (const k of range(PIXELS)) {
      lines.push(`  let pix${k} = (wid.x * ${PIXELS}u + ${k}u) * ${LANES}u + lid;`);
      lines.push(`  let live${k} = pix${k} < plane;`);
      lines.push(`  let oh${k} = i32(pix${k} / p.out_width) * p.stride_h - p.pad_h;`);
      lines.push(`  let ow${k} = i32(pix${k} % p.out_width) * p.stride_w - p.pad_w;`);
      for (const c of range(channels)) lines.push(`  var acc${c}_${k} = 0.0;`);
    }
    // 2. accumulate over input channels of the group and kernel taps
    lines.push(`  for (var c = 0u; c < p.in_per_group; c++) {
    let x_plane = (n * p.in_channels + group * p.in_per_group + c) * p.height;
    for (var kh = 0u; kh < p.kernel_h; kh++) {
      for (var kw = 0u; kw < p.kernel_w; kw++) {
        let tap = (c * p.kernel_h + kh) * p.kernel_w + kw;
        let dh = i32(kh) * p.dilation_h;
        let dw = i32(kw) * p.dilation_w;`);
    for (const c of range(channels)) lines.push(`        let w${c} = f32(w[(co0 + ${c}u) * p.in_per_group * area + tap]);`);
    for (const k of range(PIXELS)) {
      lines.push(`        let ih${k} = oh${k} + dh;`);
      lines.push(`        let iw${k} = ow${k} + dw;`);
      lines.push(`        let ok${k} = live${k} && ih${k} >= 0 && ih${k} < i32(p.height) && iw${k} >= 0 && iw${k} < i32(p.width);`);
      lines.push(`        let xv${k} = select(0.0, f32(x[select(0u, (x_plane + u32(ih${k})) * p.width + u32(iw${k}), ok${k})]), ok${k});`);
      for (const c of range(channels)) lines.push(`        acc${c}_${k} = fma(w${c}, xv${k}, acc${c}_${k});`);
    }
    lines.push("      }\n    }\n  }");
    // 3. bias and store
    for (const c of range(channels)) {
      const bias = hasBias ? ` + f32(b[co0 + ${c}u])` : "";
      for (const k of range(PIXELS)) {
        lines.push(`  if (live${k}) { y[(n * p.out_channels + co0 + ${c}u) * plane + pix${k}] = ${dtype}(acc${c}_${k}${bias}); }`);
      }
    }
    lines.push("}");
    return lines.join("\n");
  };
  return {
    key,
    wgsl,
    params: params.pack(),
    workgroups: [Math.ceil(plane / (LANES * PIXELS)), g.batch * (g.outChannels / channels), 1],
  };
}

/** ∂L/∂x: one invocation per input element, gathering every (output pixel, tap) that read it. */
export function conv2dGradInputPlan(g: Conv2dGeometry, dtype: DType): KernelPlan {
  const params = geometryParams(g);
  const size = g.batch * g.inChannels * g.height * g.width;
  params.u32("size", size);
  return {
    key: `conv2d_grad_input_${dtype}`,
    wgsl: () => `${header(dtype, params.struct(), [["dy", "read"], ["w", "read"], ["dx", "read_write"]])}
${linearMain(64)}
  if (index >= p.size) { return; }
  let iw = i32(index % p.width);
  let ih = i32((index / p.width) % p.height);
  let ci = (index / (p.width * p.height)) % p.in_channels;
  let n = index / (p.width * p.height * p.in_channels);
  let group = ci / p.in_per_group;
  let c = ci % p.in_per_group;
  let area = p.kernel_h * p.kernel_w;
  var acc = 0.0;
  for (var j = 0u; j < p.out_per_group; j++) {
    let co = group * p.out_per_group + j;
    let dy_plane = (n * p.out_channels + co) * p.out_height;
    let w_base = (co * p.in_per_group + c) * area;
    for (var kh = 0u; kh < p.kernel_h; kh++) {
      let oh_scaled = ih + p.pad_h - i32(kh) * p.dilation_h;
      if (oh_scaled < 0 || oh_scaled % p.stride_h != 0) { continue; }
      let oh = oh_scaled / p.stride_h;
      if (oh >= i32(p.out_height)) { continue; }
      for (var kw = 0u; kw < p.kernel_w; kw++) {
        let ow_scaled = iw + p.pad_w - i32(kw) * p.dilation_w;
        if (ow_scaled < 0 || ow_scaled % p.stride_w != 0) { continue; }
        let ow = ow_scaled / p.stride_w;
        if (ow >= i32(p.out_width)) { continue; }
        acc = fma(f32(w[w_base + kh * p.kernel_w + kw]), f32(dy[(dy_plane + u32(oh)) * p.out_width + u32(ow)]), acc);
      }
    }
  }
  dx[index] = ${dtype}(acc);
}`,
    params: params.pack(),
    workgroups: linearGrid(size, 64),
  };
}

/** ∂L/∂w: one invocation per weight element, summing over the batch and output pixels. */
export function conv2dGradWeightPlan(g: Conv2dGeometry, dtype: DType): KernelPlan {
  const params = geometryParams(g);
  const size = g.outChannels * (g.inChannels / g.groups) * g.kernelHeight * g.kernelWidth;
  params.u32("size", size);
  return {
    key: `conv2d_grad_weight_${dtype}`,
    wgsl: () => `${header(dtype, params.struct(), [["dy", "read"], ["x", "read"], ["dw", "read_write"]])}
${linearMain(64)}
  if (index >= p.size) { return; }
  let kw = index % p.kernel_w;
  let kh = (index / p.kernel_w) % p.kernel_h;
  let c = (index / (p.kernel_w * p.kernel_h)) % p.in_per_group;
  let co = index / (p.kernel_w * p.kernel_h * p.in_per_group);
  let ci = (co / p.out_per_group) * p.in_per_group + c;
  var acc = 0.0;
  for (var n = 0u; n < p.batch; n++) {
    let dy_plane = (n * p.out_channels + co) * p.out_height;
    let x_plane = (n * p.in_channels + ci) * p.height;
    for (var oh = 0u; oh < p.out_height; oh++) {
      let ih = i32(oh) * p.stride_h - p.pad_h + i32(kh) * p.dilation_h;
      if (ih < 0 || ih >= i32(p.height)) { continue; }
      for (var ow = 0u; ow < p.out_width; ow++) {
        let iw = i32(ow) * p.stride_w - p.pad_w + i32(kw) * p.dilation_w;
        if (iw < 0 || iw >= i32(p.width)) { continue; }
        acc = fma(f32(dy[(dy_plane + oh) * p.out_width + ow]), f32(x[(x_plane + u32(ih)) * p.width + u32(iw)]), acc);
      }
    }
  }
  dw[index] = ${dtype}(acc);
}`,
    params: params.pack(),
    workgroups: linearGrid(size, 64),
  };
}

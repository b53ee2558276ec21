import type { DType } from "../../tensor/dtype.ts";
import { Params } from "../../wgsl/params.ts";
import type { KernelContext, KernelPlan } from "../op_def.ts";
import type { Conv2dGeometry } from "./conv2d_geometry.ts";
import {
  type Blocking,
  blockingKey,
  chooseBlocking,
  COLS,
  entry,
  header,
  LANES,
  reductionLoop,
  rowsPerGroup,
  storeBlock,
} from "./conv2d_wgsl.ts";

// The three convolution kernels are implicit GEMMs (no im2col buffer) on one register-blocked
// skeleton (conv2d_wgsl.ts). Each names its rows, columns and reduction:
//   forward      rows = output channels of a group, columns = output pixels, k = (tap, input channel)
//   grad input   rows = input channels of a group,  columns = input pixels,  k = (tap, output channel)
//   grad weight  rows = output channels of a group, columns = (input channel, tap), k = (batch, output pixel)
// and the z dimension of the grid runs over (batch, group), or groups alone for the weight gradient.

const MAX_GROUPS = 65535;

/** Sizes and options as kernel parameters; the shaders compute in u32, with i32 for offsets. */
function convParams(g: Conv2dGeometry): Params {
  return new Params()
    .u32("n", g.batch)
    .u32("cin", g.inChannels)
    .u32("h", g.height)
    .u32("w", g.width)
    .u32("cout", g.outChannels)
    .u32("oh", g.outHeight)
    .u32("ow", g.outWidth)
    .u32("kw", g.kernelWidth)
    .u32("taps", g.kernelHeight * g.kernelWidth)
    .u32("sh", g.strideH)
    .u32("sw", g.strideW)
    .u32("ph", g.padH)
    .u32("pw", g.padW)
    .u32("dh", g.dilationH)
    .u32("dw", g.dilationW)
    .u32("groups", g.groups)
    .u32("cig", g.inChannels / g.groups)
    .u32("cog", g.outChannels / g.groups);
}

function grid(columns: number, rows: number, z: number, blocking: Blocking, op: string): [number, number, number] {
  const result: [number, number, number] = [Math.ceil(columns / (LANES * COLS)), Math.ceil(rows / rowsPerGroup(blocking)), z];
  if (result.some((count) => count > MAX_GROUPS)) {
    throw new RangeError(`Cannot run ${op}: its grid needs ${result.join("×")} workgroups, at most ${MAX_GROUPS} per dimension`);
  }
  return result;
}

/** Lines locating this workgroup's batch entry `bn` and group `g`, and the plane sizes. */
const batchAndGroup = ["  let bn = wid.z / p.groups;", "  let g = wid.z % p.groups;", "  let hw = p.h * p.w;", "  let ohw = p.oh * p.ow;"];

/** y[n, co, oy, ox] = bias[co] + Σ_{tap, ci} w[co, ci, tap]·x[n, g·cig + ci, oy·s − p + ky·d, ox·s − p + kx·d]. */
export function conv2dForwardPlan(g: Conv2dGeometry, dtype: DType, hasBias: boolean, context: KernelContext): KernelPlan {
  const blocking = chooseBlocking(context, g.outHeight * g.outWidth);
  const params = convParams(g);
  const key = `conv2d_${blockingKey(blocking)}_${dtype}${hasBias ? "_bias" : ""}`;
  const wgsl = () => {
    const lines = header(dtype, blocking, params.struct(), ["x", "wt", ...(hasBias ? ["bias"] : []), "y"]);
    lines.push(...entry(blocking), ...batchAndGroup);
    lines.push("  let xBase = (bn * p.cin + g * p.cig) * hw;", "  let yBase = (bn * p.cout + g * p.cog) * ohw;");
    for (let r = 0; r < blocking.rows; r++) lines.push(`  let wRow${r} = (g * p.cog + min(row0 + ${r}u, p.cog - 1u)) * p.cig * p.taps;`);
    for (let c = 0; c < COLS; c++) {
      lines.push(`  let pix${c} = min(col${c}, ohw - 1u);`);
      lines.push(`  let iy0_${c} = i32(pix${c} / p.ow * p.sh) - i32(p.ph);`, `  let ix0_${c} = i32(pix${c} % p.ow * p.sw) - i32(p.pw);`);
    }
    lines.push("  for (var tap = 0u; tap < p.taps; tap++) {", "    let ky = tap / p.kw;", "    let kx = tap % p.kw;");
    for (let c = 0; c < COLS; c++) {
      lines.push(`    let iy${c} = iy0_${c} + i32(ky * p.dh);`, `    let ix${c} = ix0_${c} + i32(kx * p.dw);`);
      lines.push(`    let ok${c} = iy${c} >= 0 && iy${c} < i32(p.h) && ix${c} >= 0 && ix${c} < i32(p.w);`);
      lines.push(`    let xo${c} = xBase + select(0u, u32(iy${c}) * p.w + u32(ix${c}), ok${c});`);
    }
    lines.push(
      ...reductionLoop(blocking, {
        count: "p.cig",
        a: (r, k) => `f32(wt[wRow${r} + (${k}) * p.taps + tap])`,
        b: (c, k) => `select(0.0, f32(x[xo${c} + (${k}) * hw]), ok${c})`,
        indent: "    ",
      }),
    );
    lines.push("  }");
    const bias = hasBias ? (r: number) => `f32(bias[g * p.cog + min(row0 + ${r}u, p.cog - 1u)])` : null;
    lines.push(...storeBlock(blocking, dtype, "p.cog", "ohw", (r, c) => `yBase + (row0 + ${r}u) * ohw + col${c}`, bias), "}");
    return lines.join("\n");
  };
  const workgroups = grid(g.outHeight * g.outWidth, g.outChannels / g.groups, g.batch * g.groups, blocking, "conv2d");
  return { key, wgsl, params: params.pack(), workgroups };
}

/**
 * dx[n, ci, iy, ix] = Σ_{tap, co} w[co, ci, tap]·dy[n, co, oy, ox] over the (tap, oy, ox) with
 * oy·s − p + ky·d = iy (and the same along x): the adjoint of the forward gather.
 */
export function conv2dGradInputPlan(g: Conv2dGeometry, dtype: DType, context: KernelContext): KernelPlan {
  const blocking = chooseBlocking(context, g.height * g.width);
  const params = convParams(g);
  const key = `conv2d_grad_input_${blockingKey(blocking)}_${dtype}`;
  const wgsl = () => {
    const lines = header(dtype, blocking, params.struct(), ["dy", "wt", "y"]);
    lines.push(...entry(blocking), ...batchAndGroup);
    lines.push(
      "  let dyBase = (bn * p.cout + g * p.cog) * ohw;",
      "  let dxBase = (bn * p.cin + g * p.cig) * hw;",
      "  let wStride = p.cig * p.taps;",
    );
    for (let r = 0; r < blocking.rows; r++) lines.push(`  let wCol${r} = g * p.cog * wStride + min(row0 + ${r}u, p.cig - 1u) * p.taps;`);
    for (let c = 0; c < COLS; c++) {
      lines.push(`  let pix${c} = min(col${c}, hw - 1u);`);
      lines.push(`  let iy${c} = i32(pix${c} / p.w + p.ph);`, `  let ix${c} = i32(pix${c} % p.w + p.pw);`);
    }
    lines.push("  for (var tap = 0u; tap < p.taps; tap++) {", "    let ky = tap / p.kw;", "    let kx = tap % p.kw;");
    for (let c = 0; c < COLS; c++) {
      // the output pixel that read this input pixel through this tap, if any
      lines.push(`    let ny${c} = iy${c} - i32(ky * p.dh);`, `    let nx${c} = ix${c} - i32(kx * p.dw);`);
      lines.push(
        `    let ok${c} = ny${c} >= 0 && nx${c} >= 0 && u32(ny${c}) % p.sh == 0u && u32(nx${c}) % p.sw == 0u && u32(ny${c}) / p.sh < p.oh && u32(nx${c}) / p.sw < p.ow;`,
      );
      lines.push(`    let yo${c} = dyBase + select(0u, u32(ny${c}) / p.sh * p.ow + u32(nx${c}) / p.sw, ok${c});`);
    }
    lines.push(
      ...reductionLoop(blocking, {
        count: "p.cog",
        a: (r, k) => `f32(wt[wCol${r} + (${k}) * wStride + tap])`,
        b: (c, k) => `select(0.0, f32(dy[yo${c} + (${k}) * ohw]), ok${c})`,
        indent: "    ",
      }),
    );
    lines.push("  }");
    lines.push(...storeBlock(blocking, dtype, "p.cig", "hw", (r, c) => `dxBase + (row0 + ${r}u) * hw + col${c}`, null), "}");
    return lines.join("\n");
  };
  const workgroups = grid(g.height * g.width, g.inChannels / g.groups, g.batch * g.groups, blocking, "conv2dGradInput");
  return { key, wgsl, params: params.pack(), workgroups };
}

/** dw[co, ci, tap] = Σ_{n, oy, ox} dy[n, co, oy, ox]·x[n, g·cig + ci, oy·s − p + ky·d, ox·s − p + kx·d]. */
export function conv2dGradWeightPlan(g: Conv2dGeometry, dtype: DType, context: KernelContext): KernelPlan {
  const cols = (g.inChannels / g.groups) * g.kernelHeight * g.kernelWidth;
  const blocking = chooseBlocking(context, cols);
  const params = convParams(g);
  const key = `conv2d_grad_weight_${blockingKey(blocking)}_${dtype}`;
  const wgsl = () => {
    const lines = header(dtype, blocking, params.struct(), ["dy", "x", "y"]);
    lines.push(...entry(blocking));
    lines.push("  let g = wid.z;", "  let hw = p.h * p.w;", "  let ohw = p.oh * p.ow;", "  let cols = p.cig * p.taps;");
    for (let c = 0; c < COLS; c++) {
      lines.push(`  let q${c} = min(col${c}, cols - 1u);`, `  let ci${c} = q${c} / p.taps;`, `  let tap${c} = q${c} % p.taps;`);
      lines.push(`  let offY${c} = i32(tap${c} / p.kw * p.dh) - i32(p.ph);`, `  let offX${c} = i32(tap${c} % p.kw * p.dw) - i32(p.pw);`);
    }
    lines.push("  for (var bn = 0u; bn < p.n; bn++) {", "    let xPlane = (bn * p.cin + g * p.cig) * hw;");
    for (let r = 0; r < blocking.rows; r++)
      lines.push(`    let dyRow${r} = (bn * p.cout + g * p.cog + min(row0 + ${r}u, p.cog - 1u)) * ohw;`);
    lines.push("    for (var oy = 0u; oy < p.oh; oy++) {", "      let dyOff = oy * p.ow;");
    for (let c = 0; c < COLS; c++) {
      lines.push(`      let iy${c} = i32(oy * p.sh) + offY${c};`);
      lines.push(`      let okY${c} = iy${c} >= 0 && iy${c} < i32(p.h);`);
      lines.push(`      let xRow${c} = xPlane + ci${c} * hw + select(0u, u32(iy${c}) * p.w, okY${c});`);
    }
    const ix = (c: number, k: string) => `i32((${k}) * p.sw) + offX${c}`;
    lines.push(
      ...reductionLoop(blocking, {
        count: "p.ow",
        a: (r, k) => `f32(dy[dyRow${r} + dyOff + (${k})])`,
        b: (c, k) =>
          `select(0.0, f32(x[xRow${c} + u32(clamp(${ix(c, k)}, 0, i32(p.w) - 1))]), okY${c} && ${ix(c, k)} >= 0 && ${ix(c, k)} < i32(p.w))`,
        indent: "      ",
      }),
    );
    lines.push("    }", "  }");
    lines.push(...storeBlock(blocking, dtype, "p.cog", "cols", (r, c) => `(g * p.cog + row0 + ${r}u) * cols + col${c}`, null), "}");
    return lines.join("\n");
  };
  const workgroups = grid(cols, g.outChannels / g.groups, g.groups, blocking, "conv2dGradWeight");
  return { key, wgsl, params: params.pack(), workgroups };
}

import { Params } from "../../wgsl/params.ts";
import type { KernelPlan, KernelProgram } from "../op_def.ts";
import { activationHelpers, epilogueKey, epilogueWgsl } from "./matmul_epilogue.ts";
import type { MatmulKernelSpec } from "./matmul_kernel_cpu.ts";
import { addBatchParams, batchOffsetLines, MAX_GROUPS, splitBatch, storageDecl } from "./matmul_wgsl.ts";

/** Outputs per invocation along each axis, and invocations per workgroup along each axis. */
const BLOCK = 4;
const SIDE = 8;
const TILE = BLOCK * SIDE;

/**
 * The portable matmul kernel: workgroups of 8×8 invocations, each owning a 4×4 block of outputs
 * strided by 8 (so neighbouring invocations read neighbouring addresses), reading both operands
 * through element strides, so one source serves every combination of transposes. No subgroups
 * and no workgroup memory: it runs on any adapter, and is what GPUs and CPU adapters without
 * `subgroups` get.
 */
export function matmulBlockedKernel(spec: MatmulKernelSpec): KernelPlan | KernelProgram {
  const { geometry: g, transposeA, transposeB, dtype, epilogue } = spec;
  const key = `matmul_blocked_${dtype}${epilogueKey(epilogue)}`;
  const groupsX = Math.ceil(g.n / TILE);
  const groupsY = Math.ceil(g.m / TILE);
  if (groupsX > MAX_GROUPS || groupsY > MAX_GROUPS) {
    throw new RangeError(
      `Cannot run matmul of ${g.m}×${g.k} by ${g.k}×${g.n}: the grid needs ${groupsX}×${groupsY} workgroups, at most ${MAX_GROUPS} per dimension`,
    );
  }
  const makeParams = (batch0: number) => {
    const params = new Params().u32("m", g.m).u32("n", g.n).u32("k", g.k).f32("alpha", epilogue.alpha);
    params.u32("sAm", transposeA ? 1 : g.k).u32("sAk", transposeA ? g.m : 1);
    params.u32("sBk", transposeB ? 1 : g.n).u32("sBn", transposeB ? g.k : 1);
    return addBatchParams(params, g, batch0);
  };
  return splitBatch(g.batch, (batch0, count) => ({
    key,
    wgsl: () => blockedSource(spec, makeParams(0)),
    params: makeParams(batch0).pack(),
    workgroups: [groupsX, groupsY, count],
  }));
}

function blockedSource(spec: MatmulKernelSpec, params: Params): string {
  const { dtype, epilogue } = spec;
  const lines: string[] = [];
  if (dtype === "f16") lines.push("enable f16;");
  lines.push(params.struct());
  let binding = 1;
  lines.push(storageDecl(binding++, "a", dtype, false), storageDecl(binding++, "b", dtype, false));
  if (epilogue.hasBias) lines.push(storageDecl(binding++, "bias", dtype, false));
  if (epilogue.hasResidual) lines.push(storageDecl(binding++, "res", dtype, false));
  lines.push(storageDecl(binding, "y", dtype, false, true));
  lines.push(activationHelpers(epilogue.activation));
  lines.push(`@compute @workgroup_size(${SIDE}, ${SIDE})`);
  lines.push("fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {");
  lines.push(...batchOffsetLines());
  // 1. owned rows and columns, clamped for loads
  for (let i = 0; i < BLOCK; i++) {
    lines.push(`  let m${i} = wid.y * ${TILE}u + lid.y + ${SIDE * i}u;`);
    lines.push(`  let aBase${i} = offA + min(m${i}, p.m - 1u) * p.sAm;`);
    lines.push(`  let n${i} = wid.x * ${TILE}u + lid.x + ${SIDE * i}u;`);
    lines.push(`  let bBase${i} = offB + min(n${i}, p.n - 1u) * p.sBn;`);
  }
  for (let i = 0; i < BLOCK; i++) for (let j = 0; j < BLOCK; j++) lines.push(`  var acc${i}_${j} = 0.0;`);
  // 2. the k loop: 4 + 4 loads feed 16 multiply-adds
  lines.push("  for (var k = 0u; k < p.k; k++) {");
  for (let i = 0; i < BLOCK; i++) lines.push(`    let a${i} = f32(a[aBase${i} + k * p.sAk]);`);
  for (let j = 0; j < BLOCK; j++) lines.push(`    let b${j} = f32(b[bBase${j} + k * p.sBk]);`);
  for (let i = 0; i < BLOCK; i++) for (let j = 0; j < BLOCK; j++) lines.push(`    acc${i}_${j} = fma(a${i}, b${j}, acc${i}_${j});`);
  lines.push("  }");
  // 3. epilogue and store
  for (let i = 0; i < BLOCK; i++) {
    for (let j = 0; j < BLOCK; j++) {
      lines.push(`  if (m${i} < p.m && n${j} < p.n) {`);
      lines.push(`    let at = offY + m${i} * p.n + n${j};`);
      lines.push(...epilogueWgsl(epilogue, "o", `acc${i}_${j}`, `f32(bias[n${j}])`, "f32(res[at])").map((line) => `    ${line}`));
      lines.push(`    y[at] = ${dtype}(o);`);
      lines.push("  }");
    }
  }
  lines.push("}");
  return lines.join("\n");
}

// The gradient kernels, flash-attention-2 style: nothing of size Lq×Lk is stored. A statistics
// pass saves per query row lse = log Σ_j exp(s_ij) and delta = rowsum(dO ∘ O); the gradient kernels
// recompute P = exp(s − lse) block by block. dQ owns query rows and streams keys; dK and dV own key
// rows and stream queries, so every accumulator belongs to one invocation and no atomics are needed.
import { type DType, wgslType } from "../../tensor/dtype.ts";
import type { KernelPlan } from "../op_def.ts";
import { type AttentionAttrs, type AttentionDims, attentionParams } from "./attention_dims.ts";
import {
  accumulateBlock,
  type BindingDecl,
  dotBlock,
  GRAD_BLOCKING,
  headCapacity,
  keyOwnedProbabilities,
  keyOwnedStart,
  kernelHeader,
  LANES,
  type Layout,
  loadOwned,
  LOWEST,
  maskAt,
  maxOf,
  ownedArrays,
  queryOwnedScores,
  queryOwnedStart,
  range,
  rowsPerGroup,
  storeOwned,
} from "./attention_wgsl.ts";

/** Which gradient kernel to build. */
export type AttentionGradKind = "stats" | "query" | "key" | "value" | "mask";

/** Storage bindings of each kernel before the optional mask; the output comes last. */
const INPUT_BINDINGS: Record<AttentionGradKind, readonly BindingDecl[]> = {
  stats: [{ name: "q" }, { name: "k" }, { name: "o" }, { name: "dO" }],
  query: [{ name: "q" }, { name: "k" }, { name: "v" }, { name: "dO" }, { name: "stats", type: "f32" }],
  key: [{ name: "q" }, { name: "k" }, { name: "v" }, { name: "dO" }, { name: "stats", type: "f32" }],
  value: [{ name: "q" }, { name: "k" }, { name: "dO" }, { name: "stats", type: "f32" }],
  mask: [{ name: "q" }, { name: "k" }, { name: "v" }, { name: "dO" }, { name: "stats", type: "f32" }],
};

/** One gradient kernel of attention; `dtype` is the inputs' storage type. */
export function attentionGradKernel(kind: AttentionGradKind, dims: AttentionDims, attrs: AttentionAttrs, dtype: DType): KernelPlan {
  const params = attentionParams(dims, attrs);
  const hasMask = dims.maskStrides !== null;
  const layout: Layout = { ...GRAD_BLOCKING, capacity: headCapacity(dims.headSize, dims.valueSize) };
  const output: BindingDecl = { name: "out", isOutput: true, type: kind === "stats" ? "f32" : undefined };
  const bindings = [...INPUT_BINDINGS[kind], ...(hasMask ? [{ name: "mask" }] : []), output];
  const body = {
    stats: () => statsBody(layout, hasMask),
    query: () => queryGradBody(layout, hasMask, dtype),
    key: () => keyGradBody(layout, hasMask, dtype),
    value: () => valueGradBody(layout, hasMask, dtype),
    mask: () => maskGradBody(dtype),
  }[kind];
  const ownedLength = kind === "key" || kind === "value" ? dims.keys : dims.queries;
  const workgroups: [number, number, number] =
    kind === "mask"
      ? [Math.ceil(dims.keys / LANES), dims.queries, dims.batch * dims.heads]
      : [Math.ceil(ownedLength / rowsPerGroup(layout)), dims.heads, dims.batch];
  const capacity = kind === "mask" ? "" : `_c${layout.capacity}`;
  return {
    key: `attention_grad_${kind}_${dtype}${capacity}${hasMask ? "_mask" : ""}`,
    wgsl: () => [kernelHeader(dtype, params, bindings), ...body()].join("\n"),
    params: params.pack(),
    workgroups,
  };
}

/** stats[i] = (lse_i, delta_i): the online softmax's max and sum without the value pass. */
function statsBody(layout: Layout, hasMask: boolean): string[] {
  const rows = range(layout.rows);
  const block = range(layout.block);
  const lines = queryOwnedStart(layout);
  for (const r of rows) lines.push(`  var m${r} = ${LOWEST};`, `  var l${r} = 0.0;`);
  lines.push(`  for (var j0 = 0u; j0 < keyEnd; j0 += ${layout.block}u) {`);
  lines.push(...queryOwnedScores(layout, hasMask));
  for (const r of rows) {
    const weights = block.map((t) => `select(0.0, exp(s${r}_${t} - mNew${r}), ok${r}_${t})`);
    lines.push(`    let mNew${r} = max(m${r}, ${maxOf(block.map((t) => `s${r}_${t}`))});`);
    lines.push(`    l${r} = l${r} * exp(m${r} - mNew${r}) + ${weights.join(" + ")};`);
    lines.push(`    m${r} = mNew${r};`);
  }
  lines.push("  }");
  for (const r of rows) {
    lines.push(`  if (own${r} < p.lq) {`);
    lines.push(`    let row${r} = (bh * p.lq + own${r}) * p.dv;`);
    lines.push(`    var delta${r} = 0.0;`);
    lines.push(`    for (var c = 0u; c < p.dv; c++) { delta${r} = fma(f32(o[row${r} + c]), f32(dO[row${r} + c]), delta${r}); }`);
    lines.push(`    out[(bh * p.lq + own${r}) * 2u] = m${r} + log(l${r});`);
    lines.push(`    out[(bh * p.lq + own${r}) * 2u + 1u] = delta${r};`);
    lines.push("  }");
  }
  lines.push("}");
  return lines;
}

/** dQ_i = scale · Σ_j P_ij (dP_ij − delta_i) K_j, with dP_ij = dO_i · V_j. */
function queryGradBody(layout: Layout, hasMask: boolean, dtype: DType): string[] {
  const clampedRow = (r: number) => `(bh * p.lq + min(own${r}, p.lq - 1u))`;
  const lines = queryOwnedStart(layout);
  lines.push(...loadOwned(layout, "gradRow", "dO", (r) => `${clampedRow(r)} * p.dv`, "p.dv"));
  lines.push(...ownedArrays(layout, "dq"));
  for (const r of range(layout.rows)) {
    lines.push(`  let lse${r} = stats[${clampedRow(r)} * 2u];`);
    lines.push(`  let delta${r} = stats[${clampedRow(r)} * 2u + 1u];`);
  }
  lines.push(`  for (var j0 = 0u; j0 < keyEnd; j0 += ${layout.block}u) {`);
  lines.push(...queryOwnedScores(layout, hasMask));
  lines.push(...dotBlock(layout, "dp", "gradRow", "v", (t) => `(keyBase + key${t}) * p.dv`, "p.dv"));
  for (const r of range(layout.rows)) {
    for (const t of range(layout.block)) {
      lines.push(`    let g${r}_${t} = select(0.0, exp(s${r}_${t} - lse${r}), ok${r}_${t}) * (dp${r}_${t} - delta${r});`);
    }
  }
  lines.push(...accumulateBlock(layout, "dq", "g", "k", (t) => `(keyBase + key${t}) * p.d`, "p.d"));
  lines.push("  }");
  const outRow = (r: number) => `(bh * p.lq + own${r}) * p.d`;
  lines.push(
    ...storeOwned(
      layout,
      "dq",
      { name: "out", dtype },
      outRow,
      "p.d",
      (r) => `own${r} < p.lq`,
      () => "p.scale",
    ),
  );
  lines.push("}");
  return lines;
}

/** dK_j = scale · Σ_i P_ij (dP_ij − delta_i) Q_i. */
function keyGradBody(layout: Layout, hasMask: boolean, dtype: DType): string[] {
  const valueRow = (r: number) => `(bh * p.lk + min(own${r}, p.lk - 1u)) * p.dv`;
  const lines = keyOwnedStart(layout);
  lines.push(...loadOwned(layout, "valueRow", "v", valueRow, "p.dv"));
  lines.push(...ownedArrays(layout, "dk"));
  lines.push(`  for (var i0 = queryStart; i0 < p.lq; i0 += ${layout.block}u) {`);
  lines.push(...keyOwnedProbabilities(layout, hasMask));
  for (const t of range(layout.block)) lines.push(`    let delta${t} = stats[(queryBase + query${t}) * 2u + 1u];`);
  lines.push(...dotBlock(layout, "dp", "valueRow", "dO", (t) => `(queryBase + query${t}) * p.dv`, "p.dv"));
  for (const r of range(layout.rows)) {
    for (const t of range(layout.block)) lines.push(`    let g${r}_${t} = w${r}_${t} * (dp${r}_${t} - delta${t});`);
  }
  lines.push(...accumulateBlock(layout, "dk", "g", "q", (t) => `(queryBase + query${t}) * p.d`, "p.d"));
  lines.push("  }");
  const outRow = (r: number) => `(bh * p.lk + own${r}) * p.d`;
  lines.push(
    ...storeOwned(
      layout,
      "dk",
      { name: "out", dtype },
      outRow,
      "p.d",
      (r) => `own${r} < p.lk`,
      () => "p.scale",
    ),
  );
  lines.push("}");
  return lines;
}

/** dV_j = Σ_i P_ij dO_i. */
function valueGradBody(layout: Layout, hasMask: boolean, dtype: DType): string[] {
  const lines = [...keyOwnedStart(layout), ...ownedArrays(layout, "dv")];
  lines.push(`  for (var i0 = queryStart; i0 < p.lq; i0 += ${layout.block}u) {`);
  lines.push(...keyOwnedProbabilities(layout, hasMask));
  lines.push(...accumulateBlock(layout, "dv", "w", "dO", (t) => `(queryBase + query${t}) * p.dv`, "p.dv"));
  lines.push("  }");
  const outRow = (r: number) => `(bh * p.lk + own${r}) * p.dv`;
  lines.push(
    ...storeOwned(
      layout,
      "dv",
      { name: "out", dtype },
      outRow,
      "p.dv",
      (r) => `own${r} < p.lk`,
      () => "1.0",
    ),
  );
  lines.push("}");
  return lines;
}

/**
 * dMask_ij = P_ij (dP_ij − delta_i): the gradient of the scores, one invocation per (i, j) with
 * lanes along keys. Only run when a mask needs a gradient; it materialises [B, H, Lq, Lk].
 */
function maskGradBody(dtype: DType): string[] {
  return [
    `@compute @workgroup_size(${LANES})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lane: u32) {
  let bh = wid.z;
  let batch = bh / p.heads;
  let head = bh % p.heads;
  let i = wid.y;
  let j = wid.x * ${LANES}u + lane;
  let key = min(j, p.lk - 1u);
  let queryRow = (bh * p.lq + i) * p.d;
  let keyRow = (bh * p.lk + key) * p.d;
  var s = 0.0;
  for (var c = 0u; c < p.d; c++) { s = fma(f32(q[queryRow + c]), f32(k[keyRow + c]), s); }
  s = s * p.scale + ${maskAt("i", "key")};
  let gradRow = (bh * p.lq + i) * p.dv;
  let valueRow = (bh * p.lk + key) * p.dv;
  var dp = 0.0;
  for (var c = 0u; c < p.dv; c++) { dp = fma(f32(dO[gradRow + c]), f32(v[valueRow + c]), dp); }
  let lse = stats[(bh * p.lq + i) * 2u];
  let delta = stats[(bh * p.lq + i) * 2u + 1u];
  if (j < p.lk) { out[(bh * p.lq + i) * p.lk + j] = ${wgslType(dtype)}(exp(s - lse) * (dp - delta)); }
}`,
  ];
}

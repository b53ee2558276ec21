// The gradient kernels, flash-attention-2 style: nothing of size Lq×Lk is stored. A statistics
// pass saves per query row lse = log Σ_j exp(s_ij) and delta = rowsum(dO ∘ O); the gradient kernels
// recompute P = exp(s − lse) block by block. dQ owns query rows and streams keys; dK and dV own key
// rows and stream queries, so every accumulator belongs to one invocation and no atomics are needed.
import type { DType } from "../../tensor/dtype.ts";
import { wgslType } from "../../tensor/dtype.ts";
import type { KernelPlan } from "../op_def.ts";
import { type AttentionAttrs, type AttentionDims, attentionParams, headCapacity } from "./attention_dims.ts";
import {
  accumulateBlock,
  type BindingDecl,
  BLOCK,
  dotBlock,
  kernelHeader,
  LANES,
  loadOwned,
  LOWEST,
  maskAt,
  mainStart,
  maxOf,
  ownedRows,
  range,
  ROWS,
  ROWS_PER_GROUP,
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
  const caps: Caps = { head: headCapacity(dims.headSize), value: headCapacity(dims.valueSize) };
  const variant = `${attrs.isCausal ? "_causal" : ""}${hasMask ? "_mask" : ""}`;
  const key = `attention_grad_${kind}_${dtype}_d${caps.head}_dv${caps.value}${variant}`;
  const output: BindingDecl = { name: "out", isOutput: true, type: kind === "stats" ? "f32" : undefined };
  const bindings = [...INPUT_BINDINGS[kind], ...(hasMask ? [{ name: "mask" }] : []), output];
  const body = {
    stats: () => statsBody(caps, attrs.isCausal, hasMask),
    query: () => queryGradBody(caps, attrs.isCausal, hasMask, dtype),
    key: () => keyGradBody(caps, attrs.isCausal, hasMask, dtype),
    value: () => valueGradBody(caps, attrs.isCausal, hasMask, dtype),
    mask: () => maskGradBody(dtype),
  }[kind];
  const ownsKeys = kind === "key" || kind === "value";
  const workgroups: [number, number, number] = kind === "mask"
    ? [Math.ceil(dims.keys / LANES), dims.queries, dims.batch * dims.heads]
    : [Math.ceil((ownsKeys ? dims.keys : dims.queries) / ROWS_PER_GROUP), dims.heads, dims.batch];
  return {
    key,
    wgsl: () => [kernelHeader(dtype, params, bindings), ...body()].join("\n"),
    params: params.pack(),
    workgroups,
  };
}

interface Caps {
  head: number;
  value: number;
}

/** Scores of owned queries against a key block: visibility `ok{r}_{t}` and masked `s{r}_{t}`. */
function queryOwnedScores(isCausal: boolean, hasMask: boolean): string[] {
  const lines: string[] = [];
  for (const t of range(BLOCK)) lines.push(`    let key${t} = min(j0 + ${t}u, p.lk - 1u);`);
  lines.push(...dotBlock("s", "queryRow", "k", (t) => `(keyBase + key${t}) * p.d`, "p.d"));
  for (const r of range(ROWS)) {
    for (const t of range(BLOCK)) {
      const visible = isCausal ? `j0 + ${t}u < p.lk && j0 + ${t}u <= own${r}` : `j0 + ${t}u < p.lk`;
      const score = hasMask ? `s${r}_${t} + ${maskAt(`min(own${r}, p.lq - 1u)`, `key${t}`)}` : `s${r}_${t}`;
      lines.push(`    let ok${r}_${t} = ${visible};`);
      lines.push(`    s${r}_${t} = select(${LOWEST}, ${score}, ok${r}_${t});`);
    }
  }
  return lines;
}

/** Start of a kernel owning query rows: pre-scaled query rows and the key loop bounds. */
function queryOwnedStart(caps: Caps, isCausal: boolean): string[] {
  const queryRow = (r: number) => `(bh * p.lq + min(own${r}, p.lq - 1u)) * p.d`;
  return [
    mainStart(),
    ...ownedRows(),
    ...loadOwned("queryRow", caps.head, "q", queryRow, "p.d", " * p.scale"),
    "  let keyBase = bh * p.lk;",
    isCausal ? `  let keyEnd = min(p.lk, firstOwned + ${ROWS_PER_GROUP}u);` : "  let keyEnd = p.lk;",
  ];
}

/** stats[i] = (lse_i, delta_i): the online-softmax max and sum without the value pass. */
function statsBody(caps: Caps, isCausal: boolean, hasMask: boolean): string[] {
  const lines = queryOwnedStart(caps, isCausal);
  for (const r of range(ROWS)) lines.push(`  var m${r} = ${LOWEST};`, `  var l${r} = 0.0;`);
  lines.push(`  for (var j0 = 0u; j0 < keyEnd; j0 += ${BLOCK}u) {`);
  lines.push(...queryOwnedScores(isCausal, hasMask));
  for (const r of range(ROWS)) {
    const weights = range(BLOCK).map((t) => `select(0.0, exp(s${r}_${t} - mNew${r}), ok${r}_${t})`);
    lines.push(`    let mNew${r} = max(m${r}, ${maxOf(range(BLOCK).map((t) => `s${r}_${t}`))});`);
    lines.push(`    l${r} = l${r} * exp(m${r} - mNew${r}) + ${weights.join(" + ")};`);
    lines.push(`    m${r} = mNew${r};`);
  }
  lines.push("  }");
  for (const r of range(ROWS)) {
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
function queryGradBody(caps: Caps, isCausal: boolean, hasMask: boolean, dtype: DType): string[] {
  const lines = queryOwnedStart(caps, isCausal);
  const clampedRow = (r: number) => `(bh * p.lq + min(own${r}, p.lq - 1u))`;
  lines.push(...loadOwned("gradRow", caps.value, "dO", (r) => `${clampedRow(r)} * p.dv`, "p.dv"));
  for (const r of range(ROWS)) {
    lines.push(`  var dq${r}: array<f32, ${caps.head}>;`);
    lines.push(`  let lse${r} = stats[${clampedRow(r)} * 2u];`);
    lines.push(`  let delta${r} = stats[${clampedRow(r)} * 2u + 1u];`);
  }
  lines.push(`  for (var j0 = 0u; j0 < keyEnd; j0 += ${BLOCK}u) {`);
  lines.push(...queryOwnedScores(isCausal, hasMask));
  lines.push(...dotBlock("dp", "gradRow", "v", (t) => `(keyBase + key${t}) * p.dv`, "p.dv"));
  for (const r of range(ROWS)) {
    for (const t of range(BLOCK)) {
      lines.push(`    let g${r}_${t} = select(0.0, exp(s${r}_${t} - lse${r}), ok${r}_${t}) * (dp${r}_${t} - delta${r});`);
    }
  }
  lines.push(...accumulateBlock("dq", "g", "k", (t) => `(keyBase + key${t}) * p.d`, "p.d"));
  lines.push("  }");
  const outRow = (r: number) => `(bh * p.lq + own${r}) * p.d`;
  lines.push(...storeOwned("dq", "out", dtype, outRow, "p.d", (r) => `own${r} < p.lq`, () => "p.scale"));
  lines.push("}");
  return lines;
}

/** Start of a kernel owning key rows: pre-scaled key rows and the query loop bounds. */
function keyOwnedStart(caps: Caps, isCausal: boolean): string[] {
  const keyRow = (r: number) => `(bh * p.lk + min(own${r}, p.lk - 1u)) * p.d`;
  return [
    mainStart(),
    ...ownedRows(),
    ...loadOwned("keyRow", caps.head, "k", keyRow, "p.d", " * p.scale"),
    "  let queryBase = bh * p.lq;",
    // causal: query i sees key j only when i ≥ j, so no query before the group's first key matters
    isCausal ? "  let queryStart = firstOwned;" : "  let queryStart = 0u;",
  ];
}

/** Scores of a query block against owned keys, already turned into P = exp(s − lse) as `w{r}_{t}`. */
function keyOwnedProbabilities(isCausal: boolean, hasMask: boolean): string[] {
  const lines: string[] = [];
  for (const t of range(BLOCK)) {
    lines.push(`    let query${t} = min(i0 + ${t}u, p.lq - 1u);`);
    lines.push(`    let lse${t} = stats[(queryBase + query${t}) * 2u];`);
  }
  lines.push(...dotBlock("s", "keyRow", "q", (t) => `(queryBase + query${t}) * p.d`, "p.d"));
  for (const r of range(ROWS)) {
    for (const t of range(BLOCK)) {
      const visible = isCausal ? `i0 + ${t}u < p.lq && own${r} <= i0 + ${t}u` : `i0 + ${t}u < p.lq`;
      const score = hasMask ? `s${r}_${t} + ${maskAt(`query${t}`, `min(own${r}, p.lk - 1u)`)}` : `s${r}_${t}`;
      lines.push(`    let w${r}_${t} = select(0.0, exp(${score} - lse${t}), ${visible});`);
    }
  }
  return lines;
}

/** dK_j = scale · Σ_i P_ij (dP_ij − delta_i) Q_i. */
function keyGradBody(caps: Caps, isCausal: boolean, hasMask: boolean, dtype: DType): string[] {
  const lines = keyOwnedStart(caps, isCausal);
  const valueRow = (r: number) => `(bh * p.lk + min(own${r}, p.lk - 1u)) * p.dv`;
  lines.push(...loadOwned("valueRow", caps.value, "v", valueRow, "p.dv"));
  for (const r of range(ROWS)) lines.push(`  var dk${r}: array<f32, ${caps.head}>;`);
  lines.push(`  for (var i0 = queryStart; i0 < p.lq; i0 += ${BLOCK}u) {`);
  lines.push(...keyOwnedProbabilities(isCausal, hasMask));
  for (const t of range(BLOCK)) lines.push(`    let delta${t} = stats[(queryBase + query${t}) * 2u + 1u];`);
  lines.push(...dotBlock("dp", "valueRow", "dO", (t) => `(queryBase + query${t}) * p.dv`, "p.dv"));
  for (const r of range(ROWS)) {
    for (const t of range(BLOCK)) lines.push(`    let g${r}_${t} = w${r}_${t} * (dp${r}_${t} - delta${t});`);
  }
  lines.push(...accumulateBlock("dk", "g", "q", (t) => `(queryBase + query${t}) * p.d`, "p.d"));
  lines.push("  }");
  const outRow = (r: number) => `(bh * p.lk + own${r}) * p.d`;
  lines.push(...storeOwned("dk", "out", dtype, outRow, "p.d", (r) => `own${r} < p.lk`, () => "p.scale"));
  lines.push("}");
  return lines;
}

/** dV_j = Σ_i P_ij dO_i. */
function valueGradBody(caps: Caps, isCausal: boolean, hasMask: boolean, dtype: DType): string[] {
  const lines = keyOwnedStart(caps, isCausal);
  for (const r of range(ROWS)) lines.push(`  var dv${r}: array<f32, ${caps.value}>;`);
  lines.push(`  for (var i0 = queryStart; i0 < p.lq; i0 += ${BLOCK}u) {`);
  lines.push(...keyOwnedProbabilities(isCausal, hasMask));
  lines.push(...accumulateBlock("dv", "w", "dO", (t) => `(queryBase + query${t}) * p.dv`, "p.dv"));
  lines.push("  }");
  const outRow = (r: number) => `(bh * p.lk + own${r}) * p.dv`;
  lines.push(...storeOwned("dv", "out", dtype, outRow, "p.dv", (r) => `own${r} < p.lk`, () => "1.0"));
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

import type { DType } from "../../tensor/dtype.ts";
import type { KernelPlan } from "../op_def.ts";
import { type AttentionAttrs, type AttentionDims, attentionParams, headCapacity } from "./attention_dims.ts";
import {
  accumulateBlock,
  BLOCK,
  dotBlock,
  kernelHeader,
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

/**
 * The fused forward pass: each invocation owns ROWS query rows and streams the keys and values of
 * its head in blocks, keeping a running max m, sum l and output accumulator o per row (online
 * softmax); the Lq×Lk scores never leave registers. Bindings: q, k, v, [mask], out.
 */
export function attentionForwardKernel(dims: AttentionDims, attrs: AttentionAttrs, dtype: DType): KernelPlan {
  const params = attentionParams(dims, attrs);
  const hasMask = dims.maskStrides !== null;
  const headCap = headCapacity(dims.headSize);
  const valueCap = headCapacity(dims.valueSize);
  const variant = `${attrs.isCausal ? "_causal" : ""}${hasMask ? "_mask" : ""}`;
  const key = `attention_forward_${dtype}_d${headCap}_dv${valueCap}${variant}`;
  return {
    key,
    wgsl: () => {
      const bindings = [{ name: "q" }, { name: "k" }, { name: "v" }, ...(hasMask ? [{ name: "mask" }] : []), { name: "out", isOutput: true }];
      const header = kernelHeader(dtype, params, bindings);
      return [header, ...forwardBody(headCap, valueCap, attrs.isCausal, hasMask, dtype)].join("\n");
    },
    params: params.pack(),
    workgroups: [Math.ceil(dims.queries / ROWS_PER_GROUP), dims.heads, dims.batch],
  };
}

function forwardBody(headCap: number, valueCap: number, isCausal: boolean, hasMask: boolean, dtype: DType): string[] {
  const lines = [mainStart(), ...ownedRows()];
  // 1. the owned query rows, pre-scaled, and empty accumulators
  const queryRow = (r: number) => `(bh * p.lq + min(own${r}, p.lq - 1u)) * p.d`;
  lines.push(...loadOwned("queryRow", headCap, "q", queryRow, "p.d", " * p.scale"));
  for (const r of range(ROWS)) {
    lines.push(`  var o${r}: array<f32, ${valueCap}>;`);
    lines.push(`  var m${r} = ${LOWEST};`);
    lines.push(`  var l${r} = 0.0;`);
  }
  // 2. stream over key blocks; a causal group stops after the last key its rows can see
  lines.push("  let keyBase = bh * p.lk;");
  lines.push(isCausal ? `  let keyEnd = min(p.lk, firstOwned + ${ROWS_PER_GROUP}u);` : "  let keyEnd = p.lk;");
  lines.push(`  for (var j0 = 0u; j0 < keyEnd; j0 += ${BLOCK}u) {`);
  for (const t of range(BLOCK)) lines.push(`    let key${t} = min(j0 + ${t}u, p.lk - 1u);`);
  // 2a. scores s = q·k (scale already in q)
  lines.push(...dotBlock("s", "queryRow", "k", (t) => `(keyBase + key${t}) * p.d`, "p.d"));
  // 2b. hide keys past the end (and above the diagonal when causal), add the mask
  for (const r of range(ROWS)) {
    for (const t of range(BLOCK)) {
      const visible = isCausal ? `j0 + ${t}u < p.lk && j0 + ${t}u <= own${r}` : `j0 + ${t}u < p.lk`;
      const score = hasMask ? `s${r}_${t} + ${maskAt(`min(own${r}, p.lq - 1u)`, `key${t}`)}` : `s${r}_${t}`;
      lines.push(`    let ok${r}_${t} = ${visible};`);
      lines.push(`    s${r}_${t} = select(${LOWEST}, ${score}, ok${r}_${t});`);
    }
  }
  // 2c. online softmax: new running max, rescale factor for what was summed so far, weights
  for (const r of range(ROWS)) {
    lines.push(`    let mNew${r} = max(m${r}, ${maxOf(range(BLOCK).map((t) => `s${r}_${t}`))});`);
    lines.push(`    let corr${r} = exp(m${r} - mNew${r});`);
    for (const t of range(BLOCK)) lines.push(`    let w${r}_${t} = select(0.0, exp(s${r}_${t} - mNew${r}), ok${r}_${t});`);
    lines.push(`    l${r} = l${r} * corr${r} + ${range(BLOCK).map((t) => `w${r}_${t}`).join(" + ")};`);
    lines.push(`    m${r} = mNew${r};`);
  }
  // 2d. o = o·corr + Σ w·v
  lines.push(...accumulateBlock("o", "w", "v", (t) => `(keyBase + key${t}) * p.dv`, "p.dv", (r) => `corr${r}`));
  lines.push("  }");
  // 3. normalise by the softmax sum and store the rows that exist
  const outRow = (r: number) => `(bh * p.lq + own${r}) * p.dv`;
  lines.push(...storeOwned("o", "out", dtype, outRow, "p.dv", (r) => `own${r} < p.lq`, (r) => `1.0 / l${r}`));
  lines.push("}");
  return lines;
}

import type { DType } from "../../tensor/dtype.ts";
import type { KernelPlan } from "../op_def.ts";
import { type AttentionAttrs, type AttentionDims, attentionParams } from "./attention_dims.ts";
import {
  accumulateBlock,
  FORWARD_BLOCKING,
  headCapacity,
  kernelHeader,
  type Layout,
  LOWEST,
  maxOf,
  ownedArrays,
  queryOwnedScores,
  queryOwnedStart,
  range,
  rowsPerGroup,
  storeOwned,
} from "./attention_wgsl.ts";

/**
 * The fused forward pass: each invocation owns `rows` query rows and streams the keys and values
 * of its head in blocks, keeping a running max m, sum l and output accumulator o per row (online
 * softmax); the Lq×Lk scores never leave registers. Bindings: q, k, v, [mask], out.
 */
export function attentionForwardKernel(dims: AttentionDims, attrs: AttentionAttrs, dtype: DType): KernelPlan {
  const params = attentionParams(dims, attrs);
  const hasMask = dims.maskStrides !== null;
  const layout: Layout = { ...FORWARD_BLOCKING, capacity: headCapacity(dims.headSize, dims.valueSize) };
  return {
    key: `attention_forward_${dtype}_c${layout.capacity}${hasMask ? "_mask" : ""}`,
    wgsl: () => {
      const bindings = [
        { name: "q" },
        { name: "k" },
        { name: "v" },
        ...(hasMask ? [{ name: "mask" }] : []),
        { name: "out", isOutput: true },
      ];
      return [kernelHeader(dtype, params, bindings), ...forwardBody(layout, hasMask, dtype)].join("\n");
    },
    params: params.pack(),
    workgroups: [Math.ceil(dims.queries / rowsPerGroup(layout)), dims.heads, dims.batch],
  };
}

function forwardBody(layout: Layout, hasMask: boolean, dtype: DType): string[] {
  const rows = range(layout.rows);
  const block = range(layout.block);
  // 1. the owned query rows (pre-scaled) and empty accumulators: output o, running max m and sum l
  const lines = [...queryOwnedStart(layout), ...ownedArrays(layout, "o")];
  for (const r of rows) lines.push(`  var m${r} = ${LOWEST};`, `  var l${r} = 0.0;`);
  // 2. stream over key blocks
  lines.push(`  for (var j0 = 0u; j0 < keyEnd; j0 += ${layout.block}u) {`);
  // 2a. scores of the block, hidden ones at the lowest value
  lines.push(...queryOwnedScores(layout, hasMask));
  // 2b. online softmax: new running max, the factor rescaling what was summed so far, weights
  for (const r of rows) {
    lines.push(`    let mNew${r} = max(m${r}, ${maxOf(block.map((t) => `s${r}_${t}`))});`);
    lines.push(`    let corr${r} = exp(m${r} - mNew${r});`);
    for (const t of block) lines.push(`    let w${r}_${t} = select(0.0, exp(s${r}_${t} - mNew${r}), ok${r}_${t});`);
    lines.push(`    l${r} = l${r} * corr${r} + ${block.map((t) => `w${r}_${t}`).join(" + ")};`);
    lines.push(`    m${r} = mNew${r};`);
  }
  // 2c. o = o·corr + Σ w·v
  lines.push(
    ...accumulateBlock(
      layout,
      "o",
      "w",
      "v",
      (t) => `(keyBase + key${t}) * p.dv`,
      "p.dv",
      (r) => `corr${r}`,
    ),
  );
  lines.push("  }");
  // 3. normalise by the softmax sum and store the rows that exist
  const outRow = (r: number) => `(bh * p.lq + own${r}) * p.dv`;
  lines.push(
    ...storeOwned(
      layout,
      "o",
      { name: "out", dtype },
      outRow,
      "p.dv",
      (r) => `own${r} < p.lq`,
      (r) => `1.0 / l${r}`,
    ),
  );
  lines.push("}");
  return lines;
}

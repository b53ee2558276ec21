import { type DType, wgslType } from "../../tensor/dtype.ts";
import { linearMain } from "../../wgsl/grid.ts";
import type { Params } from "../../wgsl/params.ts";
import type { RunLayout } from "./elementwise_layout.ts";
import { helpersFor } from "./math_wgsl.ts";

/** Where each operand of an elementwise expression comes from. */
export type OperandSource = { tensor: number; shape: readonly number[] } | { scalar: number };

/** What the WGSL builder needs besides the layout and the parameter struct. */
export interface ElementwiseSourceSpec {
  /** WGSL expression over operand names (`a0`, `a1`, …) in the compute type. */
  expression: (operands: string[]) => string;
  operands: readonly OperandSource[];
  inDType: DType;
  outDType: DType;
  workgroupSize: number;
}

/** Compute type: f16 values are loaded into f32 registers so math runs at full precision. */
function computeType(dtype: DType): "f32" | "i32" | "u32" {
  return dtype === "f16" ? "f32" : (wgslType(dtype) as "f32" | "i32" | "u32");
}

/**
 * The WGSL of one elementwise kernel. Each invocation computes one run of a row (see
 * `RunLayout`): it decodes the row's outer coordinates once, loads `splat` operands once, then
 * loops over the run a vec4 (or a scalar) at a time. The last run of a row may be short.
 */
export function elementwiseSource(spec: ElementwiseSourceSpec, layout: RunLayout, params: Params): string {
  const compute = computeType(spec.inDType);
  const isVector = layout.width === 4;
  const vector = isVector ? `vec4<${compute}>` : compute;
  const unitIn = isVector ? `vec4<${wgslType(spec.inDType)}>` : wgslType(spec.inDType);
  const unitOut = isVector ? `vec4<${wgslType(spec.outDType)}>` : wgslType(spec.outDType);
  const names = spec.operands.map((_, k) => `a${k}`);
  const expression = spec.expression(names);
  const lines: string[] = [];
  if (spec.inDType === "f16" || spec.outDType === "f16") lines.push("enable f16;");
  lines.push(params.struct());
  // 0. bindings: contiguous operands and the output by unit, splat operands by element
  layout.operands.forEach(({ access }, j) => {
    const element = access === "splat" ? wgslType(spec.inDType) : unitIn;
    lines.push(`@group(0) @binding(${j + 1}) var<storage, read> x${j}: array<${element}>;`);
  });
  lines.push(`@group(0) @binding(${layout.operands.length + 1}) var<storage, read_write> y: array<${unitOut}>;`);
  lines.push(helpersFor(expression));
  lines.push(expressionFunctions(expression, names, compute, isVector));
  lines.push(linearMain(spec.workgroupSize));
  lines.push("  if (index >= p.runs) { return; }");
  // 1. which row, and which run of it
  const hasOuter = layout.outerShape.length > 0;
  lines.push(hasOuter ? "  let row = index / p.runsPerRow;" : "  let row = 0u;");
  lines.push(`  let start = (index - row * p.runsPerRow) * ${layout.unitsPerRun}u;`);
  lines.push(`  let count = min(${layout.unitsPerRun}u, p.rowUnits - start);`);
  lines.push("  let base = row * p.rowUnits + start;");
  // 2. the row's coordinate in the outer dimensions, innermost first
  if (hasOuter) {
    lines.push("  var rest = row;");
    for (let axis = layout.outerShape.length - 1; axis >= 0; axis--) {
      lines.push(`  let i${axis} = rest % p.d${axis};`);
      lines.push(`  rest = rest / p.d${axis};`);
    }
  }
  // 3. per-run operand offsets; numbers and splat operands are loaded once per run
  const loads: string[] = [];
  spec.operands.forEach((o, k) => {
    if ("scalar" in o) {
      lines.push(`  let a${k} = ${vector}(p.c${k});`);
      return;
    }
    const j = o.tensor;
    const access = layout.operands[j].access;
    const offset = outerOffset(j, layout.outerShape.length);
    if (access === "splat") lines.push(`  let a${k} = ${vector}(${compute}(x${j}[${offset}]));`);
    if (access === "row") lines.push(`  let base${j} = ${offset} + start;`);
    if (access === "flat") loads.push(`    let a${k} = ${vector}(x${j}[base + k]);`);
    if (access === "row") loads.push(`    let a${k} = ${vector}(x${j}[base${j} + k]);`);
  });
  // 4. the run: load, evaluate, store
  lines.push("  for (var k = 0u; k < count; k++) {");
  lines.push(...loads);
  lines.push(`    y[base + k] = ${unitOut}(${isVector ? "ew4" : "ew"}(${names.join(", ")}));`);
  lines.push("  }");
  lines.push("}");
  return lines.join("\n");
}

/** `ew` evaluates the expression on scalars; `ew4` applies it to each lane of vec4 operands. */
function expressionFunctions(expression: string, names: string[], compute: string, isVector: boolean): string {
  const scalarArgs = names.map((name) => `${name}: ${compute}`).join(", ");
  const scalar = `fn ew(${scalarArgs}) -> ${compute} {\n  return ${expression};\n}`;
  if (!isVector) return scalar;
  const vectorArgs = names.map((name) => `${name}: vec4<${compute}>`).join(", ");
  const lanes = ["x", "y", "z", "w"].map((lane) => `ew(${names.map((name) => `${name}.${lane}`).join(", ")})`);
  return `${scalar}\nfn ew4(${vectorArgs}) -> vec4<${compute}> {\n  return vec4<${compute}>(${lanes.join(", ")});\n}`;
}

/** Σ iₐ·sⱼₐ over the outer axes: operand j's offset at the row's start (units or elements). */
function outerOffset(j: number, outerRank: number): string {
  const terms = Array.from({ length: outerRank }, (_, axis) => `i${axis} * p.s${j}_${axis}`);
  return terms.length > 0 ? terms.join(" + ") : "0u";
}

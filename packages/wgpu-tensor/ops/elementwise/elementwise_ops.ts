import { runOp } from "../run_op.ts";
import type { KernelContext, KernelPlan, OpDef, TensorSpec } from "../op_def.ts";
import { PlanCache } from "../plan_cache.ts";
import { DTypeError, ShapeError } from "../../tensor/errors.ts";
import { isFloat } from "../../tensor/dtype.ts";
import { type HostTensor, hostZeros, unravel } from "../../tensor/host_tensor.ts";
import { broadcastShapes, broadcastStrides, formatShape } from "../../tensor/shape.ts";
import { Tensor } from "../../tensor/tensor.ts";
import { binaryDefs } from "./binary.ts";
import type { ElementwiseDef, Operand } from "./elementwise_def.ts";
import { elementwiseKernel, type OperandSource } from "./elementwise_kernel.ts";
import { unaryDefs } from "./unary.ts";

/** Which operands are tensors (`null`) and which are numbers (the value). */
export interface ElementwiseAttrs {
  scalars: readonly (number | null)[];
}

/** Builds the primitive op for one table entry. */
function elementwiseOp(name: string, def: ElementwiseDef): OpDef<ElementwiseAttrs> {
  const plans = new PlanCache<KernelPlan>();
  return {
    name,
    check(inputs, attrs) {
      return checkElementwise(name, def, inputs, attrs);
    },
    kernel(inputs, attrs, output, context) {
      return plans.get(planSignature(inputs, attrs, context), () => elementwisePlan(name, def, inputs, attrs, output, context));
    },
    reference(inputs, attrs) {
      return referenceElementwise(def, inputs, attrs);
    },
    backward:
      def.grad === "zero"
        ? "notDifferentiable"
        : ({ inputs, output, dy, attrs }) => {
            let next = 0;
            const x: Operand[] = attrs.scalars.map((scalar) => scalar ?? inputs[next++]);
            const grads = (def.grad as Exclude<ElementwiseDef["grad"], "zero">)({ x, y: output, dy });
            return grads.flatMap((grad, k) => {
              if (attrs.scalars[k] !== null) return [];
              return [typeof grad === "number" ? null : grad];
            });
          },
  };
}

function elementwisePlan(
  name: string,
  def: ElementwiseDef,
  inputs: readonly TensorSpec[],
  attrs: ElementwiseAttrs,
  output: TensorSpec,
  context: KernelContext,
): KernelPlan {
  let next = 0;
  const operands: OperandSource[] = attrs.scalars.map((scalar) => {
    if (scalar !== null) return { scalar };
    const tensor = next++;
    return { tensor, shape: inputs[tensor].shape };
  });
  return elementwiseKernel(
    {
      name,
      expression: (names) => def.wgsl(...names),
      operands,
      outShape: output.shape,
      inDType: inputs[0].dtype,
      outDType: output.dtype,
    },
    context,
  );
}

/** Everything an elementwise plan depends on (the output follows from the inputs). */
function planSignature(inputs: readonly TensorSpec[], attrs: ElementwiseAttrs, context: KernelContext): string {
  let signature = context.isCpuAdapter ? "cpu_" : "gpu_";
  signature += inputs[0].dtype;
  for (const input of inputs) signature += `|${input.shape.join(",")}`;
  for (const scalar of attrs.scalars) {
    // numbers travel in the plan's uniforms, so they are part of it (-0 apart from 0)
    if (scalar === null) signature += "|t";
    else signature += Object.is(scalar, -0) ? "|-0" : `|${scalar}`;
  }
  return signature;
}

function checkElementwise(name: string, def: ElementwiseDef, inputs: readonly TensorSpec[], attrs: ElementwiseAttrs): TensorSpec {
  if (attrs.scalars.length !== def.arity) {
    throw new TypeError(`Cannot run ${name}: it takes ${def.arity} operands, got ${attrs.scalars.length}`);
  }
  const tensorCount = attrs.scalars.filter((s) => s === null).length;
  if (tensorCount !== inputs.length) {
    throw new TypeError(`Cannot run ${name}: ${tensorCount} tensor operands declared, ${inputs.length} given`);
  }
  const dtype = inputs[0].dtype;
  if (inputs.some((t) => t.dtype !== dtype)) {
    throw new DTypeError(
      name,
      inputs.map((t) => t.dtype),
      `Cannot run ${name} on dtypes ${inputs.map((t) => t.dtype).join(" and ")}: they must match (cast first)`,
    );
  }
  if (def.isFloatOnly && !isFloat(dtype)) {
    throw new DTypeError(name, [dtype], `Cannot run ${name} on ${dtype}: it needs a float tensor`);
  }
  if (inputs.length === 1) return { shape: inputs[0].shape, dtype };
  let shape: number[] = [...inputs[0].shape];
  for (const input of inputs.slice(1)) {
    try {
      shape = broadcastShapes(name, shape, input.shape);
    } catch {
      throw new ShapeError(
        name,
        inputs.map((t) => t.shape),
        `Cannot broadcast ${inputs.map((t) => formatShape(t.shape)).join(" with ")} in ${name}`,
      );
    }
  }
  return { shape, dtype };
}

function referenceElementwise(def: ElementwiseDef, inputs: readonly HostTensor[], attrs: ElementwiseAttrs): HostTensor {
  let shape: number[] = [...inputs[0].shape];
  for (const input of inputs.slice(1)) shape = broadcastShapes("reference", shape, input.shape);
  const out = hostZeros(shape, inputs[0].dtype);
  const strides = inputs.map((t) => broadcastStrides(t.shape, shape));
  for (let flat = 0; flat < out.data.length; flat++) {
    const index = unravel(flat, shape);
    let next = 0;
    const values = attrs.scalars.map((scalar) => {
      if (scalar !== null) return scalar;
      const j = next++;
      const offset = index.reduce((sum, i, axis) => sum + i * strides[j][axis], 0);
      return inputs[j].data[offset];
    });
    out.data[flat] = def.js(...values);
  }
  return out;
}

type UnaryName = keyof typeof unaryDefs;
type BinaryName = keyof typeof binaryDefs;

/** Every elementwise primitive, by name. */
export const elementwiseOps = Object.fromEntries(
  [...Object.entries(unaryDefs), ...Object.entries(binaryDefs)].map(([name, def]) => [name, elementwiseOp(name, def)]),
) as Record<UnaryName | BinaryName, OpDef<ElementwiseAttrs>>;

/** Runs an elementwise op on tensors and numbers (at least one tensor). */
export function applyElementwise(name: UnaryName | BinaryName, operands: readonly Operand[]): Tensor {
  const tensors: Tensor[] = [];
  const scalars: (number | null)[] = [];
  for (const operand of operands) {
    const isTensor = operand instanceof Tensor;
    if (isTensor) tensors.push(operand);
    scalars.push(isTensor ? null : operand);
  }
  if (tensors.length === 0) throw new TypeError(`Cannot run ${name}: at least one operand must be a tensor`);
  return runOp(elementwiseOps[name], tensors, { scalars });
}

const unary =
  (name: UnaryName) =>
  (x: Tensor): Tensor =>
    applyElementwise(name, [x]);
const binary =
  (name: BinaryName) =>
  (a: Operand, b: Operand): Tensor =>
    applyElementwise(name, [a, b]);

/** −x */
export const neg = unary("neg");
/** |x|; gradient sign(x) */
export const abs = unary("abs");
/** sign(x) ∈ {−1, 0, 1}; no gradient */
export const sign = unary("sign");
/** eˣ; gradient eˣ */
export const exp = unary("exp");
/** ln x; gradient 1/x */
export const log = unary("log");
/** √x; gradient 1/(2√x) */
export const sqrt = unary("sqrt");
/** 1/√x; gradient −½x^(−3/2) */
export const rsqrt = unary("rsqrt");
/** 1/x; gradient −1/x² */
export const reciprocal = unary("reciprocal");
/** x²; gradient 2x */
export const square = unary("square");
export const sin = unary("sin");
export const cos = unary("cos");
export const floor = unary("floor");
/** tanh x; gradient 1 − tanh² x */
export const tanh = unary("tanh");
/** 1/(1 + e⁻ˣ); gradient σ(1 − σ) */
export const sigmoid = unary("sigmoid");
/** max(x, 0) */
export const relu = unary("relu");
/** x·σ(x) (a.k.a. swish) */
export const silu = unary("silu");
/** x·Φ(x), the exact (erf) GELU */
export const gelu = unary("gelu");
/** GELU's tanh approximation (`approximate="tanh"`) */
export const geluTanh = unary("geluTanh");
export const erf = unary("erf");

/** a + b with broadcasting; numbers are allowed on either side */
export const add = binary("add");
export const sub = binary("sub");
export const mul = binary("mul");
export const div = binary("div");
/** aᵇ */
export const pow = binary("pow");
export const maximum = binary("maximum");
export const minimum = binary("minimum");
/** 1 where a == b else 0, in the operands' dtype */
export const eq = binary("eq");
export const ne = binary("ne");
export const lt = binary("lt");
export const le = binary("le");
export const gt = binary("gt");
export const ge = binary("ge");

/** `condition ? a : b` elementwise, condition non-zero meaning true */
export function where(condition: Operand, a: Operand, b: Operand): Tensor {
  return applyElementwise("where", [condition, a, b]);
}

/** Limits values to [min, max] */
export function clamp(x: Tensor, min: Operand, max: Operand): Tensor {
  return applyElementwise("clamp", [x, min, max]);
}

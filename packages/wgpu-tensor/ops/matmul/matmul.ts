import { isGradEnabled } from "../../autograd/grad_mode.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import { add, mul } from "../elementwise/elementwise_ops.ts";
import { unaryDefs } from "../elementwise/unary.ts";
import { reshape } from "../movement/reshape.ts";
import type { GradContext, KernelContext, OpDef } from "../op_def.ts";
import { runOp } from "../run_op.ts";
import { type Activation, applyActivation } from "./matmul_epilogue.ts";
import { matmulBlockedKernel } from "./matmul_kernel_blocked.ts";
import { matmulCpuKernel, type MatmulKernelSpec } from "./matmul_kernel_cpu.ts";
import { referenceMatmul } from "./matmul_reference.ts";
import { checkMatmul, type MatmulAttrs, matmulGeometry } from "./matmul_shape.ts";

/**
 * The matmul primitive with its fused epilogue: `y = act(alpha·op(a)·op(b) + bias) + residual`.
 * Inputs `[a, b, bias?, residual?]`; see `matmul`, `matmulFused` and `linear` for the public
 * functions.
 */
export const matmulOp: OpDef<MatmulAttrs> = {
  name: "matmul",
  check: checkMatmul,
  kernel(inputs, attrs, output, context) {
    return chooseMatmulKernel(matmulKernelSpec(inputs[0].shape, inputs[1].shape, attrs, output.dtype), context);
  },
  reference: referenceMatmul,
  backward: matmulBackward,
  saves: { inputs: true, output: false },
};

/** The kernel spec for given operand shapes. */
export function matmulKernelSpec(
  a: readonly number[],
  b: readonly number[],
  attrs: MatmulAttrs,
  dtype: MatmulKernelSpec["dtype"],
): MatmulKernelSpec {
  const { transposeA, transposeB, alpha, activation, hasBias, hasResidual } = attrs;
  return {
    geometry: matmulGeometry(a, b, attrs),
    transposeA,
    transposeB,
    dtype,
    epilogue: { alpha, activation, hasBias, hasResidual },
  };
}

/**
 * Picks the kernel variant: CPU adapters with subgroups get the register-blocked kernel whose
 * lanes share a's loads (no workgroup memory, see matmul_kernel_cpu.ts); everything else, GPUs
 * included, the portable blocked kernel.
 */
export function chooseMatmulKernel(spec: MatmulKernelSpec, context: KernelContext) {
  if (context.isCpuAdapter && context.hasSubgroups) return matmulCpuKernel(spec);
  return matmulBlockedKernel(spec);
}

/**
 * Gradients of `y = act(alpha·op(a)·op(b) + bias) + residual`. With z the pre-activation and
 * dz = dy·act'(z) (z recomputed by one more matmul when there is an activation), dP = alpha·dz:
 * da = dP·op(b)ᵀ, db = op(a)ᵀ·dP (each in its operand's stored layout, at the output's batch
 * shape; autograd sums broadcast batch dimensions), dbias = dz (summed to [n] by autograd),
 * dresidual = dy.
 */
function matmulBackward({ inputs, dy, attrs }: GradContext<MatmulAttrs>): (Tensor | null)[] {
  const [a, b] = inputs;
  let dz = dy;
  if (attrs.activation !== "none") {
    const pre = runOp(matmulOp, attrs.hasBias ? [a, b, inputs[2]] : [a, b], { ...attrs, activation: "none", hasResidual: false });
    dz = activationGrad(attrs.activation, pre, dy);
  }
  const dProduct = attrs.alpha === 1 ? dz : mul(dz, attrs.alpha);
  const grads: (Tensor | null)[] = [
    a.requiresGrad ? gradA(a, b, dProduct, attrs) : null,
    b.requiresGrad ? gradB(a, b, dProduct, attrs) : null,
  ];
  if (attrs.hasBias) grads.push(dz);
  if (attrs.hasResidual) grads.push(dy);
  return grads;
}

/** dy·act'(z), with the derivative formulas of the elementwise ops of the same name. */
function activationGrad(activation: Exclude<Activation, "none">, z: Tensor, dy: Tensor): Tensor {
  const [grad] = unaryDefs[activation].grad({ x: [z], y: z, dy });
  return grad as Tensor;
}

/** a's gradient in a's stored layout: dP·op(b)ᵀ, or its transpose op(b)·dPᵀ when a is transposed. */
function gradA(_a: Tensor, b: Tensor, dP: Tensor, attrs: MatmulAttrs): Tensor {
  if (!attrs.transposeA) return matmul(dP, b, { transposeB: !attrs.transposeB });
  return matmul(b, dP, { transposeA: attrs.transposeB, transposeB: true });
}

/**
 * b's gradient in b's stored layout: op(a)ᵀ·dP, or dPᵀ·op(a) when b is transposed. When b has no
 * batch of its own and a is not transposed, a's batch folds into the k of this product, which
 * sums over the batch directly instead of materialising one gradient per batch entry.
 */
function gradB(a: Tensor, b: Tensor, dP: Tensor, attrs: MatmulAttrs): Tensor {
  let left = a;
  let right = dP;
  if (b.ndim === 2 && a.ndim > 2 && !attrs.transposeA) {
    left = reshape(a, [-1, a.shape[a.ndim - 1]]);
    right = reshape(dP, [-1, dP.shape[dP.ndim - 1]]);
  }
  if (!attrs.transposeB) return matmul(left, right, { transposeA: !attrs.transposeA });
  return matmul(right, left, { transposeA: true, transposeB: attrs.transposeA });
}

/** Which operands are read transposed (the last two dimensions swapped, without a copy). */
export interface MatmulOptions {
  transposeA?: boolean;
  transposeB?: boolean;
}

/**
 * Batched matrix product like `torch.matmul` for operands of rank ≥ 2: the last two dimensions
 * multiply, the others broadcast. Vectors (rank 1) are rejected: reshape them to [1, k] or
 * [k, 1]. `transposeA`/`transposeB` read an operand with its last two dimensions swapped.
 *
 * Formula: y[…, i, j] = Σₖ op(a)[…, i, k]·op(b)[…, k, j]. Gradient: da = dy·op(b)ᵀ, db = op(a)ᵀ·dy
 * (in each operand's own layout, summed over broadcast batch dimensions).
 *
 * @example
 * ```ts
 * const a = tensor([[1, 2], [3, 4]]);
 * const b = tensor([[5, 6], [7, 8]]);
 * await matmul(a, b).toArray(); // Float32Array [19, 22, 43, 50]
 * await matmul(a, b, { transposeB: true }).toArray(); // Float32Array [17, 23, 39, 53]
 * ```
 */
export function matmul(a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  return matmulFused(a, b, options);
}

/** The epilogue `matmulFused` applies, in this order: scale, bias, activation, residual. */
export interface MatmulFusedOptions extends MatmulOptions {
  /** Multiplies the product (default 1). */
  alpha?: number;
  /** Added to every row, shape [n]. */
  bias?: Tensor;
  activation?: Activation;
  /** Added last, same shape as the output. */
  residual?: Tensor;
}

/**
 * Matmul with a fused epilogue, one kernel: `y = act(alpha·op(a)·op(b) + bias) + residual`.
 * When gradients will be needed and there is an activation, it runs as the fused product and
 * bias, then the activation and residual as their own ops, so backward reuses the saved
 * pre-activation instead of recomputing it.
 *
 * Gradient: with z = alpha·op(a)·op(b) + bias and dz = dy·act'(z): da = alpha·dz·op(b)ᵀ,
 * db = alpha·op(a)ᵀ·dz, dbias = Σ_rows dz, dresidual = dy.
 *
 * @example
 * ```ts
 * const x = tensor([[1, -2]]);
 * const w = tensor([[1, 0], [0, 1]]);
 * const y = matmulFused(x, w, { bias: tensor([0.5, 0.5]), activation: "relu" });
 * await y.toArray(); // Float32Array [1.5, 0]
 * ```
 */
export function matmulFused(a: Tensor, b: Tensor, options: MatmulFusedOptions = {}): Tensor {
  const activation = options.activation ?? "none";
  const needsGrad = isGradEnabled() && [a, b, options.bias, options.residual].some((t) => t?.requiresGrad);
  const attrs: MatmulAttrs = {
    transposeA: options.transposeA ?? false,
    transposeB: options.transposeB ?? false,
    alpha: options.alpha ?? 1,
    activation,
    hasBias: options.bias !== undefined,
    hasResidual: options.residual !== undefined,
  };
  const operands = [a, b, ...(options.bias ? [options.bias] : [])];
  if (needsGrad && activation !== "none") {
    const pre = runOp(matmulOp, operands, { ...attrs, activation: "none", hasResidual: false });
    const activated = applyActivation(activation, pre);
    return options.residual ? add(activated, options.residual) : activated;
  }
  return runOp(matmulOp, options.residual ? [...operands, options.residual] : operands, attrs);
}

/**
 * A linear layer with PyTorch's weight layout: `y = x·weightᵀ + bias`, x [..., in] (or [in]),
 * weight [out, in], bias [out]. One fused kernel reading the weight transposed in place.
 *
 * Gradient: dx = dy·weight, dweight = dyᵀ·x (summed over x's batch), dbias = Σ dy.
 *
 * @example
 * ```ts
 * const x = tensor([[1, 2, 3]]);
 * const weight = tensor([[1, 0, 0], [0, 1, 1]]);
 * await linear(x, weight, tensor([10, 20])).toArray(); // Float32Array [11, 25]
 * ```
 */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor): Tensor {
  if (x.ndim === 1) return reshape(matmulFused(reshape(x, [1, -1]), weight, { transposeB: true, bias }), [-1]);
  return matmulFused(x, weight, { transposeB: true, bias });
}

import type { DType } from "../tensor/dtype.ts";
import type { HostTensor } from "../tensor/host_tensor.ts";
import type { Tensor } from "../tensor/tensor.ts";

/** Shape and dtype of a tensor, without data: what `check` and `kernel` reason about. */
export interface TensorSpec {
  readonly shape: readonly number[];
  readonly dtype: DType;
}

/** What a kernel may choose its variant by. */
export interface KernelContext {
  readonly isCpuAdapter: boolean;
  readonly hasF16: boolean;
  readonly hasSubgroups: boolean;
  readonly maxBindingBytes: number;
}

/** A buffer a dispatch binds: an input by index, the output, or a scratch buffer by index. */
export type BindingRef = { input: number } | "output" | { temp: number };

/** One dispatch: which kernel, with which parameters and buffers, over how many workgroups. */
export interface KernelPlan {
  /** Names the kernel everywhere: pipeline cache key, shader label, errors. Never holds shapes. */
  key: string;
  /** The WGSL source; only called when the key is not compiled yet. */
  wgsl: () => string;
  /** Uniform values (binding 0). */
  params: ArrayBuffer;
  workgroups: readonly [number, number, number];
  /** Buffers at bindings 1, 2, …; by default every input in order, then the output. */
  bindings?: readonly BindingRef[];
}

/** Dispatches in order, with scratch buffers (in bytes) that live only for these dispatches. */
export interface KernelProgram {
  temps?: readonly number[];
  passes: readonly KernelPlan[];
}

export interface GradContext<A> {
  inputs: readonly Tensor[];
  output: Tensor;
  dy: Tensor;
  attrs: A;
}

/** Maps the output gradient to one gradient per input, each shaped like the output's broadcast. */
export type GradRule<A> = (ctx: GradContext<A>) => (Tensor | null)[];

/**
 * Everything about one primitive op, in one place: shape rules, the GPU kernel, a plain-JS
 * reference with f64 accumulation (the truth the kernel is tested against), and its gradient.
 */
export interface OpDef<A> {
  name: string;
  /** Output shape and dtype; throws ShapeError/DTypeError naming the op. No GPU work. */
  check(inputs: readonly TensorSpec[], attrs: A): TensorSpec;
  kernel(inputs: readonly TensorSpec[], attrs: A, output: TensorSpec, context: KernelContext): KernelPlan | KernelProgram;
  reference(inputs: readonly HostTensor[], attrs: A): HostTensor;
  backward: GradRule<A> | "notDifferentiable";
  /** Which tensors backward needs kept alive; by default the inputs and the output. */
  saves?: { inputs: boolean; output: boolean };
}

import type { Tensor } from "../../tensor/tensor.ts";

/** An operand of an elementwise op: a tensor, or a number that travels as a kernel parameter. */
export type Operand = Tensor | number;

/** The tensor operand at a position where the op guarantees a tensor (every unary op's input). */
export function asTensor(operand: Operand): Tensor {
  if (typeof operand === "number") throw new TypeError("Cannot use a number where a tensor operand is required");
  return operand;
}

export interface ElementwiseGradContext {
  /** The operands as given (numbers stay numbers). */
  x: readonly Operand[];
  /** The op's output. */
  y: Tensor;
  dy: Tensor;
}

/**
 * One elementwise op: its WGSL expression, the same math in plain JS (the reference), and its
 * gradient, side by side. Gradients come back shaped like the output; autograd sums them down to
 * each input's shape. `"zero"` means piecewise constant: no gradient flows.
 */
export interface ElementwiseDef {
  arity: number;
  wgsl: (...operands: string[]) => string;
  js: (...operands: number[]) => number;
  grad: ((ctx: ElementwiseGradContext) => (Tensor | number | null)[]) | "zero";
  /** Only float dtypes (transcendentals). */
  isFloatOnly?: boolean;
}

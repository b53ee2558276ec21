import type { ElementwiseDef } from "./elementwise_def.ts";
// Gradients call the public ops; the cycle is safe because they only run after module load.
import * as ew from "./elementwise_ops.ts";

const bool = (condition: boolean) => (condition ? 1 : 0);

/** Binary and ternary ops: WGSL expression, JS reference and gradient side by side. */
export const binaryDefs = {
  add: { arity: 2, wgsl: (a, b) => `(${a} + ${b})`, js: (a, b) => a + b, grad: ({ dy }) => [dy, dy] },
  sub: { arity: 2, wgsl: (a, b) => `(${a} - ${b})`, js: (a, b) => a - b, grad: ({ dy }) => [dy, ew.neg(dy)] },
  mul: {
    arity: 2,
    wgsl: (a, b) => `(${a} * ${b})`,
    js: (a, b) => a * b,
    grad: ({ x, dy }) => [ew.mul(dy, x[1]), ew.mul(dy, x[0])],
  },
  div: {
    arity: 2,
    wgsl: (a, b) => `(${a} / ${b})`,
    js: (a, b) => a / b,
    // d(a/b) = da/b − a·db/b²
    grad: ({ x, y, dy }) => [ew.div(dy, x[1]), ew.neg(ew.div(ew.mul(dy, y), x[1]))],
  },
  pow: {
    arity: 2,
    isFloatOnly: true,
    wgsl: (a, b) => `pow(${a}, ${b})`,
    js: Math.pow,
    // d(a^b) = b·a^(b−1) da + a^b·ln(a) db
    grad: ({ x, y, dy }) => [
      ew.mul(dy, ew.mul(ew.pow(x[0], ew.sub(x[1], 1)), x[1])),
      typeof x[1] === "number" ? null : ew.mul(dy, ew.mul(y, typeof x[0] === "number" ? Math.log(x[0]) : ew.log(x[0]))),
    ],
  },
  maximum: {
    arity: 2,
    wgsl: (a, b) => `max(${a}, ${b})`,
    js: Math.max,
    // at ties the whole gradient goes to the first operand
    grad: ({ x, dy }) => {
      const takesFirst = ew.ge(x[0], x[1]);
      return [ew.mul(dy, takesFirst), ew.mul(dy, ew.sub(1, takesFirst))];
    },
  },
  minimum: {
    arity: 2,
    wgsl: (a, b) => `min(${a}, ${b})`,
    js: Math.min,
    grad: ({ x, dy }) => {
      const takesFirst = ew.le(x[0], x[1]);
      return [ew.mul(dy, takesFirst), ew.mul(dy, ew.sub(1, takesFirst))];
    },
  },
  eq: { arity: 2, wgsl: (a, b) => `select(0.0, 1.0, ${a} == ${b})`, js: (a, b) => bool(a === b), grad: "zero", isFloatOnly: true },
  ne: { arity: 2, wgsl: (a, b) => `select(0.0, 1.0, ${a} != ${b})`, js: (a, b) => bool(a !== b), grad: "zero", isFloatOnly: true },
  lt: { arity: 2, wgsl: (a, b) => `select(0.0, 1.0, ${a} < ${b})`, js: (a, b) => bool(a < b), grad: "zero", isFloatOnly: true },
  le: { arity: 2, wgsl: (a, b) => `select(0.0, 1.0, ${a} <= ${b})`, js: (a, b) => bool(a <= b), grad: "zero", isFloatOnly: true },
  gt: { arity: 2, wgsl: (a, b) => `select(0.0, 1.0, ${a} > ${b})`, js: (a, b) => bool(a > b), grad: "zero", isFloatOnly: true },
  ge: { arity: 2, wgsl: (a, b) => `select(0.0, 1.0, ${a} >= ${b})`, js: (a, b) => bool(a >= b), grad: "zero", isFloatOnly: true },
  where: {
    arity: 3,
    wgsl: (c, a, b) => `select(${b}, ${a}, ${c} != 0.0)`,
    js: (c, a, b) => (c !== 0 ? a : b),
    grad: ({ x, dy }) => {
      const picked = ew.ne(x[0], 0);
      return [null, ew.mul(dy, picked), ew.mul(dy, ew.sub(1, picked))];
    },
    isFloatOnly: true,
  },
  clamp: {
    arity: 3,
    wgsl: (v, lo, hi) => `min(max(${v}, ${lo}), ${hi})`,
    js: (v, lo, hi) => Math.min(Math.max(v, lo), hi),
    // the gradient passes where the value is inside [lo, hi]
    grad: ({ x, dy }) => {
      const inside = ew.mul(ew.ge(x[0], x[1]), ew.le(x[0], x[2]));
      return [ew.mul(dy, inside), null, null];
    },
  },
} satisfies Record<string, ElementwiseDef>;

export type BinaryName = keyof typeof binaryDefs;

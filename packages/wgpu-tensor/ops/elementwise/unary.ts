import { asTensor, type ElementwiseDef } from "./elementwise_def.ts";
// Gradients call the public ops; the cycle is safe because they only run after module load.
import * as ew from "./elementwise_ops.ts";
import { erf, geluErf, geluTanh, sigmoid } from "./math_js.ts";

const SQRT1_2 = "0.7071067811865476";
const INV_SQRT_2PI = 0.3989422804014327;
const GELU_TANH_C = 0.7978845608028654;

/** Unary ops: the WGSL expression, the JS reference and the gradient of each, side by side. */
export const unaryDefs = {
  neg: { arity: 1, wgsl: (x) => `-(${x})`, js: (x) => -x, grad: ({ dy }) => [ew.neg(dy)] },
  abs: { arity: 1, wgsl: (x) => `abs(${x})`, js: Math.abs, grad: ({ x, dy }) => [ew.mul(dy, ew.sign(asTensor(x[0])))] },
  sign: { arity: 1, wgsl: (x) => `sign(${x})`, js: Math.sign, grad: "zero" },
  exp: { arity: 1, isFloatOnly: true, wgsl: (x) => `exp(${x})`, js: Math.exp, grad: ({ y, dy }) => [ew.mul(dy, y)] },
  log: { arity: 1, isFloatOnly: true, wgsl: (x) => `log(${x})`, js: Math.log, grad: ({ x, dy }) => [ew.div(dy, x[0])] },
  sqrt: {
    arity: 1,
    isFloatOnly: true,
    wgsl: (x) => `sqrt(${x})`,
    js: Math.sqrt,
    grad: ({ y, dy }) => [ew.div(ew.mul(dy, 0.5), y)],
  },
  rsqrt: {
    arity: 1,
    isFloatOnly: true,
    wgsl: (x) => `inverseSqrt(${x})`,
    js: (x) => 1 / Math.sqrt(x),
    grad: ({ y, dy }) => [ew.mul(dy, ew.mul(ew.mul(y, ew.square(y)), -0.5))],
  },
  reciprocal: {
    arity: 1,
    isFloatOnly: true,
    wgsl: (x) => `(1.0 / ${x})`,
    js: (x) => 1 / x,
    grad: ({ y, dy }) => [ew.mul(dy, ew.mul(ew.square(y), -1))],
  },
  square: { arity: 1, wgsl: (x) => `(${x} * ${x})`, js: (x) => x * x, grad: ({ x, dy }) => [ew.mul(dy, ew.mul(x[0], 2))] },
  sin: { arity: 1, isFloatOnly: true, wgsl: (x) => `sin(${x})`, js: Math.sin, grad: ({ x, dy }) => [ew.mul(dy, ew.cos(asTensor(x[0])))] },
  cos: {
    arity: 1,
    isFloatOnly: true,
    wgsl: (x) => `cos(${x})`,
    js: Math.cos,
    grad: ({ x, dy }) => [ew.mul(dy, ew.neg(ew.sin(asTensor(x[0]))))],
  },
  floor: { arity: 1, isFloatOnly: true, wgsl: (x) => `floor(${x})`, js: Math.floor, grad: "zero" },
  tanh: {
    arity: 1,
    isFloatOnly: true,
    wgsl: (x) => `tanh_(${x})`,
    js: Math.tanh,
    grad: ({ y, dy }) => [ew.mul(dy, ew.sub(1, ew.square(y)))],
  },
  sigmoid: {
    arity: 1,
    isFloatOnly: true,
    wgsl: (x) => `sigmoid_(${x})`,
    js: sigmoid,
    grad: ({ y, dy }) => [ew.mul(dy, ew.mul(y, ew.sub(1, y)))],
  },
  relu: {
    arity: 1,
    isFloatOnly: true,
    wgsl: (x) => `max(${x}, 0.0)`,
    js: (x) => Math.max(x, 0),
    grad: ({ x, dy }) => [ew.mul(dy, ew.gt(x[0], 0))],
  },
  silu: {
    arity: 1,
    isFloatOnly: true,
    wgsl: (x) => `(${x} * sigmoid_(${x}))`,
    js: (x) => x * sigmoid(x),
    // d/dx x·s(x) = s + x·s·(1 − s)
    grad: ({ x, dy }) => {
      const s = ew.sigmoid(asTensor(x[0]));
      return [ew.mul(dy, ew.add(s, ew.mul(ew.mul(x[0], s), ew.sub(1, s))))];
    },
  },
  gelu: {
    arity: 1,
    isFloatOnly: true,
    wgsl: (x) => `(0.5 * ${x} * (1.0 + erf_(${x} * ${SQRT1_2})))`,
    js: geluErf,
    // d/dx x·Φ(x) = Φ(x) + x·φ(x)
    grad: ({ x, dy }) => {
      const cdf = ew.mul(ew.add(ew.erf(ew.mul(x[0], Math.SQRT1_2)), 1), 0.5);
      const pdf = ew.mul(ew.exp(ew.mul(ew.square(asTensor(x[0])), -0.5)), INV_SQRT_2PI);
      return [ew.mul(dy, ew.add(cdf, ew.mul(x[0], pdf)))];
    },
  },
  geluTanh: {
    arity: 1,
    isFloatOnly: true,
    wgsl: (x) => `(0.5 * ${x} * (1.0 + tanh_(${GELU_TANH_C} * (${x} + 0.044715 * ${x} * ${x} * ${x}))))`,
    js: geluTanh,
    // with u = c(x + 0.044715x³): d/dx = ½(1 + tanh u) + ½x(1 − tanh² u)·c(1 + 3·0.044715x²)
    grad: ({ x, dy }) => {
      const x0 = asTensor(x[0]);
      const x2 = ew.square(x0);
      const t = ew.tanh(ew.mul(ew.add(x0, ew.mul(ew.mul(x2, x0), 0.044715)), GELU_TANH_C));
      const du = ew.mul(ew.add(ew.mul(x2, 3 * 0.044715), 1), GELU_TANH_C);
      const left = ew.mul(ew.add(t, 1), 0.5);
      const right = ew.mul(ew.mul(ew.mul(x0, 0.5), ew.sub(1, ew.square(t))), du);
      return [ew.mul(dy, ew.add(left, right))];
    },
  },
  erf: {
    arity: 1,
    isFloatOnly: true,
    wgsl: (x) => `erf_(${x})`,
    js: erf,
    grad: ({ x, dy }) => [ew.mul(dy, ew.mul(ew.exp(ew.neg(ew.square(asTensor(x[0])))), 2 / Math.sqrt(Math.PI)))],
  },
} satisfies Record<string, ElementwiseDef>;

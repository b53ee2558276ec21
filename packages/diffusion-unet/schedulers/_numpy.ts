/**
 * The few numpy and torch number routines diffusers' schedulers call on the host, reproduced to the
 * bit: float64 `linspace`/`arange`/`interp`/`round` as numpy computes them, and float32 rounding
 * (`Math.fround`) wherever diffusers works on a float32 torch tensor. These decide timesteps
 * (integers after rounding) and per-step constants, so "close" is not enough here.
 * @module
 */

/** Rounds to the nearest float32, as every float32 torch op does to its result. */
export const f32: (x: number) => number = Math.fround;

/** `numpy.round` / `torch.round`: to nearest, ties to even (0.5 → 0, 1.5 → 2, 2.5 → 2). */
export function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const fraction = x - floor;
  if (fraction < 0.5) return floor;
  if (fraction > 0.5) return floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * `numpy.linspace(start, stop, num)` in float64: `start + i·step` with `step = (stop − start)/(num − 1)`
 * and the last value exactly `stop`.
 */
export function linspace(start: number, stop: number, num: number): number[] {
  if (num === 1) return [start];
  const delta = stop - start;
  const step = delta / (num - 1);
  const values = Array.from({ length: num }, (_, i) => (step === 0 ? (i / (num - 1)) * delta : i * step) + start);
  if (num > 1) values[num - 1] = stop;
  return values;
}

/**
 * `numpy.arange(start, stop, step)` for float arguments: the length is ⌈(stop − start)/step⌉
 * (which can be one more than expected, e.g. `arange(1000, 0, -1000/61)` has 62 values) and the
 * values are `start + i·δ` with δ = (start + step) − start, as numpy's fill loop computes them.
 */
export function arangeFloat(start: number, stop: number, step: number): number[] {
  const length = Math.max(0, Math.ceil((stop - start) / step));
  const delta = start + step - start;
  return Array.from({ length }, (_, i) => (i === 0 ? start : i === 1 ? start + step : start + i * delta));
}

/**
 * `numpy.interp(x, xp, fp)` for increasing integer-spaced `xp = 0, 1, …, fp.length − 1`, in float64:
 * clamps outside the range and returns `fp[j]` exactly when `x` hits a knot.
 */
export function interpUnitGrid(x: number, fp: ArrayLike<number>): number {
  const last = fp.length - 1;
  if (x <= 0) return fp[0];
  if (x >= last) return fp[last];
  const j = Math.floor(x);
  if (j === x) return fp[j];
  const slope = fp[j + 1] - fp[j];
  return slope * (x - j) + fp[j];
}

/**
 * `torch.linspace(start, end, steps, dtype=torch.float32)` on an x86 CPU, bit for bit. ATen's
 * `linspace_kernel` rounds start, end and step = (end − start)/(steps − 1) to float32, counts the
 * first half up from `start` and the second half down from `end`, and fills vectors of 8 floats
 * (AVX2): each vector's first value is `start + step·i` (or `end − step·(steps − 1 − i)`), the others
 * `first + k·step`. The compiler contracts `a + b·c` into one fused multiply-add (one rounding);
 * the tail after the last full pair of vectors is filled one value at a time with the same formulas.
 * (Checked against the float32 betas diffusers 0.26 / torch produced: all 1000 identical.)
 */
export function torchLinspaceF32(start: number, end: number, steps: number): Float32Array {
  const out = new Float32Array(steps);
  if (steps === 1) {
    out[0] = start;
    return out;
  }
  const startF = f32(start);
  const endF = f32(end);
  const step = f32(f32(endF - startF) / (steps - 1));
  const halfway = Math.floor(steps / 2);
  // step·i is exact in float64 (24-bit × ≤ 31-bit), so one f32 rounding of the sum is the FMA
  const fromEnds = (i: number) => (i < halfway ? f32(startF + step * i) : f32(endF - step * (steps - i - 1)));
  const lanes = 8;
  const vectorEnd = steps - (steps % (2 * lanes));
  let i = 0;
  for (; i < vectorEnd; i += lanes) {
    const first = fromEnds(i);
    for (let k = 0; k < lanes; k++) out[i + k] = k === 0 ? first : f32(first + step * k);
  }
  for (; i < steps; i++) out[i] = fromEnds(i);
  return out;
}
